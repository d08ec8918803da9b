"""Option definitions as the expression language needs them: option names to
codes (resolved when an expression is compiled), where an option's sub-options
start, and Kea's ``.text`` rendering of an option.

Definitions come from :mod:`kea_tools.codec.optiondefs` (Kea's standard table
plus the configuration's ``option-def`` entries).
"""
import socket
import struct

from kea_tools.codec import optiondefs as codec_defs

FIXED_SIZE = {
    "empty": 0, "boolean": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2,
    "int32": 4, "uint32": 4, "ipv4-address": 4, "ipv6-address": 16, "psid": 3,
}
_INT_FORMAT = {"int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i",
               "uint32": "I", "boolean": "B"}

# Options whose C++ classes in Kea carry sub-options after fixed fields, whatever
# their table entry says: (universe, code) -> (bytes before the sub-options, deferred).
# v4 option 43 is "deferred": Kea unpacks it only after the first classification
# pass, so early class tests see it as opaque bytes.
SPECIAL_ENCAPSULATION = {
    (4, 82): (0, False), (4, 43): (0, True),
    (6, 3): (12, False), (6, 4): (4, False), (6, 25): (12, False),
    (6, 5): (24, False), (6, 26): (25, False),
}
VENDOR_OPTION = {4: 125, 6: 17}
VENDOR_CLASS_OPTION = {4: 124, 6: 16}
TOP_SPACE = {4: "dhcp4", 6: "dhcp6"}


class OptionDefs:
    """The definitions an expression is compiled against: the codec's registry
    (standard table, plus ``option-def`` entries layered on top) seen from one
    universe. ``custom`` takes Kea ``option-def`` maps; ``registry`` an existing
    :class:`kea_tools.codec.optiondefs.OptionDefs` (e.g. the configuration's)."""

    def __init__(self, universe=4, custom=(), registry=None):
        self.universe = universe
        base = registry if registry is not None else codec_defs.OptionDefs.standard(universe)
        self.registry = base.with_custom(list(custom), universe) if custom else base

    @classmethod
    def coerce(cls, defs, universe):
        """An OptionDefs from None, a codec registry, a list of option-def maps, or
        an OptionDefs (returned as is)."""
        if isinstance(defs, cls):
            return defs
        if isinstance(defs, codec_defs.OptionDefs):
            return cls(universe, registry=defs)
        return cls(universe, defs or ())

    def code(self, name, space=None):
        d = self.registry.by_name(space or TOP_SPACE[self.universe], name, self.universe)
        return None if d is None else d.code

    def get(self, code, space=None):
        return self.registry.get(space or TOP_SPACE[self.universe], code, self.universe)

    def rendering_def(self, code, space):
        """The definition Kea 2.2 would decode with: standard ones added after 2.2
        are left out (Kea 2.2 treats those options as opaque)."""
        d = self.get(code, space)
        if d is None or (d.standard and not d.in_kea_2_2):
            return None
        return d

    def suboption_offset(self, code, space=None):
        """(offset, deferred) where the sub-options of option ``code`` start, or
        None when Kea parses none for it."""
        space = space or TOP_SPACE[self.universe]
        if space == TOP_SPACE[self.universe] and (self.universe, code) in SPECIAL_ENCAPSULATION:
            return SPECIAL_ENCAPSULATION[(self.universe, code)]
        d = self.get(code, space)
        if d is None or not d.encapsulate or d.array:
            return None
        fields = d.record_types if d.type == "record" else (d.type,)
        if any(f not in FIXED_SIZE for f in fields):
            return None
        return sum(FIXED_SIZE[f] for f in fields), False

    def space_of_suboptions(self, code, space=None):
        space = space or TOP_SPACE[self.universe]
        if (self.universe, code) == (4, 82):
            return "dhcp-agent-options-space"
        d = self.get(code, space)
        return d.encapsulate if d is not None and d.encapsulate else TOP_SPACE[self.universe]


def parse_tlvs(data, width, start=0, end=None):
    """Sub-options as {code: payload}, first occurrence of a code winning (Kea's
    getOption). Parsing stops at a truncated sub-option, keeping those before it."""
    end = len(data) if end is None else end
    found = {}
    i = start
    if width == 1:
        while i + 2 <= end:
            code, length = data[i], data[i + 1]
            if i + 2 + length > end:
                break
            found.setdefault(code, data[i + 2:i + 2 + length])
            i += 2 + length
    else:
        while i + 4 <= end:
            code, length = struct.unpack_from("!HH", data, i)
            if i + 4 + length > end:
                break
            found.setdefault(code, data[i + 4:i + 4 + length])
            i += 4 + length
    return found


def vendor_suboptions(universe, data):
    """(enterprise, {code: payload}) of a vendor option (v4 125: RFC 3925 section 4,
    first enterprise block only, as Kea; v6 17: RFC 8415 section 21.17), or None."""
    if len(data) < 4:
        return None
    enterprise = int.from_bytes(data[:4], "big")
    if universe == 6:
        return enterprise, parse_tlvs(data, 2, 4)
    if len(data) < 5:
        return enterprise, {}
    end = 5 + data[4]
    if end > len(data):
        return None
    return enterprise, parse_tlvs(data, 1, 5, end)


def vendor_class_tuples(universe, data):
    """(enterprise, [data...]) of a vendor-class option, as Kea's OptionVendorClass
    reads it (v4 124: RFC 3925 section 3; v6 16: RFC 8415 section 21.16), or None.

    In v4 each enterprise block's data is one tuple, and further blocks must repeat
    the first enterprise number (Kea rejects the option otherwise)."""
    if len(data) < 4 + (1 if universe == 4 else 2):
        return None
    enterprise = int.from_bytes(data[:4], "big")
    tuples, i = [], 4
    width = 1 if universe == 4 else 2
    while i < len(data):
        if i + width > len(data):
            return None
        length = int.from_bytes(data[i:i + width], "big")
        if i + width + length > len(data):
            return None
        tuples.append(data[i + width:i + width + length])
        i += width + length
        if universe == 4 and i < len(data):
            if i + 4 > len(data) or int.from_bytes(data[i:i + 4], "big") != enterprise:
                return None
            i += 4
    return enterprise, tuples


# --- Kea's toText()/toString() ------------------------------------------------------

def _fqdn_text(data, i):
    labels = []
    while i < len(data):
        n = data[i]
        i += 1
        if n == 0:
            return ".".join(labels) + ".", i
        labels.append(data[i:i + n].decode("latin-1"))
        i += n
    return ".".join(labels) + ("." if labels else ""), i


def _field(ftype, data, i, universe):
    """Text of one field at offset i and the offset after it; ValueError if short."""
    if ftype in FIXED_SIZE:
        size = FIXED_SIZE[ftype]
        chunk = data[i:i + size]
        if len(chunk) != size:
            raise ValueError("short field")
        if ftype in _INT_FORMAT:
            value = struct.unpack("!" + _INT_FORMAT[ftype], chunk)[0]
            return ("true" if value else "false") if ftype == "boolean" else str(value), i + size
        if ftype == "ipv4-address":
            return socket.inet_ntop(socket.AF_INET, chunk), i + size
        if ftype == "ipv6-address":
            return socket.inet_ntop(socket.AF_INET6, chunk), i + size
        if ftype == "psid":
            return f"len={chunk[0]},psid={int.from_bytes(chunk[1:], 'big')}", i + size
        return "", i
    if ftype == "ipv6-prefix":
        plen = data[i]
        n = (plen + 7) // 8
        addr = data[i + 1:i + 1 + n].ljust(16, b"\0")
        return f"{socket.inet_ntop(socket.AF_INET6, addr)}/{plen}", i + 1 + n
    if ftype == "fqdn":
        return _fqdn_text(data, i)
    if ftype == "tuple":
        width = 1 if universe == 4 else 2
        n = int.from_bytes(data[i:i + width], "big")
        return data[i + width:i + width + n].decode("latin-1"), i + width + n
    # binary and string run to the end of the option (Kea allows them last only).
    rest = data[i:]
    if ftype == "string":
        return '"' + rest.decode("latin-1") + '"', len(data)
    return rest.hex().upper(), len(data)


def option_text(defs, code, data, space=None, raw=False):
    """Kea's ``Option::toString()`` of an option as bytes: the value of a string
    option, else the debug form of ``toText()`` (``type=003, len=004: ...``).
    ``raw``: Kea holds the option undecoded (v4 option 43 before its deferred
    unpacking), which prints in the generic form."""
    space = space or TOP_SPACE[defs.universe]
    d = None if raw else defs.rendering_def(code, space)
    if d is not None and d.type == "string" and not d.array:
        return data.rstrip(b"\0")
    return _to_text(defs, code, data, space, 0, raw).encode("latin-1")


def _fqdn4_text(defs, data, indent):
    """Option4ClientFqdn::toText (RFC 4702): flags, then the name, wire format
    when the E flag is set, ASCII otherwise."""
    flags = data[0]
    wire = bool(flags & 0x04)
    name = data[3:]
    if wire:
        text, _ = _fqdn_text(name, 0)
        full = name.endswith(b"\0")
        text = text if full else text.rstrip(".")
    else:
        text = name.decode("latin-1")
        full = text.endswith(".")
    bits = ", ".join(f"{n}={int(bool(flags & m))}" for n, m in
                     (("N", 0x08), ("E", 0x04), ("O", 0x02), ("S", 0x01)))
    kind = "full" if full else "partial"
    return (f"{' ' * indent}type=81 (CLIENT_FQDN), flags: ({bits}), "
            f"domain-name='{text}' ({kind})")


def _vendor_class_text(defs, data, indent, code):
    """OptionVendorClass::toText (RFC 3925 section 3, RFC 8415 section 21.16)."""
    parsed = vendor_class_tuples(defs.universe, data)
    if parsed is None:
        raise ValueError("bad vendor-class")
    enterprise, tuples = parsed
    out = [f"{' ' * indent}type={code}, len={len(data)},  enterprise id=0x{enterprise:x}"]
    for i, item in enumerate(tuples):
        if defs.universe == 4 and i:
            out.append(f", enterprise id=0x{enterprise:x}")
        out.append(f", data-len{i}={len(item)}, vendor-class-data{i}='{item.decode('latin-1')}'")
    return "".join(out)


def _vendor_text(defs, data, indent, code):
    """OptionVendor::toText (RFC 3925 section 4, RFC 8415 section 21.17)."""
    parsed = vendor_suboptions(defs.universe, data)
    if parsed is None:
        raise ValueError("bad vendor option")
    enterprise, subs = parsed
    width = 3 if defs.universe == 4 else 5
    out = f"{' ' * indent}type={code:0{width}d}, len={len(data):0{width}d}: {enterprise} (uint32)"
    if defs.universe == 4:
        out += f" {data[4]} (uint8)"
    if subs:
        space = f"vendor-{enterprise}"
        out += ",\noptions:" + "".join(
            "\n" + _to_text(defs, c, subs[c], space, indent + 2) for c in sorted(subs))
    return out


# Options Kea decodes with a dedicated class, which has its own toText().
SPECIAL_TEXT = {
    (4, 81): lambda defs, data, indent, code: _fqdn4_text(defs, data, indent),
    (4, 124): _vendor_class_text, (6, 16): _vendor_class_text,
    (4, 125): _vendor_text, (6, 17): _vendor_text,
}


def _generic(header, data):
    return header + ": " + ":".join(f"{b:02x}" for b in data)


def _to_text(defs, code, data, space, indent, raw=False):
    """Kea's ``toText(indent)`` for the class Kea would decode the option with."""
    universe = defs.universe
    d = None if raw else defs.rendering_def(code, space)
    width = 3 if universe == 4 else 5
    header = f"{' ' * indent}type={code:0{width}d}, len={len(data):0{width}d}"
    kind = d.type if d is not None else "binary"
    try:
        special = SPECIAL_TEXT.get((universe, code)) if space == TOP_SPACE[universe] else None
        if special is not None and not raw:
            return special(defs, data, indent, code)
        if kind == "string" and not d.array:
            value = data.rstrip(b"\0").decode("latin-1")
            return f'{header}: "{value}" (string)'
        if kind in _INT_FORMAT and kind != "boolean":
            size = FIXED_SIZE[kind]
            if d.array:
                if not data or len(data) % size:
                    raise ValueError("bad array")
                values = [_field(kind, data, i, universe)[0]
                          for i in range(0, len(data), size)]
                return header + ":" + "".join(f" {v}({kind})" for v in values)
            if len(data) != size:
                raise ValueError("bad size")
            return f"{header}: {_field(kind, data, 0, universe)[0]} ({kind})"
        if kind in ("ipv4-address", "ipv6-address") and d.array:
            size = FIXED_SIZE[kind]
            if len(data) % size:
                raise ValueError("bad array")
            addrs = [_field(kind, data, i, universe)[0] for i in range(0, len(data), size)]
            return header + ":" + "".join(" " + a for a in addrs)
        if kind in ("binary", "internal") or (kind == "empty" and not d.encapsulate):
            return _generic(header, data)
        fields = list(d.record_types) if kind == "record" else [kind]
        texts, i = [], 0
        where = defs.suboption_offset(code, space) if space == TOP_SPACE[universe] else None
        end = where[0] if where else len(data)
        for ftype in fields:
            if ftype == "empty":
                continue
            value, i = _field(ftype, data[:end], i, universe)
            texts.append(f" {value} ({ftype})")
        while d.array and i < end:
            value, i = _field(fields[-1], data[:end], i, universe)
            texts.append(f" {value} ({fields[-1]})")
        return header + ":" + "".join(texts) + _suboptions_text(defs, code, data, space, indent)
    except (ValueError, IndexError, OSError, struct.error):
        return _generic(header, data)


def _suboptions_text(defs, code, data, space, indent):
    """Kea's ``suboptionsToText``: the sub-options, ordered by code as in Kea's
    option map, each at two more spaces of indent."""
    where = defs.suboption_offset(code, space) if space == TOP_SPACE[defs.universe] else None
    if where is None:
        return ""
    subs = parse_tlvs(data, 1 if defs.universe == 4 else 2, where[0])
    if not subs:
        return ""
    sub_space = defs.space_of_suboptions(code, space)
    return ",\noptions:" + "".join(
        "\n" + _to_text(defs, c, subs[c], sub_space, indent + 2) for c in sorted(subs))
