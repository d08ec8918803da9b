"""Where `keactl leases` finds its leases: a Kea config, a URL or a control socket.

Also the subnet knowledge the shell needs for `add` (subnet selection, unknown
subnet ids) and `stats` (pool sizes), read from the Kea configuration (the file,
or `config-get` over the socket).
"""
import ipaddress
import os
from dataclasses import dataclass, field

from kea_tools.errors import UserError
from kea_tools.leases import open_backend, parse_spec
from kea_tools.leases.memfile import DEFAULT_FILE, file_users


@dataclass(slots=True)
class SubnetInfo:
    """One configured subnet: id, prefix, address pools and PD pools (as counts)."""

    id: int
    prefix: object
    pools: list = field(default_factory=list)        # (first int, last int)
    pd_pools: list = field(default_factory=list)     # (prefix network, delegated-len)

    def total(self, lease_type=0):
        if lease_type == 2:
            return sum(2 ** (dlen - net.prefixlen) for net, dlen in self.pd_pools)
        return sum(last - first + 1 for first, last in self.pools)


def _pool_range(text, where):
    text = text.strip()
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
            return int(first), int(last)
        net = ipaddress.ip_network(text, strict=False)
        return int(net.network_address), int(net.broadcast_address)
    except ValueError:
        raise UserError(f"{where}: malformed pool {text!r}") from None


def subnets_from_section(section, family):
    """Dhcp4/Dhcp6 map -> {id: SubnetInfo} (subnets at top level and in shared networks)."""
    key = f"subnet{family}"
    found = list(section.get(key, []))
    for network in section.get("shared-networks", []):
        found.extend(network.get(key, []))
    subnets = {}
    for index, raw in enumerate(found, 1):
        sid = raw.get("id", index)
        try:
            prefix = ipaddress.ip_network(raw["subnet"], strict=False)
        except (KeyError, ValueError):
            raise UserError(f"{key}[{index - 1}]: missing or malformed \"subnet\"") from None
        info = SubnetInfo(sid, prefix)
        for pool in raw.get("pools", []):
            info.pools.append(_pool_range(pool.get("pool", ""), f"subnet {sid}"))
        for pd in raw.get("pd-pools", []):
            try:
                net = ipaddress.ip_network(f"{pd['prefix']}/{pd['prefix-len']}", strict=False)
                info.pd_pools.append((net, int(pd["delegated-len"])))
            except (KeyError, ValueError):
                raise UserError(f"subnet {sid}: malformed pd-pool") from None
        subnets[sid] = info
    return subnets


def load_kea_config(path):
    """Read a Kea JSON config (comments, includes) -> (raw dict, family)."""
    from kea_tools.config.jsonc import parse, read_source
    try:
        raw = parse(read_source(path))
    except OSError as err:
        raise UserError(f"{path}: {err.strerror}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: not a Kea configuration (expected a map)")
    for family in (4, 6):
        if f"Dhcp{family}" in raw:
            return raw, family
    raise UserError(f"{path}: no Dhcp4 or Dhcp6 section")


class LeaseSource:
    """Opens the back end the options name, once, for reading or for writing."""

    def __init__(self, *, config=None, url=None, socket=None, family=None):
        given = [name for name, value in (("-c", config), ("--db", url), ("--socket", socket))
                 if value]
        if len(given) > 1:
            raise UserError(f"give only one of -c, --db and --socket (got {' and '.join(given)})")
        self.config_path = config
        self.url = url
        self.socket = socket
        self.section = None
        self.socket_section = None
        self._subnets = None
        self._backend = None
        self._writable = False
        if config:
            raw, config_family = load_kea_config(config)
            if family and family != config_family:
                raise UserError(f"{config}: holds Dhcp{config_family}, not Dhcp{family}")
            family = config_family
            self.section = raw[f"Dhcp{family}"]
            spec = self.section.get("lease-database", {"type": "memfile"})
            self.spec = parse_spec(spec)
            if self.spec["type"] == "memfile" and self.spec.get("persist", True):
                self.spec.setdefault("name", DEFAULT_FILE[family])
        elif url:
            self.spec = parse_spec(url)
        elif socket:
            self.spec = None
        else:
            raise UserError("say where the leases are: -c KEA.json, --db URL or --socket PATH")
        self.family = family or 4

    @property
    def config_dir(self):
        return os.path.dirname(os.path.abspath(self.config_path)) if self.config_path else None

    def describe(self):
        if self.socket:
            return f"socket {self.socket}"
        return self.url or f"{self.spec['type']} from {self.config_path}"

    def _server_socket(self):
        ctrl = (self.section or {}).get("control-socket") or {}
        return ctrl.get("socket-name")

    def open(self, write=False):
        """The back end; opened writable when ``write`` (reopened if it was read-only)."""
        if self._backend is not None and (self._writable or not write):
            return self._backend
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        if self.socket:
            from kea_tools.leases.remote import ControlBackend
            self._backend = ControlBackend(self.family, self.socket)
        else:
            spec = dict(self.spec)
            if spec["type"] == "memfile" and spec.get("persist", True):
                spec.setdefault("lfc-interval", 0)
                if self.config_dir and not os.path.isabs(spec["name"]):
                    spec["name"] = os.path.join(self.config_dir, spec["name"])
                users = file_users(spec["name"]) if write else []
                if users:
                    server_socket = self._server_socket()
                    if not server_socket:
                        raise UserError(f"{spec['name']} is in use by process "
                                        f"{', '.join(map(str, users))}; write through that "
                                        "server's control channel: --socket PATH")
                    self.socket = server_socket
                    return self.open(write)
                spec["readonly"] = not write
            elif spec["type"] == "memfile":
                spec["readonly"] = False
            self._backend = open_backend(spec, self.family, config_dir=self.config_dir)
        self._writable = write
        return self._backend

    def subnets(self):
        """{id: SubnetInfo} from the configuration, or None when there is none."""
        if self._subnets is None:
            section = self.section
            if section is None and self.socket:
                from kea_tools.leases.ctrl import ControlClient
                response = ControlClient(self.socket).call("config-get")
                if response.ok and isinstance(response.arguments, dict):
                    section = response.arguments.get(f"Dhcp{self.family}")
                self.socket_section = section
            if section is None:
                return None
            self._subnets = subnets_from_section(section, self.family)
        return self._subnets

    def close(self):
        if self._backend is not None:
            self._backend.close()
            self._backend = None
