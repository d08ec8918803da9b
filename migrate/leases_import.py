"""dhcpd.leases / dhcpd6.leases (dhcpd.leases(5)) -> Kea leases in any back end.

The lease file is a journal: every change appends a whole block and the last
block for an address wins (ISC server/db.c, confpars.c). This reader does not go
through the dhcpd.conf grammar: one regular expression cuts the file into top-level
blocks (quote-aware, one level of nested ``on ... { }``), a second one reads the
fields of a block. That is what makes a million leases quick.

Mapping (Kea memfile fields, ARM "Lease Database"): expire and valid lifetime from
``ends``/``starts`` (v6: ``max-life``), hw-address from ``hardware``, client-id from
``uid``, hostname from ``client-hostname`` (or ``ddns-fwd-name``), fqdn flags from the
DDNS variables, subnet id from a Kea config (the migrated one) or inferred.
``abandoned`` becomes Kea's declined; free/expired/released/backup are history and
are skipped unless ``all_states`` (then stored expired-reclaimed).
"""
import calendar
import codecs
import ipaddress
import re
import socket
import time
from dataclasses import dataclass, field

from kea_tools.bulk import gc_paused
from kea_tools.errors import SourceError, UserError

# One top-level statement: `lease|ia-na|... HEAD { BODY }` or `WORD ...;`.
_BODY = r'(?:[^{}"#]++|"(?:[^"\\]++|\\.)*+"|#[^\n]*+|\{(?:[^{}"#]++|"(?:[^"\\]++|\\.)*+"|#[^\n]*+)*+\})*+'
_BLOCK = re.compile(
    r'\s*+(?:#[^\n]*+\s*+)*+'
    r'(?:(lease|ia-na|ia-ta|ia-pd|host|group|class|subclass|failover)\s++([^{;]*?)\s*+\{(' + _BODY + r')\}'
    r'|([A-Za-z-]++)([^;{}]*+);)', re.S)

_TIME = r'(?:\d\s++(\d++)/(\d++)/(\d++)\s++(\d++):(\d++):(\d++)(?:\s++([+-]?\d++))?|epoch\s++(\d++)[^;]*+|(never))'
_QSTR = r'"(?:[^"\\]++|\\.)*+"'
_FIELD = re.compile(
    r'\s*+(?:#[^\n]*+\s*+)*+(?:'
    r'(starts|ends|cltt|tstp|tsfp|atsfp)\s++' + _TIME + r'\s*+;'          # 1..10
    r'|(binding|next\s++binding|rewind\s++binding)\s++state\s++([\w-]++)\s*+;'   # 11, 12
    r'|hardware\s++([\w-]++)\s++([0-9a-fA-F:]*+)\s*+;'                         # 13, 14
    r'|uid\s++(' + _QSTR + r'|[0-9a-fA-F:]++)\s*+;'                             # 15
    r'|client-hostname\s++(' + _QSTR + r'|[^;\s]++)\s*+;'                       # 16
    r'|set\s++([\w-]++)\s*+=\s*+(' + _QSTR + r'|[^;]*+);'                      # 17, 18
    r'|(ddns-fwd-name|ddns-rev-name|ddns-text|ddns-client-fqdn)\s++(' + _QSTR + r')\s*+;'  # 19, 20
    r'|(abandoned|reserved|dynamic-bootp|bootp|deleted|dynamic|static)\s*+;'     # 21
    r'|(preferred-life|max-life)\s++(\d++)\s*+;'                               # 22, 23
    r'|(iaaddr|iaprefix)\s++([0-9a-fA-F:./]++)\s*+\{(' + _BODY + r')\}'       # 24, 25, 26
    r'|fixed-address\s++([^;]++);'                                             # 27
    r'|on\s++[^{]*+\{(?:[^{}"]++|' + _QSTR + r')*+\}'
    r'|([^;{}]*+);'                                                            # 28 (ignored)
    r')', re.S)

_ESC = re.compile(rb'\\([0-3][0-7]{2}|x[0-9a-fA-F]{2}|.)', re.S)
_ESC_SIMPLE = {b"t": b"\t", b"r": b"\r", b"n": b"\n", b"b": b"\b"}
HTYPES = {"ethernet": 1, "token-ring": 6, "fddi": 8, "infiniband": 32}

# ISC binding state -> Kea state (None: history, imported only with --all).
STATE_MAP = {"active": 0, "abandoned": 1, "bootp": 0, "reserved": 0}
HISTORY = {"free", "expired", "released", "backup", "reset"}
KEA_EXPIRED = 2


_ODD_ESCAPE = re.compile(rb'\\(?![0-3][0-7]{2}|["\\])')


def _unescape(body):
    if b"\\" not in body:
        return body
    if _ODD_ESCAPE.search(body) is None:
        # Only \NNN, \" and \\ (all dhcpd writes): the C codec does exactly that.
        return codecs.escape_decode(body)[0]
    def sub(m):
        e = m.group(1)
        if len(e) == 3 and e[:1].isdigit():
            return bytes([int(e, 8)])
        if e[:1] == b"x" and len(e) == 3:
            return bytes([int(e[1:], 16)])
        return _ESC_SIMPLE.get(e, e)
    return _ESC.sub(sub, body) if b"\\" in body else body


def decode_id(text):
    """A uid / IAID_DUID / server-duid: octal-escaped quoted string or colon hex."""
    if text.startswith('"'):
        body = text[1:-1].encode("latin-1")
        return _unescape(body) if "\\" in text else body
    return bytes(int(o, 16) for o in text.split(":") if o)


def _time(m, base):
    """Unix time from the _TIME groups starting at ``base`` (None = never)."""
    g = m.group
    if g(base + 8) is not None:
        return None
    if g(base + 7) is not None:
        return int(g(base + 7))
    t = calendar.timegm((int(g(base)), int(g(base + 1)), int(g(base + 2)),
                         int(g(base + 3)), int(g(base + 4)), int(g(base + 5)), 0, 0, 0))
    if g(base + 6):
        t += int(g(base + 6))
    return t


@dataclass(slots=True)
class IscLease:
    """One lease as the journal left it."""

    address: str
    state: str = ""
    starts: int = None
    ends: int = None
    cltt: int = None
    hwtype: str = ""
    hwaddr: bytes = None
    uid: bytes = None
    hostname: str = ""
    fwd: bool = False
    rev: bool = False
    ia_type: str = ""        # v6: ia-na / ia-ta / ia-pd
    iaid_duid: bytes = None
    preferred: int = 0
    max_life: int = 0
    line: int = 0


@dataclass(slots=True)
class ImportSummary:
    """What an import did; ``rows()`` is the table the CLI prints."""

    family: int = 4
    blocks: int = 0
    leases: int = 0
    imported: int = 0
    by_state: dict = field(default_factory=dict)
    skipped_history: int = 0
    outside: list = field(default_factory=list)
    expired: int = 0
    deleted_hosts: list = field(default_factory=list)
    corrupt: list = field(default_factory=list)
    per_subnet: dict = field(default_factory=dict)
    inferred_subnets: bool = False
    dry_run: bool = False
    seconds: float = 0.0

    def rows(self):
        rows = [("lease blocks read", self.blocks), ("distinct leases", self.leases)]
        for state, n in sorted(self.by_state.items()):
            rows.append((f"  binding state {state}", n))
        rows.append(("skipped (free/expired/released/backup)", self.skipped_history))
        rows.append(("outside every subnet (not imported)", len(self.outside)))
        rows.append(("corrupt statements skipped", len(self.corrupt)))
        rows.append(("would import" if self.dry_run else "imported", self.imported))
        if self.deleted_hosts:
            rows.append(("deleted host entries", len(self.deleted_hosts)))
        return rows


class LeaseFileError(SourceError):
    pass


def _line_of(text, pos, cache):
    """1-based line number of ``pos`` (incremental: positions come in order)."""
    last_pos, last_line = cache
    line = last_line + text.count("\n", last_pos, pos)
    cache[0], cache[1] = pos, line
    return line


# Whole-file line scanner for files in dhcpd's own layout (one statement or block
# opener per line, server/db.c). It keeps raw text; _finish() decodes what is kept.
_SCAN = re.compile(
    r'^[ \t]*+(?:'
    r'(lease|ia-na|ia-ta|ia-pd|iaaddr|iaprefix|host|group|class|subclass|failover|on)[ \t]++([^{\n]*?)[ \t]*+\{[ \t]*+'
    r'|(\})[ \t]*+'
    r'|([a-z-]++(?: binding state| state)?)(?:[ \t]++([^\n]*?))?;[ \t]*+(?:#[^\n]*+)?'
    r'|(#[^\n]*+)?'
    r'|([^\n]++)'
    r')$', re.M)
_LEASE_KEYS = {"starts", "ends", "cltt", "binding state", "hardware", "uid", "client-hostname",
               "set", "abandoned", "ddns-fwd-name", "ddns-rev-name", "preferred-life", "max-life",
               "deleted"}


class _Fallback(Exception):
    pass


def _scan(text, family, info, progress):
    leases = {}
    ia_members = {}
    depth = 0
    cur = None          # the lease (v4) or address (v6) being read
    ia = None           # (kind, iaid_duid, cltt, members) of the IA being read
    host_deleted = None
    skip_depth = 0      # inside an `on ... { }` or other ignored block
    chunk = 1 << 23
    pos = 0
    n = len(text)
    while pos < n:
        end = text.find("\n}\n", pos + chunk)
        end = n if end < 0 else end + 3
        for opener, head, close, key, val, _comment, junk in _SCAN.findall(text, pos, end):
            if key:
                if skip_depth:
                    continue
                if cur is not None:
                    if key == "starts":
                        cur.starts = val
                    elif key == "ends":
                        cur.ends = val
                    elif key == "binding state":
                        cur.state = val
                    elif key == "hardware":
                        cur.hwtype, _, cur.hwaddr = val.partition(" ")
                    elif key == "uid":
                        cur.uid = val
                    elif key == "client-hostname":
                        cur.hostname = val
                    elif key == "set":
                        _f_set(cur, val)
                    elif key == "cltt":
                        cur.cltt = val
                    elif key == "abandoned":
                        cur.state = "abandoned"
                    elif key == "preferred-life":
                        cur.preferred = int(val)
                    elif key == "max-life":
                        cur.max_life = int(val)
                    elif key == "ddns-fwd-name":
                        _f_legacy_fwd(cur, val)
                    elif key == "ddns-rev-name":
                        cur.rev = True
                elif ia is not None and key == "cltt":
                    ia[2] = val
                elif host_deleted is not None and key == "deleted":
                    host_deleted[1] = True
                elif depth == 0:
                    if key == "authoring-byte-order":
                        info["little_endian"] = "little" in val
                    elif key == "server-duid":
                        info["server_duid"] = decode_id(val.strip())
                    else:
                        raise _Fallback()
            elif opener:
                depth += 1
                if skip_depth or opener in ("on", "group", "class", "subclass", "failover"):
                    skip_depth += 1
                    if depth == 1:
                        info["blocks"] += 1
                    continue
                if opener == "lease" and depth == 1:
                    if family == 6:
                        raise _Fallback()
                    family = 4
                    cur = IscLease(head)
                    leases[head] = cur
                    info["blocks"] += 1
                elif opener in ("ia-na", "ia-ta", "ia-pd") and depth == 1:
                    if family == 4:
                        raise _Fallback()
                    family = 6
                    info["blocks"] += 1
                    iaid_duid = decode_id(head)
                    key2 = (opener, iaid_duid)
                    for addr in ia_members.pop(key2, ()):
                        old = leases.get(addr)
                        if old is not None and old.iaid_duid == iaid_duid and old.ia_type == opener:
                            del leases[addr]
                    ia = [opener, iaid_duid, None, []]
                    ia_members[key2] = ia[3]
                elif opener in ("iaaddr", "iaprefix") and depth == 2 and ia is not None:
                    cur = IscLease(head, ia_type=ia[0], iaid_duid=ia[1])
                elif opener == "host" and depth == 1:
                    info["blocks"] += 1
                    host_deleted = [head.strip('"'), False]
                else:
                    raise _Fallback()
            elif close:
                depth -= 1
                if depth < 0:
                    raise _Fallback()
                if skip_depth:
                    skip_depth -= 1
                    continue
                if ia is not None and cur is not None and depth == 1:
                    if cur.cltt is None:
                        cur.cltt = ia[2]
                    prev = leases.get(cur.address)
                    active = cur.state in ("active", "abandoned")
                    if prev is None or (prev.ia_type, prev.iaid_duid) == (ia[0], ia[1]) or active:
                        leases[cur.address] = cur
                        ia[3].append(cur.address)
                    cur = None
                elif depth == 0:
                    cur = None
                    ia = None
                    if host_deleted is not None and host_deleted[1]:
                        info["deleted_hosts"].append(host_deleted[0])
                    host_deleted = None
            elif junk:
                raise _Fallback()
        pos = end
        if progress is not None:
            progress(pos)
    if depth != 0:
        raise _Fallback()
    return family or 4, leases, info


# Fastest path: v4 lease blocks exactly as dhcpd 4.x writes them (server/db.c
# write_lease order), matched whole; the remaining lines of a block are searched
# with str.find. Used only when every lease block in the file matches.
_FAST4 = re.compile(
    r'^lease ([0-9.]++) \{\n'
    r'(?:  starts ([^;\n]*+);\n)?'
    r'(?:  ends ([^;\n]*+);\n)?'
    r'(?:  (?:tstp|tsfp|atsfp) [^\n]*+\n)*+'
    r'(?:  cltt ([^;\n]*+);\n)?'
    r'(?:  binding state ([a-z-]++);\n)?'
    r'(?:  (?:next|rewind) binding state [a-z-]++;\n)*+'
    r'(?:  hardware ethernet ([0-9a-f]{2}(?::[0-9a-f]{2}){5});\n)?'
    r'(?:  uid ("(?:[^"\\\n]++|\\.)*+"|[0-9a-fA-F:]++);\n)?'
    r'((?:  [^\n]*+\n)*?)'
    r'\}$', re.M)


def _tail_value(tail, key):
    i = tail.find(key)
    if i < 0:
        return None
    i += len(key)
    return tail[i:tail.find(";\n", i)]


def _from_fast(m):
    address, starts, ends, cltt, state, mac, uid, tail = m
    lease = IscLease(address, state, starts or None, ends or None, cltt or None)
    if mac:
        lease.hwtype, lease.hwaddr = "ethernet", mac
    if uid:
        lease.uid = uid
    if tail:
        tail = "\n" + tail
        hw = _tail_value(tail, "\n  hardware ")
        if hw is not None:
            lease.hwtype, _, lease.hwaddr = hw.partition(" ")
        uid = _tail_value(tail, "\n  uid ")
        if uid is not None:
            lease.uid = uid
        host = _tail_value(tail, "\n  client-hostname ")
        if host is not None:
            lease.hostname = host
        if "\n  set ddns-" in tail or "\n  ddns-" in tail:
            fwd = _tail_value(tail, "\n  set ddns-fwd-name = ") or _tail_value(tail, "\n  ddns-fwd-name ")
            if fwd is not None:
                lease.fwd = True
                if not lease.hostname:
                    lease.hostname = fwd
            lease.rev = "ddns-rev-name" in tail
        if "\n  abandoned;" in tail:
            lease.state = "abandoned"
    return lease


def _fast4(text, info):
    if text.find("\nia-") >= 0 or text.find("\non ") >= 0:
        return None
    matches = []
    collect = matches.append

    def take(m):
        collect(m.groups())
        return ""

    # What is left once every lease block is cut out must be comments and the
    # header statements; anything else (host/group/failover blocks, an odd
    # layout) sends the file to the line scanner.
    rest = _FAST4.sub(take, text)
    if not matches:
        return None
    for line in rest.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, value = line.partition(" ")
        if word == "authoring-byte-order" and value.endswith(";"):
            info["little_endian"] = "little" in value
        elif word != "server-duid":
            return None
    # Raw tuples; _from_fast() makes an IscLease only for the leases that are kept.
    leases = {m[0]: m for m in matches}
    info["blocks"] = len(matches)
    return 4, leases, info


def parse_leases(text, filename="<leases>", *, family=None, progress=None):
    """Read a dhcpd.leases journal; returns (family, {key: IscLease}, info dict)."""
    info = {"blocks": 0, "deleted_hosts": [], "corrupt": [], "server_duid": None,
            "little_endian": True}
    if family != 6:
        fast = _fast4(text, info)
        if fast is not None:
            return fast
    try:
        info = {"blocks": 0, "deleted_hosts": [], "corrupt": [], "server_duid": None,
                "little_endian": True}
        return _scan(text, family, info, progress)
    except _Fallback:
        pass
    return _parse_blocks(text, filename, family=family, progress=progress)


def _parse_blocks(text, filename="<leases>", *, family=None, progress=None):
    """The careful reader: any layout dhcpd itself accepts, and corrupt statements."""
    leases = {}
    ia_members = {}
    info = {"blocks": 0, "deleted_hosts": [], "corrupt": [], "server_duid": None,
            "little_endian": True}
    pos = 0
    n = len(text)
    match = _BLOCK.match
    cache = [0, 1]
    next_tick = 0
    while pos < n:
        m = match(text, pos)
        if m is None or m.end() == pos:
            rest = text[pos:].strip()
            if not rest or rest.startswith("#") and "\n" not in rest:
                break
            line = _line_of(text, pos + (len(text[pos:]) - len(text[pos:].lstrip())), cache)
            # dhcpd skips a corrupt statement to the next ';' and carries on.
            semi = text.find(";", pos)
            brace = text.find("}", pos)
            cut = min(x for x in (semi, brace, n - 1) if x >= 0) + 1
            info["corrupt"].append((line, text[pos:cut].strip()[:60]))
            pos = cut
            continue
        pos = m.end()
        kind = m.group(1)
        if progress is not None and pos >= next_tick:
            progress(pos)
            next_tick = pos + (1 << 20)
        if kind is None:
            word = m.group(4)
            if word == "authoring-byte-order":
                info["little_endian"] = "little" in m.group(5)
            elif word == "server-duid":
                info["server_duid"] = decode_id(m.group(5).strip())
            else:
                # dhcpd: "Corrupt lease file - possible data loss!", then carries on.
                info["corrupt"].append((_line_of(text, m.start(4), cache), m.group(0).strip()[:60]))
            continue
        info["blocks"] += 1
        head = m.group(2).strip()
        body = m.group(3)
        if kind == "lease":
            if family == 6:
                raise LeaseFileError("a DHCPv4 lease in a DHCPv6 lease file", filename,
                                     _line_of(text, m.start(1), cache), 1)
            family = 4
            lease = IscLease(head)
            _fields(lease, body)
            leases[head] = lease  # a later block replaces the whole record
        elif kind in ("ia-na", "ia-ta", "ia-pd"):
            if family == 4:
                raise LeaseFileError("a DHCPv6 IA in a DHCPv4 lease file", filename,
                                     _line_of(text, m.start(1), cache), 1)
            family = 6
            _ia_block(kind, decode_id(head), body, leases, ia_members, info)
        elif kind == "host":
            if re.search(r"(?:^|[;{\s])deleted\s*;", body):
                info["deleted_hosts"].append(head.strip('"'))
    return family or 4, leases, info


# Fast path: dhcpd writes one statement per line (server/db.c); a block without
# nested braces is read line by line. Anything else takes the careful regex.
_LINE = re.compile(r'^[ \t]*+([a-z-]++(?: binding state| state)?)[ \t]++(.*?);[ \t]*+(?:#[^\n]*+)?$', re.M)
_DATE = re.compile(r'\d\s+(\d+)/(\d+)/(\d+)\s+(\d+):(\d+):(\d+)(?:\s+([+-]?\d+))?\s*$')
_DAYS = {}
_CLOCKS = {}


def _clock():
    """{"HH:MM:SS": seconds} for a whole day, built on first use."""
    if not _CLOCKS:
        _CLOCKS.update((f"{h:02d}:{m:02d}:{sec:02d}", h * 3600 + m * 60 + sec)
                       for h in range(24) for m in range(60) for sec in range(60))
    return _CLOCKS


def _fast_time(v):
    """Unix time of an ISC date value (None for never, -2 when unreadable)."""
    if len(v) == 21 and v[12] == " ":
        # The writer's zero-padded "W YYYY/MM/DD HH:MM:SS" (server/db.c).
        days = _DAYS.get(v[2:12])
        if days is not None:
            return days + int(v[13:15]) * 3600 + int(v[16:18]) * 60 + int(v[19:21])
    if v[:5] == "epoch":
        return int(v[5:].split()[0])
    if v == "never":
        return None
    day, _, clock = v[2:].partition(" ")
    days = _DAYS.get(day)
    if days is None:
        y, m, d = day.split("/")
        days = _DAYS[day] = calendar.timegm((int(y), int(m), int(d), 0, 0, 0, 0, 0, 0))
    clock = clock.strip()
    if len(clock) == 8 and clock[2] == ":" and clock[5] == ":":
        return days + int(clock[:2]) * 3600 + int(clock[3:5]) * 60 + int(clock[6:])
    m = _DATE.match(v)
    if m is None:
        return -2
    t = days + int(m.group(4)) * 3600 + int(m.group(5)) * 60 + int(m.group(6))
    return t + int(m.group(7) or 0)


def _fields(lease, body):
    if "{" not in body and "\n" in body and "#" not in body and "abandoned;" not in body:
        for key, v in _LINE.findall(body):
            handler = _FAST.get(key)
            if handler is not None:
                handler(lease, v)
        return
    _careful_fields(lease, body)


def _f_starts(lease, v):
    lease.starts = _fast_time(v)


def _f_ends(lease, v):
    t = _fast_time(v)
    lease.ends = -1 if t is None else t


def _f_cltt(lease, v):
    lease.cltt = _fast_time(v)


def _f_state(lease, v):
    lease.state = v.strip()


def _f_hardware(lease, v):
    kind, _, mac = v.partition(" ")
    lease.hwtype = kind
    lease.hwaddr = bytes(int(o, 16) for o in mac.strip().split(":") if o)


def _f_uid(lease, v):
    lease.uid = decode_id(v.strip())


def _f_hostname(lease, v):
    v = v.strip()
    lease.hostname = _unescape(v[1:-1].encode("latin-1")).decode("utf-8", "replace") \
        if v.startswith('"') else v


def _f_set(lease, v):
    name, _, value = v.partition("=")
    name = name.strip()
    if name == "ddns-fwd-name":
        lease.fwd = True
        value = value.strip()
        if value.startswith('"') and not lease.hostname:
            lease.hostname = value[1:-1]
    elif name == "ddns-rev-name":
        lease.rev = True


def _f_legacy_fwd(lease, v):
    lease.fwd = True
    if not lease.hostname:
        lease.hostname = v.strip().strip('"')


def _f_legacy_rev(lease, v):
    lease.rev = True


def _f_pref(lease, v):
    lease.preferred = int(v)


def _f_max(lease, v):
    lease.max_life = int(v)


_FAST = {
    "starts": _f_starts, "ends": _f_ends, "cltt": _f_cltt, "binding state": _f_state,
    "hardware": _f_hardware, "uid": _f_uid, "client-hostname": _f_hostname, "set": _f_set,
    "ddns-fwd-name": _f_legacy_fwd, "ddns-rev-name": _f_legacy_rev,
    "preferred-life": _f_pref, "max-life": _f_max,
}


def _careful_fields(lease, body):
    for f in _FIELD.finditer(body):
        g = f.group
        idx = f.lastindex
        if idx is None:
            continue
        if g(1) is not None:
            t = _time(f, 2)
            which = g(1)
            if which == "starts":
                lease.starts = t
            elif which == "ends":
                lease.ends = t if t is not None else -1
            elif which == "cltt":
                lease.cltt = t
        elif g(11) is not None:
            if g(11) == "binding":
                lease.state = g(12)
        elif g(13) is not None:
            lease.hwtype = g(13)
            lease.hwaddr = bytes(int(o, 16) for o in g(14).split(":") if o)
        elif g(15) is not None:
            lease.uid = decode_id(g(15))
        elif g(16) is not None:
            v = g(16)
            lease.hostname = _unescape(v[1:-1].encode("latin-1")).decode("utf-8", "replace") \
                if v.startswith('"') else v
        elif g(17) is not None:
            name = g(17)
            if name == "ddns-fwd-name":
                lease.fwd = True
                v = g(18).strip()
                if v.startswith('"') and not lease.hostname:
                    lease.hostname = v[1:-1]
            elif name == "ddns-rev-name":
                lease.rev = True
        elif g(19) is not None:
            if g(19) == "ddns-fwd-name":
                lease.fwd = True
                if not lease.hostname:
                    lease.hostname = g(20)[1:-1]
            elif g(19) == "ddns-rev-name":
                lease.rev = True
        elif g(21) is not None:
            if g(21) == "abandoned":
                lease.state = "abandoned"
        elif g(22) is not None:
            if g(22) == "preferred-life":
                lease.preferred = int(g(23))
            else:
                lease.max_life = int(g(23))


def _ia_block(kind, iaid_duid, body, leases, ia_members, info):
    key = (kind, iaid_duid)
    # A later block for the same IA replaces the whole IA (ISC mdb6.c).
    old = ia_members.pop(key, ())
    for addr in old:
        lease = leases.get(addr)
        if lease is not None and lease.iaid_duid == iaid_duid and lease.ia_type == kind:
            del leases[addr]
    ia_cltt = None
    members = []
    for f in _FIELD.finditer(body):
        if f.group(1) == "cltt":
            ia_cltt = _time(f, 2)
        elif f.group(24) is not None:
            addr = f.group(25)
            lease = IscLease(addr, ia_type=kind, iaid_duid=iaid_duid)
            _fields(lease, f.group(26))
            if lease.cltt is None:
                lease.cltt = ia_cltt
            prev = leases.get(addr)
            active = lease.state in ("active", "abandoned")
            if prev is not None and (prev.ia_type, prev.iaid_duid) != (kind, iaid_duid) and not active:
                # An inactive entry in another IA does not take the address away.
                continue
            leases[addr] = lease
            members.append(addr)
    ia_members[key] = members


_UNSET = object()


class SubnetMap:
    """Address -> Kea subnet id, from a Kea config or inferred from addresses."""

    def __init__(self, networks):
        # networks: list of (ipaddress network, id). Lookups probe each distinct
        # prefix length, longest first, so nested subnets resolve to the most
        # specific one.
        self.table = {}
        for net, sid in networks:
            self.table.setdefault((net.prefixlen, int(net.network_address)), sid)
        self.plens = sorted({p for p, _ in self.table}, reverse=True)
        self.bits = 128 if any(n.version == 6 for n, _ in networks) else 32
        self.by24 = {} if self.bits == 32 and all(p <= 24 for p in self.plens) else None

    @classmethod
    def from_kea(cls, doc, family):
        key = "Dhcp4" if family == 4 else "Dhcp6"
        if key not in doc:
            raise UserError(f"the Kea config has no {key} section")
        dhcp = doc[key]
        subs = list(dhcp.get(f"subnet{family}", []))
        for sn in dhcp.get("shared-networks", []):
            subs.extend(sn.get(f"subnet{family}", []))
        nets = []
        auto = 0
        for s in subs:
            sid = s.get("id")
            if not sid:
                auto += 1
                sid = auto
            nets.append((ipaddress.ip_network(s["subnet"], strict=False), sid))
        return cls(nets)

    def lookup(self, address):
        if self.by24 is not None:
            # Every subnet is /24 or wider: the first three octets decide.
            head = address.rpartition(".")[0]
            sid = self.by24.get(head, _UNSET)
            if sid is _UNSET:
                sid = self.by24[head] = self._lookup(address)
            return sid
        return self._lookup(address)

    def _lookup(self, address):
        address = address.split("/")[0]
        if self.bits == 32:
            try:
                a = int.from_bytes(socket.inet_aton(address), "big")
            except OSError:
                return None
        else:
            a = int(ipaddress.ip_address(address))
        bits = self.bits
        table = self.table
        for plen in self.plens:
            sid = table.get((plen, a >> (bits - plen) << (bits - plen) if plen else 0))
            if sid is not None:
                return sid
        return None


def infer_subnets(addresses, family):
    """Without a config: /24 (v4) or /64 (v6) networks numbered in address order."""
    if family == 4:
        nets = set()
        for a in addresses:
            try:
                nets.add(int.from_bytes(socket.inet_aton(a), "big") >> 8)
            except OSError:
                pass
        ordered = sorted(nets)
        return SubnetMap([(ipaddress.IPv4Network((n << 8, 24)), i + 1) for i, n in enumerate(ordered)])
    nets = sorted({int(ipaddress.IPv6Address(a.split("/")[0])) >> 64 for a in addresses})
    return SubnetMap([(ipaddress.IPv6Network((n << 64, 64)), i + 1) for i, n in enumerate(nets)])


def _finish(lease):
    """Decode the raw text the line scanner left in a lease (done only for leases kept)."""
    if isinstance(lease.starts, str):
        lease.starts = _fast_time(lease.starts)
    if isinstance(lease.ends, str):
        t = _fast_time(lease.ends)
        lease.ends = -1 if t is None else t
    if isinstance(lease.cltt, str) and (lease.ia_type or lease.starts is None):
        lease.cltt = _fast_time(lease.cltt)  # v4 takes the lease start from `starts`
    if isinstance(lease.hwaddr, str):
        mac = lease.hwaddr
        lease.hwaddr = bytes.fromhex(mac.replace(":", "")) if len(mac) == 17 \
            else bytes(int(o, 16) for o in mac.split(":") if o)
    if isinstance(lease.uid, str):
        lease.uid = decode_id(lease.uid)
    host = lease.hostname
    if host and host[0] == '"':
        lease.hostname = _unescape(host[1:-1].encode("latin-1")).decode("utf-8", "replace") \
            if "\\" in host else host[1:-1]
    return lease


def to_kea(lease, family, subnet_id, state, now):
    """An :class:`IscLease` -> a kea_tools Lease4/Lease6."""
    model = _model()
    EMPTY_DUID, INFINITE_LFT, Lease4, Lease6 = model.EMPTY_DUID, model.INFINITE_LFT, model.Lease4, model.Lease6
    _finish(lease)
    ends = lease.ends
    start = lease.starts if lease.starts is not None else (lease.cltt if lease.cltt is not None else now)
    if family == 4:
        if ends is None or ends == -1:
            valid = INFINITE_LFT
            cltt = start
        else:
            valid = max(ends - start, 0)
            cltt = ends - valid
        declined = state == 1
        return Lease4(address=lease.address,
                      hwaddr=None if declined else lease.hwaddr,
                      client_id=None if declined else lease.uid,
                      valid_lft=valid, cltt=cltt, subnet_id=subnet_id,
                      fqdn_fwd=lease.fwd and not declined, fqdn_rev=lease.rev and not declined,
                      hostname="" if declined else lease.hostname, state=state)
    raw = lease.iaid_duid or b""
    iaid = int.from_bytes(raw[:4], "little" if _LITTLE[0] else "big")
    duid = raw[4:]
    valid = lease.max_life
    if ends is None or ends == -1:
        valid = INFINITE_LFT
        cltt = lease.cltt if lease.cltt is not None else now
    else:
        if valid == 0 and lease.cltt is not None:
            valid = max(ends - lease.cltt, 0)
        cltt = ends - valid
    if lease.ia_type == "ia-pd":
        address, _, plen = lease.address.partition("/")
        ltype, prefix_len = 2, int(plen or 128)
    else:
        address, ltype, prefix_len = lease.address, (1 if lease.ia_type == "ia-ta" else 0), 128
    declined = state == 1
    return Lease6(address=str(ipaddress.IPv6Address(address)),
                  duid=EMPTY_DUID if declined else duid, iaid=iaid, type=ltype,
                  prefix_len=prefix_len, preferred_lft=lease.preferred, valid_lft=valid,
                  cltt=cltt, subnet_id=subnet_id, fqdn_fwd=lease.fwd, fqdn_rev=lease.rev,
                  hostname=lease.hostname, state=state)


_LITTLE = [True]
_MODEL = []


def _model():
    """kea_tools.leases.model, imported on first use (no work at import time)."""
    if not _MODEL:
        from kea_tools.leases import model
        _MODEL.append(model)
    return _MODEL[0]


def _fast_kea4(m, subnet_id, Lease4):
    """A Lease4 straight from a _FAST4 match of an active lease (the common case)."""
    address, starts, ends, _cltt, _state, mac, uid, tail = m
    if not starts or not ends:
        return None
    start = _fast_time(starts)
    end = _fast_time(ends)
    if start is None or end is None or end == -2 or start == -2:
        return None
    hostname = ""
    if tail:
        if tail.startswith(("  hardware ", "  uid ")) or "\n  hardware " in tail \
                or "\n  uid " in tail or "ddns-" in tail:
            return None  # an unusual order or DDNS variables: the general path reads them
        i = tail.find("  client-hostname ")
        if i == 0 or (i > 0 and tail[i - 1] == "\n"):
            host = tail[i + 18:tail.find(";\n", i)]
            if host[:1] == '"':
                host = _unescape(host[1:-1].encode("latin-1")).decode("utf-8", "replace") \
                    if "\\" in host else host[1:-1]
            hostname = host
    valid = end - start if end > start else 0
    # Positional arguments: the field order of Lease4 (address, hwaddr, client_id,
    # valid_lft, cltt, subnet_id, pool_id, fqdn_fwd, fqdn_rev, hostname).
    return Lease4(address, bytes.fromhex(mac.replace(":", "")) if mac else None,
                  decode_id(uid) if uid else None, valid, end - valid, subnet_id, 0,
                  False, False, hostname)


def load_kea_config(path):
    """A Kea config file (comments allowed) as plain JSON values."""
    from kea_tools.config import jsonc
    try:
        return jsonc.parse(jsonc.read_source(str(path)))
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror}") from None


@gc_paused()
def import_isc_leases(path, backend, *, config=None, all_states=False, dry_run=False, family=None,
                      progress=None, now=None, batch=20000):
    """Import an ISC dhcpd.leases file into ``backend``; returns an :class:`ImportSummary`.

    ``config`` is a Kea config (path or parsed dict) whose subnets give the subnet
    ids; without it the ids are inferred (/24 or /64 networks in address order).
    ``backend`` may be None with ``dry_run``. ``progress(bytes_done, bytes_total)``
    is called while reading.
    """
    started = time.monotonic()
    try:
        with open(path, encoding="latin-1") as fh:
            text = fh.read()
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror}") from None
    total = len(text)
    fam, leases, info = parse_leases(text, str(path), family=family,
                                     progress=(lambda done: progress(done, total)) if progress else None)
    if family is not None and fam != family and leases:
        raise UserError(f"{path}: this is a DHCPv{fam} lease file")
    fam = family or fam
    if progress:
        progress(total, total)
    _LITTLE[0] = info["little_endian"]
    summary = ImportSummary(family=fam, blocks=info["blocks"], leases=len(leases),
                            deleted_hosts=info["deleted_hosts"], corrupt=info["corrupt"],
                            dry_run=dry_run)
    if config is not None:
        doc = load_kea_config(config) if not isinstance(config, dict) else config
        subnets = SubnetMap.from_kea(doc, fam)
    else:
        subnets = infer_subnets(leases.keys(), fam)
        summary.inferred_subnets = True
    now = int(time.time()) if now is None else now
    out = []
    by_state = summary.by_state
    Lease4 = _model().Lease4
    lookup = subnets.lookup
    per_subnet = summary.per_subnet
    for lease in leases.values():
        if type(lease) is tuple:
            st = lease[4]
            if st == "active" and "abandoned;" not in lease[7]:
                sid = lookup(lease[0])
                kea = _fast_kea4(lease, sid, Lease4) if sid is not None else None
                if kea is not None and (kea.hwaddr or kea.client_id):
                    by_state["active"] = by_state.get("active", 0) + 1
                    out.append(kea)
                    per_subnet[sid] = per_subnet.get(sid, 0) + 1
                    continue
            elif st not in STATE_MAP and st and not all_states and "abandoned;" not in lease[7]:
                by_state[st] = by_state.get(st, 0) + 1
                summary.skipped_history += 1
                continue
            lease = _from_fast(lease)
        st = lease.state
        if not st:
            _finish(lease)
            st = "active" if lease.ends is None or lease.ends == -1 or lease.ends > now else "free"
        by_state[st] = by_state.get(st, 0) + 1
        state = STATE_MAP.get(st)
        if state is None:
            if not all_states:
                summary.skipped_history += 1
                continue
            state = KEA_EXPIRED
        sid = subnets.lookup(lease.address)
        if sid is None:
            summary.outside.append(lease.address)
            continue
        kea = to_kea(lease, fam, sid, state, now)
        if fam == 4 and state == 0 and not kea.hwaddr and not kea.client_id:
            summary.corrupt.append((lease.line, f"lease {lease.address} has neither hardware nor uid"))
            continue
        out.append(kea)
        summary.per_subnet[sid] = summary.per_subnet.get(sid, 0) + 1
    if not dry_run:
        for i in range(0, len(out), batch):
            backend.add_many(out[i:i + batch], replace=True)
    summary.imported = len(out)
    summary.seconds = time.monotonic() - started
    return summary
