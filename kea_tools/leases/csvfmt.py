"""Kea's memfile CSV formats (lease4 schema 2.1 / 3.0, lease6 schema 4.0 / 5.0).

Kea has no CSV quoting: a row is split on every comma; only ``hostname`` and
``user_context`` can hold a comma, written as ``&#x2c`` (and ``&`` as ``&#x26``).
``user_context`` is JSON in Kea's own compact style.  keactl writes exactly the
2.2 layout (so Kea 2.2 loads it) and reads 2.2 files and newer ones (the
``pool_id`` column of schema 3.0 / 5.0; extra trailing columns are dropped).
"""
import json
import re
import socket
from dataclasses import dataclass

from kea_tools.errors import SourceError
from kea_tools.leases.model import Lease4, Lease6, format_hex, parse_hex

COLUMNS4 = ("address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id",
            "fqdn_fwd", "fqdn_rev", "hostname", "state", "user_context", "pool_id")
COLUMNS6 = ("address", "duid", "valid_lifetime", "expire", "subnet_id", "pref_lifetime",
            "lease_type", "iaid", "prefix_len", "fqdn_fwd", "fqdn_rev", "hostname",
            "hwaddr", "state", "user_context", "hwtype", "hwaddr_source", "pool_id")
# Columns Kea 2.2 writes (and what keactl writes), and the minimum a file must have.
WRITE_COUNT = {4: 11, 6: 17}
MIN_COUNT = {4: 9, 6: 12}
COLUMNS = {4: COLUMNS4, 6: COLUMNS6}
HEADER = {4: ",".join(COLUMNS4[:11]), 6: ",".join(COLUMNS6[:17])}
# Defaults for columns missing from an older file (schema upgrade on load).
_DEFAULTS = {"state": "0", "pool_id": "0"}

_ESCAPE_RE = re.compile(rb"&#x([0-9a-fA-F]{2})")
_BOOL = {"1": True, "0": False}


_CONTROL_RE = re.compile(r"[\x00-\x1f]")


def escape(text):
    """CSV escaping of hostname / user_context.

    Kea 2.2 escapes ``,`` and ``&``; keactl also escapes control characters (as
    Kea 3.3 does), since a raw newline would split the row and every Kea reader
    decodes any ``&#xHH``.
    """
    if "&" in text:
        text = text.replace("&", "&#x26")
    if "," in text:
        text = text.replace(",", "&#x2c")
    if not text.isprintable():
        text = _CONTROL_RE.sub(lambda m: f"&#x{ord(m.group()):02x}", text)
    return text


def unescape(text):
    """Undo ``&#xHH`` escapes (either case); a malformed tag stays as written."""
    if "&#x" not in text:
        return text
    raw = _ESCAPE_RE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))
    return raw.decode("utf-8", "replace")


def _kea_string(text):
    out = ['"']
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _CTRL:
            out.append(_CTRL[ch])
        elif byte < 0x20 or byte >= 0x7F:
            out.append(f"\\u{byte:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_CTRL = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def kea_json(value):
    """JSON text in Kea's Element::toJSON style: ``{ "a": 1, "b": [ 1, 2 ] }``."""
    if isinstance(value, dict):
        items = ", ".join(f"{_kea_string(str(k))}: {kea_json(value[k])}" for k in sorted(value))
        return "{ " + items + " }"
    if isinstance(value, (list, tuple)):
        return "[ " + ", ".join(kea_json(v) for v in value) + " ]"
    if isinstance(value, str):
        return _kea_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    return str(int(value))


def fix_kea_bytes(value):
    # Kea writes each UTF-8 byte as its own \u00XX; put the bytes back together.
    if isinstance(value, str):
        if value.isascii() or any(ord(c) > 0xFF for c in value):
            return value
        try:
            return value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return value
    if isinstance(value, dict):
        return {fix_kea_bytes(k): fix_kea_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fix_kea_bytes(v) for v in value]
    return value


def parse_user_context(text):
    """The (unescaped) user_context column -> dict or None; ValueError if not a map."""
    if not text:
        return None
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("user_context is not a JSON map")
    return fix_kea_bytes(value)


@dataclass(slots=True)
class Layout:
    """How the columns of one file map onto the current schema."""

    family: int
    count: int           # columns in the file's header (capped at what we know)
    extra: int           # unknown trailing columns (dropped)

    @property
    def needs_rewrite(self):
        return self.count != WRITE_COUNT[self.family] or self.extra > 0


def parse_header(line, family, path=None):
    """Check a header row against Kea's column list; returns its Layout."""
    names = line.rstrip("\r\n").split(",")
    known = COLUMNS[family]
    if len(names) < MIN_COUNT[family]:
        raise SourceError(f"lease file header has {len(names)} columns, need at least "
                          f"{MIN_COUNT[family]} ({','.join(known[:MIN_COUNT[family]])})",
                          path, 1, 1)
    col = 1
    for i, name in enumerate(names[:len(known)]):
        if name.strip() != known[i]:
            raise SourceError(f"lease file header column {i + 1} is {name!r}, expected "
                              f"{known[i]!r}", path, 1, col)
        col += len(name) + 1
    count = min(len(names), len(known))
    return Layout(family, count, max(0, len(names) - len(known)))


def _int(text, what, lo=0, hi=0xFFFFFFFFFFFFFFFF):
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not lo <= value <= hi:
        raise ValueError(f"{what} {value} out of range")
    return value


def _bool(text, what):
    try:
        return _BOOL[text]
    except KeyError:
        raise ValueError(f"{what} must be 1 or 0, not {text!r}") from None


def _hwaddr(text):
    # Fast path for the form Kea writes (aa:bb:cc:dd:ee:ff).
    if len(text) == 17 and text[2] == ":":
        try:
            return bytes.fromhex(text.replace(":", ""))
        except ValueError:
            pass
    return parse_hex(text)


def _fields(line, layout):
    fields = line.rstrip("\r\n").split(",")
    n = len(fields)
    full = layout.count + layout.extra
    if n < MIN_COUNT[layout.family] or n > full or (n < layout.count and layout.extra):
        raise ValueError(f"row has {n} values, the header has {full} columns")
    if n > layout.count:
        del fields[layout.count:]
    names = COLUMNS[layout.family]
    while len(fields) < len(names):
        fields.append(_DEFAULTS.get(names[len(fields)], ""))
    return fields


def parse_row4(line, layout, cache):
    """One v4 CSV row -> Lease4 (valid_lft 0 marks a deletion). ValueError if bad.

    ``cache`` interns repeated values (lifetimes) to keep a million leases small.
    """
    (address, hwaddr, client_id, valid, expire, subnet, fwd, rev, hostname,
     state, context, pool) = _fields(line, layout)
    try:
        address = socket.inet_ntop(socket.AF_INET, socket.inet_pton(socket.AF_INET, address))
    except OSError:
        raise ValueError(f"malformed IPv4 address {address!r}") from None
    valid_lft = _int(valid, "valid_lifetime", hi=0xFFFFFFFF)
    valid_lft = cache.setdefault(valid_lft, valid_lft)
    cltt = _int(expire, "expire") - valid_lft
    lease = Lease4(address, _hwaddr(hwaddr) if hwaddr else None,
                   parse_hex(client_id) if client_id else None, valid_lft, cltt,
                   cache.setdefault(int(subnet), int(subnet)) if subnet.isdigit()
                   else _int(subnet, "subnet_id", hi=0xFFFFFFFF),
                   _int(pool, "pool_id") if pool != "0" else 0,
                   _bool(fwd, "fqdn_fwd"), _bool(rev, "fqdn_rev"),
                   unescape(hostname) if hostname else "",
                   _int(state, "state", hi=2) if state != "0" else 0,
                   parse_user_context(unescape(context)) if context else None)
    if valid_lft and lease.state != 1 and not lease.hwaddr and not lease.client_id:
        raise ValueError("a lease that is not declined needs a hwaddr or a client_id")
    return lease


def parse_row6(line, layout, cache):
    """One v6 CSV row -> Lease6 (valid_lft 0 marks a deletion). ValueError if bad."""
    (address, duid, valid, expire, subnet, pref, ltype, iaid, plen, fwd, rev, hostname,
     hwaddr, state, context, hwtype, source, pool) = _fields(line, layout)
    try:
        address = socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, address))
    except OSError:
        raise ValueError(f"malformed IPv6 address {address!r}") from None
    valid_lft = _int(valid, "valid_lifetime", hi=0xFFFFFFFF)
    valid_lft = cache.setdefault(valid_lft, valid_lft)
    pref_lft = _int(pref, "pref_lifetime", hi=0xFFFFFFFF)
    lease = Lease6(address, parse_hex(duid), _int(iaid, "iaid", hi=0xFFFFFFFF),
                   _int(ltype, "lease_type", hi=2), _int(plen, "prefix_len", 1, 128),
                   cache.setdefault(pref_lft, pref_lft), valid_lft,
                   _int(expire, "expire") - valid_lft, _int(subnet, "subnet_id", hi=0xFFFFFFFF),
                   _int(pool, "pool_id") if pool != "0" else 0,
                   _bool(fwd, "fqdn_fwd"), _bool(rev, "fqdn_rev"),
                   unescape(hostname) if hostname else "",
                   parse_hex(hwaddr) if hwaddr else None,
                   _int(hwtype, "hwtype", hi=0xFFFF) if hwtype else None,
                   _int(source, "hwaddr_source", hi=0xFFFFFFFF) if source else None,
                   _int(state, "state", hi=2) if state != "0" else 0,
                   parse_user_context(unescape(context)) if context else None)
    if valid_lft and lease.state != 1 and not lease.duid:
        raise ValueError("a lease that is not declined needs a DUID")
    return lease


PARSE_ROW = {4: parse_row4, 6: parse_row6}


def _ctx(lease):
    return escape(kea_json(lease.user_context)) if lease.user_context else ""


def format_row4(lease, valid_lft=None):
    """Lease4 -> one Kea 2.2 CSV row (with newline); valid_lft=0 writes a deletion."""
    valid = lease.valid_lft if valid_lft is None else valid_lft
    return (f"{lease.address},{lease.hwaddr.hex(':') if lease.hwaddr else ''},"
            f"{lease.client_id.hex(':') if lease.client_id else ''},{valid},"
            f"{lease.cltt + valid},{lease.subnet_id},{int(lease.fqdn_fwd)},"
            f"{int(lease.fqdn_rev)},{escape(lease.hostname) if lease.hostname else ''},"
            f"{lease.state},{_ctx(lease)}\n")


def format_row6(lease, valid_lft=None):
    """Lease6 -> one Kea 2.2 CSV row (with newline); valid_lft=0 writes a deletion."""
    valid = lease.valid_lft if valid_lft is None else valid_lft
    # A declined lease without a DUID gets Kea 2.2's "empty DUID" (00).
    return (f"{lease.address},{format_hex(lease.duid) or '00'},{valid},{lease.cltt + valid},"
            f"{lease.subnet_id},{lease.preferred_lft},{lease.type},{lease.iaid},"
            f"{lease.prefix_len},{int(lease.fqdn_fwd)},{int(lease.fqdn_rev)},"
            f"{escape(lease.hostname) if lease.hostname else ''},{format_hex(lease.hwaddr)},"
            f"{lease.state},{_ctx(lease)},"
            f"{'' if lease.hwtype is None else lease.hwtype},"
            f"{'' if lease.hwaddr_source is None else lease.hwaddr_source}\n")


FORMAT_ROW = {4: format_row4, 6: format_row6}


def read_rows(path, family, *, strict=False, max_errors=0, on_error=None):
    """Yield (line_number, lease) for each good row of a Kea lease file.

    A bad row raises SourceError when ``strict``; otherwise it is reported to
    ``on_error(SourceError)`` and skipped, failing once more than ``max_errors``
    rows are bad (0: no limit), as Kea's max-row-errors does.
    """
    parse = PARSE_ROW[family]
    cache = {}
    errors = 0
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        header = fh.readline()
        if not header.strip():
            return
        layout = parse_header(header, family, path)
        for lineno, line in enumerate(fh, 2):
            if not line.strip():
                continue
            try:
                lease = parse(line, layout, cache)
            except (ValueError, TypeError) as err:
                error = SourceError(f"bad lease row: {err}", path, lineno, 1)
                if strict:
                    raise error from None
                errors += 1
                if on_error is not None:
                    on_error(error)
                if max_errors and errors > max_errors:
                    raise SourceError(f"more than {max_errors} bad rows, giving up",
                                      path, lineno, 1) from None
                continue
            yield lineno, lease


def replay_file(path, family, leases, *, max_errors=0, on_error=None):
    """Apply a Kea lease file to ``leases`` (address -> lease) in journal order.

    The bulk loader behind start-up and cleanup: rows in exactly the form Kea
    2.2 writes take an inlined path; anything else goes through parse_row4/6,
    which also produces the error for a bad row.  Returns the file's Layout.
    """
    parse = PARSE_ROW[family]
    cache = {}
    errors = 0
    pton, ntop, af = socket.inet_pton, socket.inet_ntop, socket.AF_INET
    fromhex = bytes.fromhex
    setdefault = cache.setdefault
    pop = leases.pop
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        header = fh.readline()
        if not header.strip():
            return None
        layout = parse_header(header, family, path)
        fast = family == 4 and layout.count == 11 and not layout.extra
        for lineno, line in enumerate(fh, 2):
            if fast:
                f = line.split(",")
                if len(f) == 11 and f[10] in ("\n", "\r\n") and f[9] in _STATE_FAST:
                    try:
                        address = ntop(af, pton(af, f[0]))
                        valid = setdefault(int(f[3]), int(f[3]))
                        hw = f[1]
                        cid = f[2]
                        host = f[8]
                        lease = Lease4(address, fromhex(hw.replace(":", " ")) if hw else None,
                                       fromhex(cid.replace(":", " ")) if cid else None,
                                       valid, int(f[4]) - valid, setdefault(int(f[5]), int(f[5])),
                                       0, _BOOL[f[6]], _BOOL[f[7]],
                                       (unescape(host) if "&" in host else host) if host else "",
                                       _STATE_FAST[f[9]])
                    except (OSError, ValueError, KeyError):
                        lease = None
                    if lease is not None and valid <= 0xFFFFFFFF and lease.cltt >= -valid and \
                            (lease.hwaddr or lease.client_id or lease.state == 1 or not valid):
                        if valid:
                            leases[address] = lease
                        else:
                            pop(address, None)
                        continue
            if not line.strip():
                continue
            try:
                lease = parse(line, layout, cache)
            except (ValueError, TypeError) as err:
                errors += 1
                error = SourceError(f"bad lease row: {err}", path, lineno, 1)
                if on_error is not None:
                    on_error(error)
                if max_errors and errors > max_errors:
                    raise SourceError(f"more than {max_errors} bad rows, giving up",
                                      path, lineno, 1) from None
                continue
            if lease.valid_lft:
                leases[lease.address] = lease
            else:
                pop(lease.address, None)
    return layout


_STATE_FAST = {"0": 0, "1": 1, "2": 2}


def file_layout(path, family):
    """The Layout of an existing lease file (None when empty)."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        header = fh.readline()
    return parse_header(header, family, path) if header.strip() else None
