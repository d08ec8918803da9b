"""Kea's control channel: a UNIX stream socket taking one JSON command per
connection and answering ``{"result": N, "text": ..., "arguments": ...}``.

Result codes are Kea's: 0 success, 1 error, 2 command not supported, 3 empty.
Replies are written with Kea's JSON spacing (``{ "k": v }``, keys sorted) and
the texts kea-dhcp4 2.2 uses (captured from the real server in
tests/server/data/kea22-control-responses.txt). All commands live in one table,
:data:`COMMANDS`; lease_cmds and stat_cmds entries are listed only when their
library is named in hooks-libraries, as in Kea.
"""
import json
import logging
import os
import socket
import time

from kea_tools.errors import UserError
from kea_tools.leases import DuplicateLeaseError, LeaseError
from kea_tools.leases.jsonfmt import lease_from_json, lease_to_json
from kea_tools.leases.model import STATE_DECLINED, parse_hex

from kea_tools.server.model import ip_to_int

log = logging.getLogger("kea-dhcp4.commands")

OK, ERROR, UNSUPPORTED, EMPTY = 0, 1, 2, 3
IDLE_TIMEOUT = 10.0
MAX_COMMAND = 1 << 24


def kea_json(value):
    """JSON text in Kea's Element::str() style."""
    if isinstance(value, dict):
        if not value:
            return "{  }"
        items = ", ".join(f"{json.dumps(k)}: {kea_json(value[k])}" for k in sorted(value))
        return "{ " + items + " }"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[  ]"
        return "[ " + ", ".join(kea_json(v) for v in value) + " ]"
    return json.dumps(value)


def answer(result, text=None, arguments=None):
    out = {"result": result}
    if text is not None:
        out["text"] = text
    if arguments is not None:
        out["arguments"] = arguments
    return out


class CommandError(Exception):
    """A command refused with Kea's result 1 and this text."""


def _args(arguments, name=None):
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise CommandError("arguments must be a map" if name is None
                           else f"'{name}' command: arguments must be a map")
    return arguments


def _require(args, key):
    if key not in args:
        raise CommandError(f"missing parameter '{key}' (<wire>:0:0)")
    return args[key]


# --- generic commands ---------------------------------------------------------------

def cmd_list_commands(daemon, args):
    return answer(OK, arguments=sorted(available_commands(daemon)))


def cmd_version_get(daemon, args):
    from kea_tools import __version__
    return answer(OK, __version__, {"extended": f"{__version__}\nkeactl (Python)\n"
                                                "lease back ends: memfile, sqlite, postgresql"})


def cmd_build_report(daemon, args):
    from kea_tools import __version__
    return answer(OK, f"keactl {__version__}")


def cmd_status_get(daemon, args):
    now = time.time()
    return answer(OK, arguments={
        "pid": os.getpid(), "uptime": int(now - daemon.started),
        "reload": int(now - daemon.configured_at), "multi-threading-enabled": False,
        "sockets": {"status": "ready" if daemon.sockets else "failed"}})


def cmd_shutdown(daemon, args):
    args = _args(args)
    code = args.get("exit-value", 0)
    if not isinstance(code, int) or isinstance(code, bool):
        raise CommandError("parameter 'exit-value' is not an integer")
    daemon.request_shutdown(code)
    return answer(OK, "Shutting down.")


def cmd_config_get(daemon, args):
    return answer(OK, arguments=daemon.config_raw())


def cmd_config_test(daemon, args):
    daemon.check_config(_args(args))
    return answer(OK, "Configuration seems sane. Control-socket, hook-libraries, and D2 "
                      "configuration were sanity checked, but not applied.")


def cmd_config_set(daemon, args):
    daemon.set_config(_args(args))
    return answer(OK, "Configuration successful.")


def cmd_config_reload(daemon, args):
    try:
        daemon.reload()
    except UserError as err:
        raise CommandError(f"Config reload failed: {err}") from None
    return answer(OK, "Configuration successful.")


def cmd_config_write(daemon, args):
    args = _args(args)
    filename = args.get("filename", daemon.config_path)
    if not isinstance(filename, str):
        raise CommandError("filename parameter must be a string")
    text = json.dumps(daemon.config_raw(), indent=2) + "\n"
    try:
        with open(filename, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as err:
        raise CommandError(f"Unable to write to {filename}: {err.strerror}") from None
    return answer(OK, f"Configuration written to {filename} successful",
                  {"filename": filename, "size": len(text)})


def cmd_leases_reclaim(daemon, args):
    args = _args(args)
    if "remove" not in args:
        raise CommandError("Missing mandatory 'remove' parameter.")
    if not isinstance(args["remove"], bool):
        raise CommandError("'remove' parameter expected to be a boolean.")
    daemon.reclaim(remove=args["remove"], limit=None)
    return answer(OK, "Reclamation of expired leases is complete.")


def cmd_server_tag_get(daemon, args):
    return answer(OK, arguments={"server-tag": daemon.model.server_tag})


def cmd_dhcp_disable(daemon, args):
    daemon.enabled = False
    return answer(OK, "DHCPv4 service disabled")


def cmd_dhcp_enable(daemon, args):
    daemon.enabled = True
    return answer(OK, "DHCP service successfully enabled")


# --- statistics -------------------------------------------------------------------

def _stat_name(args):
    args = _args(args)
    name = args.get("name")
    if not isinstance(name, str):
        raise CommandError("'name' parameter not specified" if name is None
                           else "'name' parameter expected to be a string.")
    return name


def cmd_statistic_get(daemon, args):
    return answer(OK, arguments=daemon.stats.get(_stat_name(args)))


def cmd_statistic_get_all(daemon, args):
    return answer(OK, arguments=daemon.stats.get_all())


def cmd_statistic_reset(daemon, args):
    name = _stat_name(args)
    if not daemon.stats.reset(name):
        raise CommandError(f"No '{name}' statistic found")
    return answer(OK, f"Statistic '{name}' reset.")


def cmd_statistic_remove(daemon, args):
    name = _stat_name(args)
    if not daemon.stats.remove(name):
        raise CommandError(f"No '{name}' statistic found")
    return answer(OK, f"Statistic '{name}' removed.")


def cmd_statistic_reset_all(daemon, args):
    daemon.stats.reset_all()
    return answer(OK, "All statistics reset to neutral values.")


def cmd_statistic_remove_all(daemon, args):
    daemon.stats.remove_all()
    return answer(OK, "Warning: statistic-remove-all command is deprecated. "
                      "All statistics removed.")


def cmd_statistic_sample_count_set(daemon, args):
    name = _stat_name(args)
    count = _args(args).get("max-samples")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise CommandError("'max-samples' parameter expected to be a positive integer.")
    if not daemon.stats.set_max_samples(name, count):
        raise CommandError(f"No '{name}' statistic found")
    return answer(OK, f"Statistic '{name}' samples limit is set.")


def cmd_statistic_sample_count_set_all(daemon, args):
    count = _args(args).get("max-samples")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise CommandError("'max-samples' parameter expected to be a positive integer.")
    daemon.stats.set_max_samples_all(count)
    return answer(OK, "All statistics count limit are set.")


def _duration(args):
    duration = _args(args).get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        raise CommandError("'duration' parameter expected to be a non-negative integer.")
    return duration


def cmd_statistic_sample_age_set(daemon, args):
    name = _stat_name(args)
    if not daemon.stats.set_max_age(name, _duration(args)):
        raise CommandError(f"No '{name}' statistic found")
    return answer(OK, f"Statistic '{name}' duration limit is set.")


def cmd_statistic_sample_age_set_all(daemon, args):
    daemon.stats.set_max_age_all(_duration(args))
    return answer(OK, "All statistics duration limit are set.")


def cmd_stat_lease4_get(daemon, args):
    """stat_cmds: per-subnet lease counts from the lease table."""
    args = _args(args)
    wanted = None
    if "subnet-id" in args:
        wanted = {args["subnet-id"]}
        if args["subnet-id"] not in daemon.model.subnets_by_id:
            raise CommandError(f"subnet-id: {args['subnet-id']} does not exist")
    rows = []
    counts = {}
    for lease in daemon.leases.by_addr.values():
        c = counts.setdefault(lease.subnet_id, [0, 0])
        if lease.state == STATE_DECLINED:
            c[1] += 1
        elif lease.state == 0:
            c[0] += 1
    for sub in daemon.model.subnets:
        if wanted is None or sub.id in wanted:
            assigned, declined = counts.get(sub.id, (0, 0))
            rows.append([sub.id, sub.total_addresses, assigned, declined])
    result = {"result-set": {"columns": ["subnet-id", "total-addresses", "assigned-addresses",
                                         "declined-addresses"], "rows": rows,
                             "timestamp": time.strftime("%Y-%m-%d %H:%M:%S")}}
    return answer(OK if rows else EMPTY, "stat-lease4-get: %d rows found" % len(rows), result)


# --- lease_cmds ---------------------------------------------------------------------

def _address(args):
    address = _require(args, "ip-address")
    try:
        return ip_to_int(address)
    except (OSError, TypeError):
        raise CommandError(f"Failed to convert '{address}' to address: invalid address") from None


def _find_lease(daemon, args):
    """By ip-address, or by identifier-type + identifier + subnet-id (Kea's forms)."""
    if "ip-address" in args:
        return daemon.leases.get(_address(args))
    kind = args.get("identifier-type")
    ident = args.get("identifier")
    if kind is None or ident is None:
        raise CommandError("Mandatory 'ip-address' parameter missing (or identifier-type, "
                           "identifier and subnet-id)")
    subnet_id = _require(args, "subnet-id")
    try:
        value = parse_hex(ident)
    except ValueError as err:
        raise CommandError(str(err)) from None
    if kind == "hw-address":
        found = daemon.leases.by_hwaddr(value)
    elif kind == "client-id":
        found = daemon.leases.by_client_id(value)
    else:
        raise CommandError(f"Incorrect identifier type: {kind}, the only supported values "
                           "are: address, hw-address, duid")
    for lease in found:
        if lease.subnet_id == subnet_id:
            return lease
    return None


def _lease_input(daemon, args):
    args = _args(args)
    _require(args, "ip-address")
    if "hw-address" not in args:
        raise CommandError("missing parameter 'hw-address' (<wire>:0:0)")
    try:
        lease = lease_from_json(args, 4)
    except UserError as err:
        raise CommandError(str(err)) from None
    address = ip_to_int(lease.address)
    if not lease.subnet_id:
        sub = daemon.model.subnet_containing(address)
        if sub is None:
            raise CommandError("subnet-id not specified and failed to find a subnet for "
                               f"address {lease.address}")
        lease.subnet_id = sub.id
    else:
        sub = daemon.model.subnets_by_id.get(lease.subnet_id)
        if sub is None:
            raise CommandError(f"Invalid subnet-id: No IPv4 subnet with subnet-id="
                               f"{lease.subnet_id} currently configured.")
        if address not in sub:
            raise CommandError(f"The address {lease.address} does not belong to subnet "
                               f"{sub.prefix}, subnet-id={sub.id}")
    if "valid-lft" not in args:
        lease.valid_lft = sub.valid_lifetime
        if "expire" in args:
            lease.cltt = args["expire"] - lease.valid_lft
    return lease


def _write(daemon, put=None, delete=None):
    table = daemon.leases
    if put is not None:
        table.stage_put(put)
    if delete is not None:
        table.stage_delete(delete)
    failed = table.commit()
    if failed:
        raise CommandError("the lease database refused the change")
    daemon.refresh_lease_stats()


def cmd_lease4_add(daemon, args):
    lease = _lease_input(daemon, args)
    if daemon.leases.get(ip_to_int(lease.address)) is not None:
        raise CommandError("IPv4 lease already exists.")
    try:
        _write(daemon, put=lease)
    except (DuplicateLeaseError, LeaseError) as err:
        raise CommandError(str(err)) from None
    return answer(OK, f"Lease for address {lease.address}, subnet-id {lease.subnet_id} added.")


def cmd_lease4_update(daemon, args):
    lease = _lease_input(daemon, args)
    force = _args(args).get("force-create", False)
    if daemon.leases.get(ip_to_int(lease.address)) is None and not force:
        raise CommandError(f"failed to update the lease with address {lease.address} either "
                           "because the lease has been deleted or it has changed in the "
                           "database, in both cases a retry might succeed")
    _write(daemon, put=lease)
    return answer(OK, "IPv4 lease updated.")


def cmd_lease4_get(daemon, args):
    lease = _find_lease(daemon, _args(args))
    if lease is None:
        return answer(EMPTY, "Lease not found.")
    return answer(OK, "IPv4 lease found.", lease_to_json(lease))


def cmd_lease4_del(daemon, args):
    lease = _find_lease(daemon, _args(args))
    if lease is None:
        return answer(EMPTY, "IPv4 lease not found.")
    _write(daemon, delete=lease)
    return answer(OK, "IPv4 lease deleted.")


def _leases_answer(leases):
    leases = sorted(leases, key=lambda lease: ip_to_int(lease.address))
    return answer(OK if leases else EMPTY, f"{len(leases)} IPv4 lease(s) found.",
                  {"leases": [lease_to_json(lease) for lease in leases]})


def cmd_lease4_get_all(daemon, args):
    args = _args(args)
    subnets = args.get("subnets")
    leases = daemon.leases.by_addr.values()
    if subnets is not None:
        if not isinstance(subnets, list):
            raise CommandError("'subnets' parameter must be a list")
        wanted = set(subnets)
        leases = [lease for lease in leases if lease.subnet_id in wanted]
    return _leases_answer(leases)


def cmd_lease4_get_page(daemon, args):
    args = _args(args)
    start = _require(args, "from")
    limit = _require(args, "limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise CommandError("page size of the retrieved leases must not be 0")
    after = -1
    if start != "start":
        try:
            after = ip_to_int(start)
        except (OSError, TypeError):
            raise CommandError(f"'from' parameter value {start} is not a valid IPv4 address")
    page = sorted(a for a in daemon.leases.by_addr if a > after)[:limit]
    leases = [daemon.leases.by_addr[a] for a in page]
    if not leases:
        return answer(EMPTY, "0 IPv4 lease(s) found.", {"leases": [], "count": 0})
    return answer(OK, f"{len(leases)} IPv4 lease(s) found.",
                  {"leases": [lease_to_json(lease) for lease in leases], "count": len(leases)})


def _hex_arg(args, key):
    value = _require(args, key)
    try:
        return parse_hex(value)
    except (ValueError, AttributeError):
        raise CommandError(f"'{key}' parameter: invalid value {value!r}") from None


def cmd_lease4_get_by_hw_address(daemon, args):
    return _leases_answer(daemon.leases.by_hwaddr(_hex_arg(_args(args), "hw-address")))


def cmd_lease4_get_by_client_id(daemon, args):
    return _leases_answer(daemon.leases.by_client_id(_hex_arg(_args(args), "client-id")))


def cmd_lease4_get_by_hostname(daemon, args):
    name = _require(_args(args), "hostname")
    if not isinstance(name, str) or not name:
        raise CommandError("'hostname' parameter is empty")
    name = name.lower()
    return _leases_answer([lease for lease in daemon.leases.by_addr.values()
                           if lease.hostname.lower() == name])


def cmd_lease4_wipe(daemon, args):
    args = _args(args)
    subnet_id = args.get("subnet-id")
    victims = [lease for lease in daemon.leases.by_addr.values()
               if subnet_id in (None, 0) or lease.subnet_id == subnet_id]
    for lease in victims:
        daemon.leases.stage_delete(lease)
    if daemon.leases.commit():
        raise CommandError("the lease database refused the change")
    daemon.refresh_lease_stats()
    where = "all subnets" if subnet_id in (None, 0) else f"subnet(s) {subnet_id}"
    return answer(OK if victims else EMPTY, f"Deleted {len(victims)} IPv4 lease(s) from {where}")


def cmd_lease4_resend_ddns(daemon, args):
    _address(_args(args))
    raise CommandError("DHCP-DDNS updates are not enabled")


# name -> (handler, feature); feature None = always there (kea-dhcp4's own commands).
COMMANDS = {
    "build-report": (cmd_build_report, None),
    "config-get": (cmd_config_get, None),
    "config-reload": (cmd_config_reload, None),
    "config-set": (cmd_config_set, None),
    "config-test": (cmd_config_test, None),
    "config-write": (cmd_config_write, None),
    "dhcp-disable": (cmd_dhcp_disable, None),
    "dhcp-enable": (cmd_dhcp_enable, None),
    "leases-reclaim": (cmd_leases_reclaim, None),
    "list-commands": (cmd_list_commands, None),
    "server-tag-get": (cmd_server_tag_get, None),
    "shutdown": (cmd_shutdown, None),
    "statistic-get": (cmd_statistic_get, None),
    "statistic-get-all": (cmd_statistic_get_all, None),
    "statistic-remove": (cmd_statistic_remove, None),
    "statistic-remove-all": (cmd_statistic_remove_all, None),
    "statistic-reset": (cmd_statistic_reset, None),
    "statistic-reset-all": (cmd_statistic_reset_all, None),
    "statistic-sample-age-set": (cmd_statistic_sample_age_set, None),
    "statistic-sample-age-set-all": (cmd_statistic_sample_age_set_all, None),
    "statistic-sample-count-set": (cmd_statistic_sample_count_set, None),
    "statistic-sample-count-set-all": (cmd_statistic_sample_count_set_all, None),
    "status-get": (cmd_status_get, None),
    "version-get": (cmd_version_get, None),
    "lease4-add": (cmd_lease4_add, "lease_cmds"),
    "lease4-del": (cmd_lease4_del, "lease_cmds"),
    "lease4-get": (cmd_lease4_get, "lease_cmds"),
    "lease4-get-all": (cmd_lease4_get_all, "lease_cmds"),
    "lease4-get-by-client-id": (cmd_lease4_get_by_client_id, "lease_cmds"),
    "lease4-get-by-hostname": (cmd_lease4_get_by_hostname, "lease_cmds"),
    "lease4-get-by-hw-address": (cmd_lease4_get_by_hw_address, "lease_cmds"),
    "lease4-get-page": (cmd_lease4_get_page, "lease_cmds"),
    "lease4-resend-ddns": (cmd_lease4_resend_ddns, "lease_cmds"),
    "lease4-update": (cmd_lease4_update, "lease_cmds"),
    "lease4-wipe": (cmd_lease4_wipe, "lease_cmds"),
    "stat-lease4-get": (cmd_stat_lease4_get, "stat_cmds"),
}


def available_commands(daemon):
    features = daemon.hooks.builtins
    names = {n for n, (_, feature) in COMMANDS.items() if feature is None or feature in features}
    return names | set(daemon.hooks.commands)


def execute(daemon, request):
    """Run one parsed command map; always returns a response map."""
    if not isinstance(request, dict) or not isinstance(request.get("command"), str):
        return answer(ERROR, "invalid command: 'command' parameter is missing or not a string")
    name = request["command"]
    args = request.get("arguments")
    hooks = daemon.hooks
    try:
        if name in hooks.commands:
            response = hooks.commands[name](args)
        elif name in available_commands(daemon):
            response = COMMANDS[name][0](daemon, args)
        else:
            response = answer(UNSUPPORTED, f"'{name}' command not supported.")
    except CommandError as err:
        response = answer(ERROR, str(err))
    except UserError as err:
        response = answer(ERROR, str(err))
    except Exception as err:  # a failing command must not take the server down
        log.exception("command %s failed", name)
        response = answer(ERROR, f"Error during command processing: {err}")
    if hooks.has("command_processed"):
        handle = hooks.call("command_processed", {"name": name, "arguments": args,
                                                  "response": response})
        response = handle.arguments["response"]
    log.debug("COMMAND_RECEIVED Received command '%s'", name)
    return response


class ControlConnection:
    """One accepted connection: read until the JSON text is complete, answer, close."""

    __slots__ = ("sock", "buffer", "deadline", "outgoing")

    def __init__(self, sock):
        self.sock = sock
        self.sock.setblocking(False)
        self.buffer = b""
        self.deadline = time.monotonic() + IDLE_TIMEOUT
        self.outgoing = None

    def fileno(self):
        return self.sock.fileno()

    def read(self):
        """Returns the parsed command when complete, None when more is needed;
        raises EOFError when the peer went away, ValueError on bad JSON."""
        try:
            chunk = self.sock.recv(32768)
        except BlockingIOError:
            return None
        if not chunk:
            if self.buffer.strip():
                return json.loads(self.buffer.decode("utf-8", "replace"))
            raise EOFError
        self.buffer += chunk
        if len(self.buffer) > MAX_COMMAND:
            raise ValueError("command too large")
        try:
            return json.loads(self.buffer.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None  # incomplete (or bad: decided at EOF or timeout)

    def reply(self, response):
        data = kea_json(response).encode()
        self.sock.setblocking(True)
        self.sock.settimeout(IDLE_TIMEOUT)
        try:
            self.sock.sendall(data)
        except OSError:
            pass
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def open_control_socket(path):
    """Listen on the UNIX socket ``path`` (a stale socket file is replaced)."""
    try:
        if os.path.exists(path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
                probe.close()
                raise UserError(f"control socket {path} is in use by another server")
            except (ConnectionRefusedError, FileNotFoundError):
                os.unlink(path)
            finally:
                probe.close()
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(16)
        sock.setblocking(False)
        return sock
    except OSError as err:
        raise UserError(f"cannot open control socket {path}: {err.strerror}") from None
