"""Build a validated :class:`~kea_tools.config.model.DhcpConfig` from Kea JSON.

The checks follow what kea-dhcp4/kea-dhcp6 2.2 do with ``-t``: the grammar's key
tables (schema.py), then the semantic checks of its parsers: pools inside their
subnet and not overlapping, unique subnet ids and prefixes (auto ids assigned as
2.2 does), unique reservations, lifetime triplets, timers, option definitions and
option data.  Errors are :class:`ConfigError` with the JSON path of the offending
value; :func:`load_file` turns them into ``file:line:col`` through the source map.
"""
from __future__ import annotations

import re
import socket

from kea_tools.config import model, options, schema
from kea_tools.config.jsonc import parse, read_source
from kea_tools.errors import SourceError, UserError


class ConfigError(UserError):
    """A configuration error at a JSON path (``key``: point at the key, not the value)."""

    def __init__(self, message, path=(), key=False):
        super().__init__(message)
        self.message = message
        self.path = tuple(path)
        self.key = key

    def __str__(self):
        return f"{format_path(self.path)}: {self.message}" if self.path else self.message


def format_path(path):
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


# Kea 2.2's global defaults (SimpleParser4/6::GLOBAL*_DEFAULTS), applied before the
# global values are inherited by shared networks and subnets.
_DEFAULTS = {
    "valid-lifetime": 7200,
    "decline-probation-period": 86400,
    "dhcp4o6-port": 0,
    "reservations-global": False,
    "reservations-in-subnet": True,
    "reservations-out-of-pool": False,
    "ddns-send-updates": True,
    "ddns-override-no-update": False,
    "ddns-override-client-update": False,
    "ddns-replace-client-name": "never",
    "ddns-generated-prefix": "myhost",
    "ddns-qualifying-suffix": "",
    "ddns-update-on-renew": False,
    "ddns-use-conflict-resolution": True,
    "hostname-char-set": "[^A-Za-z0-9.-]",
    "hostname-char-replacement": "",
    "store-extended-info": False,
    "statistic-default-sample-count": 20,
    "statistic-default-sample-age": 0,
    "parked-packet-limit": 256,
    "ip-reservations-unique": True,
    "early-global-reservations-lookup": False,
    "reservations-lookup-first": False,
    "server-tag": "",
    "t1-percent": 0.5,
}
FAMILY_DEFAULTS = {
    4: {**_DEFAULTS, "echo-client-id": True, "match-client-id": True, "authoritative": False,
        "next-server": "0.0.0.0", "server-hostname": "", "boot-file-name": "",
        "calculate-tee-times": False, "t2-percent": 0.875},
    6: {**_DEFAULTS, "preferred-lifetime": 3600, "calculate-tee-times": True,
        "t2-percent": 0.8, "rapid-commit": False},
}

HOST_IDENTIFIER_DEFAULTS = {
    4: ("hw-address", "duid", "circuit-id", "client-id"),
    6: ("hw-address", "duid"),
}

# reservation-mode (deprecated in 2.2) -> the three flags it stands for.
_RESERVATION_MODES = {
    "all": (False, True, False),
    "out-of-pool": (False, True, True),
    "global": (True, False, False),
    "disabled": (False, False, False),
}
_RESERVATION_FLAGS = ("reservations-global", "reservations-in-subnet", "reservations-out-of-pool")
_DDNS_KEYS = tuple(k for k in schema.SCOPES["subnet4"]
                   if k.startswith("ddns-") or k.startswith("hostname-char-"))

# What a reservation must reserve at least one of (Kea's HostReservationParser).
_RESOURCES = ("hostname", "ip-address", "ip-addresses", "prefixes", "option-data",
              "client-classes", "next-server", "server-hostname", "boot-file-name")

# Kea's MAC address sources (v6 mac-sources), with their RFC aliases.
MAC_SOURCES = frozenset({"any", "raw", "duid", "ipv6-link-local", "client-link-addr-option",
                         "rfc6939", "remote-id", "rfc4649", "subscriber-id", "rfc4580",
                         "docsis-cmts", "docsis-modem"})

# Identifier types whose value may be a quoted 'text' instead of hex (Kea's Host).
_TEXT_IDENTIFIERS = frozenset({"circuit-id", "client-id", "flex-id"})
_MAX_IDENTIFIER = {"hw-address": 20}
_COLON_HEX = re.compile(r"[0-9A-Fa-f]{1,2}(?::[0-9A-Fa-f]{1,2})*\Z")
_SPACE_HEX = re.compile(r"[0-9A-Fa-f]{1,2}(?: [0-9A-Fa-f]{1,2})*\Z")
_PLAIN_HEX = re.compile(r"[0-9A-Fa-f]*\Z")

# Classes a test may name in member() without defining them (Kea's built-ins;
# VENDOR_CLASS_* and HA_* are checked by prefix in _Builtin).
class _Builtin(frozenset):
    def __contains__(self, name):
        return (frozenset.__contains__(self, name) or name.startswith("VENDOR_CLASS_")
                or name.startswith("HA_") or name.startswith("SPAWN_"))

    def __or__(self, other):
        return _Builtin(frozenset(self) | frozenset(other))


_BUILTIN_CLASSES = _Builtin({"ALL", "KNOWN", "UNKNOWN", "BOOTP", "DROP"})

_KIND_NAMES = {bool: "boolean", int: "integer", float: "floating point", str: "string",
               dict: "map", list: "list", type(None): "null"}
_SCALARS = {"bool": bool, "int": int, "real": float, "str": str, "map": dict}


# ---------------------------------------------------------------- entry points

class LoadResult:
    """What :func:`load_file` returns: the model, the family and the warnings."""

    __slots__ = ("config", "family", "warnings", "source", "raw")

    def __init__(self, config, family, warnings, source, raw):
        self.config = config
        self.family = family
        self.warnings = warnings
        self.source = source
        self.raw = raw


def load_file(path, *, text=None):
    """Read, parse and validate a Kea configuration file.

    Raises :class:`~kea_tools.errors.SourceError` (``file:line:col: message``).
    """
    warnings = []
    source = read_source(path, text=text)
    raw = parse(source, warnings)
    try:
        section_name, section = pick_section(raw, warnings)
        family = 4 if section_name == "Dhcp4" else 6
        config = build(section, family, warnings=warnings, prefix=(section_name,))
    except ConfigError as err:
        offset = source.locate(err.path, key=err.key)
        where = source.where(offset)
        raise SourceError(f"{err.message} ({format_path(err.path)})" if err.path else err.message,
                          *where) from None
    config.raw = raw
    return LoadResult(config, family, warnings, source, raw)


def pick_section(raw, warnings):
    """The Dhcp4 or Dhcp6 object of a top-level map; other daemons' objects are ignored.

    The Kea ARM says a file holds one of the daemons' objects and that other
    elements are ignored; a file with both Dhcp4 and Dhcp6 is served by the first.
    """
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a map holding a Dhcp4 or Dhcp6 object")
    chosen = None
    for name in raw:
        if name in ("Dhcp4", "Dhcp6") and chosen is None:
            chosen = name
        elif name in schema.OTHER_DAEMONS:
            warnings.append(f"{name}: ignored (configuration for another Kea daemon)")
        else:
            warnings.append(f"{name}: ignored (unknown top-level object)")
    if chosen is None:
        raise ConfigError("no Dhcp4 or Dhcp6 object in the configuration")
    return chosen, raw[chosen]


def build(section, family, *, warnings=None, prefix=None):
    """Validate one Dhcp4/Dhcp6 section (a dict) and build its model.

    Used for files and for control commands (config-set / config-test), which
    hand over the section without a source file.
    """
    if warnings is None:
        warnings = []
    prefix = prefix or (f"Dhcp{family}",)
    check_scope(section, prefix[-1], prefix, warnings)
    return _Builder(family, warnings).build(section, prefix)


# Kea 2.2 still reads these name-processing keys inside dhcp-ddns (deprecated
# since 1.7) and moves each to its global ddns-* key unless that is set
# (SrvConfig::moveDdnsParams).
_DEPRECATED_DDNS = {
    "qualifying-suffix": "ddns-qualifying-suffix",
    "generated-prefix": "ddns-generated-prefix",
    "override-no-update": "ddns-override-no-update",
    "override-client-update": "ddns-override-client-update",
    "replace-client-name": "ddns-replace-client-name",
    "hostname-char-set": "hostname-char-set",
    "hostname-char-replacement": "hostname-char-replacement",
}


def _move_ddns_params(section):
    d2 = section.get("dhcp-ddns")
    if type(d2) is not dict or not any(k in d2 for k in _DEPRECATED_DDNS):
        return section
    moved = {new: d2[old] for old, new in _DEPRECATED_DDNS.items()
             if old in d2 and new not in section}
    return {**section, **moved}


# ---------------------------------------------------------------- grammar check

def check_scope(obj, scope, path, warnings):
    """Check a map against ``schema.SCOPES[scope]``: known keys, types, support."""
    if type(obj) is not dict:
        raise ConfigError(f"expected a {scope} map, got {_kind(obj)}", path)
    table = schema.SCOPES[scope]
    support = schema.SUPPORT
    for key, value in obj.items():
        spec = table.get(key)
        if spec is None:
            raise ConfigError(f'got unexpected keyword "{key}" in {scope} map',
                              path + (key,), key=True)
        rule = support.get((scope, key))
        if rule is not None:
            if rule == schema.UNSUPPORTED or (callable(rule) and rule(value)):
                raise ConfigError(f"unsupported: {key}", path + (key,), key=True)
            if rule == schema.IGNORED:
                warnings.append(f"{format_path(path + (key,))}: accepted and ignored by keactl")
        scalar = _SCALARS.get(spec) if type(spec) is str else None
        if scalar is not None:
            if type(value) is not scalar:
                _type_error(value, spec, path + (key,))
        else:
            _check_value(value, spec, path + (key,), warnings)
    if scope == "relay" and len(obj) != 1:
        raise ConfigError('relay must hold exactly one of "ip-address" or "ip-addresses"', path)


def _check_value(value, spec, path, warnings):
    if type(spec) is tuple:
        if spec[0] == "[":
            if type(value) is not list:
                _type_error(value, "list", path)
            for i, item in enumerate(value):
                _check_value(item, spec[1], path + (i,), warnings)
            return
        if type(value) is not str or value not in spec:
            raise ConfigError(f"unexpected {_kind(value)} {_short(value)}, expecting "
                              + " or ".join(spec), path)
        return
    if spec == "any":
        return
    if spec[0] == "@":
        check_scope(value, spec[1:], path, warnings)
        return
    if spec[0] == "[":
        if type(value) is not list:
            _type_error(value, "list", path)
        inner = spec[1:-1]
        if inner[0] == "@":
            scope = inner[1:]
            for i, item in enumerate(value):
                check_scope(item, scope, path + (i,), warnings)
        else:
            want = _SCALARS[inner]
            for i, item in enumerate(value):
                if type(item) is not want:
                    _type_error(item, inner, path + (i,))
        return
    if type(value) is not _SCALARS[spec]:
        _type_error(value, spec, path)


def _kind(value):
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _short(value):
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


_SPEC_NAMES = {"bool": "boolean", "int": "integer", "real": "floating point", "str": "string",
               "map": "map", "list": "list"}


def _type_error(value, spec, path):
    raise ConfigError(f"syntax error, unexpected {_kind(value)}, expecting {_SPEC_NAMES[spec]}",
                      path)


# ---------------------------------------------------------------- address helpers

# inet_pton is what Kea's IOAddress uses, so the accepted forms match exactly
# (no "10.1" shorthand, no leading zeros); it is also much faster than ipaddress.
def _v4(text, path, what="address"):
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        raise ConfigError(f"invalid IPv4 {what} '{text}'", path) from None


def _v6(text, path, what="address"):
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except (OSError, ValueError):
        raise ConfigError(f"invalid IPv6 {what} '{text}'", path) from None


def _text4(value):
    return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))


def _text6(value):
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def parse_identifier(kind, text, path):
    """Kea's host identifier text: hex (``aa:bb``, ``aa bb``, ``aabb``, ``0xaabb``) or 'text'."""
    if kind in _TEXT_IDENTIFIERS and len(text) > 2 and text[0] == "'" and text[-1] == "'":
        data = text[1:-1].encode()
    else:
        data = decode_hex(text)
        if data is None:
            raise ConfigError(f"invalid host identifier value '{text}'", path)
    limit = _MAX_IDENTIFIER.get(kind, 128)
    if not data or len(data) > limit:
        raise ConfigError(f"invalid host identifier value '{text}': length must be 1 to {limit} "
                          "octets", path)
    return data


def decode_hex(text):
    """Kea's decodeFormattedHexString; None when malformed."""
    if _COLON_HEX.match(text):
        if len(text) == 3 * text.count(":") + 2:  # all octets two digits: the common case
            return bytes.fromhex(text.replace(":", ""))
        return bytes(int(o, 16) for o in text.split(":"))
    if _SPACE_HEX.match(text):
        return bytes(int(o, 16) for o in text.split(" "))
    if ":" in text or " " in text:
        return None
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    if not _PLAIN_HEX.match(text):
        return None
    return bytes.fromhex("0" + text if len(text) % 2 else text)


# ---------------------------------------------------------------- the builder

class _Builder:
    def __init__(self, family, warnings):
        self.family = family
        self.warnings = warnings
        self.bits = 32 if family == 4 else 128
        self.addr = _v4 if family == 4 else _v6
        self.subnet_key = f"subnet{family}"
        self.defs = None

    # --- top level

    def build(self, section, path):
        fam = self.family
        section = _move_ddns_params(section)
        glob = {**FAMILY_DEFAULTS[fam], **section}
        self.unique_ips = glob["ip-reservations-unique"]

        self.option_defs = [self.option_def(d, path + ("option-def", i))
                            for i, d in enumerate(section.get("option-def", ()))]
        self._check_defs(self.option_defs, path + ("option-def",))
        self.defs = self.registry(self.option_defs, path + ("option-def",))

        classes = self.client_classes(section.get("client-classes", ()), path + ("client-classes",))
        params = self.params(glob, path, own=section, level="global")
        self.global_params = params
        option_data = self.option_data(section, path)

        self.next_id = 1
        self.subnets_by_id = {}
        self.prefixes = {}
        networks = []
        names = {}
        for i, net in enumerate(section.get("shared-networks", ())):
            npath = path + ("shared-networks", i)
            name = net.get("name", "")
            if not name:
                raise ConfigError("shared-network is missing mandatory 'name' parameter", npath)
            if name in names:
                raise ConfigError(f"duplicate network '{name}' found in the configuration",
                                  npath + ("name",))
            names[name] = True
            merged = {**glob, **net}
            shared = model.SharedNetwork(name, self.params(merged, npath, own=net, level="network",
                                                           parent=self.global_params),
                                         self.option_data(net, npath))
            for j, sub in enumerate(net.get(self.subnet_key, ())):
                shared.subnets.append(self.subnet({**merged, **sub}, sub, npath + (self.subnet_key, j),
                                                  shared))
            networks.append(shared)
        for i, sub in enumerate(section.get(self.subnet_key, ())):
            self.subnet({**glob, **sub}, sub, path + (self.subnet_key, i), None)

        reservations = self.reservations(section.get("reservations", ()), 0, None,
                                         path + ("reservations",))
        subnets = sorted(self.subnets_by_id.values(), key=lambda s: s.id)
        cfg = model.DhcpConfig(
            family=fam,
            params=params,
            subnets=subnets,
            shared_networks=networks,
            client_classes=classes,
            reservations=reservations,
            option_data=option_data,
            option_defs=self.option_defs,
            interfaces_config=self.interfaces(section.get("interfaces-config", {})),
            lease_database=self.database(section.get("lease-database", {})),
            control_socket=self.control_socket(section.get("control-socket"),
                                               path + ("control-socket",)),
            hooks_libraries=self.hooks(section.get("hooks-libraries", ()),
                                       path + ("hooks-libraries",)),
            loggers=self.loggers(section.get("loggers", ()), path + ("loggers",)),
            expired_leases_processing=model.ExpiredLeasesProcessing(
                **{k.replace("-", "_"): v
                   for k, v in section.get("expired-leases-processing", {}).items()
                   if k not in ("user-context", "comment")}),
            host_reservation_identifiers=tuple(section.get("host-reservation-identifiers",
                                                           HOST_IDENTIFIER_DEFAULTS[fam])),
            decline_probation_period=glob["decline-probation-period"],
            ip_reservations_unique=glob["ip-reservations-unique"],
            early_global_reservations_lookup=glob["early-global-reservations-lookup"],
            reservations_lookup_first=glob["reservations-lookup-first"],
            parked_packet_limit=glob["parked-packet-limit"],
            statistic_default_sample_count=glob["statistic-default-sample-count"],
            statistic_default_sample_age=glob["statistic-default-sample-age"],
            server_tag=glob["server-tag"],
            lease_checks=section.get("sanity-checks", {}).get("lease-checks", "warn"),
            lenient_option_parsing=section.get("compatibility", {}).get(
                "lenient-option-parsing", False),
            echo_client_id=glob.get("echo-client-id", True),
            data_directory=section.get("data-directory"),
            mac_sources=self.mac_sources(section.get("mac-sources"), path + ("mac-sources",)),
            relay_supplied_options=tuple(section.get("relay-supplied-options", ())),
            server_id=section.get("server-id"),
            subnet_by_id=self.subnets_by_id,
        )
        if "hosts-databases" in section and "hosts-database" in section:
            raise ConfigError("only one of hosts-database and hosts-databases can be configured",
                              path + ("hosts-databases",), key=True)
        return cfg

    # --- network parameters

    def params(self, eff, path, *, own, level, parent=None):
        """Effective network parameters of one level; checks what Kea checks there."""
        fam = self.family
        valid = self.triplet(eff, "valid-lifetime", path, own)
        preferred = self.triplet(eff, "preferred-lifetime", path, own) if fam == 6 else None
        if parent is None:
            parent_flags = tuple(FAMILY_DEFAULTS[fam][k] for k in _RESERVATION_FLAGS)
        else:
            parent_flags = (parent.reservations_global, parent.reservations_in_subnet,
                            parent.reservations_out_of_pool)
        flags = self.reservation_flags(own, path, parent_flags)
        renew, rebind = eff.get("renew-timer"), eff.get("rebind-timer")
        if level != "global" and renew is not None and rebind is not None and renew > rebind:
            raise ConfigError(f"the value of renew-timer ({renew}) is greater than the value "
                              f"of rebind-timer ({rebind})",
                              path + (("renew-timer",) if "renew-timer" in own else ()))
        t1, t2 = eff["t1-percent"], eff["t2-percent"]
        if level == "subnet" and eff["calculate-tee-times"]:
            if not 0.0 < t1 < 1.0:
                raise ConfigError(f"t1-percent: {t1} is invalid, it must be greater than 0.0 "
                                  "and less than 1.0", path + ("t1-percent",))
            if not 0.0 < t2 < 1.0:
                raise ConfigError(f"t2-percent: {t2} is invalid, it must be greater than 0.0 "
                                  "and less than 1.0", path + ("t2-percent",))
            if t1 >= t2:
                raise ConfigError(f"t1-percent: {t1} is invalid, it must be less than "
                                  f"t2-percent: {t2}", path + ("t1-percent",))
        relay = ()
        if "relay" in own:
            r = own["relay"]
            addrs = r.get("ip-addresses") if "ip-addresses" in r else [r["ip-address"]]
            rkey = "ip-addresses" if "ip-addresses" in r else "ip-address"
            for i, a in enumerate(addrs):
                self.addr(a, path + ("relay", rkey) + ((i,) if rkey == "ip-addresses" else ()))
            relay = tuple(addrs)
        elif "relay" in eff and level != "global":
            r = eff["relay"]
            relay = tuple(r["ip-addresses"] if "ip-addresses" in r else [r["ip-address"]])
        p = model.NetworkParams(
            valid_lifetime=valid,
            renew_timer=renew,
            rebind_timer=rebind,
            calculate_tee_times=eff["calculate-tee-times"],
            t1_percent=t1,
            t2_percent=t2,
            reservations_global=flags[0],
            reservations_in_subnet=flags[1],
            reservations_out_of_pool=flags[2],
            store_extended_info=eff["store-extended-info"],
            cache_threshold=eff.get("cache-threshold"),
            cache_max_age=eff.get("cache-max-age"),
            ddns={k: eff[k] for k in _DDNS_KEYS if k in eff},
            client_class=eff.get("client-class") or None,
            require_client_classes=tuple(eff.get("require-client-classes", ())),
            interface=eff.get("interface") or None,
            relay_addresses=relay,
            preferred_lifetime=preferred,
        )
        if fam == 4:
            p.authoritative = eff["authoritative"]
            p.match_client_id = eff["match-client-id"]
            if "next-server" in own:
                _v4(own["next-server"], path + ("next-server",))
            p.next_server = eff["next-server"]
            p.server_hostname = eff["server-hostname"]
            p.boot_file_name = eff["boot-file-name"]
        else:
            p.rapid_commit = eff["rapid-commit"]
            if eff.get("interface-id"):
                p.interface_id = eff["interface-id"].encode()
                if level != "global" and "interface" in own and "interface-id" in own:
                    raise ConfigError("interface (defined for locally reachable subnets) and "
                                      "interface-id (defined for subnets reachable via relays) "
                                      "cannot be defined at the same time", path + ("interface-id",))
        return p

    def triplet(self, eff, name, path, own):
        """Kea's parseIntTriplet over the values one level sees (its own, else inherited)."""
        lo_key, hi_key = "min-" + name, "max-" + name
        where = path + next(((k,) for k in (name, lo_key, hi_key) if k in own), ())
        value, lo, hi = eff.get(name), eff.get(lo_key), eff.get(hi_key)
        for v, k in ((value, name), (lo, lo_key), (hi, hi_key)):
            if v is not None and not 0 <= v <= 0xFFFFFFFF:
                raise ConfigError(f"the value of {k} ({v}) is out of range 0..4294967295",
                                  path + ((k,) if k in own else ()))
        if value is None and lo is None and hi is None:
            return None
        if value is not None:
            lo = value if lo is None else lo
            hi = value if hi is None else hi
        elif lo is not None:
            if hi is not None:
                raise ConfigError(f"have min-{name} and max-{name} but no {name} (default)", where)
            value = hi = lo
        else:
            value = lo = hi
        if lo > hi:
            if lo_key in eff and hi_key in eff:
                msg = f"the value of min-{name} ({lo}) is not less than max-{name} ({hi})"
            elif lo_key in eff:
                msg = f"the value of min-{name} ({lo}) is not less than (default) {name} ({value})"
            else:
                msg = f"the value of (default) {name} ({value}) is not less than max-{name} ({hi})"
            raise ConfigError(msg, where)
        if not lo <= value <= hi:
            raise ConfigError(f"the value of (default) {name} ({value}) is not between "
                              f"min-{name} ({lo}) and max-{name} ({hi})", where)
        return model.Triplet(lo, value, hi)

    def reservation_flags(self, own, path, parent):
        """The three reservation flags of a level: reservation-mode, else own flags over
        the parent level's."""
        mode = own.get("reservation-mode")
        if mode is not None:
            if any(k in own for k in _RESERVATION_FLAGS):
                raise ConfigError("invalid use of both 'reservation-mode' and one of "
                                  "'reservations-global', 'reservations-in-subnet' or "
                                  "'reservations-out-of-pool' parameters",
                                  path + ("reservation-mode",), key=True)
            self.warnings.append(f"{format_path(path + ('reservation-mode',))}: deprecated, use "
                                 "reservations-global/in-subnet/out-of-pool")
            return _RESERVATION_MODES[mode]
        return tuple(own.get(k, p) for k, p in zip(_RESERVATION_FLAGS, parent))

    # --- subnets and pools

    def subnet(self, eff, own, path, shared):
        fam = self.family
        if "subnet" not in own:
            raise ConfigError("missing parameter 'subnet'", path)
        text = own["subnet"]
        addr_text, slash, len_text = text.partition("/")
        if not slash or not len_text.strip().isdigit():
            raise ConfigError(f"Invalid subnet syntax (prefix/len expected):{text}",
                              path + ("subnet",))
        plen = int(len_text)
        address = self.addr(addr_text.strip(), path + ("subnet",))
        if not 0 <= plen <= self.bits:
            raise ConfigError(f"Invalid prefix length specified for subnet: {plen}",
                              path + ("subnet",))
        shift = self.bits - plen
        network = (address >> shift) << shift
        last = network | ((1 << shift) - 1)

        sid = own.get("id", 0)
        if not 0 <= sid <= 4294967294:
            raise ConfigError(f"The 'id' value ({sid}) is not within expected range: "
                              "(0 - 4294967294)", path + ("id",))
        if sid == 0:
            sid = self.next_id
            self.next_id += 1
        if sid in self.subnets_by_id:
            raise ConfigError(f"ID of the new IPv{fam} subnet '{sid}' is already in use",
                              path + (("id",) if own.get("id") else ()))
        key = (network, plen)
        if key in self.prefixes:
            raise ConfigError(f"subnet with the prefix of '{text}' already exists",
                              path + ("subnet",))

        params = self.params(eff, path, own=own, level="subnet",
                             parent=shared.params if shared else self.global_params)
        subnet = model.Subnet(sid, text, network, plen, params,
                              option_data=self.option_data(own, path),
                              shared_network=shared, user_context=own.get("user-context"),
                              family=fam)
        ranges = []
        for i, pool in enumerate(own.get("pools", ())):
            subnet.pools.append(self.pool(pool, path + ("pools", i), network, last, text, ranges))
        if fam == 6:
            pd_ranges = []
            for i, pd in enumerate(own.get("pd-pools", ())):
                subnet.pd_pools.append(self.pd_pool(pd, path + ("pd-pools", i), text, pd_ranges))
        subnet.reservations = self.reservations(own.get("reservations", ()), sid,
                                                (network, last, text), path + ("reservations",))
        self.subnets_by_id[sid] = subnet
        self.prefixes[key] = sid
        return subnet

    def pool(self, item, path, first, last, subnet_text, ranges):
        if "pool" not in item:
            raise ConfigError("missing parameter 'pool'", path)
        text = item["pool"]
        ppath = path + ("pool",)
        bad = ConfigError(f"invalid pool definition: {text}. There are two acceptable formats "
                          "<min address-max address> or <prefix/len>", ppath)
        if "/" in text:
            addr_text, _, len_text = text.partition("/")
            if not len_text.strip().isdigit():
                raise bad
            plen = int(len_text)
            if not 0 <= plen <= self.bits:
                raise ConfigError(f"Failed to create pool defined by: {text}", ppath)
            shift = self.bits - plen
            start = (self.addr(addr_text.strip(), ppath) >> shift) << shift
            end = start | ((1 << shift) - 1)
        elif "-" in text:
            lo, _, hi = text.partition("-")
            start, end = self.addr(lo.strip(), ppath), self.addr(hi.strip(), ppath)
            if start > end:
                raise ConfigError(f"Failed to create pool defined by: {text}", ppath)
        else:
            raise bad
        if start < first or end > last:
            raise ConfigError(f"a pool of type V{self.family}, with the following address range: "
                              f"{text} does not match the prefix of a subnet: {subnet_text} "
                              "to which it is being added", ppath)
        for s, e in ranges:
            if start <= e and s <= end:
                raise ConfigError(f"a pool with the address range {text} overlaps with an "
                                  f"existing pool in the subnet {subnet_text}", ppath)
        ranges.append((start, end))
        return model.Pool(start, end, item.get("client-class") or None,
                          tuple(item.get("require-client-classes", ())),
                          self.option_data(item, path))

    def pd_pool(self, item, path, subnet_text, ranges):
        for key in ("prefix", "prefix-len", "delegated-len"):
            if key not in item:
                raise ConfigError(f"missing parameter '{key}'", path)
        prefix = _v6(item["prefix"], path + ("prefix",), "prefix")
        plen, dlen = item["prefix-len"], item["delegated-len"]
        if not 0 < plen <= 128:
            raise ConfigError(f"invalid prefix length {plen}", path + ("prefix-len",))
        if not 0 < dlen <= 128:
            raise ConfigError(f"invalid delegated length {dlen}", path + ("delegated-len",))
        if dlen < plen:
            raise ConfigError(f"Delegated length ({dlen}) must be longer than or equal to "
                              f"prefix length ({plen})", path + ("delegated-len",))
        shift = 128 - plen
        prefix = (prefix >> shift) << shift
        last = prefix | ((1 << shift) - 1)
        excluded, elen = None, item.get("excluded-prefix-len", 0)
        if "excluded-prefix" in item or elen:
            if "excluded-prefix" not in item or "excluded-prefix-len" not in item:
                raise ConfigError("excluded-prefix and excluded-prefix-len must be given "
                                  "together", path)
            excluded = _v6(item["excluded-prefix"], path + ("excluded-prefix",), "prefix")
            ex_text = f"{item['excluded-prefix']}/{elen}"
            if not dlen < elen <= 128:
                raise ConfigError(f"excluded prefix length {elen} must be longer than the "
                                  f"delegated prefix length {dlen}", path + ("excluded-prefix-len",))
            if (excluded >> (128 - dlen)) != (prefix >> (128 - dlen)):
                raise ConfigError(f"excluded prefix {ex_text} must have the same common prefix "
                                  f"part of {dlen} as the delegated prefix "
                                  f"{_text6(prefix)}/{dlen}",
                                  path + ("excluded-prefix",))
        for s, e in ranges:
            if prefix <= e and s <= last:
                raise ConfigError(f"a prefix pool {item['prefix']}/{plen} overlaps with an "
                                  f"existing pool in the subnet {subnet_text}", path + ("prefix",))
        ranges.append((prefix, last))
        return model.PdPool(prefix, plen, dlen, excluded, elen if excluded is not None else 0,
                            item.get("client-class") or None,
                            tuple(item.get("require-client-classes", ())),
                            self.option_data(item, path))

    # --- reservations

    def reservations(self, items, subnet_id, bounds, path):
        out = []
        if not items:
            return out
        fam = self.family
        kinds = schema.SCOPES[f"reservation{fam}"]
        id_types = ("hw-address", "duid", "circuit-id", "client-id", "flex-id")
        seen_ids = {}
        seen_addrs = {}
        where = f"IPv{fam} subnet id '{subnet_id}'" if subnet_id else "global reservations"
        for i, item in enumerate(items):
            rpath = path + (i,)
            found = [k for k in id_types if k in item]
            if not found:
                supported = ", ".join(sorted(k for k in id_types if k in kinds))
                raise ConfigError("one of the supported identifiers must be specified for host "
                                  f"reservation: {supported}", rpath)
            if len(found) > 1:
                raise ConfigError(f"the '{found[0]}' and '{found[1]}' are mutually exclusive",
                                  rpath + (found[1],), key=True)
            kind = found[0]
            ident = parse_identifier(kind, item[kind], rpath + (kind,))
            if (kind, ident) in seen_ids:
                raise ConfigError(f"failed to add new host using the {kind} '{item[kind]}' to the "
                                  f"{where} as this host has already been added",
                                  rpath + (kind,))
            seen_ids[(kind, ident)] = True
            r = model.Reservation(kind, ident, subnet_id,
                                  hostname=item.get("hostname", ""),
                                  client_classes=tuple(item.get("client-classes", ())),
                                  option_data=self.option_data(item, rpath))
            if fam == 4:
                ip = item.get("ip-address")
                if ip is not None:
                    value = _v4(ip, rpath + ("ip-address",))
                    if not value:
                        raise ConfigError(f"must not make reservation for the '{ip}' address",
                                          rpath + ("ip-address",))
                    if value:
                        if bounds and not bounds[0] <= value <= bounds[1]:
                            raise ConfigError(f"specified reservation '{ip}' is not within the "
                                              f"IPv4 subnet '{bounds[2]}'", rpath + ("ip-address",))
                        if self.unique_ips and value in seen_addrs:
                            raise ConfigError(f"failed to add new host using the {kind} "
                                              f"'{item[kind]}' to the {where} for the address "
                                              f"{ip}: There's already a reservation for this "
                                              "address", rpath + ("ip-address",))
                        seen_addrs[value] = True
                        r.ip_address = _text4(value)
                for key in ("next-server",):
                    if key in item:
                        _v4(item[key], rpath + (key,))
                r.next_server = item.get("next-server")
                r.server_hostname = item.get("server-hostname")
                r.boot_file_name = item.get("boot-file-name")
            else:
                addrs = []
                for j, ip in enumerate(item.get("ip-addresses", ())):
                    value = _v6(ip, rpath + ("ip-addresses", j))
                    if bounds and not bounds[0] <= value <= bounds[1]:
                        raise ConfigError(f"specified reservation '{ip}' is not within the IPv6 "
                                          f"subnet '{bounds[2]}'", rpath + ("ip-addresses", j))
                    if self.unique_ips and (value, 128) in seen_addrs:
                        raise ConfigError(f"failed to add address reservation for host using the "
                                          f"{kind} '{item[kind]}' to the {where} for address "
                                          f"{ip}: There's already reservation for this address",
                                          rpath + ("ip-addresses", j))
                    seen_addrs[(value, 128)] = True
                    addrs.append(_text6(value))
                prefixes = []
                for j, text in enumerate(item.get("prefixes", ())):
                    ppath = rpath + ("prefixes", j)
                    ptext, slash, len_text = text.partition("/")
                    if not slash or not len_text.isdigit():
                        raise ConfigError(f"prefix '{text}' for new IPv6 reservation is not in "
                                          "the form prefix/length", ppath)
                    plen = int(len_text)
                    if not 0 < plen <= 128:
                        raise ConfigError(f"invalid prefix length '{plen}' for new IPv6 "
                                          "reservation", ppath)
                    value = _v6(ptext, ppath, "prefix")
                    if self.unique_ips and (value, plen) in seen_addrs:
                        raise ConfigError(f"failed to add prefix reservation for host using the "
                                          f"{kind} '{item[kind]}' to the {where} for prefix "
                                          f"{text}: There's already reservation for this prefix",
                                          ppath)
                    seen_addrs[(value, plen)] = True
                    prefixes.append((_text6(value), plen))
                r.ip_addresses = tuple(addrs)
                r.prefixes = tuple(prefixes)
            if not any(item.get(k) for k in _RESOURCES):
                raise ConfigError(f"specified reservation for {kind} '{item[kind]}' must include "
                                  "at least one resource, i.e. hostname, IPv4 address, IPv6 "
                                  "address/prefix, options", rpath)
            out.append(r)
        return out

    # --- classes, option definitions, option data

    def client_classes(self, items, path):
        out = []
        names = {}
        for i, item in enumerate(items):
            cpath = path + (i,)
            name = item.get("name", "")
            if not name:
                raise ConfigError("missing parameter 'name'", cpath)
            if name in names:
                raise ConfigError(f"Can't add class: Client Class: {name} has already been defined",
                                  cpath + ("name",))
            defs = [self.option_def(d, cpath + ("option-def", j))
                    for j, d in enumerate(item.get("option-def", ()))]
            if defs:
                self._check_defs(defs, cpath + ("option-def",), class_level=True)
            registry = self.defs if not defs else self.registry(self.option_defs + defs,
                                                                cpath + ("option-def",))
            cls = model.ClientClass(
                name=name,
                test=item.get("test", ""),
                only_if_required=item.get("only-if-required", False),
                option_data=self.option_data(item, cpath, registry),
                option_def=defs,
                next_server=item.get("next-server"),
                server_hostname=item.get("server-hostname"),
                boot_file_name=item.get("boot-file-name"),
                valid_lifetime=self.triplet(item, "valid-lifetime", cpath, item),
                preferred_lifetime=(self.triplet(item, "preferred-lifetime", cpath, item)
                                    if self.family == 6 else None),
            )
            if cls.next_server is not None:
                _v4(cls.next_server, cpath + ("next-server",))
            options.check_expression(cls.test, cpath + ("test",), ConfigError, self.family,
                                     registry, _BUILTIN_CLASSES | names.keys())
            names[name] = True
            out.append(cls)
        return out

    def registry(self, defs, path):
        from kea_tools.codec.errors import CodecError

        try:
            return options.registry(self.family, defs)
        except CodecError as err:
            raise ConfigError(err.message, path) from None

    def option_def(self, item, path):
        for key in ("name", "code", "type"):
            if key not in item:
                raise ConfigError(f"missing parameter '{key}'", path)
        return options.option_def(item, self.family, path, ConfigError)

    def _check_defs(self, defs, path, class_level=False):
        by_code, by_name = {}, {}
        std_space = f"dhcp{self.family}"
        for i, d in enumerate(defs):
            dpath = path + (i,)
            # Option 43's standard definition is only a last resort (Kea allows
            # redefining it globally and per class).
            if d.space == std_space and options.is_standard(self.family, d.code) and not (
                    self.family == 4 and d.code == 43):
                raise ConfigError(f"unable to override definition of option '{d.code}' in "
                                  f"standard option space '{d.space}'", dpath + ("code",))
            if class_level and not (d.code == 43 or 224 <= d.code <= 254):
                raise ConfigError("option-def in a client class may only define option 43 or "
                                  "the site-specific codes 224-254", dpath + ("code",))
            if (d.space, d.code) in by_code:
                raise ConfigError(f"option definition with code '{d.code}' already exists in "
                                  f"option space '{d.space}'", dpath + ("code",))
            if (d.space, d.name) in by_name:
                raise ConfigError(f"option definition with name '{d.name}' already exists in "
                                  f"option space '{d.space}'", dpath + ("name",))
            by_code[(d.space, d.code)] = by_name[(d.space, d.name)] = True

    def option_data(self, level, path, registry=None):
        items = level.get("option-data")
        if not items:
            return []
        registry = registry or self.defs
        return [options.resolve(registry, self.family, item, path + ("option-data", i), ConfigError)
                for i, item in enumerate(items)]

    # --- the rest of the global maps

    def hooks(self, items, path):
        out = []
        for i, item in enumerate(items):
            if not item.get("library"):
                raise ConfigError("mandatory 'library' entry missing", path + (i,))
            out.append(model.HookLibrary(item["library"], item.get("parameters", {})))
        return out

    def mac_sources(self, items, path):
        if items is None:
            return ("any",) if self.family == 6 else ()
        for i, name in enumerate(items):
            if name not in MAC_SOURCES:
                raise ConfigError(f"Failed to convert '{name}' to any recognized MAC source",
                                  path + (i,))
        return tuple(items)

    def interfaces(self, item):
        return model.InterfacesConfig(
            interfaces=tuple(item.get("interfaces", ())),
            dhcp_socket_type=item.get("dhcp-socket-type", "raw"),
            outbound_interface=item.get("outbound-interface", "same-as-inbound"),
            re_detect=item.get("re-detect", True),
            service_sockets_require_all=item.get("service-sockets-require-all", False),
            service_sockets_max_retries=item.get("service-sockets-max-retries", 0),
            service_sockets_retry_wait_time=item.get("service-sockets-retry-wait-time", 5000))

    def database(self, item):
        rest = {k: v for k, v in item.items()
                if k not in ("type", "name", "persist", "lfc-interval")}
        return model.Database(item.get("type", "memfile"), item.get("name"),
                              item.get("persist", True), item.get("lfc-interval", 3600), rest)

    def control_socket(self, item, path):
        if item is None:
            return None
        for key in ("socket-type", "socket-name"):
            if key not in item:
                raise ConfigError(f"missing parameter '{key}'", path)
        if item["socket-type"] != "unix":
            raise ConfigError(f"unsupported 'socket-type' '{item['socket-type']}' not 'unix'",
                              path + ("socket-type",))
        return model.ControlSocket(item["socket-type"], item["socket-name"])

    def loggers(self, items, path):
        out = []
        for i, item in enumerate(items):
            if "name" not in item:
                raise ConfigError("missing parameter 'name'", path + (i,))
            severity = item.get("severity", "INFO")
            if severity.upper() not in ("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "NONE"):
                raise ConfigError(f"Unsupported severity value: {severity}",
                                  path + (i, "severity"))
            debuglevel = item.get("debuglevel", 0)
            if not 0 <= debuglevel <= 99:
                raise ConfigError(f"debuglevel must be between 0 and 99, was {debuglevel}",
                                  path + (i, "debuglevel"))
            outputs = [model.LogOutput(o.get("output", "stdout"), o.get("flush", True),
                                       o.get("maxsize", 10240000), o.get("maxver", 1),
                                       o.get("pattern", ""))
                       for o in item.get("output_options", ())]
            out.append(model.Logger(item["name"], severity.upper(), debuglevel, outputs))
        return out
