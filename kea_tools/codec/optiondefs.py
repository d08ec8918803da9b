"""Option definitions: Kea's standard table plus ``option-def`` custom definitions,
and the typed and textual forms of option payloads.

Stable API (the config loader and the server rely on these names):

``OptionDefs.standard(universe=None, kea_2_2_only=False)``
    The standard definitions (codec/data/std-options.json, loaded once, on first
    use). ``universe`` 4 or 6 restricts the view to one family; None holds both
    and infers the family from the space ("dhcp4"/"dhcp6", or the only family that
    has the space; ``vendor-4491`` exists in both, so pass ``universe=``).
``defs.with_custom(option_defs, universe=None)``
    A new registry with Kea ``option-def`` entries (dicts as in the config, or
    OptionDef values) layered on top; the standard registry is never changed.
    Raises :class:`DefinitionError` (a CodecError) for definitions Kea rejects;
    custom spaces need ``universe`` unless the registry is one family's view.
``defs.get(space, code)``, ``defs.by_name(space, name)``, ``defs.lookup(space,
    code=None, name=None)``, ``defs.space(space)``: definitions (or None).
``encode_option_data(defs, space, data, *, code=None, name=None, csv_format=True,
    universe=None) -> bytes``
    The payload Kea 2.2 sends for an ``option-data`` entry (without the option's
    own code/length header). csv-format true: ``data`` is Kea's comma-separated
    text, one token per field (``\\,`` is a literal comma, ``\\\\`` a backslash,
    tokens trimmed, a non-array scalar uses only its first token, a record takes
    one token per field and, for arrays, repeats its last field). csv-format
    false: hex as Kea reads it ("0a:0b", "0a 0b", "0a0b", "0x0a0b"; odd digit
    counts get a leading 0) or a single-quoted string ``'text'`` taken as bytes;
    the bytes are then checked against the definition, as Kea does when it
    builds the option. Encapsulating options encode their fixed fields only;
    their sub-options are separate option-data entries in the encapsulated
    space (assemble them with :func:`encapsulate`). Errors: CodecError.
``OptionDef.decode(data)``, ``.encode(value)``, ``.to_text(data)``,
    ``.value_to_text(value)``, ``.from_text(text)``: typed payloads (Python values
    as in :mod:`kea_tools.codec.types`, records as lists whose last element is a
    list when the record is an array) and Kea's csv text form.
``suboptions(defs, defn, data) -> (space, OptionList) | None``: the encapsulated
    options after the fixed fields (IA_NA/IA_TA/IA_PD/IAADDR/IAPREFIX carry
    dhcp6 options; v4 125 and v6 17 carry ``vendor-<enterprise>`` options).

Decisions worth knowing:

* Definitions Kea added after 2.2 (``in_kea_2_2`` false: 121 classless-static-
  route, 82 sub-options, 151-157, 143/136 sztp, 122/56 sub-spaces, ...) are
  offered by default, because naming them is harmless: decoding gains names,
  and no valid 2.2 config can use those names unless it defines them itself. A
  2.2 config that does define one of those codes or names with ``option-def``
  keeps working: custom definitions shadow post-2.2 standard ones, while
  redefining a standard option 2.2 already had is refused as Kea refuses it
  (except dhcp4 43, whose definition is only a last resort). Pass
  ``kea_2_2_only=True`` for exactly Kea 2.2's table.
* v4 81 and v6 39 (client FQDN) decode to :class:`ClientFqdn` (wire or ASCII
  domain per the E flag, partial names kept); 121 to a list of :class:`Route`;
  v4 125 to a list of :class:`VendorBlock` (one per enterprise), v6 17 to one.
  v4 162 / v6 144 (DNR, Kea 2.4+ "internal" types) decode as binary and are
  accepted only with csv-format false.
"""
import functools
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.types import (
    _ENC, data_types, escape_token, labels_text, labels_wire, parse_int, read_labels, split_csv,
    text_labels,
)

DATA_FILE = Path(__file__).resolve().parent / "data" / "std-options.json"

FIELD_TYPES = frozenset(("binary", "boolean", "int8", "int16", "int32", "uint8", "uint16",
                         "uint32", "ipv4-address", "ipv6-address", "ipv6-prefix", "psid",
                         "string", "fqdn", "tuple"))
DEF_TYPES = FIELD_TYPES | {"empty", "record", "internal"}

# Options whose sub-options Kea unpacks with a dedicated class although the
# definition table names no encapsulated space.
IMPLICIT_SPACES = {
    (6, "dhcp6", 3): "dhcp6",   # IA_NA (RFC 8415 section 21.4)
    (6, "dhcp6", 4): "dhcp6",   # IA_TA (21.5)
    (6, "dhcp6", 5): "dhcp6",   # IAADDR (21.6)
    (6, "dhcp6", 25): "dhcp6",  # IA_PD (21.21)
    (6, "dhcp6", 26): "dhcp6",  # IAPREFIX (21.22)
}

NAME_RE = re.compile(r"[A-Za-z0-9_-]+\Z")


class DefinitionError(CodecError):
    """An ``option-def`` entry Kea would reject."""


def _universe_of_space(space):
    return {"dhcp4": 4, "dhcp6": 6}.get(space)


@dataclass(slots=True, frozen=True)
class ClientFqdn:
    """Client FQDN option: v4 81 (RFC 4702 section 2) / v6 39 (RFC 4704 section 4).

    ``complete`` is False for a partial name (no root label); rcode1/rcode2
    exist only in v4.
    """

    flags: int
    name: str
    complete: bool = True
    rcode1: int = 0
    rcode2: int = 0


@dataclass(slots=True, frozen=True)
class Route:
    """One classless static route (RFC 3442): destination/length via router."""

    destination: str
    length: int
    router: str

    def __str__(self):
        return f"{self.destination}/{self.length} - {self.router}"


@dataclass(slots=True)
class VendorBlock:
    """One enterprise's part of v4 125 (RFC 3925 section 4) or v6 17 (RFC 8415
    section 21.17): sub-options in space ``vendor-<enterprise>``."""

    enterprise: int
    options: OptionList = field(default_factory=OptionList)


@dataclass(slots=True, frozen=True)
class OptionDef:
    """One option definition, standard or from Kea's ``option-def``."""

    space: str
    code: int
    name: str
    type: str
    array: bool = False
    record_types: tuple = ()
    encapsulate: str = ""
    universe: int = 4
    in_kea_2_2: bool = True
    standard: bool = False

    @property
    def fields(self):
        return self.record_types if self.type == "record" else (self.type,)

    @property
    def suboption_space(self):
        """Where this option's sub-options live ('' if it has none)."""
        if self.standard:
            key = (self.universe, self.space, self.code)
            if key in IMPLICIT_SPACES:
                return IMPLICIT_SPACES[key]
            if key in _VENDOR_KEYS:
                return "vendor"
        return self.encapsulate

    @property
    def special(self):
        return _SPECIAL.get((self.universe, self.space, self.code)) if self.standard else None

    # --- typed payloads ---------------------------------------------------------
    def decode(self, data):
        """The Python value of ``data`` (fixed fields only for encapsulating options)."""
        try:
            special = self.special
            if special is not None:
                return special[0](data, self.universe)
            value, end = _read_fields(self, data, 0, len(data))
            if end != len(data) and not self.suboption_space:
                raise CodecError(f"{len(data) - end} bytes left after the {self.type} value",
                                 offset=end)
            if value == "" and self.type == "string":
                # Kea skips a string option that is empty or only NULs.
                raise CodecError("string option is empty", offset=0)
            return value
        except CodecError as err:
            raise CodecError(f"{self.name}: {err.message}", self.code, err.offset) from None

    def fields_end(self, data):
        """Offset where the fixed fields end (where sub-options start)."""
        try:
            return _read_fields(self, data, 0, len(data))[1]
        except CodecError as err:
            raise CodecError(f"{self.name}: {err.message}", self.code, err.offset) from None

    def encode(self, value):
        try:
            special = self.special
            if special is not None:
                return special[1](value, self.universe)
            return _write_fields(self, value)
        except CodecError as err:
            raise CodecError(f"{self.name}: {err.message}", self.code) from None

    def value_to_text(self, value):
        special = self.special
        if special is not None:
            return special[2](value)
        return ", ".join(escape_token(t) for t in _field_texts(self, value))

    def to_text(self, data):
        """Kea's csv text for a payload (what option-data "data" would hold)."""
        return self.value_to_text(self.decode(data))

    def from_text(self, text):
        """Kea's csv-format true: text -> payload bytes."""
        tokens = split_csv(text)
        try:
            special = self.special
            if special is not None:
                return special[3](tokens, self.universe)
            return _write_fields(self, _tokens_value(self, tokens))
        except CodecError as err:
            raise CodecError(f"{self.name}: {err.message}", self.code) from None


# --- generic records and arrays ----------------------------------------------------
def _read_fields(defn, buf, pos, end):
    types = data_types()
    universe = defn.universe
    if defn.type == "empty":
        return None, pos
    if defn.type == "internal":  # no generic layout: the bytes are the value
        return bytes(buf[pos:end]), end
    fields = defn.fields
    values = []
    last = len(fields) - 1
    for i, name in enumerate(fields):
        dtype = types[name]
        if i == last and defn.array:
            items = []
            while pos < end:
                item, pos = dtype.read(buf, pos, end, universe)
                items.append(item)
            if defn.type == "record" and not items:
                raise CodecError(f"record needs at least one {name}", offset=pos)
            values.append(items)
        else:
            value, pos = dtype.read(buf, pos, end, universe)
            values.append(value)
    if defn.type == "record":
        return values, pos
    return values[0], pos


def _write_fields(defn, value):
    types = data_types()
    universe = defn.universe
    if defn.type == "empty":
        return types["empty"].write(value, universe)
    if defn.type == "internal":
        return types["binary"].write(value, universe)
    fields = defn.fields
    values = value if defn.type == "record" else [value]
    if not isinstance(values, (list, tuple)) or len(values) != len(fields):
        raise CodecError(f"expected {len(fields)} record fields, got {value!r}")
    out = bytearray()
    last = len(fields) - 1
    for i, name in enumerate(fields):
        dtype = types[name]
        if i == last and defn.array:
            if not isinstance(values[i], (list, tuple)):
                raise CodecError(f"array value must be a list, not {values[i]!r}")
            for item in values[i]:
                out += dtype.write(item, universe)
        else:
            out += dtype.write(values[i], universe)
    return bytes(out)


def _field_texts(defn, value):
    types = data_types()
    if defn.type == "empty":
        return []
    if defn.type == "internal":
        return [value.hex()]
    fields = defn.fields
    values = value if defn.type == "record" else [value]
    out = []
    last = len(fields) - 1
    for i, name in enumerate(fields):
        to_text = types[name].to_text
        if i == last and defn.array:
            out.extend(to_text(item) for item in values[i])
        else:
            out.append(to_text(values[i]))
    return out


def _tokens_value(defn, tokens):
    types = data_types()
    if defn.type == "empty":
        if tokens:
            raise CodecError("an option of type empty takes no data")
        return None
    if defn.type == "internal":
        raise CodecError("this option's text form is not supported; use csv-format false")
    fields = defn.fields
    if defn.type != "record":
        dtype = types[defn.type]
        if defn.array:
            return [dtype.from_text(t) for t in tokens]
        if not tokens:
            raise CodecError("no option value specified")
        return dtype.from_text(tokens[0])  # Kea ignores any further tokens
    if len(tokens) < len(fields):
        raise CodecError(f"record needs {len(fields)} fields, got {len(tokens)}")
    values = [types[name].from_text(tok) for name, tok in zip(fields, tokens)]
    if defn.array:
        last = types[fields[-1]]
        values[-1] = [values[-1]] + [last.from_text(t) for t in tokens[len(fields):]]
    return values


# --- the odd options -----------------------------------------------------------------
_FLAG_E = 0x04


def _fqdn_decode(data, universe):
    head = 3 if universe == 4 else 1
    if len(data) < head:
        raise CodecError(f"client FQDN needs {head} bytes before the name", offset=0)
    flags = data[0]
    rcodes = (data[1], data[2]) if universe == 4 else (0, 0)
    if universe == 4 and not flags & _FLAG_E:
        # Deprecated ASCII encoding (RFC 4702 section 2.3.1).
        text = bytes(data[3:]).rstrip(b"\0").decode(*_ENC)
        complete = text.endswith(".")
        return ClientFqdn(flags, text.rstrip(".") if text != "." else ".", complete, *rcodes)
    labels, end, complete = read_labels(data, head, len(data), allow_partial=True)
    if end != len(data):
        raise CodecError("bytes after the domain name's root label", offset=end)
    name = labels_text(labels) if labels or complete else ""
    return ClientFqdn(flags, name, complete, *rcodes)


def _fqdn_encode(value, universe):
    if not isinstance(value, ClientFqdn) or not 0 <= value.flags <= 255:
        raise CodecError(f"{value!r} is not a ClientFqdn")
    head = bytes((value.flags, value.rcode1 & 0xFF, value.rcode2 & 0xFF)) if universe == 4 \
        else bytes((value.flags,))
    if universe == 4 and not value.flags & _FLAG_E:
        name = "" if value.name == "." else value.name
        return head + (name + ("." if value.complete and name else "")).encode(*_ENC)
    labels = [] if value.name in ("", ".") else text_labels(value.name)
    return head + labels_wire(labels, value.complete)


def _fqdn4_text(value):
    return f"{value.flags}, {value.rcode1}, {value.rcode2}, {escape_token(value.name)}"


def _fqdn6_text(value):
    return f"{value.flags}, {escape_token(value.name)}"


def _fqdn_from_tokens(tokens, universe):
    # Kea builds the option from the record (uint8 x3 | uint8, fqdn): the name
    # goes out in wire form whatever the flags say.
    types = data_types()
    head = 3 if universe == 4 else 1
    if len(tokens) < head + 1:
        raise CodecError(f"record needs {head + 1} fields, got {len(tokens)}")
    ints = bytes(types["uint8"].from_text(t) for t in tokens[:head])
    return ints + labels_wire(text_labels(types["fqdn"].from_text(tokens[head])))


def _routes_decode(data, universe):
    if not data:
        raise CodecError("classless static route option is empty", offset=0)
    routes, pos, end = [], 0, len(data)
    while pos < end:
        width = data[pos]
        if width > 32:
            raise CodecError(f"route prefix length {width} exceeds 32", offset=pos)
        n = (width + 7) // 8
        if pos + 1 + n + 4 > end:
            raise CodecError("route truncated", offset=pos)
        dest = _mask4(bytes(data[pos + 1:pos + 1 + n]), width)
        router = bytes(data[pos + 1 + n:pos + 5 + n])
        routes.append(Route(_ntoa(dest), width, _ntoa(router)))
        pos += 5 + n
    return routes


def _mask4(raw, width):
    value = int.from_bytes(raw.ljust(4, b"\0"), "big")
    mask = (0xFFFFFFFF << (32 - width)) & 0xFFFFFFFF
    return (value & mask).to_bytes(4, "big")


def _ntoa(raw):
    return ".".join(str(b) for b in raw)


def _routes_encode(routes, universe):
    addr = data_types()["ipv4-address"]
    out = bytearray()
    if not isinstance(routes, (list, tuple)) or not routes:
        raise CodecError("classless static route needs at least one route")
    for route in routes:
        if not isinstance(route, Route) or not 0 <= route.length <= 32:
            raise CodecError(f"{route!r} is not a valid route")
        dest = _mask4(addr.write(route.destination, 4), route.length)
        out.append(route.length)
        out += dest[:(route.length + 7) // 8]
        out += addr.write(route.router, 4)
    return bytes(out)


def _routes_text(routes):
    return ", ".join(str(r) for r in routes)


def _routes_from_tokens(tokens, universe):
    # Kea 2.4+ syntax: "10.0.0.0/8 - 10.1.1.1, 0.0.0.0/0 - 10.0.0.1".
    addr = data_types()["ipv4-address"]
    routes = []
    for token in tokens:
        prefix, dash, router = token.partition("-")
        dest, slash, length = prefix.strip().partition("/")
        if not dash or not slash:
            raise CodecError(f"route {token!r} is not in 'prefix/len - router' form")
        routes.append(Route(addr.from_text(dest.strip()), parse_int(length.strip(), 0, 32,
                            "prefix length"), addr.from_text(router.strip())))
    return _routes_encode(routes, universe)


def _vendor4_decode(data, universe):
    blocks, pos, end = [], 0, len(data)
    if not data:
        raise CodecError("vendor-specific option is empty", offset=0)
    while pos < end:
        if pos + 5 > end:
            raise CodecError("enterprise number and data-len truncated", offset=pos)
        ent = struct.unpack_from("!I", data, pos)[0]
        dlen = data[pos + 4]
        if pos + 5 + dlen > end:
            raise CodecError(f"vendor data-len {dlen} runs past the option", offset=pos + 4)
        opts = parse_suboptions(data, pos + 5, pos + 5 + dlen, 4, pad_end=False)
        blocks.append(VendorBlock(ent, opts))
        pos += 5 + dlen
    return blocks


def _vendor4_encode(blocks, universe):
    if isinstance(blocks, VendorBlock):
        blocks = [blocks]
    out = bytearray()
    for block in blocks:
        sub = build_suboptions(block.options, 4)
        if len(sub) > 255:
            raise CodecError(f"enterprise {block.enterprise} sub-options exceed 255 bytes")
        out += _u32(block.enterprise) + bytes((len(sub),)) + sub
    return bytes(out)


def _vendor6_decode(data, universe):
    if len(data) < 4:
        raise CodecError("enterprise number truncated", offset=0)
    return VendorBlock(struct.unpack_from("!I", data)[0], parse_suboptions(data, 4, len(data), 6))


def _vendor6_encode(block, universe):
    if not isinstance(block, VendorBlock):
        raise CodecError(f"{block!r} is not a VendorBlock")
    return _u32(block.enterprise) + build_suboptions(block.options, 6)


def _u32(value):
    if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise CodecError(f"enterprise number {value!r} is not a uint32")
    return struct.pack("!I", value)


def _vendor_text(value):
    blocks = value if isinstance(value, list) else [value]
    return str(blocks[0].enterprise) if blocks else ""


def _vendor_from_tokens(tokens, universe):
    # The enterprise number alone; v4 adds data-len 0 as Kea's OptionVendor does.
    if not tokens:
        raise CodecError("no option value specified")
    ent = data_types()["uint32"].from_text(tokens[0])
    return _u32(ent) + (b"\0" if universe == 4 else b"")


def _dnr_from_tokens(tokens, universe):
    raise CodecError("DNR options are accepted only with csv-format false")


def _binary_decode(data, universe):
    return bytes(data)


def _binary_encode(value, universe):
    return data_types()["binary"].write(value, universe)


# The hand-written options: (universe, space, code) ->
# (decode(data, universe), encode(value, universe), value_to_text(value),
#  csv tokens -> payload bytes)
_SPECIAL = {
    (4, "dhcp4", 81): (_fqdn_decode, _fqdn_encode, _fqdn4_text, _fqdn_from_tokens),
    (6, "dhcp6", 39): (_fqdn_decode, _fqdn_encode, _fqdn6_text, _fqdn_from_tokens),
    (4, "dhcp4", 121): (_routes_decode, _routes_encode, _routes_text, _routes_from_tokens),
    (4, "dhcp4", 125): (_vendor4_decode, _vendor4_encode, _vendor_text, _vendor_from_tokens),
    (6, "dhcp6", 17): (_vendor6_decode, _vendor6_encode, _vendor_text, _vendor_from_tokens),
    (4, "dhcp4", 162): (_binary_decode, _binary_encode, bytes.hex, _dnr_from_tokens),
    (6, "dhcp6", 144): (_binary_decode, _binary_encode, bytes.hex, _dnr_from_tokens),
}
_VENDOR_KEYS = frozenset(((4, "dhcp4", 125), (6, "dhcp6", 17)))


# --- sub-options ----------------------------------------------------------------------
def parse_suboptions(buf, start, end, universe, pad_end=True):
    """Options encapsulated in another option's payload, in wire order.

    v4 sub-options are 1-byte code and length; with ``pad_end`` codes 0 and 255
    are PAD and END (RFC 2132 section 2), as in option 82 and 43. v6 options are
    2-byte code and length (RFC 8415 section 21.1).
    """
    opts = OptionList()
    i = start
    if universe == 6:
        while i < end:
            if i + 4 > end:
                raise CodecError("sub-option header truncated", offset=i)
            code = (buf[i] << 8) | buf[i + 1]
            length = (buf[i + 2] << 8) | buf[i + 3]
            if i + 4 + length > end:
                raise CodecError(f"sub-option {code} length {length} runs past its option",
                                 offset=i)
            opts.append(Option(code, bytes(buf[i + 4:i + 4 + length])))
            i += 4 + length
        return opts
    while i < end:
        code = buf[i]
        if pad_end and code == 0:
            i += 1
            continue
        if pad_end and code == 255:
            break
        if i + 2 > end:
            raise CodecError(f"sub-option {code} truncated before its length", offset=i)
        length = buf[i + 1]
        if i + 2 + length > end:
            raise CodecError(f"sub-option {code} length {length} runs past its option",
                             offset=i)
        opts.append(Option(code, bytes(buf[i + 2:i + 2 + length])))
        i += 2 + length
    return opts


def build_suboptions(options, universe):
    out = bytearray()
    for opt in options:
        if universe == 6:
            if not 0 <= opt.code <= 0xFFFF or len(opt.data) > 0xFFFF:
                raise CodecError("sub-option code or length out of range", opt.code)
            out += struct.pack("!HH", opt.code, len(opt.data))
        else:
            if not 0 <= opt.code <= 255 or len(opt.data) > 255:
                raise CodecError("sub-option code or length out of range", opt.code)
            out += bytes((opt.code, len(opt.data)))
        out += opt.data
    return bytes(out)


def suboptions(defs, defn, data):
    """(space, OptionList) of the options ``data`` encapsulates, or None.

    v4 125 may hold several enterprises: use ``defn.decode`` for the blocks;
    this returns the first block's options.
    """
    space = defn.suboption_space
    if not space:
        return None
    try:
        if space == "vendor":
            value = defn.decode(data)
            block = value[0] if isinstance(value, list) else value
            return f"vendor-{block.enterprise}", block.options
        start = defn.fields_end(data)
        pad_end = True
        if defn.universe == 4 and defs is not None:
            pad_end = defs.get(space, 0, defn.universe) is None and \
                defs.get(space, 255, defn.universe) is None
        return space, parse_suboptions(data, start, len(data), defn.universe, pad_end)
    except CodecError as err:
        raise CodecError(err.message if err.message.startswith(defn.name)
                         else f"{defn.name}: {err.message}", defn.code, err.offset) from None


def encapsulate(defn, fields, options):
    """Payload of an encapsulating option: its fixed fields then ``options``.

    For v4 125 / v6 17 ``fields`` is the enterprise number's encoding and the
    v4 data-len byte is recomputed.
    """
    space = defn.suboption_space
    if space == "vendor":
        ent = struct.unpack_from("!I", fields)[0]
        return defn.encode(VendorBlock(ent, OptionList(options))
                           if defn.universe == 6 else [VendorBlock(ent, OptionList(options))])
    return bytes(fields) + build_suboptions(options, defn.universe)


# --- the registry --------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _standard_rows():
    with open(DATA_FILE, encoding="utf-8") as fh:
        table = json.load(fh)
    return tuple(OptionDef(
        space=row["space"], code=row["code"], name=row["name"], type=row["type"],
        array=row["array"], record_types=tuple(row.get("record_types", ())),
        encapsulate=row["encapsulate"], universe=row["universe"],
        in_kea_2_2=row["in_kea_2_2"], standard=True) for row in table["options"])


class _Space:
    __slots__ = ("by_code", "by_name")

    def __init__(self, by_code=None, by_name=None):
        self.by_code = dict(by_code or {})
        self.by_name = dict(by_name or {})


class OptionDefs:
    """Option definitions by (space, code) and (space, name), per universe."""

    __slots__ = ("_spaces", "universe")

    def __init__(self, spaces, universe=None):
        self._spaces = spaces      # (universe, space) -> _Space
        self.universe = universe

    @classmethod
    def standard(cls, universe=None, kea_2_2_only=False):
        return _standard_registry(universe, kea_2_2_only)

    # --- lookups --------------------------------------------------------------------
    def _universe(self, space, universe):
        if universe is not None:
            return universe
        if self.universe is not None:
            return self.universe
        fixed = _universe_of_space(space)
        if fixed is not None:
            return fixed
        present = [u for u in (4, 6) if (u, space) in self._spaces]
        if len(present) == 2:
            raise CodecError(f"option space {space!r} exists for DHCPv4 and DHCPv6; "
                             "say which universe")
        return present[0] if present else 4

    def get(self, space, code, universe=None):
        entry = self._spaces.get((self._universe(space, universe), space))
        return None if entry is None else entry.by_code.get(code)

    def by_name(self, space, name, universe=None):
        entry = self._spaces.get((self._universe(space, universe), space))
        return None if entry is None else entry.by_name.get(name)

    def lookup(self, space, code=None, name=None, universe=None):
        """The definition named by code and/or name; CodecError if they disagree."""
        by_code = None if code is None else self.get(space, code, universe)
        by_name = None if name is None else self.by_name(space, name, universe)
        if code is not None and name is not None and by_name is not None \
                and by_name.code != code:
            raise CodecError(f"option {name!r} has code {by_name.code}, not {code}", code)
        if name is not None and by_name is None:
            raise CodecError(f"no option named {name!r} in space {space!r}", code)
        return by_name or by_code

    def space(self, space, universe=None):
        entry = self._spaces.get((self._universe(space, universe), space))
        return [] if entry is None else sorted(entry.by_code.values(), key=lambda d: d.code)

    def spaces(self):
        return sorted(self._spaces)

    def __iter__(self):
        for entry in self._spaces.values():
            yield from entry.by_code.values()

    # --- layering -------------------------------------------------------------------
    def with_custom(self, option_defs, universe=None):
        """A registry with Kea ``option-def`` entries on top of this one."""
        spaces = dict(self._spaces)
        copied = set()
        custom_keys = set()
        for raw in option_defs:
            defn = raw if isinstance(raw, OptionDef) else \
                custom_def(raw, universe or self.universe)
            key = (defn.universe, defn.space)
            if key not in copied:
                old = spaces.get(key)
                spaces[key] = _Space(old.by_code if old else None,
                                     old.by_name if old else None)
                copied.add(key)
            entry = spaces[key]
            for what, table, ident in (("code", entry.by_code, defn.code),
                                       ("name", entry.by_name, defn.name)):
                old = table.get(ident)
                if old is None:
                    continue
                if (key, what, ident) in custom_keys:
                    raise DefinitionError(f"option definition with {what} {ident!r} already "
                                          f"exists in option space {defn.space!r}", defn.code)
                if old.standard and old.in_kea_2_2 and not (defn.space == "dhcp4"
                                                            and old.code == 43):
                    raise DefinitionError(f"option {old.name} ({old.code}) is a standard "
                                          f"option of space {defn.space!r} and can't be "
                                          "redefined", defn.code)
            # Shadow whatever the new definition displaces, by code and by name.
            for old in (entry.by_code.get(defn.code), entry.by_name.get(defn.name)):
                if old is not None:
                    entry.by_code.pop(old.code, None)
                    entry.by_name.pop(old.name, None)
            entry.by_code[defn.code] = defn
            entry.by_name[defn.name] = defn
            custom_keys.add((key, "code", defn.code))
            custom_keys.add((key, "name", defn.name))
        return OptionDefs(spaces, self.universe)


@functools.lru_cache(maxsize=None)
def _standard_registry(universe, kea_2_2_only):
    spaces = {}
    for defn in _standard_rows():
        if universe is not None and defn.universe != universe:
            continue
        if kea_2_2_only and not defn.in_kea_2_2:
            continue
        entry = spaces.setdefault((defn.universe, defn.space), _Space())
        entry.by_code[defn.code] = defn
        entry.by_name[defn.name] = defn
    return OptionDefs(spaces, universe)


def code_range(space, universe):
    """Codes allowed in a space: dhcp4 keeps 0 and 255 for PAD and END; other v4
    spaces (43's vendor space, for one) may define them as real codes."""
    if space in ("dhcp4", "dhcp6"):
        return 1, 254 if universe == 4 else 65535
    return 0, 255 if universe == 4 else 65535


def _check_name(what, name, digits_only_ok=False):
    """Kea's name rule: letters, digits, '-' and '_', not starting or ending with
    '-' or '_'; option names may not be digits alone, space names may (vendor
    spaces are often named by enterprise number, e.g. "339")."""
    if not isinstance(name, str) or not NAME_RE.match(name) \
            or (name.isdigit() and not digits_only_ok) \
            or name[0] in "-_" or name[-1] in "-_":
        raise DefinitionError(f"invalid {what} {name!r}")


def custom_def(entry, universe=None):
    """Validate one Kea ``option-def`` map (as in the config) into an OptionDef."""
    if not isinstance(entry, dict):
        raise DefinitionError("option-def entries are maps")
    unknown = set(entry) - {"name", "code", "type", "array", "record-types", "space",
                            "encapsulate", "comment", "user-context"}
    if unknown:
        raise DefinitionError(f"unknown option-def parameter {sorted(unknown)[0]!r}")
    for key in ("name", "code", "type"):
        if key not in entry:
            raise DefinitionError(f"option-def needs {key!r}")
    space = entry.get("space", {6: "dhcp6"}.get(universe, "dhcp4"))
    _check_name("option space name", space, digits_only_ok=True)
    universe = universe or _universe_of_space(space)
    if universe is None:
        raise DefinitionError(f"say whether option space {space!r} is for DHCPv4 or DHCPv6")
    if (space, universe) in (("dhcp4", 6), ("dhcp6", 4)):
        raise DefinitionError(f"option space {space!r} is reserved for DHCPv{10 - universe}")
    name, code, dtype = entry["name"], entry["code"], entry["type"]
    _check_name("option name", name)
    lo, top = code_range(space, universe)
    if not isinstance(code, int) or isinstance(code, bool) or not lo <= code <= top:
        raise DefinitionError(f"option code {code!r} is out of range ({lo}..{top})", code)
    if dtype not in DEF_TYPES - {"internal"}:
        raise DefinitionError(f"unknown option data type {dtype!r}", code)
    array = entry.get("array", False)
    if not isinstance(array, bool):
        raise DefinitionError("'array' is a boolean", code)
    rtext = entry.get("record-types", "")
    if not isinstance(rtext, str):
        raise DefinitionError("'record-types' is a comma-separated string", code)
    records = tuple(t.strip() for t in rtext.split(",") if t.strip())
    encapsulate = entry.get("encapsulate", "")
    if encapsulate:
        _check_name("encapsulated space name", encapsulate, digits_only_ok=True)
        if encapsulate == space:
            raise DefinitionError("an option can't encapsulate its own space", code)
        if array:
            raise DefinitionError("an array option can't encapsulate a space", code)
    if dtype == "record":
        if len(records) < 2:
            raise DefinitionError("a record needs at least two record-types", code)
        for i, rtype in enumerate(records):
            if rtype not in FIELD_TYPES:
                raise DefinitionError(f"invalid record field type {rtype!r}", code)
            if rtype in ("string", "binary") and i < len(records) - 1:
                raise DefinitionError(f"a {rtype} field must be the last in a record", code)
        if array and records[-1] in ("string", "binary"):
            raise DefinitionError(f"an array record can't end with {records[-1]}", code)
    elif records:
        raise DefinitionError("record-types is only for type record", code)
    if array and dtype in ("empty", "string", "binary"):
        raise DefinitionError(f"an array of {dtype} is not allowed", code)
    return OptionDef(space, code, name, dtype, array, records, encapsulate, universe,
                     in_kea_2_2=True, standard=False)


# --- option-data ------------------------------------------------------------------------
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


def decode_hex_data(text):
    """Kea's csv-format false: delimited octets, a digit string, or 'quoted text'."""
    stripped = text.strip(" \b\f\n\r\t")
    if len(stripped) > 2 and stripped[0] == "'" and stripped[-1] == "'":
        return stripped[1:-1].encode(*_ENC)
    for sep in (":", " "):
        if sep in text:
            out = bytearray()
            parts = text.split(sep)
            for i, part in enumerate(parts):
                if not part:
                    raise CodecError(f"two consecutive separators ({sep!r}) in {text!r}")
                if len(part) > 2 or not set(part) <= _HEXDIGITS:
                    raise CodecError(f"invalid octet {part!r} in hex data {text!r}")
                out.append(int(part, 16))
            return bytes(out)
    digits = text
    pad = "0" if len(digits) % 2 else ""
    if len(digits) > 2 and digits.startswith("0x"):
        digits = digits[2:]
    if not set(digits) <= _HEXDIGITS:
        raise CodecError(f"{text!r} is not a valid string of hexadecimal digits")
    return bytes.fromhex(pad + digits)


def encode_option_data(defs, space, data, *, code=None, name=None, csv_format=True,
                       universe=None):
    """Payload bytes Kea 2.2 sends for one ``option-data`` entry (see module doc)."""
    if code is None and name is None:
        raise CodecError("option-data needs a name or a code")
    if defs is None:
        defs = OptionDefs.standard(universe)
    universe = defs._universe(space, universe)
    if code is not None:
        lo, top = code_range(space, universe)
        if isinstance(code, bool) or not isinstance(code, int) or not lo <= code <= top:
            raise CodecError(f"option code {code!r} is out of range ({lo}..{top})", None)
    defn = defs.lookup(space, code=code, name=name, universe=universe)
    if not isinstance(data, str):
        raise CodecError("option data must be a string", code)
    if csv_format:
        if defn is None:
            raise CodecError(f"option {code} in space {space!r} has no definition: "
                             "set csv-format false and give the data in hex", code)
        return defn.from_text(data)
    try:
        payload = decode_hex_data(data)
    except CodecError as err:
        raise CodecError(err.message, code if defn is None else defn.code) from None
    if defn is not None:
        defn.decode(payload)  # Kea builds the option from these bytes: they must parse
        if defn.type == "string":
            payload = payload.rstrip(b"\0")  # Kea's OptionString drops trailing NULs
    return payload
