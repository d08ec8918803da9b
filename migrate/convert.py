"""dhcpd.conf -> Kea 2.2 configuration (``Dhcp4`` or ``Dhcp6``).

The statement tree from :mod:`.grammar` is walked once. Declarations become Kea
objects (subnets, shared networks, pools, pd-pools, reservations, client classes,
option definitions); parameters and options land in the scope Kea allows for them;
groups are flattened into what they contain. Everything Kea cannot express is kept
as a comment at its place, with ``file:line`` and the reason, and counted as an
:class:`Issue` (keama's behaviour, ISC keama/doc.txt).
"""
import ipaddress
import os
import socket
from dataclasses import dataclass, field

from kea_tools.errors import SourceError
from kea_tools.migrate import directives, grammar
from kea_tools.migrate.emit import Note, Skipped
from kea_tools.migrate.exprgrammar import ExprError, parse_expression
from kea_tools.migrate.exprkea import KeaExpr, Untranslatable, describe, fold, is_constant, kind_of, NotConstant
from kea_tools.migrate.options import (OptionRegistry, option_data, option_def_entry, parse_type,
                                       parse_value)
from kea_tools.migrate.values import HARDWARE_TYPES, Cursor, kea_string_literal, mac_text

HOOKS_DIR = "/usr/lib/x86_64-linux-gnu/kea/hooks"
INFINITE = 0xFFFFFFFF


@dataclass(slots=True)
class Issue:
    """Something that was not carried over, with its place and the reason."""

    file: str
    line: int
    message: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(slots=True)
class Scope:
    """One ISC scope while walking: its kind, its parent and what it collected."""

    kind: str                  # root group shared-network subnet pool host class exec
    parent: object = None
    entries: dict = field(default_factory=dict)   # Kea keys -> values (+ Note keys)
    options: list = field(default_factory=list)
    stmt: object = None
    name: str = ""
    data: dict = field(default_factory=dict)      # kind-specific collections

    def chain(self):
        s = self
        while s is not None:
            yield s
            s = s.parent

    def inside(self, *kinds):
        return any(s.kind in kinds for s in self.chain())


# Checks ISC makes on a statement's first words, before reading the rest: they
# come before a lexical error later in the statement.
PARTIAL_CHECKS = {"subclass": "_superclass"}

# ISC server-space parameter -> (value kind, Kea key or None, reason when None).
# Kinds: T lease time, f flag, t text, I IPv4, U space name, N enumeration.
PARAMS = {
    "default-lease-time": ("T", "valid-lifetime", ""),
    "max-lease-time": ("T", "max-valid-lifetime", ""),
    "min-lease-time": ("T", "min-valid-lifetime", ""),
    "preferred-lifetime": ("T", "preferred-lifetime", ""),
    "filename": ("t", "boot-file-name", ""),
    "server-name": ("t", "server-hostname", ""),
    "next-server": ("I", "next-server", ""),
    "authoritative": ("f", "authoritative", ""),
    "ignore-client-uids": ("f", "match-client-id", ""),
    "echo-client-id": ("f", "echo-client-id", ""),
    "ddns-updates": ("f", "ddns-send-updates", ""),
    "ddns-domainname": ("t", "ddns-qualifying-suffix", ""),
    "ddns-update-style": ("N", "ddns-update-style", ""),
    "vendor-option-space": ("U", "vendor-option-space", ""),
    "dhcpv6-set-tee-times": ("f", "calculate-tee-times", ""),
    "dynamic-bootp-lease-cutoff": ("T", None, "BOOTP is not supported (Kea has a BOOTP hook, libdhcp_bootp.so)"),
    "dynamic-bootp-lease-length": ("T", None, "BOOTP is not supported (Kea has a BOOTP hook, libdhcp_bootp.so)"),
    "boot-unknown-clients": ("f", None, "BOOTP is not supported (Kea has a BOOTP hook, libdhcp_bootp.so)"),
    "dynamic-bootp": ("f", None, "BOOTP is not supported (Kea has a BOOTP hook, libdhcp_bootp.so)"),
    "allow-bootp": ("f", None, "BOOTP is not supported (Kea has a BOOTP hook, libdhcp_bootp.so)"),
    "allow-booting": ("f", None, "Kea has no per-scope booting switch (use a client class with DROP)"),
    "one-lease-per-client": ("f", None, "Kea always keeps one lease per client and subnet"),
    "get-lease-hostnames": ("f", None, "Kea does not look host names up in DNS"),
    "use-host-decl-names": ("f", None, "reservations carry their hostname explicitly in Kea"),
    "use-lease-addr-for-default-route": ("f", None, "no Kea equivalent"),
    "min-secs": ("B", None, "min-secs is not supported by Kea"),
    "always-reply-rfc1048": ("f", None, "no Kea equivalent"),
    "site-option-space": ("U", None, "site option spaces have no Kea equivalent"),
    "always-broadcast": ("f", None, "no Kea equivalent"),
    "ddns-hostname": ("t", None, "Kea builds host names from the client (ddns-generated-prefix / hostname-char-set)"),
    "ddns-rev-domainname": ("t", None, "reverse zones belong to the kea-dhcp-ddns configuration"),
    "lease-file-name": ("t", None, "lease storage is configured with lease-database"),
    "pid-file-name": ("t", None, "Kea places its PID file itself"),
    "dhcpv6-lease-file-name": ("t", None, "lease storage is configured with lease-database"),
    "dhcpv6-pid-file-name": ("t", None, "Kea places its PID file itself"),
    "duplicates": ("f", None, "no Kea equivalent"),
    "declines": ("f", None, "Kea always honours DHCPDECLINE (decline-probation-period)"),
    "omapi-port": ("S", None, "OMAPI is replaced by Kea's control channel (control-socket)"),
    "omapi-key": ("d", None, "OMAPI is replaced by Kea's control channel (control-socket)"),
    "local-port": ("S", None, "use kea-dhcp -p PORT"),
    "remote-port": ("S", None, "use kea-dhcp -P PORT"),
    "limited-broadcast-address": ("I", None, "no Kea equivalent"),
    "local-address": ("I", None, "Kea binds to interface addresses (interfaces-config)"),
    "local-address6": ("6", None, "Kea binds to interface addresses (interfaces-config)"),
    "bind-local-address6": ("f", None, "Kea binds to interface addresses (interfaces-config)"),
    "stash-agent-options": ("f", None, "Kea keeps relay information in the lease's user-context"),
    "ddns-ttl": ("T", None, "Kea 2.2 computes the DNS TTL from the lease lifetime"),
    "client-updates": ("f", None, "use ddns-override-client-update"),
    "update-optimization": ("f", None, "no Kea equivalent"),
    "ping-check": ("f", None, "Kea 2.2 has no ping check (the ping_check hook came in 2.6)"),
    "ping-timeout": ("T", None, "Kea 2.2 has no ping check"),
    "ping-timeout-ms": ("L", None, "Kea 2.2 has no ping check"),
    "ping-cltt-secs": ("L", None, "Kea 2.2 has no ping check"),
    "update-static-leases": ("f", None, "Kea does not make DNS updates for reservations without leases"),
    "log-facility": ("N", None, "logging is configured with loggers (or KEA_LOGGER_DESTINATION)"),
    "do-forward-updates": ("f", None, "use ddns-override-no-update / ddns-send-updates"),
    "infinite-is-reserved": ("f", None, "no Kea equivalent"),
    "update-conflict-detection": ("f", None, "use ddns-use-conflict-resolution"),
    "leasequery": ("f", None, "leasequery is a premium Kea hook"),
    "adaptive-lease-time-threshold": ("B", None, "no Kea equivalent"),
    "do-reverse-updates": ("f", None, "use ddns-override-no-update / kea-dhcp-ddns reverse zones"),
    "fqdn-reply": ("f", None, "no Kea equivalent"),
    "limit-addrs-per-ia": ("L", None, "Kea has no per-IA address limit"),
    "limit-prefs-per-ia": ("L", None, "Kea has no per-IA prefix limit"),
    "delayed-ack": ("S", None, "Kea writes leases synchronously"),
    "max-ack-delay": ("L", None, "Kea writes leases synchronously"),
    "dhcp-cache-threshold": ("B", None, "Kea has cache-threshold instead (different meaning)"),
    "dont-use-fsync": ("f", None, "no Kea equivalent"),
    "ddns-local-address4": ("I", None, "belongs to the kea-dhcp-ddns configuration"),
    "ddns-local-address6": ("6", None, "belongs to the kea-dhcp-ddns configuration"),
    "log-threshold-low": ("B", None, "Kea has no pool usage log thresholds"),
    "log-threshold-high": ("B", None, "Kea has no pool usage log thresholds"),
    "server-id-check": ("f", None, "no Kea equivalent"),
    "prefix-length-mode": ("N", None, "Kea 2.2 has no prefix length hint mode"),
    "abandon-lease-time": ("T", None, "use decline-probation-period"),
    "use-eui-64": ("f", None, "no Kea equivalent"),
    "persist-eui-64-leases": ("f", None, "no Kea equivalent"),
    "check-secs-byte-order": ("f", None, "no Kea equivalent"),
    "ddns-dual-stack-mixed-mode": ("f", None, "no Kea 2.2 equivalent"),
    "ddns-guard-id-must-match": ("f", None, "no Kea 2.2 equivalent"),
    "ddns-other-guard-is-dynamic": ("f", None, "no Kea 2.2 equivalent"),
    "release-on-roam": ("f", None, "no Kea equivalent"),
}

# Where Kea 2.2 accepts each translated key.
KEY_SCOPES = {
    "valid-lifetime": {"root", "shared-network", "subnet", "class"},
    "max-valid-lifetime": {"root", "shared-network", "subnet", "class"},
    "min-valid-lifetime": {"root", "shared-network", "subnet", "class"},
    "preferred-lifetime": {"root", "shared-network", "subnet", "class"},
    "boot-file-name": {"root", "shared-network", "subnet", "class", "host"},
    "server-hostname": {"root", "shared-network", "subnet", "class", "host"},
    "next-server": {"root", "shared-network", "subnet", "class", "host"},
    "authoritative": {"root", "shared-network", "subnet"},
    "match-client-id": {"root", "shared-network", "subnet"},
    "echo-client-id": {"root"},
    "ddns-send-updates": {"root", "shared-network", "subnet"},
    "ddns-qualifying-suffix": {"root", "shared-network", "subnet"},
    "calculate-tee-times": {"root", "shared-network", "subnet"},
    "ddns-override-client-update": {"root", "shared-network", "subnet"},
    "ddns-update-style": {"root", "shared-network", "subnet"},
    "vendor-option-space": {"root", "shared-network", "subnet", "class", "host", "pool"},
}
V4_ONLY = {"boot-file-name", "server-hostname", "next-server", "authoritative", "match-client-id",
           "echo-client-id"}
V6_ONLY = {"preferred-lifetime"}

DECL_PLACES = {
    # keyword -> (scopes where allowed, message otherwise)
    "subnet": ({"root", "group", "shared-network"}, "subnet declarations not allowed here."),
    "subnet6": ({"root", "group", "shared-network"}, "subnet declarations not allowed here."),
    "shared-network": ({"root", "group"}, "shared-network parameters not allowed here."),
    "host": ({"root", "group", "shared-network", "subnet", "pool"}, "host declarations not allowed here."),
    "group": ({"root", "group", "shared-network", "subnet", "pool"}, "group declarations not allowed here."),
    "class": ({"root", "group", "shared-network", "subnet", "pool", "host"}, "class declarations not allowed here."),
    "subclass": ({"root", "group", "shared-network", "subnet", "pool", "host"}, "class declarations not allowed here."),
    "fixed-address": ({"host"}, "fixed-address parameter not allowed here."),
    "fixed-address6": ({"host"}, "fixed-address parameter not allowed here."),
    "fixed-prefix6": ({"host"}, "fixed-prefix6 declaration not allowed here."),
    "hardware": ({"host"}, "hardware address parameter not allowed here."),
    "uid": ({"host"}, "uid parameter not allowed here."),
    "host-identifier": ({"host"}, "host-identifier parameter not allowed here."),
    "range": ({"subnet", "pool"}, "range declaration not allowed here."),
    "range6": ({"subnet", "pool"}, "range6 declaration not allowed here."),
    "prefix6": ({"subnet", "pool"}, "prefix6 declaration not allowed here."),
}

DECLARATIONS = {"host", "group", "subnet", "subnet6", "shared-network", "class", "subclass",
                "pool", "pool6"}

EXECUTABLE = {"if", "elsif", "else", "switch", "on", "execute", "log", "set", "unset", "eval",
              "define", "add", "break", "return", "parse-vendor-option"}


@dataclass(slots=True)
class Result:
    """What a conversion produced: the document (with markers) and the issues."""

    doc: dict
    issues: list
    d2: dict = None


class Converter:
    """One dhcpd.conf -> Kea conversion (DHCPv4 or DHCPv6)."""

    def __init__(self, family=4, resolve=True, hooks_dir=HOOKS_DIR, isc_defaults=False, d2=False,
                 subnet_hosts_only=False):
        self.family = family
        # keama -N: reservations only inside subnets (a host without a fixed
        # address goes into the last declared subnet); a host no subnet takes is
        # left as a comment instead of becoming a global reservation.
        self.subnet_hosts_only = subnet_hosts_only
        self.d2 = d2
        self.isc_defaults = isc_defaults
        self.resolve_names = resolve
        self.hooks_dir = hooks_dir
        self.reg = OptionRegistry(family)
        self.expr = KeaExpr(self.reg, family)
        self.issues = []
        self.root = Scope("root")
        self.option_defs = []
        self.subnets = []          # (scope, entry) in declaration order
        self.shared = []           # shared-network scopes
        self.classes = []          # entries (and Notes) in order
        self.class_by_name = {}
        self.generated = {}
        self.hosts = []            # (scope, reservation, address)
        self.interfaces = []
        self.failover = []
        self.keys = []
        self.zones = []
        self.server_id = None
        self.ddns = {}
        self.subnet_id = 0
        self.subclass_count = 0
        self.data_index = None
        self.vendor_spaces = set()
        self.v4_server_duid = None   # the SourceError refusing a DHCPv4 server-duid
        self._before = None          # the token read before the current statement

    # -- entry points ------------------------------------------------------
    def convert_file(self, path):
        try:
            with open(path, encoding="latin-1") as fh:
                text = fh.read()
        except OSError as err:
            raise SourceError(f"can't open {path}: {err.strerror}") from None
        return self.convert_text(text, str(path))

    def convert_text(self, text, filename="<input>"):
        self._walk_file(text, filename, self.root)
        if self.v4_server_duid is not None:
            raise self.v4_server_duid
        return self.finish()

    def _walk_file(self, text, filename, scope):
        parsed = grammar.parse(text, filename)
        self.walk(parsed.stmts, scope)
        # Statements before a lexical error are interpreted first (one of them may
        # fail earlier, as in ISC's on-demand parser); then the error itself.
        if parsed.error is not None:
            raise parsed.error

    # -- helpers -----------------------------------------------------------
    def issue(self, stmt, reason, scope=None, tok=None):
        line = tok.line if tok is not None else stmt.line
        self.issues.append(Issue(stmt.file, line, reason))
        while scope is not None and scope.kind in ("group", "exec"):
            scope = scope.parent
        if scope is not None:
            scope.entries[Note(self._note_text(stmt, reason, line))] = None

    def _note_text(self, stmt, reason, line=None):
        src = "\n".join("  " + l.rstrip() for l in stmt.text.splitlines())
        return f"{stmt.file}:{line or stmt.line}: not translated: {reason}\n{src}"

    def error(self, stmt, message, tok=None):
        tok = tok or (stmt.words[0] if stmt.words else stmt.end)
        return SourceError(message, tok.file, tok.line, tok.col)

    def resolve(self, host, tok):
        if self.resolve_names:
            try:
                return socket.gethostbyname(host)
            except OSError:
                pass
        raise SourceError(f"expected IPv4 address. got hostname {host}", tok.file, tok.line, tok.col)

    # -- the walk ----------------------------------------------------------
    def walk(self, stmts, scope):
        prev = None
        for stmt in stmts:
            if stmt.broken is not None and stmt.body is None:
                self._broken_statement(stmt, scope)
            if not stmt.words:
                if stmt.body is not None:
                    raise self.error(stmt, "expecting a declaration")
                if prev is None or prev.body is None or not prev.words or \
                        prev.words[0].text.lower() not in ("key", "zone"):
                    if prev is not None and prev.body is not None:
                        raise self.error(stmt, "expecting a declaration")
                prev = stmt
                continue
            # ISC reports a statement it cannot start at the last token it read.
            self._before = prev.end if prev is not None else scope.stmt.open if scope.stmt else None
            self.statement(stmt, scope)
            if stmt.body is not None and stmt.words[0].text.lower() in DECLARATIONS:
                scope.data["declared"] = True
            prev = stmt

    def statement(self, stmt, scope):
        first = stmt.words[0]
        if first.type == "%":
            return directives.directive(self, stmt, scope)
        word = first.text.lower() if first.type != "STRING" else ""
        self._check_place(stmt, scope, word)
        handler = getattr(self, "do_" + word.replace("-", "_"), None) if word else None
        if handler is not None and word not in ("default",):
            return handler(stmt, scope)
        if word in PARAMS:
            return self.parameter(stmt, scope, word)
        if word in EXECUTABLE:
            return self.executable(stmt, scope, word)
        if word == "default":
            return self.do_default(stmt, scope)
        if word in ("user-class", "vendor-class"):
            raise self.error(stmt, f"obsolete '{word}' declaration")
        if word == "case":
            raise self.error(stmt, "case statement in inappropriate scope.")
        if first.type == "NAME" and (len(stmt.words) == 1 or stmt.words[1].type == "("):
            # A bare variable reference or function call used as a statement.
            return self.executable(stmt, scope, "eval")
        raise self.error(stmt, self._unexpected(scope))

    def not_a_statement(self, stmt, scope):
        """The error for an ISC keyword used where its statement does not belong.

        ISC's parser gives up on such a keyword before reading it, so the place it
        reports is the last token read: the end of the previous statement or the
        '{' opening the block (keama's groupsubnetif test)."""
        before = self._before
        first = stmt.words[0]
        tok = before if before is not None and before.file == first.file else first
        return self.error(stmt, self._unexpected(scope), tok)

    @staticmethod
    def _unexpected(scope):
        if scope.data.get("declared"):
            return "expecting a declaration"
        return "expecting a parameter or declaration"

    def _check_place(self, stmt, scope, word):
        place = DECL_PLACES.get(word)
        if place is not None:
            allowed, message = place
            if scope.kind not in allowed:
                raise self.error(stmt, self._placement_message(word, scope, message))

    def _broken_statement(self, stmt, scope):
        """A statement cut short by a lexical error: the checks ISC makes on the
        words before the error come first, then the error."""
        if stmt.words and stmt.words[0].type != "STRING":
            word = stmt.words[0].text.lower()
            self._check_place(stmt, scope, word)
            check = PARTIAL_CHECKS.get(word)
            if check is not None:
                getattr(self, check)(stmt, scope)
        raise stmt.broken

    def _placement_message(self, word, scope, message):
        if word == "range6" and self.family == 4:
            if scope.data.get("declared"):
                return "expecting a declaration"
            return "expecting a parameter or declaration"
        return message

    # -- declarations ------------------------------------------------------
    def do_include(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        if cur.peek() is None or cur.peek().type != "STRING":
            raise self.error(stmt, "filename string expected.", cur.peek())
        name = cur.next().text
        candidates = [name]
        if not os.path.isabs(name):
            candidates.append(os.path.join(os.path.dirname(stmt.file), name))
        for path in candidates:
            if os.path.exists(path):
                with open(path, encoding="latin-1") as fh:
                    text = fh.read()
                self._walk_file(text, path, scope)
                return
        raise self.error(stmt, f"Can't open {name}: No such file or directory")

    def do_group(self, stmt, scope):
        if stmt.body is None:
            if scope.kind == "host":
                return self.issue(stmt, "named group references are not translated", scope)
            raise self.error(stmt, "expecting '{'")
        cur = Cursor(stmt.words, stmt, 1)
        name = cur.name_or_string() if not cur.at_end() else ""
        # A group's parameters apply to what it contains: _inherit_group() copies
        # them down when those are emitted.
        self.walk(stmt.body, Scope("group", scope, stmt=stmt, name=name))

    def do_shared_network(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        if cur.at_end():
            raise self.error(stmt, "expecting a name for shared-network", stmt.open or stmt.end)
        tok = cur.peek()
        name = cur.name_or_string("expecting a name for shared-network")
        if not name:
            raise self.error(stmt, "zero-length shared network name", tok)
        if stmt.body is None:
            raise self.error(stmt, "expecting '{'")
        sn = Scope("shared-network", scope, stmt=stmt, name=name)
        sn.data["subnets"] = []
        sn.data["pools"] = []
        self.walk(stmt.body, sn)
        if not sn.data["subnets"]:
            raise self.error(stmt, "empty shared-network decl", stmt.end)
        self.shared.append(sn)

    def do_subnet(self, stmt, scope):
        if self.family == 6:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        net = cur.ip4("expecting IP address")
        if not cur.accept("netmask"):
            raise cur.error("Expecting netmask")
        mask = cur.ip4("expecting netmask")
        cur.expect_end("expecting '{'")
        try:
            network = ipaddress.IPv4Network(f"{net}/{mask}", strict=False)
        except ValueError:
            raise self.error(stmt, f"can't get a prefix from {net} mask {mask}") from None
        self._subnet(stmt, scope, network)

    def do_subnet6(self, stmt, scope):
        if self.family == 4:
            raise self.error(stmt, "subnet6 statement is only supported in DHCPv6 mode.")
        cur = Cursor(stmt.words, stmt, 1)
        addr = cur.ip6()
        if not cur.punct("/"):
            raise cur.error("Expecting a '/'.")
        tok = cur.peek()
        if tok is None or tok.type != "NUMBER":
            raise cur.error("Expecting a number.")
        plen = cur.number()
        network = ipaddress.IPv6Network(f"{addr}/{plen}", strict=False)
        self._subnet(stmt, scope, network)

    def _subnet(self, stmt, scope, network):
        if stmt.body is None:
            raise self.error(stmt, "expecting '{'", stmt.end)
        self.subnet_id += 1
        sub = Scope("subnet", scope, stmt=stmt, name=str(network))
        sub.data.update(network=network, pools=[], pd_pools=[], id=self.subnet_id,
                        reservations=[])
        self.walk(stmt.body, sub)
        self.subnets.append(sub)
        sn = next((s for s in scope.chain() if s.kind == "shared-network"), None)
        if sn is not None:
            sn.data["subnets"].append(sub)

    def do_pool(self, stmt, scope):
        if self.family == 6 or not scope.inside("subnet", "shared-network") or scope.kind in ("pool", "host", "class"):
            if self.family == 6:
                raise self.error(stmt, "expecting a parameter or declaration")
            raise self.error(stmt, "pool declared outside of network")
        self._pool(stmt, scope)

    def do_pool6(self, stmt, scope):
        if self.family == 4:
            raise self.error(stmt, "expecting a parameter or declaration")
        if scope.kind != "subnet":
            raise self.error(stmt, "pool6 declared outside of network")
        self._pool(stmt, scope)

    def _pool(self, stmt, scope):
        if stmt.body is None:
            raise self.error(stmt, "expecting '{'")
        pool = Scope("pool", scope, stmt=stmt)
        pool.data.update(ranges=[], prefixes=[], allow=[], deny=[], permit_notes=[])
        self.walk(stmt.body, pool)
        owner = next(s for s in scope.chain() if s.kind in ("subnet", "shared-network"))
        owner.data["pools"].append(pool)

    def do_range(self, stmt, scope):
        if self.family == 6:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        bootp = cur.accept("dynamic-bootp")
        low = cur.ip4()
        high = cur.ip4() if not cur.at_end() else low
        cur.expect_end()
        self._add_range(stmt, scope, (low, high, bootp))

    def _add_range(self, stmt, scope, rng):
        if scope.kind == "pool":
            scope.data["ranges"].append((stmt, rng))
        else:
            # A range directly in a subnet is a pool of its own (dhcpd.conf(5)).
            pool = Scope("pool", scope, stmt=stmt)
            pool.data.update(ranges=[(stmt, rng)], prefixes=[], allow=[], deny=[], permit_notes=[])
            scope.data["pools"].append(pool)

    def do_range6(self, stmt, scope):
        if self.family == 4:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        low = cur.ip6()
        temporary = False
        if cur.punct("/"):
            plen = cur.number()
            rng = ("cidr", f"{low}/{plen}")
        elif cur.accept("temporary"):
            rng = ("cidr", low)
            temporary = True
        else:
            high = cur.ip6()
            rng = ("range", low, high)
        if cur.accept("temporary"):
            temporary = True
        cur.expect_end()
        if temporary:
            return self.issue(stmt, "temporary addresses (IA_TA) are not supported by Kea", scope)
        self._add_range(stmt, scope, rng)

    def do_prefix6(self, stmt, scope):
        if self.family == 4:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        low = cur.ip6()
        high = cur.ip6()
        if not cur.punct("/"):
            raise cur.error("expecting '/'.")
        tok = cur.peek()
        dlen = cur.number()
        if not 0 < dlen < 128:
            raise self.error(stmt, "networks have 0 to 128 bits (exclusive)", tok)
        cur.expect_end()
        if scope.kind == "pool":
            scope.data["prefixes"].append((stmt, (low, high, dlen)))
        else:
            pool = Scope("pool", scope, stmt=stmt)
            pool.data.update(ranges=[], prefixes=[(stmt, (low, high, dlen))], allow=[], deny=[],
                             permit_notes=[])
            scope.data["pools"].append(pool)

    def do_host(self, stmt, scope):
        if scope.inside("host"):
            raise self.error(stmt, "host declarations not allowed here.")
        if scope.inside("class"):
            raise self.error(stmt, "host declarations not allowed here.")
        cur = Cursor(stmt.words, stmt, 1)
        name = cur.dotted("expecting a host name")
        if stmt.body is None:
            raise self.error(stmt, "expecting '{'")
        host = Scope("host", scope, stmt=stmt, name=name)
        host.data.update(addresses=[], prefixes=[], ident=None)
        self.walk(stmt.body, host)
        self.hosts.append(host)

    def do_hardware(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        htype = cur.name("expecting hardware type").lower()
        if htype not in HARDWARE_TYPES and not htype.startswith("unknown-"):
            raise self.error(stmt, "expecting hardware type", stmt.words[1])
        raw = cur.hexbytes() if not cur.at_end() else b""
        cur.expect_end()
        if htype != "ethernet":
            return self.issue(stmt, f"Kea reservations take Ethernet addresses only (hardware {htype})", scope)
        self._identify(stmt, scope, "hw-address", mac_text(raw))

    def _identify(self, stmt, scope, kind, value):
        if scope.data.get("ident") is not None:
            scope.entries[Skipped({kind: value}, f"{stmt.file}:{stmt.line}: not translated: "
                                  "a Kea reservation has one identifier")] = None
            self.issues.append(Issue(stmt.file, stmt.line, "a Kea reservation has one identifier; "
                                     f"{kind} dropped"))
            return
        scope.data["ident"] = (kind, value)

    def do_uid(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        raw, _quoted = cur.string_or_hex()
        cur.expect_end()
        self._identify(stmt, scope, "client-id" if self.family == 4 else "duid", mac_text(raw))

    def do_host_identifier(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        if cur.accept("v6relopt"):
            cur.number()
            cur.expect("option")
            relayed = True
        else:
            cur.expect("option", "expecting option")
            relayed = False
        tok = cur.peek()
        space = None
        name = cur.name("expecting an option name")
        if cur.punct("."):
            space, name = name, cur.name("expecting an option name")
        d = self.reg.lookup(space, name, tok)
        value = parse_value(cur, d, self.resolve)
        raw = value.raw if value.raw is not None else value.csv.encode()
        kind = {("agent", 1): "circuit-id", ("dhcp6", 1): "duid", ("dhcp", 61): "client-id"}.get(
            (d.isc_space, d.code))
        if kind is None or relayed:
            return self.issue(stmt, f"host-identifier option {d.isc_space}.{d.name} needs the flex_id "
                              "hook (a premium Kea hook not shipped with Debian)", scope)
        self._identify(stmt, scope, kind, mac_text(raw))

    def do_fixed_address(self, stmt, scope):
        if self.family == 6:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        while True:
            tok = cur.peek()
            addr, host = cur.ip4_or_host()
            if addr is None:
                addr = self.resolve(host, tok)
            scope.data["addresses"].append(addr)
            if not cur.punct(","):
                break
        cur.expect_end()
        scope.data["addr_stmt"] = stmt

    def do_fixed_address6(self, stmt, scope):
        if self.family == 4:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        while True:
            scope.data["addresses"].append(cur.ip6())
            if not cur.punct(","):
                break
        cur.expect_end()

    def do_fixed_prefix6(self, stmt, scope):
        if self.family == 4:
            raise self.error(stmt, "expecting a parameter or declaration")
        cur = Cursor(stmt.words, stmt, 1)
        addr = cur.ip6()
        if not cur.punct("/"):
            raise cur.error("expecting '/'.")
        plen = cur.number()
        scope.data["prefixes"].append(f"{addr}/{plen}")

    def do_interface(self, stmt, scope):
        if scope.kind not in ("subnet", "shared-network"):
            raise self.not_a_statement(stmt, scope)
        cur = Cursor(stmt.words, stmt, 1)
        name = cur.name_or_string("expecting an interface name")
        if "interface" in scope.entries:
            what = "subnet" if scope.kind == "subnet" else "shared network"
            raise self.error(stmt, f"A {what} can't be connected to two interfaces.")
        scope.entries["interface"] = name
        if name not in self.interfaces:
            self.interfaces.append(name)

    # -- classes -------------------------------------------------------------
    def do_class(self, stmt, scope):
        if scope.inside("class"):
            raise self.error(stmt, "class declarations not allowed here.")
        cur = Cursor(stmt.words, stmt, 1)
        tok = cur.peek()
        if tok is None or tok.type != "STRING":
            raise self.error(stmt, "Expecting class name", tok)
        name = cur.next().text
        cls = Scope("class", scope, stmt=stmt, name=name)
        cls.data.update(match_if=None, match=None, spawn=None, subclasses=0)
        entry = {"name": name}
        if stmt.body:
            self.walk(stmt.body, cls)
        test = None
        if cls.data["match_if"] is not None:
            expr, st = cls.data["match_if"]
            test = self._class_test(st, expr, cls)
        if cls.data["spawn"] is not None:
            self.issue(cls.data["spawn"], "spawning classes have no Kea equivalent "
                       "(Kea 2.4+ template classes come closest)", cls)
        if cls.data["match"] is not None:
            cls.entries[Note("match: " + describe(cls.data["match"][0]))] = None
        self._finish_class(cls, entry, test)
        self.class_by_name[name] = cls

    def _class_test(self, st, expr, cls):
        try:
            return self.expr.boolean(expr)
        except Untranslatable as why:
            self.issue(st, f"match if: {why}", cls)
            return None

    def _finish_class(self, cls, entry, test):
        # Group parameters are applied in finish(): in ISC their position in the
        # group does not matter.
        cls.data["entry"] = entry
        cls.data["test"] = test
        self.classes.append(cls)

    def _class_entry(self, cls):
        self._inherit_group(cls)
        entry = cls.data["entry"]
        for k, v in cls.entries.items():
            entry[k] = v
        if cls.options:
            entry["option-data"] = cls.options
        if cls.data["test"] is not None:
            entry["test"] = cls.data["test"]
        return entry

    def do_match(self, stmt, scope):
        if scope.kind != "class":
            raise self.not_a_statement(stmt, scope)
        cur = Cursor(stmt.words, stmt, 1)
        if cur.accept("if"):
            if scope.data["match_if"] is not None:
                raise self.error(stmt, "A class may only have one 'match if' clause.")
            expr = self._parse_expr(stmt, cur.rest())
            k = kind_of(expr)
            if k not in ("boolean", "any"):
                raise self.error(stmt, "Expecting a boolean expression.")
            if is_constant(expr):
                raise self.error(stmt, "'match if' with a constant boolean expression "
                                 + _describe_const(expr))
            scope.data["match_if"] = (expr, stmt)
            return
        if scope.data["match"] is not None or scope.data["spawn"] is not None:
            raise self.error(stmt, "can't override existing submatch/spawn")
        expr = self._parse_expr(stmt, cur.rest())
        if kind_of(expr) not in ("data", "any"):
            raise self.error(stmt, "Expecting a data expression.")
        scope.data["match"] = (expr, stmt)

    def do_spawn(self, stmt, scope):
        if scope.kind != "class":
            raise self.not_a_statement(stmt, scope)
        cur = Cursor(stmt.words, stmt, 1)
        cur.expect("with")
        if scope.data["match"] is not None or scope.data["spawn"] is not None:
            raise self.error(stmt, "can't override existing submatch/spawn")
        scope.data["spawn"] = stmt
        scope.data["match"] = (self._parse_expr(stmt, cur.rest()), stmt)

    def do_lease(self, stmt, scope):
        if scope.kind == "class":
            return self.issue(stmt, "lease limits have no Kea equivalent", scope)
        raise self.error(stmt, "expecting a parameter or declaration")

    def _superclass(self, stmt, scope, cur=None):
        """Read a subclass's class name and return that superclass's scope."""
        if scope.inside("class"):
            raise self.error(stmt, "class declarations not allowed here.")
        cur = cur or Cursor(stmt.words, stmt, 1)
        tok = cur.peek()
        if tok is None or tok.type != "STRING":
            raise self.error(stmt, "Expecting class name", tok)
        super_name = cur.next().text
        sup = self.class_by_name.get(super_name)
        if sup is None:
            raise self.error(stmt, f"no class named {super_name}")
        if sup.data["match"] is None:
            raise self.error(stmt, f"found class name {super_name} but it is not a suitable superclass")
        return sup

    def do_subclass(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        sup = self._superclass(stmt, scope, cur)
        super_name = sup.name
        selector, _ = cur.string_or_hex()
        cur.expect_end()
        # keama numbers subclasses with one counter for the whole file.
        index = self.subclass_count
        self.subclass_count += 1
        name = f"sub#{super_name}#{index}"
        sub = Scope("class", scope, stmt=stmt, name=name)
        sub.data.update(match_if=None, match=None, spawn=None, subclasses=0)
        if stmt.body:
            self.walk(stmt.body, sub)
        # Superclass parameters and options apply unless the subclass sets them.
        for k, v in sup.entries.items():
            if isinstance(k, str) and k not in ("option-def",) and k not in sub.entries:
                sub.entries[k] = v
        seen = {(o.get("space"), o.get("code")) for o in sub.options if isinstance(o, dict)}
        for o in sup.options:
            if isinstance(o, dict) and (o.get("space"), o.get("code")) not in seen:
                sub.options.append(o)
        match_expr, match_stmt = sup.data["match"]
        test = None
        sel_expr = ("binop", "=", match_expr, ("data", selector))
        if is_constant(match_expr):
            raise self.error(stmt, "class matching rule evaluated to a constant boolean expression: "
                             + _describe_const(sel_expr))
        try:
            test = f"{self.expr.data(match_expr)} == {kea_string_literal(selector)}"
            if sup.data["match_if"] is not None:
                guard = self.expr.boolean(sup.data["match_if"][0])
                test = f"({guard}) and ({test})"
        except Untranslatable as why:
            self.issue(stmt, f"subclass of {super_name}: {why}", sub)
        sub.entries = {Note(f"subclass {super_name} selector {kea_string_literal(selector)}"): None,
                       **sub.entries}
        self._finish_class(sub, {"name": name}, test)

    # -- options ---------------------------------------------------------------
    def do_option(self, stmt, scope, verb="option"):
        cur = Cursor(stmt.words, stmt, 1)
        if cur.accept("space"):
            return self._option_space(stmt, scope, cur)
        tok = cur.peek()
        space = None
        name = cur.name("expecting an option name")
        if cur.punct("."):
            space, name = name, cur.name("expecting an option name")
        if cur.accept("code"):
            return self._option_definition(stmt, scope, cur, space, name, tok)
        if scope.kind == "host" and space in (None, "dhcp") and name == "dhcp-client-identifier" \
                and self.family == 4 and verb == "option" and not (cur.peek() and cur.peek().type == "="):
            raw, _ = cur.string_or_hex()
            self._identify(stmt, scope, "client-id", mac_text(raw))
            return
        d = self.reg.lookup(space, name, tok)
        if cur.peek() is not None and cur.peek().type == "=":
            cur.next()
            return self._option_expression(stmt, scope, d, cur)
        value = parse_value(cur, d, self.resolve)
        if verb in ("default", "prepend", "append"):
            return self.issue(stmt, f"'{verb}' option statements have no Kea equivalent", scope)
        self._add_option(stmt, scope, d, value, verb == "send")

    def _add_option(self, stmt, scope, d, value, always_send=False):
        universe = self.reg.spaces[d.isc_space].universe
        if universe != self.family and d.isc_space in ("dhcp", "dhcp6", "agent"):
            return self.issue(stmt, f"{d.isc_space}.{d.name} is a DHCPv{universe} option", scope)
        if d.isc_space == "agent":
            return self.issue(stmt, "relay agent sub-options are not sent by a server", scope)
        if not d.kea_known and not d.user:
            return self.issue(stmt, f"Kea 2.2 has no definition for option {d.name} ({d.code}); "
                              "add an option-def", scope)
        if self.reg.spaces[d.isc_space].kea_unknown:
            return self.issue(stmt, f"option space {d.isc_space} is unknown to Kea (keama directive)",
                              scope)
        entry = option_data(d, value, always_send)
        if scope.kind == "exec":
            return self.issue(stmt, "option set inside a conditional", scope.parent or scope)
        if scope.kind == "host" and self.family == 4 and d.isc_space == "dhcp" and d.code == 61:
            self._identify(stmt, scope, "client-id", mac_text(value.raw or value.csv.encode()))
            return
        sp = self.reg.spaces[d.isc_space]
        if sp.vendor and not any(isinstance(o, dict) and o.get("code") == (125 if self.family == 4 else 17)
                                 for o in self.root.options):
            self.root.options.append({"space": "dhcp4" if self.family == 4 else "dhcp6",
                                      "name": "vivso-suboptions" if self.family == 4 else "vendor-opts",
                                      "code": 125 if self.family == 4 else 17, "data": str(sp.vendor)})
        scope.options.append(entry)

    def _option_expression(self, stmt, scope, d, cur):
        expr = self._parse_expr(stmt, cur.rest())
        try:
            value = fold(expr)
        except (NotConstant, Untranslatable):
            return self.issue(stmt, "option value computed per packet (no Kea equivalent)", scope)
        if isinstance(value, int) and not isinstance(value, bool):
            value = value.to_bytes(4, "big")
        if not isinstance(value, bytes):
            return self.issue(stmt, "option value is not data", scope)
        entry = {"space": d.kea_space, "name": d.kea_name, "code": d.code, "csv-format": False,
                 "data": value.hex()}
        if scope.kind == "exec":
            return self.issue(stmt, "option set inside a conditional", scope.parent or scope)
        scope.options.append(entry)

    def _option_space(self, stmt, scope, cur):
        name = cur.name("expecting option space identifier")
        widths = {}
        while not cur.at_end():
            word = cur.accept("code", "length", "hash")
            if word is None:
                raise cur.error("expecting 'code', 'length' or 'hash'")
            cur.expect("width" if word != "hash" else "size")
            widths[word] = cur.number()
        sp = self.reg.declare_space(name, widths.get("code"), widths.get("length"))
        wanted = 2 if self.family == 6 else 1
        if sp.code_width != wanted or sp.length_width != wanted:
            self.issue(stmt, f"Kea option spaces use {wanted}-byte codes and lengths in DHCPv{self.family}",
                       scope)

    def _option_definition(self, stmt, scope, cur, space, name, tok):
        code = cur.number("expecting option code")
        if not cur.punct("="):
            raise cur.error("expecting '='")
        fmt, kea_type, array, record_types, encapsulate = parse_type(cur, self.family)
        cur.expect_end("semicolon expected.")
        d = self.reg.define(space, name, code, fmt, kea_type, array, record_types, encapsulate, tok)
        if space in ("vendor", "vsio") and encapsulate:
            self.vendor_spaces.add(encapsulate)
            return
        if d.user:
            self.option_defs.append((stmt, d))

    def do_supersede(self, stmt, scope):
        return self.do_option(stmt, scope, "supersede")

    def do_send(self, stmt, scope):
        return self.do_option(stmt, scope, "send")

    def do_prepend(self, stmt, scope):
        return self.do_option(stmt, scope, "prepend")

    def do_append(self, stmt, scope):
        return self.do_option(stmt, scope, "append")

    def do_default(self, stmt, scope):
        if len(stmt.words) > 1 and stmt.words[1].type == ":":
            raise self.error(stmt, "switch default statement in inappropriate scope.")
        return self.do_option(stmt, scope, "default")

    # -- parameters --------------------------------------------------------------
    def do_not(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        cur.expect("authoritative", "expecting authoritative")
        cur.expect_end()
        self._set(stmt, scope, "authoritative", False)

    def do_authoritative(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        value = True
        if not cur.at_end():
            value = cur.accept("true", "on") is not None
        self._set(stmt, scope, "authoritative", value)

    def parameter(self, stmt, scope, word):
        kind, key, reason = PARAMS[word]
        cur = Cursor(stmt.words, stmt, 1)
        if key is None:
            return self.issue(stmt, f"{word}: {reason}", scope)
        if cur.peek() is not None and cur.peek().type == "=":
            return self.issue(stmt, f"{word} computed per packet (no Kea equivalent)", scope)
        value = self._param_value(cur, kind)
        cur.expect_end()
        if key is None:
            return self.issue(stmt, f"{word}: {reason}", scope)
        if word == "ignore-client-uids":
            value = not value
        if word == "ddns-update-style":
            return self._ddns_style(stmt, scope, value)
        if word == "ddns-updates" and scope.kind == "root":
            self.ddns["enable-updates"] = value
        if word == "vendor-option-space":
            return self._vendor_option_space(stmt, scope, value)
        self._set(stmt, scope, key, value)

    def _param_value(self, cur, kind):
        if kind == "T":
            if cur.accept("infinite"):
                return INFINITE
            return cur.number("expecting a number", signed=False)
        if kind == "f":
            word = cur.accept("true", "false", "on", "off", "ignore")
            if word is None:
                raise cur.error("expecting boolean.")
            return word in ("true", "on")
        if kind == "t":
            return cur.string("expecting string.").decode("latin-1")
        if kind == "I":
            tok = cur.peek()
            addr, host = cur.ip4_or_host()
            return addr if addr is not None else self.resolve(host, tok)
        if kind == "6":
            return cur.ip6()
        if kind in "BSL":
            return cur.number(signed=False)
        if kind in ("U", "N", "d"):
            tok = cur.peek()
            if tok is not None and tok.type == "STRING":
                cur.next()
                return tok.text
            return cur.dotted()
        raise cur.error("unsupported parameter")

    def _set(self, stmt, scope, key, value):
        target_kind = scope.kind
        if target_kind == "exec":
            return self.issue(stmt, "parameter set inside a conditional", scope.parent)
        fam_ok = not ((key in V4_ONLY and self.family == 6) or (key in V6_ONLY and self.family == 4))
        if target_kind == "group":
            scope.entries[key] = value if fam_ok else Skipped(value)
            return
        if target_kind == "pool" and key in ("valid-lifetime", "min-valid-lifetime", "max-valid-lifetime",
                                             "preferred-lifetime"):
            return self.issue(stmt, f"Kea pools have no {key}; set it on the subnet", scope)
        if not fam_ok or target_kind not in KEY_SCOPES.get(key, set()):
            where = {"root": "globally", "class": "in a client class", "host": "in a reservation",
                     "pool": "in a pool"}.get(target_kind, f"in a {target_kind}")
            return self.issue(stmt, f"Kea 2.2 has no {key} {where}", scope)
        scope.entries[key] = value

    def _ddns_style(self, stmt, scope, style):
        if scope.kind != "root":
            return self.issue(stmt, "ddns-update-style only translates globally", scope)
        style = style.lower()
        if style == "none":
            self.ddns["enable-updates"] = False
            self.root.entries["ddns-send-updates"] = False
        elif style in ("standard", "interim"):
            self.ddns.setdefault("enable-updates", True)
            self.root.entries["ddns-use-conflict-resolution"] = True
            if style == "interim":
                self.issue(stmt, "interim-style TXT records: Kea uses DHCID records (standard style)",
                           self.root)
        else:
            self.issue(stmt, f"ddns-update-style {style} has no Kea equivalent", scope)

    def _vendor_option_space(self, stmt, scope, space):
        if space not in self.reg.spaces:
            raise self.error(stmt, f"no option space named {space}.")
        if scope.kind == "group":
            scope.entries["vendor-option-space"] = space
            return
        self._vendor_space_def(scope, space)

    def _vendor_space_def(self, scope, space):
        kea_space = self.reg.kea_space_of(space)
        entry = {"space": "dhcp4", "name": "vendor-encapsulated-options", "code": 43,
                 "type": "empty", "encapsulate": kea_space}
        if scope.kind == "class":
            scope.entries["option-def"] = [entry]
        else:
            self.option_defs.append((None, entry))
        if not any(isinstance(o, dict) and o.get("code") == 43 and o.get("space") == "dhcp4"
                   for o in scope.options):
            scope.options.append({"space": "dhcp4", "name": "vendor-encapsulated-options", "code": 43})

    def do_allow(self, stmt, scope):
        return self._permit(stmt, scope, True)

    def do_deny(self, stmt, scope):
        return self._permit(stmt, scope, False)

    def do_ignore(self, stmt, scope):
        return self._permit(stmt, scope, False)

    def _permit(self, stmt, scope, allow):
        cur = Cursor(stmt.words, stmt, 1)
        words = [t.text.lower() for t in cur.rest()]
        if scope.kind == "pool":
            return self._pool_permit(stmt, scope, cur, allow)
        flag = " ".join(words)
        if flag == "client-updates":
            return self._set(stmt, scope, "ddns-override-client-update", not allow)
        if flag in ("unknown-clients",) and not allow:
            self.issue(stmt, "deny unknown-clients: give each pool client-class KNOWN", scope)
            return
        self.issue(stmt, f"{stmt.words[0].text} {flag} has no Kea equivalent", scope)

    def _pool_permit(self, stmt, pool, cur, allow):
        w = [t.text.lower() if t.type != "STRING" else None for t in cur.rest()]
        text = stmt.text.rstrip(";").strip()
        cls = None
        if w in (["known-clients"], ["known", "clients"]):
            cls = "KNOWN"
        elif w in (["unknown-clients"], ["unknown", "clients"]):
            cls = "UNKNOWN"
        elif w[:2] == ["members", "of"] and len(w) == 3 and w[2] is None:
            name = cur.rest()[2].text
            if name not in self.class_by_name:
                raise self.error(stmt, f"no class named {name}")
            cls = name
        elif w == ["all", "clients"]:
            cls = "ALL"
        elif w in (["dynamic", "bootp", "clients"],):
            return self.issue(stmt, "BOOTP clients are not supported", pool)
        elif w in (["authenticated", "clients"], ["unauthenticated", "clients"]):
            # No client is ever authenticated (neither ISC DHCP nor Kea support it):
            # the permit keeps everyone or no one in the pool.
            self.issues.append(Issue(stmt.file, stmt.line, "client authentication is supported neither "
                                     "by ISC DHCP nor Kea; translated as matching no client"))
            nobody = (w[0] == "authenticated") == allow
            if nobody:
                pool.data["deny"].append("ALL")
            pool.data["permit_notes"].append(text)
            return
        elif w and w[0] == "after":
            return self.issue(stmt, "time-limited pools (after DATE) have no Kea equivalent", pool)
        else:
            raise self.error(stmt, "expecting permit type.")
        (pool.data["allow"] if allow else pool.data["deny"]).append(cls)
        pool.data["permit_notes"].append(text)

    def do_server_duid(self, stmt, scope):
        if self.server_id is not None:
            raise self.error(stmt, "there is already a server-id")
        cur = Cursor(stmt.words, stmt, 1)
        kind = cur.accept("llt", "ll", "en")
        if kind is None:
            tok = cur.peek()
            if tok is not None and tok.type == "NUMBER":
                cur.next()
                if cur.at_end():
                    raise cur.error("identifier expected")
                raw, _ = cur.string_or_hex()
                self.server_id = {"type": "EN"}
                return self.issue(stmt, "numeric DUID types are not supported by Kea's server-id", scope)
            raise cur.error("DUID type of LLT, EN, or LL expected")
        sid = {"type": kind.upper()}
        if kind == "en":
            tok = cur.peek()
            if tok is None or tok.type != "NUMBER":
                raise cur.error("enterprise number expected")
            sid["enterprise-id"] = cur.number()
            tok = cur.peek()
            if tok is None or tok.type != "STRING":
                raise cur.error("identifier expected")
            sid["identifier"] = cur.next().value.hex()
        elif not cur.at_end():
            htype_tok = cur.peek()
            htype = cur.name("hardware type expected").lower()
            if htype not in HARDWARE_TYPES:
                raise self.error(stmt, "hardware type expected", htype_tok)
            sid["htype"] = HARDWARE_TYPES[htype]
            if kind == "llt":
                tok = cur.peek()
                if tok is None or tok.type != "NUMBER":
                    raise cur.error("timestamp expected")
                sid["time"] = cur.number()
            sid["identifier"] = cur.hexbytes().hex()
        cur.expect_end()
        self.server_id = sid
        if self.family == 4 and self.v4_server_duid is None:
            # keama -4 refuses server-duid (a DHCPv6 statement) as a statement it
            # does not know, at its line. The keama corpus also wants the statement's
            # own errors and a second server-duid reported first, so the refusal is
            # raised once the file has been read.
            self.v4_server_duid = self.error(stmt, self._unexpected(scope))

    def do_db_time_format(self, stmt, scope):
        self.issue(stmt, "db-time-format: Kea lease files store Unix times", scope)

    def do_lease_id_format(self, stmt, scope):
        self.issue(stmt, "lease-id-format: Kea lease files have their own format", scope)

    def do_server_identifier(self, stmt, scope):
        self.issue(stmt, "server-identifier: Kea uses the interface address", scope)

    def do_failover(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        cur.expect("peer", "expecting peer")
        name = cur.name_or_string("expecting a failover peer name")
        if stmt.body is None:
            if cur.accept("state"):
                return
            if scope.kind == "pool":
                scope.data["failover"] = name
            return
        if self.family == 6:
            raise self.error(stmt, "failover is a DHCPv4 feature")
        peer = {"name": name, "stmt": stmt}
        for st in stmt.body:
            c = Cursor(st.words, st, 0)
            word = " ".join(t.text.lower() for t in st.words[:2])
            if c.accept("primary"):
                peer["role"] = "primary"
            elif c.accept("secondary"):
                peer["role"] = "secondary"
            elif c.accept("address"):
                peer["address"] = c.dotted()
            elif c.accept("port"):
                peer["port"] = c.number()
            elif word.startswith("peer address"):
                c.next(); c.next()
                peer["peer-address"] = c.dotted()
            elif word.startswith("peer port"):
                c.next(); c.next()
                peer["peer-port"] = c.number()
            elif c.accept("max-response-delay"):
                peer["max-response-delay"] = c.number()
            elif c.accept("max-unacked-updates"):
                peer["max-unacked-updates"] = c.number()
            elif c.accept("split"):
                peer["split"] = c.number()
            elif c.accept("hba"):
                peer["split"] = 128
            elif c.accept("mclt"):
                peer["mclt"] = c.number()
            elif c.accept("load"):
                c.expect("balance"); c.expect("max"); c.expect("seconds")
                peer["load-balance-max-seconds"] = c.number()
            elif c.accept("auto-partner-down"):
                peer["auto-partner-down"] = c.number()
        self.failover.append(peer)

    def do_key(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        name = cur.name_or_string("expecting a key name")
        if stmt.body is None:
            if scope.kind == "exec":
                return
            raise self.error(stmt, "expecting '{'")
        key = {"name": name}
        for st in stmt.body:
            c = Cursor(st.words, st, 0)
            if c.accept("algorithm"):
                key["algorithm"] = c.dotted().rstrip(".")
            elif c.accept("secret"):
                tok = c.peek()
                key["secret"] = tok.text if tok.type == "STRING" else "".join(t.text for t in c.rest())
        self.keys.append((stmt, key))
        self._d2_note(stmt, scope, "TSIG key")

    def do_zone(self, stmt, scope):
        cur = Cursor(stmt.words, stmt, 1)
        name = cur.name_or_string("expecting a zone name")
        zone = {"name": name if name.endswith(".") else name + ".", "servers": [], "key": None}
        for st in stmt.body or []:
            c = Cursor(st.words, st, 0)
            word = c.accept("primary", "secondary", "primary6", "secondary6", "key")
            if word == "key":
                zone["key"] = c.name_or_string()
            elif word is not None:
                while not c.at_end():
                    if word.endswith("6"):
                        zone["servers"].append(c.ip6())
                    else:
                        addr, host = c.ip4_or_host()
                        zone["servers"].append(addr or host)
                    c.punct(",")
        self.zones.append((stmt, zone))
        self._d2_note(stmt, scope, "DNS zone")

    def _d2_note(self, stmt, scope, what):
        if self.d2:
            while scope.kind in ("group", "exec"):
                scope = scope.parent
            scope.entries[Note(f"{stmt.file}:{stmt.line}: {what} moved to the kea-dhcp-ddns "
                               "configuration")] = None
        else:
            self.issue(stmt, f"{what}s belong to the kea-dhcp-ddns configuration (use --d2 FILE)", scope)

    # -- executable statements -----------------------------------------------
    def executable(self, stmt, scope, word):
        if word in ("if", "elsif") and len(stmt.words) > 1:
            # The condition must still be a well-formed expression (dhcp-eval(5)).
            self._parse_expr(stmt, stmt.words[1:])
        if stmt.body is not None:
            self._check_exec(stmt.body, word == "switch")
        target = scope
        self.issue(stmt, f"'{word}' statements are evaluated per packet; Kea has no equivalent "
                   "(use client classes or hooks)", target)

    def _check_exec(self, stmts, in_switch):
        for st in stmts:
            if not st.words:
                continue
            w = st.words[0].text.lower() if st.words[0].type != "STRING" else ""
            if w == "case" and not in_switch:
                raise self.error(st, "case statement in inappropriate scope.")
            if w == "default" and len(st.words) > 1 and st.words[1].type == ":" and not in_switch:
                raise self.error(st, "switch default statement in inappropriate scope.")
            if w in ("host", "subnet", "subnet6", "shared-network", "group", "class", "pool", "pool6"):
                raise self.error(st, f"{w} declarations not allowed here.")
            if st.body is not None:
                self._check_exec(st.body, w == "switch")

    def _parse_expr(self, stmt, words):
        try:
            return parse_expression(words)
        except ExprError as err:
            tok = err.args[1] if len(err.args) > 1 and err.args[1] is not None else None
            raise self.error(stmt, err.args[0], tok or stmt.open or stmt.end) from None

    # -- assembling the output ---------------------------------------------
    def _inherit_group(self, scope):
        """Copy group parameters and options down into ``scope`` (inner groups win)."""
        groups = []
        s = scope.parent
        while s is not None and s.kind not in ("root",):
            if s.kind == "group":
                groups.append(s)
            elif s.kind in ("subnet", "shared-network", "class", "host"):
                break
            s = s.parent
        for g in groups:
            for k, v in g.entries.items():
                if isinstance(k, Note):
                    continue
                if k == "vendor-option-space":
                    if "vendor-option-space" not in scope.data:
                        scope.data["vendor-option-space"] = v
                    continue
                if k not in scope.entries and not isinstance(v, Skipped):
                    if scope.kind in KEY_SCOPES.get(k, set()):
                        scope.entries[k] = v
            have = {(o.get("space"), o.get("code")) for o in scope.options if isinstance(o, dict)}
            for o in g.options:
                if isinstance(o, dict) and (o.get("space"), o.get("code")) not in have:
                    scope.options.append(o)
                    have.add((o.get("space"), o.get("code")))
        if "vendor-option-space" in scope.data:
            self._vendor_space_def(scope, scope.data["vendor-option-space"])
        if "vendor-option-space" in scope.entries:
            space = scope.entries.pop("vendor-option-space")
            self._vendor_space_def(scope, space)

    def finish(self):
        fam = "Dhcp4" if self.family == 4 else "Dhcp6"
        out = {}
        root = self.root
        if "vendor-option-space" in root.entries:
            space = root.entries.pop("vendor-option-space")
            self._vendor_space_def(root, space)
        for k, v in root.entries.items():
            out[k] = v
        if self.server_id is not None and self.family == 6 and len(self.server_id) > 0 \
                and self.server_id.get("identifier", True):
            out["server-id"] = self.server_id
        if self.interfaces:
            out["interfaces-config"] = {"interfaces": list(self.interfaces)}
        defs = []
        for stmt, d in self.option_defs:
            if isinstance(d, dict):
                if d not in defs:
                    defs.append(d)
                continue
            if not d.user or self.reg.spaces[d.isc_space].kea_defines:
                continue  # Kea defines it (a vendor space it knows, a keama directive)
            entry = option_def_entry(d)
            if d.encapsulate:
                entry["encapsulate"] = self.reg.kea_space_of(d.encapsulate)
            entry["space"] = self.reg.kea_space_of(d.isc_space)
            defs.append(entry)
        if defs:
            out["option-def"] = defs
        if root.options:
            out["option-data"] = root.options
        classes = [self._class_entry(c) for c in self.classes]
        self._emit_topology(out)
        classes.extend(self.generated.values())
        if classes:
            out["client-classes"] = classes
        self._emit_hosts(out)
        if self.ddns:
            out["dhcp-ddns"] = dict(self.ddns)
        if self.failover:
            self._emit_failover(out)
        if self.isc_defaults or not [k for k in out if isinstance(k, str)]:
            # ISC DHCP's built-in lifetimes (dhcpd.h) differ from Kea's defaults.
            defaults = {"valid-lifetime": 43200, "min-valid-lifetime": 300, "max-valid-lifetime": 86400}
            if not self.isc_defaults:
                out[Note("nothing to translate: ISC DHCP's default lease time keeps the map non-empty")] = None
                defaults = {"valid-lifetime": 43200}
            for k, v in defaults.items():
                out.setdefault(k, v)
        d2 = self._d2_config()
        return Result({fam: out}, self.issues, d2)

    def _emit_topology(self, out):
        shared_subnets = set()
        networks = []
        for sn in self.shared:
            subs = sn.data["subnets"]
            shared_subnets.update(id(s) for s in subs)
            for pool in sn.data["pools"]:
                self._place_shared_pool(sn, pool)
            if len(subs) == 1:
                # keama squeezes one-subnet shared networks into a plain subnet.
                sub = subs[0]
                for k, v in sn.entries.items():
                    if k not in sub.entries:
                        sub.entries[k] = v
                have = {(o.get("space"), o.get("code")) for o in sub.options if isinstance(o, dict)}
                sub.options.extend(o for o in sn.options
                                   if not isinstance(o, dict) or (o.get("space"), o.get("code")) not in have)
                shared_subnets.discard(id(sub))
                continue
            self._inherit_group(sn)
            entry = {"name": sn.name}
            entry.update(sn.entries)
            if sn.options:
                entry["option-data"] = sn.options
            entry["subnet4" if self.family == 4 else "subnet6"] = [self._subnet_entry(s) for s in subs]
            networks.append(entry)
        plain = [self._subnet_entry(s) for s in self.subnets if id(s) not in shared_subnets]
        if networks:
            out["shared-networks"] = networks
        if plain:
            out["subnet4" if self.family == 4 else "subnet6"] = plain

    def _place_shared_pool(self, sn, pool):
        for stmt, rng in pool.data["ranges"] + pool.data["prefixes"]:
            addr = ipaddress.ip_address(rng[0] if rng[0] not in ("cidr", "range") else rng[1].split("/")[0])
            owner = next((s for s in sn.data["subnets"] if addr in s.data["network"]), None)
            if owner is None:
                self.issue(stmt, "range outside every subnet of the shared network", sn)
                continue
            part = Scope("pool", owner, stmt=pool.stmt, entries=pool.entries, options=pool.options)
            part.data.update(pool.data)
            part.data["ranges"] = [(stmt, rng)] if (stmt, rng) in pool.data["ranges"] else []
            part.data["prefixes"] = [(stmt, rng)] if (stmt, rng) in pool.data["prefixes"] else []
            owner.data["pools"].append(part)

    def _subnet_entry(self, sub):
        self._inherit_group(sub)
        net = sub.data["network"]
        entry = {"id": sub.data["id"], "subnet": str(net)}
        for k, v in sub.entries.items():
            if not isinstance(k, Note):
                entry[k] = v
        notes = {k: None for k in sub.entries if isinstance(k, Note)}
        pools, pd_pools = [], []
        for pool in sub.data["pools"]:
            p4, pd = self._pool_entries(sub, pool)
            pools.extend(p4)
            pd_pools.extend(pd)
        if pools:
            entry["pools"] = pools
        if pd_pools:
            entry["pd-pools"] = pd_pools
        if sub.options:
            entry["option-data"] = sub.options
        if sub.data["reservations"]:
            entry["reservations"] = sub.data["reservations"]
        for n in notes:
            entry[n] = None
        return entry

    def _pool_class(self, pool):
        allow, deny = pool.data["allow"], pool.data["deny"]
        if not allow and not deny:
            return None
        if allow == ["ALL"] and not deny:
            return None
        if len(allow) == 1 and not deny:
            return allow[0]
        if not allow and deny in (["UNKNOWN"],):
            return "KNOWN"
        if not allow and deny in (["KNOWN"],):
            return "UNKNOWN"
        parts = []
        if allow and allow != ["ALL"]:
            parts.append(" or ".join(f"member('{c}')" for c in allow))
        for c in deny:
            parts.append(f"not member('{c}')")
        test = " and ".join(f"({p})" for p in parts)
        name = "gen#" + "#".join(([f"{c}" for c in allow] + [f"!{c}" for c in deny])) + "#"
        self.generated.setdefault(name, {"name": name, "test": test})
        return name

    def _pool_entries(self, sub, pool):
        cls = self._pool_class(pool)
        notes = {k: None for k in pool.entries if isinstance(k, Note)}
        pools, pds = [], []
        if pool.data.get("failover") and pool.data.get("failover") not in [p["name"] for p in self.failover]:
            raise self.error(pool.stmt, f"unknown failover peer {pool.data['failover']}")
        for stmt, rng in pool.data["ranges"]:
            if self.family == 4:
                low, high, bootp = rng
                lo, hi = ipaddress.IPv4Address(low), ipaddress.IPv4Address(high)
                if lo > hi:
                    lo, hi = hi, lo
                if lo not in sub.data["network"] or hi not in sub.data["network"]:
                    self.issue(stmt, f"range {low} {high} is outside subnet {sub.data['network']}", sub)
                    continue
                text = f"{lo} - {hi}"
            else:
                text = rng[1] if rng[0] == "cidr" else f"{rng[1]} - {rng[2]}"
            for text, ha_class in self._ha_split(stmt, sub, pool, text, cls):
                p = {"pool": text}
                if pool.options:
                    p["option-data"] = pool.options
                if ha_class or cls:
                    p["client-class"] = ha_class or cls
                p.update(notes)
                pools.append(p)
        for stmt, (low, high, dlen) in pool.data["prefixes"]:
            lo, hi = int(ipaddress.IPv6Address(low)), int(ipaddress.IPv6Address(high))
            span = (hi - lo) >> (128 - dlen)
            count = span + 1
            plen = dlen - (count.bit_length() - 1)
            block = ipaddress.IPv6Network(f"{low}/{plen}", strict=False) if 0 <= plen <= 128 else None
            if count & (count - 1) or block is None or int(block.network_address) != lo \
                    or int(block.broadcast_address) >> (128 - dlen) != hi >> (128 - dlen):
                self.issue(stmt, f"prefix6 {low} {high} is not one CIDR block (split it)", sub)
                continue
            p = {"prefix": str(block.network_address), "prefix-len": plen, "delegated-len": dlen}
            if pool.options:
                p["option-data"] = pool.options
            if cls:
                p["client-class"] = cls
            pds.append(p)
        return pools, pds

    def _subnet_of(self, address):
        """The most specific declared subnet holding ``address`` (None if none)."""
        index = self.data_index
        if index is None:
            index = self.data_index = {}
            for sub in self.subnets:
                net = sub.data["network"]
                index.setdefault((net.prefixlen, int(net.network_address)), sub)
            self.plens = sorted({p for p, _ in index}, reverse=True)
        a = int(ipaddress.ip_address(address))
        bits = 32 if self.family == 4 else 128
        for plen in self.plens:
            sub = index.get((plen, (a >> (bits - plen)) << (bits - plen) if plen else 0))
            if sub is not None:
                return sub
        return None

    def _ha_split(self, stmt, sub, pool, text, cls):
        """A failover pool in load-balancing mode: one half per HA scope (Kea HA docs)."""
        name = pool.data.get("failover")
        peer = next((p for p in self.failover if p["name"] == name), None) if name else None
        if peer is None or peer.get("split") in (None, 0, 256) or self.family != 4:
            return [(text, None)]
        if cls:
            self.issue(stmt, "load-balancing needs this pool split by HA_ class, but it already has "
                       f"client-class {cls} (Kea 2.2 allows one)", sub)
            return [(text, None)]
        lo, hi = (ipaddress.IPv4Address(a.strip()) for a in text.split("-"))
        mid = lo + (int(hi) - int(lo)) // 2
        first, second = f"{peer['name']}-primary", f"{peer['name']}-secondary"
        return [(f"{lo} - {mid}", f"HA_{first}"), (f"{mid + 1} - {hi}", f"HA_{second}")]

    def _emit_hosts(self, out):
        global_res = []
        seen = {}
        for host in self.hosts:
            self._inherit_group(host)
            ident = host.data["ident"]
            res = {"hostname": host.name}
            if ident is not None:
                res[ident[0]] = ident[1]
            addrs = host.data["addresses"]
            subnet = None
            if addrs:
                subnet = self._subnet_of(addrs[0])
                if self.family == 4:
                    res["ip-address"] = addrs[0]
                    if len(addrs) > 1:
                        st = host.data.get("addr_stmt", host.stmt)
                        self.issues.append(Issue(st.file, st.line, f"host {host.name}: Kea reserves one "
                                                 "IPv4 address per host; extra addresses dropped"))
                        res[Note("extra addresses not translated: " + ", ".join(addrs[1:]))] = None
                else:
                    res["ip-addresses"] = list(addrs)
            if host.data["prefixes"]:
                res["prefixes"] = list(host.data["prefixes"])
                if subnet is None:
                    subnet = self._subnet_of(host.data["prefixes"][0].split("/")[0])
            if (subnet is None and self.subnet_hosts_only and not addrs
                    and not host.data["prefixes"] and self.subnets):
                # keama -N: "Host reservations without fixed addresses were put
                # in the last declared subnet".
                subnet = self.subnets[-1]
            for k, v in host.entries.items():
                res[k] = v
            if host.options:
                res["option-data"] = host.options
            if ident is None:
                self.issues.append(Issue(host.stmt.file, host.stmt.line,
                                         f"host {host.name} has no identifier Kea can use"))
                target = subnet.data["reservations"] if subnet is not None else global_res
                target.append(Skipped(res, f"{host.stmt.file}:{host.stmt.line}: not translated: "
                                      f"host {host.name} has no hardware, uid or usable host-identifier"))
                continue
            where = id(subnet) if subnet is not None else None
            key = (where, ident)
            addr_key = (where, tuple(addrs))
            if key in seen or (addrs and addr_key in seen):
                self.issues.append(Issue(host.stmt.file, host.stmt.line,
                                         f"host {host.name} duplicates host {seen.get(key) or seen.get(addr_key)} "
                                         "(Kea allows one reservation per identifier and address in a subnet)"))
                target = subnet.data["reservations"] if subnet is not None else global_res
                target.append(Skipped(res, f"{host.stmt.file}:{host.stmt.line}: not translated: duplicate"))
                continue
            seen[key] = host.name
            if addrs:
                seen[addr_key] = host.name
            if subnet is not None:
                subnet.data["reservations"].append(res)
            elif self.subnet_hosts_only:
                why = "in no declared subnet (-N keeps reservations inside subnets)"
                self.issues.append(Issue(host.stmt.file, host.stmt.line, f"host {host.name}: {why}"))
                global_res.append(Skipped(
                    res, f"{host.stmt.file}:{host.stmt.line}: not translated: host {why}"))
            else:
                if addrs:
                    self.issues.append(Issue(host.stmt.file, host.stmt.line,
                                             f"host {host.name}: address {addrs[0]} is in no declared subnet"))
                    res[Note("address outside every declared subnet")] = None
                global_res.append(res)
        if any(not isinstance(r, Skipped) for r in global_res):
            out["reservations-global"] = True
            out["reservations-in-subnet"] = True
        if global_res:
            out["reservations"] = global_res
        # Subnet reservations were filled after the subnets were rendered into
        # dicts; the dicts hold the same list objects only if present, so patch.
        self._patch_subnet_reservations(out)

    def _patch_subnet_reservations(self, out):
        key = "subnet4" if self.family == 4 else "subnet6"
        entries = list(out.get(key, []))
        for sn in out.get("shared-networks", []):
            entries.extend(sn[key])
        by_id = {e["id"]: e for e in entries}
        for sub in self.subnets:
            e = by_id.get(sub.data["id"])
            if e is not None and sub.data["reservations"] and "reservations" not in e:
                e["reservations"] = sub.data["reservations"]

    def _emit_failover(self, out):
        peer = self.failover[0]
        role = peer.get("role", "primary")
        this = f"{peer['name']}-{role}"
        other_role = "secondary" if role == "primary" else "primary"
        other = f"{peer['name']}-{other_role}"
        split = peer.get("split")
        mode = "load-balancing" if split not in (None, 0, 256) else "hot-standby"
        kea_roles = {"primary": "primary", "secondary": "secondary" if mode == "load-balancing" else "standby"}
        addr = peer.get("address", "127.0.0.1")
        peer_addr = peer.get("peer-address", "127.0.0.1")
        peers = [{"name": this, "url": f"http://{addr}:8000/", "role": kea_roles[role]},
                 {"name": other, "url": f"http://{peer_addr}:8000/", "role": kea_roles[other_role]}]
        if role == "secondary":
            peers.reverse()
        ha = {"this-server-name": this, "mode": mode, "heartbeat-delay": 10000,
              "max-response-delay": 1000 * peer.get("max-response-delay", 60),
              "max-ack-delay": 1000 * peer.get("load-balance-max-seconds", 10),
              "max-unacked-clients": peer.get("max-unacked-clients", 10), "peers": peers}
        hooks = out.setdefault("hooks-libraries", [])
        hooks.append({"library": f"{self.hooks_dir}/libdhcp_lease_cmds.so"})
        hooks.append({Note(f"from failover peer \"{peer['name']}\" ({peer['stmt'].file}:{peer['stmt'].line}); "
                           "the URLs point at each server's Control Agent (port 8000)"
                           + ("; failover pools are split in two halves, one per HA_<server> class"
                              if mode == "load-balancing" else "")): None,
                      "library": f"{self.hooks_dir}/libdhcp_ha.so",
                      "parameters": {"high-availability": [ha]}})
        if len(self.failover) > 1:
            for p in self.failover[1:]:
                self.issue(p["stmt"], "Kea 2.2 supports one HA relationship per server", self.root)

    def _d2_config(self):
        if not self.keys and not self.zones:
            return None
        keys = []
        for _stmt, k in self.keys:
            alg = k.get("algorithm", "hmac-md5").upper().replace("HMAC-MD5.SIG-ALG.REG.INT", "HMAC-MD5")
            keys.append({"name": k["name"], "algorithm": alg, "secret": k.get("secret", "")})
        fwd, rev = [], []
        for _stmt, z in self.zones:
            dom = {"name": z["name"]}
            if z["key"]:
                dom["key-name"] = z["key"]
            dom["dns-servers"] = [{"ip-address": s} for s in z["servers"]]
            (rev if z["name"].endswith(("in-addr.arpa.", "ip6.arpa.")) else fwd).append(dom)
        return {"DhcpDdns": {"ip-address": "127.0.0.1", "port": 53001, "tsig-keys": keys,
                             "forward-ddns": {"ddns-domains": fwd},
                             "reverse-ddns": {"ddns-domains": rev}}}


def _describe_const(expr):
    return describe(expr)


def convert(path, family=4, resolve=True):
    """Convert one dhcpd.conf file; returns a :class:`Result`."""
    return Converter(family, resolve).convert_file(path)
