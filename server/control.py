"""Kea's control channel: a UNIX stream socket taking one JSON command per
connection and answering ``{"result": N, "text": ..., "arguments": ...}``.

Result codes are Kea's: 0 success, 1 error, 2 command not supported, 3 empty.
Replies are written with Kea's JSON spacing (``{ "k": v }``, keys sorted) and
the texts kea-dhcp4 / kea-dhcp6 2.2 use (captured from the real servers in
tests/server/data/kea22-control-responses.txt). All commands live in one table,
:func:`command_table`: the daemons' own commands here, the lease_cmds and
stat_cmds ones in :mod:`kea_tools.server.leasecmds`, listed only when their
library is named in hooks-libraries, as in Kea.
"""
import functools
import json
import logging
import os
import socket
import time

from kea_tools.errors import UserError

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


def arguments(arguments, name=None):
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise CommandError("arguments must be a map" if name is None
                           else f"'{name}' command: arguments must be a map")
    return arguments


def require(args, key):
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
    args = arguments(args)
    code = args.get("exit-value", 0)
    if not isinstance(code, int) or isinstance(code, bool):
        raise CommandError("parameter 'exit-value' is not an integer")
    daemon.request_shutdown(code)
    return answer(OK, "Shutting down.")


def cmd_config_get(daemon, args):
    return answer(OK, arguments=daemon.config_raw())


def cmd_config_test(daemon, args):
    daemon.check_config(arguments(args))
    return answer(OK, "Configuration seems sane. Control-socket, hook-libraries, and D2 "
                      "configuration were sanity checked, but not applied.")


def cmd_config_set(daemon, args):
    daemon.set_config(arguments(args))
    return answer(OK, "Configuration successful.")


def cmd_config_reload(daemon, args):
    try:
        daemon.reload()
    except UserError as err:
        raise CommandError(f"Config reload failed: {err}") from None
    return answer(OK, "Configuration successful.")


def cmd_config_write(daemon, args):
    args = arguments(args)
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
    args = arguments(args)
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
    return answer(OK, f"DHCPv{daemon.family} service disabled")


def cmd_dhcp_enable(daemon, args):
    daemon.enabled = True
    return answer(OK, "DHCP service successfully enabled")


# --- statistics -------------------------------------------------------------------

def _stat_name(args):
    args = arguments(args)
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
    count = arguments(args).get("max-samples")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise CommandError("'max-samples' parameter expected to be a positive integer.")
    if not daemon.stats.set_max_samples(name, count):
        raise CommandError(f"No '{name}' statistic found")
    return answer(OK, f"Statistic '{name}' samples limit is set.")


def cmd_statistic_sample_count_set_all(daemon, args):
    count = arguments(args).get("max-samples")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise CommandError("'max-samples' parameter expected to be a positive integer.")
    daemon.stats.set_max_samples_all(count)
    return answer(OK, "All statistics count limit are set.")


def _duration(args):
    duration = arguments(args).get("duration")
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


# kea-dhcp4's and kea-dhcp6's own commands: always there.
GENERIC = {
    "build-report": cmd_build_report,
    "config-get": cmd_config_get,
    "config-reload": cmd_config_reload,
    "config-set": cmd_config_set,
    "config-test": cmd_config_test,
    "config-write": cmd_config_write,
    "dhcp-disable": cmd_dhcp_disable,
    "dhcp-enable": cmd_dhcp_enable,
    "leases-reclaim": cmd_leases_reclaim,
    "list-commands": cmd_list_commands,
    "server-tag-get": cmd_server_tag_get,
    "shutdown": cmd_shutdown,
    "statistic-get": cmd_statistic_get,
    "statistic-get-all": cmd_statistic_get_all,
    "statistic-remove": cmd_statistic_remove,
    "statistic-remove-all": cmd_statistic_remove_all,
    "statistic-reset": cmd_statistic_reset,
    "statistic-reset-all": cmd_statistic_reset_all,
    "statistic-sample-age-set": cmd_statistic_sample_age_set,
    "statistic-sample-age-set-all": cmd_statistic_sample_age_set_all,
    "statistic-sample-count-set": cmd_statistic_sample_count_set,
    "statistic-sample-count-set-all": cmd_statistic_sample_count_set_all,
    "status-get": cmd_status_get,
    "version-get": cmd_version_get,
}


@functools.cache
def command_table():
    """name -> (handler, feature, family): the generic commands (feature and family
    None), then the lease_cmds / stat_cmds ones of both families."""
    from kea_tools.server.leasecmds import lease_commands
    table = {name: (handler, None, None) for name, handler in GENERIC.items()}
    table.update(lease_commands())
    return table


def available_commands(daemon):
    features = daemon.hooks.builtins
    names = {n for n, (_, feature, _family) in command_table().items()
             if feature is None or feature in features}
    return names | set(daemon.hooks.commands)


def execute(daemon, request):
    """Run one parsed command map; always returns a response map."""
    if not isinstance(request, dict) or not isinstance(request.get("command"), str):
        return answer(ERROR, "invalid command: 'command' parameter is missing or not a string")
    name = request["command"]
    args = request.get("arguments")
    hooks = daemon.hooks
    log = logging.getLogger(f"kea-dhcp{daemon.family}.commands")
    try:
        if name in hooks.commands:
            response = hooks.commands[name](args)
        elif name in available_commands(daemon):
            handler, _feature, family = command_table()[name]
            if family is not None and family != daemon.family:
                # Listed by both daemons (as Kea does), served by one.
                response = answer(ERROR, f"'{name}' is a DHCPv{family} command; this is a "
                                         f"DHCPv{daemon.family} server")
            else:
                response = handler(daemon, args)
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
