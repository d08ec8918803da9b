"""The DHCPv6 server around :class:`~kea_tools.server.pipeline6.Pipeline6`: UDP
sockets on port 547 joined to All_DHCP_Relay_Agents_and_Servers (ff02::1:2,
RFC 8415 section 7.1) per interface, Kea's lease6-* control commands, lease
reclamation, and :class:`Server6`, a one-thread event loop that serves a Dhcp6
configuration (``python -m kea_tools.server.reply6 -c FILE [-p PORT] [-P PORT]``).

Sockets: as root, one socket per interface bound to [::]:PORT with
SO_BINDTODEVICE and the multicast group joined on that interface, so it gets
the clients' multicast and unicast traffic of that link; IPV6_RECVPKTINFO tells
which address a datagram was sent to (multicast or one of ours, which decides
the RFC 8415 section 16 / 18.4 unicast rules). Without the privilege, sockets are
bound to each global address of the interfaces (relayed and unicast traffic
only). ``interfaces-config`` entries ``name/address`` also list addresses that
clients may reach by unicast.

Replies to a client go to its link-local source on port 546 out of the
receiving interface; replies to a relay go to the relay's address on 547 (or
its RFC 8357 source port).
"""
import errno
import json
import logging
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from kea_tools.errors import UserError
from kea_tools.leases import DuplicateLeaseError, LeaseError, open_backend
from kea_tools.leases.jsonfmt import lease_from_json, lease_to_json
from kea_tools.leases.model import (STATE_DECLINED, STATE_EXPIRED_RECLAIMED, TYPE_BY_NAME, TYPE_PD,
                                    parse_hex)

from kea_tools.server import control
from kea_tools.server import hooks as H
from kea_tools.server.alloc6 import LeaseTable6, build_model6, ip6_to_int
from kea_tools.server.control import (EMPTY, ERROR, OK, UNSUPPORTED, CommandError, _args, _require,
                                      answer)
from kea_tools.server.duid import server_duid
from kea_tools.server.hooks import HooksManager
from kea_tools.server.pipeline4 import Incoming
from kea_tools.server.pipeline6 import ASSIGNED_STAT, Pipeline6
from kea_tools.server.stats import Statistics, subnet_stat

log = logging.getLogger("kea-dhcp6.dhcp6")

ALL_DHCP_SERVERS = "ff02::1:2"
SERVER_PORT = 547
BURST = 64
RECV_SIZE = 65536
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
_PKTINFO6 = struct.Struct("=16sI")

# Kea 2.2's DHCPv6 hook points (HooksManager collects the v4 ones by name).
HOOK_POINTS_V6 = (
    "dhcp6_srv_configured", "buffer6_receive", "pkt6_receive", "subnet6_select",
    "host6_identifier", "lease6_select", "lease6_renew", "lease6_rebind", "lease6_release",
    "lease6_decline", "leases6_committed", "pkt6_send", "buffer6_send", "lease6_expire",
    "lease6_recover", "command_processed",
)


# --- interfaces and sockets -------------------------------------------------------------

def system_interfaces6():
    """{name: [IPv6 addresses, global first, then link-local]} of this namespace."""
    try:
        out = subprocess.run(["ip", "-6", "-j", "addr", "show"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
        data = json.loads(out or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return {name: [] for _, name in socket.if_nameindex()}
    result = {}
    for entry in data:
        addrs = [a for a in entry.get("addr_info", []) if a.get("family") == "inet6"]
        addrs.sort(key=lambda a: a.get("scope") == "link")
        result[entry["ifname"]] = [a["local"] for a in addrs]
    return result


def select_interfaces6(entries, available):
    """interfaces-config -> ({name: [addresses]}, unicast addresses); ``*`` means
    every interface but lo. UserError for a name or address that does not exist."""
    chosen, unicast = {}, set()
    for entry in entries:
        if entry == "*":
            for name, addrs in available.items():
                if name != "lo":
                    chosen.setdefault(name, list(addrs))
            continue
        name, _, address = entry.partition("/")
        if name not in available:
            raise UserError(f"interfaces-config: no interface {name!r} "
                            f"(have: {', '.join(sorted(available))})")
        chosen.setdefault(name, list(available[name]))
        if address:
            if address not in available[name]:
                raise UserError(f"interfaces-config: {name} has no address {address}")
            unicast.add(address)
    return chosen, unicast


class Dhcp6Socket:
    """One UDP socket serving one interface (or one of its addresses)."""

    __slots__ = ("sock", "iface", "ifindex", "address")

    def __init__(self, sock, iface, address):
        self.sock = sock
        self.iface = iface
        self.address = address
        try:
            self.ifindex = socket.if_nametoindex(iface)
        except OSError:
            self.ifindex = 0

    def fileno(self):
        return self.sock.fileno()

    def receive(self, limit, out):
        n = 0
        sock = self.sock
        while n < limit:
            try:
                data, anc, _flags, src = sock.recvmsg(RECV_SIZE, 256)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EINTR):
                    log.warning("DHCP6_PACKET_RECEIVE_FAIL %s: %s", self.iface, err)
                break
            local = self.address
            for level, kind, value in anc:
                if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO and len(value) >= 20:
                    local = socket.inet_ntop(socket.AF_INET6, value[:16])
            out.append(Incoming(data, src[0].split("%")[0], src[1], self.iface, local))
            n += 1
        return n

    def send(self, data, address, port):
        scope = self.ifindex if address.lower().startswith(("fe80", "ff02")) else 0
        try:
            self.sock.sendto(data, (address, port, 0, scope))
            return True
        except OSError as err:
            log.warning("DHCP6_PACKET_SEND_FAIL to [%s]:%d on %s: %s", address, port,
                        self.iface, err)
            return False

    def close(self):
        self.sock.close()


def _udp6():
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.setblocking(False)
    return sock


def open_sockets6(chosen, port):
    """Sockets for {iface: [addresses]} on ``port``; UserError if one cannot open."""
    sockets = []
    privileged = os.geteuid() == 0
    try:
        for name, addresses in chosen.items():
            if privileged:
                sock = _udp6()
                try:
                    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, name.encode())
                    sock.bind(("::", port))
                    index = socket.if_nametoindex(name)
                    if name != "lo":
                        group = socket.inet_pton(socket.AF_INET6, ALL_DHCP_SERVERS)
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                                        group + struct.pack("@I", index))
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
                except OSError as err:
                    sock.close()
                    raise UserError(f"cannot open a DHCPv6 socket on {name} port {port}: "
                                    f"{err.strerror}") from None
                sockets.append(Dhcp6Socket(sock, name, ""))
                continue
            for address in addresses:
                if address.lower().startswith("fe80"):
                    continue
                sock = _udp6()
                try:
                    sock.bind((address, port))
                except OSError as err:
                    sock.close()
                    raise UserError(f"cannot open a DHCPv6 socket on {name} [{address}]:{port}: "
                                    f"{err.strerror}") from None
                sockets.append(Dhcp6Socket(sock, name, address))
    except UserError:
        for s in sockets:
            s.close()
        raise
    if chosen and not sockets:
        raise UserError("no DHCPv6 socket could be opened on the configured interfaces")
    return sockets


# --- lease6-* control commands (libdhcp_lease_cmds.so) ------------------------------------

def _address6(args, key="ip-address"):
    value = _require(args, key)
    try:
        return ip6_to_int(value)
    except (OSError, TypeError):
        raise CommandError(f"Failed to convert '{value}' to address: invalid address") from None


def _lease_type(args):
    kind = args.get("type", "IA_NA")
    if kind not in TYPE_BY_NAME:
        raise CommandError(f"Invalid lease type specified: {kind}, only supported values are: "
                           "IA_NA, IA_TA, IA_PD and V4")
    return TYPE_BY_NAME[kind]


def _hex(args, key):
    if key not in args:
        raise CommandError(f"'{key}' parameter not specified")
    value = args[key]
    try:
        return parse_hex(value)
    except (ValueError, AttributeError):
        raise CommandError(f"'{value}' is not a valid string of hexadecimal digits") from None


def _find_lease6(daemon, args):
    """By ip-address (+type), or by duid + iaid + subnet-id (+type) (Kea's forms)."""
    kind = _lease_type(args)
    if "ip-address" in args:
        lease = daemon.leases.get(_address6(args))
        return lease if lease is not None and lease.type == kind else None
    # Kea's order of complaints when there is no ip-address.
    for key in ("subnet-id", "identifier-type", "identifier", "iaid"):
        if key not in args:
            raise CommandError(f"Mandatory '{key}' parameter missing.")
    ident_type = args["identifier-type"]
    if ident_type == "hw-address":
        raise CommandError("Query by hw-address is not allowed in v6.")
    if ident_type != "duid":
        raise CommandError(f"Incorrect identifier type: {ident_type}, the only supported "
                           "values are: address, hw-address, duid")
    iaid, subnet_id = args["iaid"], args["subnet-id"]
    duid = _hex(args, "identifier")
    for lease in daemon.leases.by_duid(duid):
        if lease.iaid == iaid and lease.subnet_id == subnet_id and lease.type == kind:
            return lease
    return None


def _lease6_input(daemon, args):
    """lease6-add / lease6-update arguments -> a Lease6 checked against the config."""
    args = _args(args)
    _require(args, "ip-address")
    for key in ("duid", "iaid"):
        if key not in args:
            raise CommandError(f"missing parameter '{key}' (<wire>:0:0)")
    kind = _lease_type(args)
    if kind == TYPE_PD and "prefix-len" not in args:
        raise CommandError("missing parameter 'prefix-len' (<wire>:0:0)")
    try:
        lease = lease_from_json(args, 6)
    except UserError as err:
        raise CommandError(str(err)) from None
    if kind == TYPE_PD and lease.state == STATE_DECLINED:
        raise CommandError("Invalid declined state for PD prefix.")
    address = ip6_to_int(lease.address)
    model = daemon.model
    if not lease.subnet_id:
        if kind == TYPE_PD:
            raise CommandError("Subnet-id is 0 or not specified. This is allowed for address "
                               "leases only, not prefix leases.")
        sub = model.subnet_containing(address)
        if sub is None:
            raise CommandError("subnet-id not specified and failed to find a subnet for "
                               f"address {lease.address}")
        lease.subnet_id = sub.id
    else:
        sub = model.subnets_by_id.get(lease.subnet_id)
        if sub is None:
            raise CommandError(f"Invalid subnet-id: No IPv6 subnet with subnet-id="
                               f"{lease.subnet_id} currently configured.")
        if kind != TYPE_PD and address not in sub:
            raise CommandError(f"The address {lease.address} does not belong to subnet "
                               f"{sub.prefix}, subnet-id={sub.id}")
    if "valid-lft" not in args:
        lease.valid_lft = sub.valid[0]
        if "expire" in args:
            lease.cltt = args["expire"] - lease.valid_lft
    if "preferred-lft" not in args:
        # kea-dhcp6 2.2 gives a lease added without preferred-lft the subnet's
        # valid lifetime (seen on the real server), not its preferred one.
        lease.preferred_lft = sub.valid[0]
    return lease


def _write6(daemon, put=(), delete=()):
    table = daemon.leases
    for lease in put:
        table.stage_put(lease)
    for lease in delete:
        table.stage_delete(lease)
    if table.commit():
        raise CommandError("the lease database refused the change")
    daemon.refresh_lease_stats()


def _what(lease):
    if lease.type == TYPE_PD:
        return f"prefix {lease.address}/{lease.prefix_len}"
    return f"address {lease.address}"


def cmd_lease6_add(daemon, args):
    lease = _lease6_input(daemon, args)
    if daemon.leases.get(ip6_to_int(lease.address)) is not None:
        raise CommandError("IPv6 lease already exists.")
    try:
        _write6(daemon, put=[lease])
    except (DuplicateLeaseError, LeaseError) as err:
        raise CommandError(str(err)) from None
    return answer(OK, f"Lease for {_what(lease)}, subnet-id {lease.subnet_id} added.")


def cmd_lease6_update(daemon, args):
    lease = _lease6_input(daemon, args)
    force = _args(args).get("force-create", False)
    missing = daemon.leases.get(ip6_to_int(lease.address)) is None
    if missing and not force:
        raise CommandError(f"failed to update the lease with address {lease.address} either "
                           "because the lease has been deleted or it has changed in the "
                           "database, in both cases a retry might succeed")
    _write6(daemon, put=[lease])
    return answer(OK, "IPv6 lease added." if missing else "IPv6 lease updated.")


def cmd_lease6_get(daemon, args):
    lease = _find_lease6(daemon, _args(args))
    if lease is None:
        return answer(EMPTY, "Lease not found.")
    return answer(OK, "IPv6 lease found.", lease_to_json(lease))


def cmd_lease6_del(daemon, args):
    lease = _find_lease6(daemon, _args(args))
    if lease is None:
        return answer(EMPTY, "IPv6 lease not found.")
    _write6(daemon, delete=[lease])
    return answer(OK, "IPv6 lease deleted.")


def _leases6_answer(leases):
    leases = sorted(leases, key=lambda lease: ip6_to_int(lease.address))
    return answer(OK if leases else EMPTY, f"{len(leases)} IPv6 lease(s) found.",
                  {"leases": [lease_to_json(lease) for lease in leases]})


def cmd_lease6_get_all(daemon, args):
    args = _args(args)
    leases = daemon.leases.by_addr.values()
    subnets = args.get("subnets")
    if subnets is not None:
        if not isinstance(subnets, list):
            raise CommandError("'subnets' parameter must be a list")
        wanted = set(subnets)
        leases = [lease for lease in leases if lease.subnet_id in wanted]
    return _leases6_answer(leases)


def cmd_lease6_get_page(daemon, args):
    args = _args(args)
    for key in ("from", "limit"):
        if key not in args:
            raise CommandError(f"'{key}' parameter not specified")
    start, limit = args["from"], args["limit"]
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise CommandError("page size of retrieved leases must not be 0")
    after = -1
    if start != "start":
        try:
            after = ip6_to_int(start)
        except (OSError, TypeError):
            raise CommandError("'from' parameter value is neither 'start' keyword nor a valid "
                               "IPv6 address") from None
    page = sorted(a for a in daemon.leases.by_addr if a > after)[:limit]
    leases = [daemon.leases.by_addr[a] for a in page]
    if not leases:
        return answer(EMPTY, "0 IPv6 lease(s) found.", {"leases": [], "count": 0})
    return answer(OK, f"{len(leases)} IPv6 lease(s) found.",
                  {"leases": [lease_to_json(lease) for lease in leases], "count": len(leases)})


def cmd_lease6_get_by_duid(daemon, args):
    return _leases6_answer(daemon.leases.by_duid(_hex(_args(args), "duid")))


def cmd_lease6_get_by_hostname(daemon, args):
    name = _require(_args(args), "hostname")
    if not isinstance(name, str) or not name:
        raise CommandError("'hostname' parameter is empty")
    name = name.lower()
    return _leases6_answer([lease for lease in daemon.leases.by_addr.values()
                            if lease.hostname.lower() == name])


def cmd_lease6_wipe(daemon, args):
    args = _args(args)
    subnet_id = args.get("subnet-id")
    victims = [lease for lease in daemon.leases.by_addr.values()
               if subnet_id in (None, 0) or lease.subnet_id == subnet_id]
    _write6(daemon, delete=victims)
    where = " ".join(str(s.id) for s in daemon.model.subnets) if subnet_id in (None, 0) \
        else str(subnet_id)
    where = f"subnet(s) {where}"
    return answer(OK if victims else EMPTY, f"Deleted {len(victims)} IPv6 lease(s) from {where}")


def cmd_lease6_bulk_apply(daemon, args):
    """Deletions first, then adds/updates; failures listed, the rest applied."""
    args = _args(args)
    if "deleted-leases" not in args and "leases" not in args:
        raise CommandError("neither 'deleted-leases' nor 'leases' parameter specified")
    failed_del, failed_add, done = [], [], 0
    for item in args.get("deleted-leases") or []:
        entry = {"ip-address": item.get("ip-address"), "type": item.get("type", "IA_NA")}
        try:
            lease = _find_lease6(daemon, _args(item))
            if lease is None:
                failed_del.append({**entry, "result": EMPTY, "error-message": "lease not found"})
                continue
            _write6(daemon, delete=[lease])
            done += 1
        except (CommandError, UserError) as err:
            failed_del.append({**entry, "result": ERROR, "error-message": str(err)})
    for item in args.get("leases") or []:
        entry = {"ip-address": item.get("ip-address"), "type": item.get("type", "IA_NA")}
        try:
            _write6(daemon, put=[_lease6_input(daemon, item)])
            done += 1
        except (CommandError, UserError) as err:
            failed_add.append({**entry, "result": ERROR, "error-message": str(err)})
    out = {}
    if failed_del:
        out["failed-deleted-leases"] = failed_del
    if failed_add:
        out["failed-leases"] = failed_add
    return answer(OK, f"Bulk apply of {done} IPv6 leases completed.", out or None)


def cmd_lease6_resend_ddns(daemon, args):
    _address6(_args(args))
    raise CommandError("DHCP-DDNS updates are not enabled")


STAT_LEASE6_COLUMNS = ["subnet-id", "total-nas", "cumulative-assigned-nas", "assigned-nas",
                       "declined-nas", "total-pds", "cumulative-assigned-pds", "assigned-pds"]


def cmd_stat_lease6_get(daemon, args):
    """stat_cmds: per-subnet NA/PD counts from the lease table (Kea's columns)."""
    args = _args(args)
    subnets = daemon.model.subnets
    label = "all subnets"
    if "subnet-id" in args:
        sid = args["subnet-id"]
        label = f"subnet-id={sid}"
        if sid not in daemon.model.subnets_by_id:
            return answer(EMPTY, f"stat-lease6-get[{label}]: no matching data, subnet-id: "
                                 f"{sid} does not exist", {})
        subnets = [daemon.model.subnets_by_id[sid]]
    counts = {}
    for lease in daemon.leases.by_addr.values():
        c = counts.setdefault(lease.subnet_id, [0, 0, 0])
        if lease.state == STATE_DECLINED:
            c[1] += 1
        elif lease.state == 0:
            c[2 if lease.type == TYPE_PD else 0] += 1
    st = daemon.stats
    rows = []
    for sub in subnets:
        na, declined, pd = counts.get(sub.id, (0, 0, 0))
        rows.append([sub.id, sub.total_nas,
                     st.value(subnet_stat(sub.id, "cumulative-assigned-nas")), na + declined,
                     declined, sub.total_pds,
                     st.value(subnet_stat(sub.id, "cumulative-assigned-pds")), pd])
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    result = {"result-set": {"columns": STAT_LEASE6_COLUMNS, "rows": rows, "timestamp": stamp}}
    return answer(OK if rows else EMPTY, f"stat-lease6-get[{label}]: {len(rows)} rows found",
                  result)


# name -> (handler, feature): the v6 half of control.COMMANDS.
COMMANDS6 = {
    "lease6-add": (cmd_lease6_add, "lease_cmds"),
    "lease6-bulk-apply": (cmd_lease6_bulk_apply, "lease_cmds"),
    "lease6-del": (cmd_lease6_del, "lease_cmds"),
    "lease6-get": (cmd_lease6_get, "lease_cmds"),
    "lease6-get-all": (cmd_lease6_get_all, "lease_cmds"),
    "lease6-get-by-duid": (cmd_lease6_get_by_duid, "lease_cmds"),
    "lease6-get-by-hostname": (cmd_lease6_get_by_hostname, "lease_cmds"),
    "lease6-get-page": (cmd_lease6_get_page, "lease_cmds"),
    "lease6-resend-ddns": (cmd_lease6_resend_ddns, "lease_cmds"),
    "lease6-update": (cmd_lease6_update, "lease_cmds"),
    "lease6-wipe": (cmd_lease6_wipe, "lease_cmds"),
    "stat-lease6-get": (cmd_stat_lease6_get, "stat_cmds"),
}


def execute6(daemon, request):
    """control.execute for a v6 server: lease6-*/stat-lease6-get from COMMANDS6, the
    generic commands from control.COMMANDS, the v4 lease commands refused."""
    if not isinstance(request, dict) or not isinstance(request.get("command"), str):
        return control.execute(daemon, request)
    name = request["command"]
    features = daemon.hooks.builtins
    if name in COMMANDS6 and name not in daemon.hooks.commands:
        handler, feature = COMMANDS6[name]
        if feature not in features:
            return answer(UNSUPPORTED, f"'{name}' command not supported.")
        try:
            return handler(daemon, request.get("arguments"))
        except (CommandError, UserError) as err:
            return answer(ERROR, str(err))
        except Exception as err:  # a failing command must not take the server down
            log.exception("command %s failed", name)
            return answer(ERROR, f"Error during command processing: {err}")
    if (name.startswith("lease4-") or name == "stat-lease4-get") and \
            name not in daemon.hooks.commands:
        # kea-dhcp6 lists the v4 commands of lease_cmds too, but cannot run them.
        if name not in control.available_commands(daemon):
            return answer(UNSUPPORTED, f"'{name}' command not supported.")
        return answer(ERROR, f"'{name}' is a DHCPv4 command; this is a DHCPv6 server")
    response = control.execute(daemon, request)
    if name == "list-commands" and response.get("result") == OK:
        names = set(response["arguments"])
        names |= {n for n, (_, f) in COMMANDS6.items() if f in features}
        response["arguments"] = sorted(names)
    return response


# --- the server -------------------------------------------------------------------------

def v6_hooks(cfg, config_dir):
    """HooksManager for a Dhcp6 config, with the libraries' v6 callouts collected."""
    hooks = HooksManager.from_config(cfg.hooks_libraries, config_dir)
    for lib in hooks.libraries:
        for point in HOOK_POINTS_V6:
            fn = getattr(lib.module, point, None)
            if callable(fn) and fn not in hooks.callouts.get(point, ()):
                hooks.callouts.setdefault(point, []).append(fn)
        for point, fns in lib.handle.callouts.items():
            if point in HOOK_POINTS_V6:
                hooks.callouts.setdefault(point, []).extend(
                    fn for fn in fns if fn not in hooks.callouts.get(point, ()))
    return hooks


def backend_spec6(db, config_dir, data_directory):
    spec = {"type": db.type, "persist": db.persist, "lfc-interval": db.lfc_interval}
    spec.update(db.params or {})
    if db.name:
        name = db.name
        if db.type in ("memfile", "sqlite") and config_dir and not os.path.isabs(name):
            name = os.path.join(config_dir, name)
        spec["name"] = name
    elif db.type == "memfile" and db.persist:
        spec["name"] = os.path.join(data_directory, "kea-leases6.csv")
    return spec


class Server6:
    """A running DHCPv6 server for one configuration file (no reconfiguration:
    the v4 Daemon's machinery does that once it serves both families)."""

    def __init__(self, config_path, *, port=SERVER_PORT, client_port=0, clock=time.time,
                 interfaces=system_interfaces6, debug=False):
        self.debug = debug
        self.config_path = str(config_path)
        self.port = port
        self.client_port = client_port
        self.clock = clock
        self.list_interfaces = interfaces
        self.stats = Statistics(clock=clock)
        self.started = self.configured_at = time.time()
        self.enabled = True
        self.exit_code = None
        self.hooks = HooksManager()
        self.sockets = []
        self.selector = selectors.DefaultSelector()
        self.control_sock = self.control_path = None
        self.backend = self.leases = self.pipeline = self.model = self.cfg = None
        self.raw = {}
        self._reclaim_at = 0.0

    # The attributes control.execute's generic commands read.
    def config_raw(self):
        return self.raw

    def refresh_lease_stats(self):
        self.pipeline.init_stats()

    def request_shutdown(self, code=0):
        self.exit_code = code

    def check_config(self, section):
        from kea_tools.config import build
        if not isinstance(section, dict) or "Dhcp6" not in section:
            raise UserError("Missing mandatory Dhcp6 parameter")
        build(section["Dhcp6"], 6, prefix=("Dhcp6",))

    def set_config(self, section):
        raise UserError("config-set is not supported by this server; restart it instead")

    def reload(self):
        raise UserError("config-reload is not supported by this server; restart it instead")

    def start(self):
        from kea_tools.config import load_file
        result = load_file(self.config_path)
        if result.family != 6:
            raise UserError(f"{self.config_path}: this server runs Dhcp6")
        cfg = self.cfg = result.config
        self.raw = result.raw
        configure_logging6(cfg.loggers, self.debug)
        for warning in result.warnings:
            log.warning("DHCP6_CONFIG_SYNTAX_WARNING %s", warning)
        config_dir = os.path.dirname(os.path.abspath(self.config_path))
        data_dir = cfg.data_directory or config_dir
        if not os.path.isabs(data_dir):
            data_dir = os.path.join(config_dir, data_dir)
        self.model = build_model6(cfg)
        self.hooks = v6_hooks(cfg, config_dir)
        spec = backend_spec6(cfg.lease_database, config_dir, data_dir)
        if spec.get("name") and spec["type"] in ("memfile", "sqlite"):
            os.makedirs(os.path.dirname(spec["name"]) or ".", exist_ok=True)
        self.backend = open_backend(spec, 6)
        self.leases = LeaseTable6(self.backend)
        chosen, unicast = select_interfaces6(cfg.interfaces_config.interfaces,
                                             self.list_interfaces())
        self.sockets = open_sockets6(chosen, self.port)
        for s in self.sockets:
            self.selector.register(s, selectors.EVENT_READ, s)
        if cfg.control_socket is not None:
            path = cfg.control_socket.socket_name
            if not os.path.isabs(path):
                path = os.path.join(config_dir, path)
            self.control_sock = control.open_control_socket(path)
            self.control_path = path
            self.selector.register(self.control_sock, selectors.EVENT_READ, "control")
        self.stats.max_samples = cfg.statistic_default_sample_count or self.stats.max_samples
        duid = server_duid(cfg.server_id, data_dir)
        self.pipeline = Pipeline6(self.model, self.leases, self.stats, self.hooks,
                                  server_duid=duid, clock=self.clock, unicast_addresses=unicast,
                                  client_port=self.client_port)
        self.pipeline.init_stats()
        for lease, why in self.pipeline.orphan_leases():
            log.warning("DHCP6_LEASE_ORPHAN lease %s (subnet-id %d) is %s; kept",
                        lease.address, lease.subnet_id, why)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.request_shutdown(0))
        log.info("DHCP6_STARTED keactl DHCPv6 server started on port %d (server-id %s)",
                 self.port, duid.hex(":"))

    def reclaim(self, *, remove, limit=None):
        """Reclaim expired leases (Kea 7.5): lease6_expire, then delete or mark
        expired-reclaimed, and count them."""
        now = int(self.clock())
        st, hooks, table = self.stats, self.hooks, self.leases
        count = 0
        for lease in table.pop_expired(now, limit if limit is not None else float("inf")):
            if hooks.has("lease6_expire"):
                if hooks.call("lease6_expire", {"lease6": lease,
                                                "remove_lease": remove}).status == H.SKIP:
                    continue
            if remove:
                table.stage_delete(lease)
            else:
                table.stage_put(lease.copy(state=STATE_EXPIRED_RECLAIMED, hostname="",
                                           fqdn_fwd=False, fqdn_rev=False))
            sid = lease.subnet_id
            st.add(subnet_stat(sid, ASSIGNED_STAT[lease.type]), -1)
            if lease.state == STATE_DECLINED:
                st.add("declined-addresses", -1)
                st.add(subnet_stat(sid, "declined-addresses"), -1)
                st.add("reclaimed-declined-addresses")
                st.add(subnet_stat(sid, "reclaimed-declined-addresses"))
            st.add("reclaimed-leases")
            st.add(subnet_stat(sid, "reclaimed-leases"))
            count += 1
        if count:
            table.commit()
            self.pipeline.engine.address_freed()
        return count

    def serve(self):
        by_iface = {}
        for s in self.sockets:
            by_iface.setdefault(s.iface, []).append(s)
        try:
            while self.exit_code is None:
                events = self.selector.select(0.5)
                batch = []
                for key, _ in events:
                    if key.data == "control":
                        self._control()
                    else:
                        key.data.receive(BURST - len(batch), batch)
                if batch:
                    if not self.enabled:
                        self.stats.add("pkt6-receive-drop", len(batch))
                    else:
                        for out in self.pipeline.process(batch):
                            self._send(out, by_iface)
                elp = self.model.expired
                if elp.reclaim_timer_wait_time and time.monotonic() >= self._reclaim_at:
                    self._reclaim_at = time.monotonic() + elp.reclaim_timer_wait_time
                    self.reclaim(remove=elp.flush_reclaimed_timer_wait_time == 0,
                                 limit=elp.max_reclaim_leases or None)
        finally:
            self.shutdown()
        return self.exit_code

    def _send(self, out, by_iface):
        socks = by_iface.get(out.iface, ())
        sock = next((s for s in socks if s.address in ("", out.local_address)), None)
        if sock is None and socks:
            sock = socks[0]
        if sock is not None:
            sock.send(out.data, out.address, out.port)

    def _control(self):
        try:
            sock, _ = self.control_sock.accept()
        except OSError:
            return
        conn = control.ControlConnection(sock)
        conn.sock.setblocking(True)
        conn.sock.settimeout(control.IDLE_TIMEOUT)
        request = None
        try:
            while request is None:
                chunk = conn.sock.recv(32768)
                if not chunk:
                    request = json.loads(conn.buffer.decode("utf-8", "replace") or "null")
                    break
                conn.buffer += chunk
                try:
                    request = json.loads(conn.buffer.decode("utf-8"))
                except ValueError:
                    request = None
        except (OSError, ValueError) as err:
            conn.reply(answer(ERROR, f"invalid command: {err}"))
            return
        conn.reply(execute6(self, request))

    def shutdown(self):
        if self.leases is not None and self.leases.pending:
            self.leases.commit()
        for s in self.sockets:
            s.close()
        self.sockets = []
        if self.control_sock is not None:
            self.control_sock.close()
            try:
                os.unlink(self.control_path)
            except OSError:
                pass
            self.control_sock = None
        self.hooks.unload()
        if self.backend is not None:
            self.backend.close()
            self.backend = None
        log.info("DHCP6_SHUTDOWN server shut down")


SEVERITIES = {"FATAL": logging.CRITICAL, "ERROR": logging.ERROR, "WARN": logging.WARNING,
              "INFO": logging.INFO, "DEBUG": logging.DEBUG}
LOG_FORMAT = "%(asctime)s %(levelname)-5s [%(name)s/%(process)d] %(message)s"


def configure_logging6(loggers, debug=False):
    """Kea's ``loggers`` entry for kea-dhcp6 onto the "kea-dhcp6" Python logger."""
    root = logging.getLogger("kea-dhcp6")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.propagate = False
    level, outputs = logging.INFO, ["stderr"]
    for logger in loggers:
        if logger.name.split(".")[0] == "kea-dhcp6":
            level = SEVERITIES.get(logger.severity.upper(), logging.INFO)
            outputs = [o.output for o in logger.output_options] or outputs
            break
    for output in outputs:
        if output in ("stdout", "stderr"):
            handler = logging.StreamHandler(sys.stdout if output == "stdout" else sys.stderr)
        else:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(output)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else level)


def run6(config_path, *, port=None, client_port=None, debug=False):
    """Serve a Dhcp6 ``config_path`` until SIGTERM/SIGINT or ``shutdown`` (kea-dhcp6's
    ``-p`` / ``-P`` are ``port`` / ``client_port``). Returns the exit code; UserError
    (one line for the CLI) if the server cannot start."""
    server = Server6(Path(config_path), port=port or SERVER_PORT, client_port=client_port or 0,
                     debug=debug)
    try:
        server.start()
    except UserError:
        server.shutdown()
        raise
    return server.serve()


def main(argv=None):
    """``python -m kea_tools.server.reply6 -c FILE [-p PORT] [-P PORT] [-d]``."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m kea_tools.server.reply6")
    parser.add_argument("-c", dest="config", required=True, help="Kea Dhcp6 configuration file")
    parser.add_argument("-p", dest="port", type=int, default=SERVER_PORT, help="server port")
    parser.add_argument("-P", dest="client_port", type=int, default=0,
                        help="port direct replies go to (testing aid, as kea-dhcp6 -P)")
    parser.add_argument("-d", dest="debug", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    try:
        return run6(args.config, port=args.port, client_port=args.client_port, debug=args.debug)
    except UserError as err:
        print(f"keactl serve: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
