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


# --- config-get: the running configuration in Kea's form ------------------------------
# What kea-dhcp4 / kea-dhcp6 2.2 fill in (captured with config-get on a minimal
# and a full configuration; tests/server/test_config_get.py compares live).
_DDNS_DEFAULTS = {
    "ddns-generated-prefix": "myhost", "ddns-override-client-update": False,
    "ddns-override-no-update": False, "ddns-qualifying-suffix": "",
    "ddns-replace-client-name": "never", "ddns-send-updates": True,
    "ddns-update-on-renew": False, "ddns-use-conflict-resolution": True,
}
_COMMON_DEFAULTS = {
    **_DDNS_DEFAULTS,
    "decline-probation-period": 86400,
    "dhcp-ddns": {"enable-updates": False, "max-queue-size": 1024, "ncr-format": "JSON",
                  "ncr-protocol": "UDP", "sender-ip": "0.0.0.0", "sender-port": 0,
                  "server-ip": "127.0.0.1", "server-port": 53001},
    "dhcp4o6-port": 0, "early-global-reservations-lookup": False,
    "expired-leases-processing": {
        "flush-reclaimed-timer-wait-time": 25, "hold-reclaimed-time": 3600,
        "max-reclaim-leases": 100, "max-reclaim-time": 250, "reclaim-timer-wait-time": 10,
        "unwarned-reclaim-cycles": 5},
    "hooks-libraries": [], "hostname-char-replacement": "",
    "hostname-char-set": "[^A-Za-z0-9.-]", "ip-reservations-unique": True,
    "multi-threading": {"enable-multi-threading": False, "packet-queue-size": 64,
                        "thread-pool-size": 0},
    "option-data": [], "option-def": [], "parked-packet-limit": 256,
    "reservations-global": False, "reservations-in-subnet": True,
    "reservations-lookup-first": False, "reservations-out-of-pool": False,
    "sanity-checks": {"lease-checks": "warn"}, "server-tag": "", "shared-networks": [],
    "statistic-default-sample-age": 0, "statistic-default-sample-count": 20,
    "store-extended-info": False, "t1-percent": 0.5, "valid-lifetime": 7200,
}
GLOBAL_DEFAULTS = {
    4: {**_COMMON_DEFAULTS, "authoritative": False, "boot-file-name": "",
        "calculate-tee-times": False,
        "dhcp-queue-control": {"capacity": 64, "enable-queue": False, "queue-type": "kea-ring4"},
        "echo-client-id": True,
        "host-reservation-identifiers": ["hw-address", "duid", "circuit-id", "client-id"],
        "match-client-id": True, "next-server": "0.0.0.0", "server-hostname": "",
        "subnet4": [], "t2-percent": 0.875},
    6: {**_COMMON_DEFAULTS, "calculate-tee-times": True,
        "dhcp-queue-control": {"capacity": 64, "enable-queue": False, "queue-type": "kea-ring6"},
        "host-reservation-identifiers": ["hw-address", "duid"], "mac-sources": ["any"],
        "preferred-lifetime": 3600, "relay-supplied-options": ["65"],
        "server-id": {"enterprise-id": 0, "htype": 0, "identifier": "", "persist": True,
                      "time": 0, "type": "LLT"},
        "subnet6": [], "t2-percent": 0.8},
}
# Copied from the global level into shared networks, and from there (or the
# global level) into subnets; min-/max- default to the level's own value.
INHERITED = {
    4: ("valid-lifetime", "min-valid-lifetime", "max-valid-lifetime", "renew-timer",
        "rebind-timer", "calculate-tee-times", "t1-percent", "t2-percent",
        "store-extended-info"),
}
INHERITED[6] = INHERITED[4] + ("preferred-lifetime", "min-preferred-lifetime",
                               "max-preferred-lifetime")
TRIPLETS = {4: ("valid",), 6: ("valid", "preferred")}
_RELAY = {"ip-addresses": []}
SHARED_DEFAULTS = {4: {"option-data": [], "relay": _RELAY, "subnet4": []},
                   6: {"option-data": [], "relay": _RELAY, "subnet6": [], "rapid-commit": False}}
SUBNET_DEFAULTS = {4: {"4o6-interface": "", "4o6-interface-id": "", "4o6-subnet": "",
                       "option-data": [], "pools": [], "relay": _RELAY, "reservations": []},
                   6: {"option-data": [], "pd-pools": [], "pools": [], "relay": _RELAY,
                       "reservations": []}}
# Kea 2.2 gives a top-level subnet6 rapid-commit but leaves it out of the
# subnets of a shared network (they inherit it when used).
TOP_SUBNET_DEFAULTS = {4: {}, 6: {"rapid-commit": False}}
RESERVATION_DEFAULTS = {4: {"boot-file-name": "", "client-classes": [], "hostname": "",
                            "next-server": "0.0.0.0", "option-data": [],
                            "server-hostname": ""},
                        6: {"client-classes": [], "hostname": "", "ip-addresses": [],
                            "option-data": [], "prefixes": []}}
CLASS_DEFAULTS = {4: {"boot-file-name": "", "next-server": "0.0.0.0", "option-data": [],
                      "option-def": [], "server-hostname": ""},
                  6: {"option-data": []}}
OPTION_DATA_DEFAULTS = {"always-send": False, "csv-format": True, "data": ""}
OPTION_DEF_DEFAULTS = {"array": False, "encapsulate": "", "record-types": ""}
OUTPUT_DEFAULTS = {"flush": True, "pattern": ""}
FILE_OUTPUT_DEFAULTS = {"maxsize": 10240000, "maxver": 1}
# In Kea's IdentifierType order (Host::IDENT_HWADDR, IDENT_DUID, ...).
IDENTIFIERS = ("hw-address", "duid", "circuit-id", "client-id", "flex-id")


def _filled(value, defaults):
    out = json.loads(json.dumps(defaults))
    out.update(value)
    return out


def _identifier_bytes(text):
    text = str(text).strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].encode()
    digits = "".join(c for c in text if c not in ":-. ")
    if len(digits) % 2:
        digits = "0" + digits
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return None


def _host_key(res):
    """Kea keeps hosts ordered by (identifier bytes, identifier type)."""
    for rank, key in enumerate(IDENTIFIERS):
        if key in res:
            return (_identifier_bytes(res[key]) or b"", rank)
    return (b"", len(IDENTIFIERS))


def _identifier(key, text):
    """A reservation identifier as Kea prints it: hw-address and duid in
    lower-case colon-separated hex, the others in upper-case plain hex."""
    data = _identifier_bytes(text)
    if data is None:
        return text
    return data.hex(":") if key in ("hw-address", "duid") else data.hex().upper()


def _pool_text(text, family):
    """"a - b" -> "a-b", or "prefix/len" when the range is exactly a prefix
    (Kea's Pool::toElement)."""
    import ipaddress
    text = str(text).strip()
    if "/" in text:
        return text.replace(" ", "")
    first, _, last = (part.strip() for part in text.partition("-"))
    try:
        lo, hi = ipaddress.ip_address(first), ipaddress.ip_address(last)
    except ValueError:
        return text
    size = int(hi) - int(lo) + 1
    bits = 32 if family == 4 else 128
    if size > 0 and size & (size - 1) == 0 and int(lo) % size == 0:
        return f"{lo}/{bits - size.bit_length() + 1}"
    return f"{lo}-{hi}"


class _KeaForm:
    """The running configuration as Kea's config-get shows it."""

    def __init__(self, family, section, subnet_ids, option_defs):
        self.family = family
        self.section = section
        self.ids = iter(subnet_ids)
        self.defs = option_defs
        self.space = f"dhcp{family}"

    def options(self, entries):
        out = []
        for entry in entries or ():
            item = _filled(entry, OPTION_DATA_DEFAULTS)
            item.setdefault("space", self.space)
            try:
                d = self.defs.lookup(item["space"], code=item.get("code"), name=item.get("name"))
            except Exception:  # an unknown option keeps what was written
                d = None
            if d is not None:
                item.setdefault("code", d.code)
                item.setdefault("name", d.name)
            out.append(item)
        return out

    def option_defs(self, entries):
        out = []
        for entry in entries or ():
            item = _filled(entry, OPTION_DEF_DEFAULTS)
            item.setdefault("space", self.space)
            out.append(item)
        return out

    def inherit(self, level, parent):
        for key in INHERITED[self.family]:
            if key not in level and key in parent:
                level[key] = parent[key]
        for name in TRIPLETS[self.family]:
            if f"{name}-lifetime" in level:
                for bound in ("min", "max"):
                    level.setdefault(f"{bound}-{name}-lifetime", level[f"{name}-lifetime"])

    def subnet(self, raw, parent, top):
        sub = _filled(raw, {**SUBNET_DEFAULTS[self.family],
                            **(TOP_SUBNET_DEFAULTS[self.family] if top else {})})
        sub["id"] = next(self.ids, raw.get("id", 0))
        self.inherit(sub, parent)
        sub["option-data"] = self.options(sub["option-data"])
        sub["pools"] = [dict(_filled(p, {"option-data": []}),
                             pool=_pool_text(p.get("pool", ""), self.family),
                             **{"option-data": self.options(p.get("option-data"))})
                        for p in sub["pools"]]
        if self.family == 6:
            sub["pd-pools"] = [dict(_filled(p, {"option-data": []}),
                                    **{"option-data": self.options(p.get("option-data"))})
                               for p in sub["pd-pools"]]
        sub["reservations"] = [self.reservation(r)
                               for r in sorted(sub["reservations"], key=_host_key)]
        relay = sub["relay"]
        if "ip-address" in relay:
            sub["relay"] = {"ip-addresses": [relay["ip-address"]]}
        return sub

    def reservation(self, raw):
        res = _filled(raw, RESERVATION_DEFAULTS[self.family])
        for key in IDENTIFIERS:
            if key in res:
                res[key] = _identifier(key, res[key])
        res["option-data"] = self.options(res["option-data"])
        return res

    def client_class(self, raw):
        cls = _filled(raw, CLASS_DEFAULTS[self.family])
        cls["option-data"] = self.options(cls["option-data"])
        if "option-def" in cls:
            cls["option-def"] = self.option_defs(cls["option-def"])
        return cls

    @staticmethod
    def logger(raw):
        log = _filled(raw, {"debuglevel": 0, "severity": "INFO",
                            "output_options": [{"output": "stdout"}]})
        outputs = []
        for opt in log["output_options"]:
            out = _filled(opt, OUTPUT_DEFAULTS)
            target = out.get("output", "stdout")
            if target not in ("stdout", "stderr") and not target.startswith("syslog"):
                out = _filled(out, FILE_OUTPUT_DEFAULTS)
            outputs.append(out)
        log["output_options"] = outputs
        return log

    def build(self):
        n = self.family
        g = _filled(self.section, GLOBAL_DEFAULTS[n])
        for key, value in GLOBAL_DEFAULTS[n].items():
            if isinstance(value, dict) and key in self.section:
                g[key] = _filled(self.section[key], value)
        g["interfaces-config"] = _filled(self.section.get("interfaces-config", {}),
                                         {"interfaces": [],
                                          "re-detect": "interfaces-config" in self.section})
        g["option-data"] = self.options(g["option-data"])
        g["option-def"] = self.option_defs(g["option-def"])
        subnets = f"subnet{n}"
        # Kea parses the Dhcp map in key order: shared networks' subnets get
        # their ids before the top-level ones (the loader numbers them so too).
        networks = []
        for raw in g["shared-networks"]:
            net = _filled(raw, SHARED_DEFAULTS[n])
            self.inherit(net, g)
            net["option-data"] = self.options(net["option-data"])
            net[subnets] = [self.subnet(s, net, False) for s in net[subnets]]
            networks.append(net)
        g["shared-networks"] = networks
        g[subnets] = [self.subnet(s, g, True) for s in g[subnets]]
        if "reservations" in g:
            g["reservations"] = [self.reservation(r)
                                 for r in sorted(g["reservations"], key=_host_key)]
        if "client-classes" in g:
            g["client-classes"] = [self.client_class(c) for c in g["client-classes"]]
        if "loggers" in g:
            g["loggers"] = [self.logger(entry) for entry in g["loggers"]]
        if "hooks-libraries" in self.section:
            g["hooks-libraries"] = [dict(h) for h in self.section["hooks-libraries"]]
        return {f"Dhcp{n}": g}


def kea_config(daemon):
    """config-get's answer: the running Dhcp4/Dhcp6 map with Kea 2.2's defaults
    filled in, subnet ids assigned, pools and identifiers in Kea's spelling."""
    from kea_tools.codec.optiondefs import OptionDefs
    family = daemon.family
    raw = daemon.config_raw()
    section = raw.get(f"Dhcp{family}", {})
    cfg = daemon.cfg
    defs = OptionDefs.standard(family)
    if cfg is not None and cfg.option_defs:
        defs = defs.with_custom(cfg.option_defs, family)
    ids = [s.id for s in cfg.subnets] if cfg is not None else []
    return _KeaForm(family, section, ids, defs).build()


def kea_pretty(value, indent=0, step=2):
    """JSON text as Kea's prettyPrint writes config files: sorted keys, lists of
    scalars on one line, "[ ]" / "{ }" when empty."""
    pad, inner = " " * indent, " " * (indent + step)
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = [f"{inner}{json.dumps(k)}: {kea_pretty(value[k], indent + step, step)}"
                 for k in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[ ]"
        if not isinstance(value[0], (dict, list, tuple)):
            return kea_json(list(value))
        items = [inner + kea_pretty(v, indent + step, step) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return kea_json(value)


def cmd_config_get(daemon, args):
    return answer(OK, arguments=kea_config(daemon))


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
    text = kea_pretty(kea_config(daemon))
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
