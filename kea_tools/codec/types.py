"""Kea's option data types as one table.

Each :class:`DataType` row says how one Kea type (``uint16``, ``ipv6-prefix``,
``fqdn``, ...) is read from and written to the wire, which Python value stands for
it, and how Kea's ``option-data`` text (csv-format true) spells it. Records and
arrays are sequences of these; :mod:`kea_tools.codec.optiondefs` composes them.

Python values: ``empty`` None; ``binary`` bytes; ``boolean`` bool; integers int;
``ipv4-address`` / ``ipv6-address`` str (dotted quad, compressed IPv6);
``ipv6-prefix`` :class:`Prefix6`; ``psid`` :class:`Psid`; ``string`` and
``tuple`` str (UTF-8, undecodable bytes kept as surrogates so that bytes round
trip); ``fqdn`` str without the final dot ("." is the root).

Readers take ``(buf, pos, end, universe)`` and return ``(value, new_pos)``;
they raise only CodecError, with the offset of the problem.
"""
import re
import socket
import struct
from dataclasses import dataclass

from kea_tools.codec.errors import CodecError

_ENC = ("utf-8", "surrogateescape")


@dataclass(slots=True, frozen=True)
class Prefix6:
    """An IPv6 prefix as the ipv6-prefix type carries it (RFC 6603 style)."""

    address: str
    length: int

    def __str__(self):
        return f"{self.address}/{self.length}"


@dataclass(slots=True, frozen=True)
class Psid:
    """A port-set identifier (RFC 7597 section 5.1): ``psid`` has ``length`` bits."""

    psid: int
    length: int

    def __str__(self):
        return f"{self.psid}/{self.length}"


@dataclass(slots=True, frozen=True)
class DataType:
    name: str
    size: int | None  # fixed wire size; None when variable
    read: object
    write: object
    to_text: object
    from_text: object
    # Variable-size types whose end is known from the wire (length byte, root
    # label): they may sit before other record fields and repeat in arrays.
    delimited: bool = True


def _need(buf, pos, end, n, what):
    if pos + n > end:
        raise CodecError(f"{what} needs {n} bytes, {end - pos} left", offset=pos)


# --- integers ---------------------------------------------------------------
_DEC = re.compile(r"[+-]?[0-9]+\Z")
_HEX = re.compile(r"[+-]?(0[xX])?[0-9a-fA-F]+\Z")


def parse_int(token, lo, hi, what="integer"):
    """Kea's integer text: decimal, else hexadecimal (``0x1f`` or bare ``ff``)."""
    if _DEC.match(token):
        value = int(token, 10)
    elif _HEX.match(token):
        value = int(token, 16)
    else:
        raise CodecError(f"unable to convert {token!r} to {what}")
    if not lo <= value <= hi:
        raise CodecError(f"{token!r} is out of range for {what} ({lo}..{hi})")
    return value


def _int_type(name, fmt):
    st = struct.Struct("!" + fmt)
    size = st.size
    bits = size * 8
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if fmt.islower() else (0, (1 << bits) - 1)

    def read(buf, pos, end, universe):
        _need(buf, pos, end, size, name)
        return st.unpack_from(buf, pos)[0], pos + size

    def write(value, universe):
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise CodecError(f"{value!r} is not a valid {name}")
        return st.pack(value)

    return DataType(name, size, read, write, str, lambda t: parse_int(t, lo, hi, name))


# --- boolean ----------------------------------------------------------------
def _bool_read(buf, pos, end, universe):
    _need(buf, pos, end, 1, "boolean")
    if buf[pos] > 1:
        raise CodecError(f"boolean value must be 0 or 1, not {buf[pos]}", offset=pos)
    return bool(buf[pos]), pos + 1


def _bool_write(value, universe):
    if not isinstance(value, bool):
        raise CodecError(f"{value!r} is not a boolean")
    return b"\x01" if value else b"\x00"


def _bool_from_text(token):
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    if _DEC.match(token) and int(token) in (0, 1):
        return bool(int(token))
    raise CodecError(f"unable to convert {token!r} to boolean (true, false, 1 or 0)")


# --- addresses --------------------------------------------------------------
def _addr_type(name, family, size):
    def read(buf, pos, end, universe):
        _need(buf, pos, end, size, name)
        return socket.inet_ntop(family, bytes(buf[pos:pos + size])), pos + size

    def write(value, universe):
        try:
            return socket.inet_pton(family, value)
        except (OSError, TypeError, ValueError):
            raise CodecError(f"{value!r} is not a valid {name}") from None

    def from_text(token):
        write(token, 0)  # validate; keep the user's spelling out of the value
        return socket.inet_ntop(family, socket.inet_pton(family, token))

    return DataType(name, size, read, write, str, from_text)


# --- ipv6-prefix --------------------------------------------------------------
def _mask_prefix(raw, length):
    nbytes = (length + 7) // 8
    kept = bytearray(raw[:nbytes]).ljust(16, b"\0")
    if length % 8:
        kept[nbytes - 1] &= (0xFF << (8 - length % 8)) & 0xFF
    return bytes(kept)


def _prefix_read(buf, pos, end, universe):
    _need(buf, pos, end, 1, "ipv6-prefix")
    length = buf[pos]
    if length > 128:
        raise CodecError(f"ipv6-prefix length {length} exceeds 128", offset=pos)
    nbytes = (length + 7) // 8
    _need(buf, pos + 1, end, nbytes, "ipv6-prefix")
    # Bits past the prefix length are ignored, as Kea does when reading.
    addr = _mask_prefix(bytes(buf[pos + 1:pos + 1 + nbytes]), length)
    return Prefix6(socket.inet_ntop(socket.AF_INET6, addr), length), pos + 1 + nbytes


def _prefix_write(value, universe):
    if not isinstance(value, Prefix6) or not 0 <= value.length <= 128:
        raise CodecError(f"{value!r} is not a valid ipv6-prefix")
    try:
        raw = socket.inet_pton(socket.AF_INET6, value.address)
    except (OSError, TypeError, ValueError):
        raise CodecError(f"{value.address!r} is not a valid IPv6 address") from None
    nbytes = (value.length + 7) // 8
    return bytes((value.length,)) + _mask_prefix(raw, value.length)[:nbytes]


def _prefix_from_text(token):
    text = token.replace(" ", "").replace("\t", "")
    addr, slash, length = text.partition("/")
    if not slash:
        raise CodecError(f"ipv6-prefix {token!r} is not in address/length form")
    try:
        raw = socket.inet_pton(socket.AF_INET6, addr)
    except OSError:
        raise CodecError(f"{addr!r} is not a valid IPv6 address") from None
    plen = parse_int(length, 0, 128, "prefix length")
    return Prefix6(socket.inet_ntop(socket.AF_INET6, _mask_prefix(raw, plen)), plen)


# --- psid ---------------------------------------------------------------------
def _psid_read(buf, pos, end, universe):
    _need(buf, pos, end, 3, "psid")
    length = buf[pos]
    raw = (buf[pos + 1] << 8) | buf[pos + 2]
    if length > 16:
        raise CodecError(f"psid length {length} exceeds 16", offset=pos)
    if raw & (0xFFFF >> length):
        raise CodecError("psid has bits set past its length", offset=pos + 1)
    return Psid(raw >> (16 - length) if length else 0, length), pos + 3


def _psid_write(value, universe):
    if (not isinstance(value, Psid) or not 0 <= value.length <= 16
            or not 0 <= value.psid < (1 << value.length) and value.length):
        raise CodecError(f"{value!r} is not a valid psid")
    # Length 0 means no PSID: Kea writes zero bits whatever the value.
    raw = (value.psid << (16 - value.length)) & 0xFFFF if value.length else 0
    return bytes((value.length, raw >> 8, raw & 0xFF))


def _psid_from_text(token):
    text = token.replace(" ", "").replace("\t", "")
    psid, slash, length = text.partition("/")
    if not slash:
        raise CodecError(f"psid {token!r} is not in PSID/length form")
    plen = parse_int(length, 0, 16, "psid length")
    value = parse_int(psid, 0, 0xFFFF, "psid")
    if plen and value >= (1 << plen):
        raise CodecError(f"psid {value} does not fit in {plen} bits")
    return Psid(value if plen else 0, plen)


# --- strings, tuples, binary --------------------------------------------------
def _string_read(buf, pos, end, universe):
    # Kea removes trailing NULs from received strings.
    stop = end
    while stop > pos and buf[stop - 1] == 0:
        stop -= 1
    return bytes(buf[pos:stop]).decode(*_ENC), end


def _string_write(value, universe):
    if not isinstance(value, str):
        raise CodecError(f"{value!r} is not a string")
    return value.encode(*_ENC)


def _tuple_read(buf, pos, end, universe):
    width = 1 if universe == 4 else 2
    _need(buf, pos, end, width, "tuple length")
    n = buf[pos] if width == 1 else (buf[pos] << 8) | buf[pos + 1]
    _need(buf, pos + width, end, n, "tuple")
    return bytes(buf[pos + width:pos + width + n]).decode(*_ENC), pos + width + n


def _tuple_write(value, universe):
    data = _string_write(value, universe)
    width = 1 if universe == 4 else 2
    if len(data) >= 1 << (8 * width):
        raise CodecError(f"tuple of {len(data)} bytes does not fit a {width}-byte length")
    return len(data).to_bytes(width, "big") + data


def _binary_read(buf, pos, end, universe):
    return bytes(buf[pos:end]), end


def _binary_write(value, universe):
    if not isinstance(value, (bytes, bytearray)):
        raise CodecError(f"{value!r} is not bytes")
    return bytes(value)


def _binary_from_text(token):
    # Kea's decodeHex: whitespace ignored, an even number of digits, no 0x prefix.
    text = "".join(token.split())
    if len(text) % 2:
        raise CodecError(f"binary value {token!r} has an odd number of hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise CodecError(f"binary value {token!r} is not hexadecimal") from None


def _empty_read(buf, pos, end, universe):
    return None, pos


def _empty_write(value, universe):
    if value is not None:
        raise CodecError("an empty option carries no value")
    return b""


def _empty_from_text(token):
    raise CodecError("an option of type empty takes no data")


# --- fqdn ---------------------------------------------------------------------
_NAME_SPECIALS = frozenset(b'.;\\"()@$')


def label_text(label):
    """One DNS label as Kea's Name::toText writes it (\\. and \\DDD escapes)."""
    out = []
    for b in label:
        if b in _NAME_SPECIALS:
            out.append("\\" + chr(b))
        elif 0x21 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03d}")
    return "".join(out)


def read_labels(buf, pos, end, allow_partial=False):
    """Read an uncompressed wire name; returns (labels, new_pos, complete)."""
    labels, total = [], 1
    while True:
        if pos >= end:
            if allow_partial:
                return labels, pos, False
            raise CodecError("domain name has no root label", offset=pos)
        n = buf[pos]
        if n == 0:
            return labels, pos + 1, True
        if n > 63:
            raise CodecError(f"label length {n} (compression is not allowed in options)",
                             offset=pos)
        _need(buf, pos + 1, end, n, "label")
        total += n + 1
        if total > 255:
            raise CodecError("domain name longer than 255 bytes", offset=pos)
        labels.append(bytes(buf[pos + 1:pos + 1 + n]))
        pos += 1 + n


def labels_text(labels):
    return ".".join(label_text(label) for label in labels) if labels else "."


def text_labels(text):
    """Parse a domain name in text form (escapes \\X and \\DDD) into labels."""
    if not text:
        raise CodecError("empty domain name")
    if text == ".":
        return []
    labels, cur, i = [], bytearray(), 0
    raw = text.encode(*_ENC)
    while i < len(raw):
        c = raw[i]
        if c == 0x5C:  # backslash
            if raw[i + 1:i + 4].isdigit() and len(raw[i + 1:i + 4]) == 3:
                val = int(raw[i + 1:i + 4])
                if val > 255:
                    raise CodecError(f"bad escape in domain name {text!r}")
                cur.append(val)
                i += 4
                continue
            if i + 1 >= len(raw):
                raise CodecError(f"domain name {text!r} ends in a backslash")
            cur.append(raw[i + 1])
            i += 2
            continue
        if c == 0x2E:  # dot
            if not cur:
                raise CodecError(f"empty label in domain name {text!r}")
            labels.append(bytes(cur))
            cur = bytearray()
            i += 1
            continue
        cur.append(c)
        i += 1
    if cur:
        labels.append(bytes(cur))
    for label in labels:
        if len(label) > 63:
            raise CodecError(f"label longer than 63 bytes in domain name {text!r}")
    if sum(len(label) + 1 for label in labels) + 1 > 255:
        raise CodecError(f"domain name {text!r} is longer than 255 bytes")
    return labels


def labels_wire(labels, complete=True):
    out = bytearray()
    for label in labels:
        out.append(len(label))
        out += label
    if complete:
        out.append(0)
    return bytes(out)


def _fqdn_read(buf, pos, end, universe):
    labels, pos, _ = read_labels(buf, pos, end)
    return labels_text(labels), pos


def _fqdn_write(value, universe):
    if not isinstance(value, str):
        raise CodecError(f"{value!r} is not a domain name")
    return labels_wire(text_labels(value))


def _fqdn_from_text(token):
    return labels_text(text_labels(token))


_TYPES = None


def data_types():
    """The type table, name -> DataType (built on first use)."""
    global _TYPES
    if _TYPES is None:
        rows = [
            DataType("empty", 0, _empty_read, _empty_write, lambda v: "", _empty_from_text),
            DataType("binary", None, _binary_read, _binary_write, lambda v: v.hex(),
                     _binary_from_text, delimited=False),
            DataType("boolean", 1, _bool_read, _bool_write,
                     lambda v: "true" if v else "false", _bool_from_text),
            _int_type("int8", "b"), _int_type("int16", "h"), _int_type("int32", "i"),
            _int_type("uint8", "B"), _int_type("uint16", "H"), _int_type("uint32", "I"),
            _addr_type("ipv4-address", socket.AF_INET, 4),
            _addr_type("ipv6-address", socket.AF_INET6, 16),
            DataType("ipv6-prefix", None, _prefix_read, _prefix_write, str, _prefix_from_text),
            DataType("psid", 3, _psid_read, _psid_write, str, _psid_from_text),
            DataType("string", None, _string_read, _string_write, str, lambda t: t,
                     delimited=False),
            DataType("fqdn", None, _fqdn_read, _fqdn_write, str, _fqdn_from_text),
            DataType("tuple", None, _tuple_read, _tuple_write, str, lambda t: t),
        ]
        _TYPES = {row.name: row for row in rows}
    return _TYPES


def escape_token(text):
    """Escape a field for Kea's csv tokenizer: backslash and comma."""
    if "\\" in text or "," in text:
        return text.replace("\\", "\\\\").replace(",", "\\,")
    return text


def split_csv(data):
    """Kea's csv tokenizer (isc::util::str::tokens with escapes, then trim).

    ``\\,`` is a literal comma, ``\\\\`` a backslash; any other backslash stays;
    empty tokens are dropped, the others trimmed of blanks.
    """
    tokens, cur, in_token, escaped = [], [], False, False
    for c in data:
        if c == ",":
            if not in_token:
                continue
            if escaped:
                escaped = False
                cur.append(c)
                continue
            if cur:
                tokens.append("".join(cur))
            in_token, cur = False, []
        elif c == "\\":
            in_token = True
            if escaped:
                escaped = False
                cur.append(c)
            else:
                escaped = True
        else:
            in_token = True
            if escaped:
                escaped = False
                cur.append("\\")
            cur.append(c)
    if escaped:
        cur.append("\\")
    if cur:
        tokens.append("".join(cur))
    # Kea trims each token when it converts it, after dropping empty ones, so a
    # token of blanks survives as "" (and fails for most types).
    return [t.strip(" \b\f\n\r\t") for t in tokens]
