"""Option definitions and option values: ISC syntax in, Kea ``option-def`` /
``option-data`` out.

The registry starts from ISC's built-in table (:mod:`.isc_options`), takes the
Kea name and type of each option from Kea's own table, and grows with the
``option space`` and ``option X code N = TYPE`` statements of the file.
"""
import ipaddress
from dataclasses import dataclass, field

from kea_tools.errors import SourceError
from kea_tools.migrate import isc_options
from kea_tools.migrate.values import mac_text

# ISC definition keyword -> (ISC format letter, Kea type)
INT_TYPES = {
    (True, 8): ("b", "int8"), (True, 16): ("s", "int16"), (True, 32): ("l", "int32"),
    (False, 8): ("B", "uint8"), (False, 16): ("S", "uint16"), (False, 32): ("L", "uint32"),
}
SIMPLE_TYPES = {
    "boolean": ("f", "boolean"),
    "ip-address": ("I", "ipv4-address"),
    "ip6-address": ("6", "ipv6-address"),
    "domain-name": ("d", "fqdn"),
    "domain-list": ("D", "fqdn"),
    "text": ("t", "string"),
    "string": ("X", "binary"),
    "zerolen": ("Z", "empty"),
}
# Kea type of an ISC format letter (for built-in options Kea does not define).
LETTER_TYPES = {
    "I": "ipv4-address", "6": "ipv6-address", "l": "int32", "L": "uint32", "s": "int16",
    "S": "uint16", "b": "int8", "B": "uint8", "T": "uint32", "f": "boolean", "t": "string",
    "x": "string", "X": "binary", "d": "fqdn", "D": "fqdn", "Z": "empty",
}


@dataclass(slots=True)
class OptionDef:
    """One option as both ISC and Kea see it."""

    isc_space: str
    name: str
    code: int
    fmt: str               # ISC format letters
    kea_space: str
    kea_name: str
    kea_type: str          # Kea type of the whole option ('record' for records)
    array: bool = False
    user: bool = False     # defined in the file (needs a Kea option-def)
    kea_known: bool = True
    record_types: list = field(default_factory=list)
    encapsulate: str = ""
    dynamic: bool = False  # defined in the file: keama directives may rename or redefine it


@dataclass(slots=True)
class Space:
    name: str
    kea_name: str
    universe: int
    code_width: int = 1
    length_width: int = 1
    vendor: int = 0        # enterprise number when it is a vendor space
    dynamic: bool = False  # declared in the file (a keama directive may rename it)
    kea_defines: bool = False  # keama directive: Kea knows its options (no option-def)
    kea_unknown: bool = False  # keama directive: Kea does not know this space


class OptionRegistry:
    """ISC option names and spaces -> Kea definitions, for one conversion."""

    def __init__(self, family):
        self.family = family
        self.defs = {}
        self.by_code = {}
        self.spaces = {}
        for isc_space, (kea_space, universe) in isc_options.SPACES.items():
            self.spaces[isc_space] = Space(isc_space, kea_space, universe,
                                           2 if universe == 6 else 1, 2 if universe == 6 else 1)
        kea = isc_options.kea_std_options()
        for (space, name), (code, fmt, _kea_name) in isc_options.builtin_table().items():
            kea_space = isc_options.SPACES[space][0]
            std = kea.get((kea_space, code))
            kea_name = std["name"] if std else name
            kea_type = std["type"] if std else LETTER_TYPES.get(fmt[0], "binary")
            d = OptionDef(space, name, code, fmt, kea_space, kea_name, kea_type,
                          array=bool(std and std["array"]), kea_known=std is not None)
            self.defs[(space, name)] = d
            self.by_code[(space, code)] = d

    def lookup(self, space, name, tok=None):
        space = space or "dhcp"
        if space not in self.spaces:
            raise _err(f"no option space named {space}.", tok)
        d = self.defs.get((space, name))
        if d is None:
            raise _err(f"unknown option {space}.{name}", tok)
        return d

    def declare_space(self, name, code_width=None, length_width=None):
        universe = 6 if self.family == 6 else 4
        cw = code_width or (2 if universe == 6 else 1)
        lw = length_width or (2 if universe == 6 else 1)
        self.spaces[name] = Space(name, name, universe, cw, lw, dynamic=True)
        return self.spaces[name]

    def define(self, space, name, code, fmt, kea_type, array, record_types, encapsulate, tok):
        space = space or "dhcp"
        if space not in self.spaces:
            raise _err(f"no option space named {space}.", tok)
        sp = self.spaces[space]
        kea_space = sp.kea_name
        if encapsulate and space in ("vendor", "vsio"):
            # option vendor.X code ENT = encapsulate X: X becomes Kea's vendor-ENT.
            target = self.spaces.get(encapsulate)
            if target is None:
                raise _err(f"no option space named {encapsulate}.", tok)
            target.kea_name = f"vendor-{code}"
            target.vendor = code
            for d in self.defs.values():
                if d.isc_space == encapsulate:
                    d.kea_space = target.kea_name
                    self._adopt_standard(d)
        std = isc_options.kea_std_options().get((kea_space, code))
        d = OptionDef(space, name, code, fmt, kea_space, name, kea_type, array, True,
                      True, record_types, encapsulate, dynamic=True)
        if std is not None and (std["name"] == name or space not in ("dhcp", "dhcp6")):
            self._adopt_standard(d)
        self.defs[(space, name)] = d
        self.by_code[(space, code)] = d
        return d

    @staticmethod
    def _adopt_standard(d):
        """Kea already defines this (space, code): use its name and type, no option-def."""
        std = isc_options.kea_std_options().get((d.kea_space, d.code))
        if std is not None:
            d.user = False
            d.kea_name, d.kea_type, d.array = std["name"], std["type"], std["array"]

    def kea_space_of(self, isc_space):
        return self.spaces[isc_space].kea_name


def _err(message, tok):
    if tok is None:
        return SourceError(message)
    return SourceError(message, tok.file, tok.line, tok.col)


def parse_type(cur, family):
    """Parse an ISC option type after ``=``; returns (fmt, kea_type, array, record_types, encapsulate)."""
    if cur.punct("{"):
        fields = []
        while True:
            if cur.accept("array"):
                cur.expect("of")
                if cur.peek_text() == "array":
                    raise cur.error("no nested arrays.")
                if cur.peek() is not None and cur.peek().type == "{":
                    raise cur.error("only uniform array inside record.")
                fmt, kt, _, _, _ = _atom_type(cur, family)
                fields.append((fmt + "a", kt, True))
            else:
                if cur.peek() is not None and cur.peek().type == "{":
                    raise cur.error("unknown data type {")
                fmt, kt, _, _, _ = _atom_type(cur, family)
                fields.append((fmt, kt, False))
            if cur.punct(","):
                continue
            if cur.punct("}"):
                break
            raise cur.error("comma expected.")
        fmt = "".join(f for f, _, _ in fields)
        arrays = [i for i, (_, _, a) in enumerate(fields) if a]
        if arrays and (arrays != [len(fields) - 1] or fields[0][2]):
            if fields[0][2] and len(fields) > 1:
                return fmt, "binary", False, [], ""
            return fmt, "binary", False, [], ""
        return fmt, "record", bool(arrays), [kt for _, kt, _ in fields], ""
    if cur.accept("array"):
        cur.expect("of")
        if cur.peek_text() == "array":
            raise cur.error("no nested arrays.")
        if cur.peek() is not None and cur.peek().type == "{":
            t, kt, arr, rec, enc = parse_type(cur, family)
            return t + "A", "record", True, rec, ""
        fmt, kt, _, _, _ = _atom_type(cur, family)
        if fmt in ("t", "X") or fmt.startswith("D"):
            raise cur.error("arrays of text strings not yet supported.")
        return fmt + "a", kt, True, [], ""
    return _atom_type(cur, family)


def _atom_type(cur, family):
    tok = cur.peek()
    word = cur.peek_text()
    if word in ("signed", "unsigned", "integer"):
        signed = cur.accept("signed", "unsigned") != "unsigned"
        cur.expect("integer", "integer expected")
        width = cur.number("integer width expected")
        if (signed, width) not in INT_TYPES:
            raise cur.error(f"unsupported integer width {width}", tok)
        fmt, kt = INT_TYPES[(signed, width)]
        return fmt, kt, False, [], ""
    if word == "domain-list":
        cur.next()
        if cur.accept("compressed"):
            if family == 6:
                raise cur.error("domain list in DHCPv6 MUST NOT be compressed", tok)
            return "Dc", "fqdn", True, [], ""
        return "D", "fqdn", True, [], ""
    if word == "encapsulate":
        cur.next()
        space = cur.name("expecting an option space name")
        return "E" + space + ".", "empty", False, [], space
    if word in SIMPLE_TYPES:
        cur.next()
        fmt, kt = SIMPLE_TYPES[word]
        return fmt, kt, False, [], ""
    raise cur.error(f"unknown data type {tok.text if tok else ''}".rstrip(), tok)


def format_type(fmt):
    """Kea (type, array, record-types) of an ISC format string (keama's
    ``code N = "FORMAT"`` directive); None when Kea has no such type."""
    if "E" in fmt:
        return None
    atoms, repeat = _split_fmt(fmt)
    types = [LETTER_TYPES.get(a[0]) for a in atoms]
    if not atoms or None in types:
        return None
    if len(atoms) == 1:
        return types[0], repeat or atoms[0][0] == "D", []
    return "record", repeat, types


# -- values --------------------------------------------------------------------

def _split_fmt(fmt):
    """ISC format -> list of atoms plus whether the last one (or the record) repeats."""
    atoms = []
    i = 0
    repeat = False
    while i < len(fmt):
        c = fmt[i]
        if c in "aA":
            repeat = True
            i += 1
            continue
        if c == "E":
            j = fmt.index(".", i)
            i = j + 1
            continue
        if c == "D" and i + 1 < len(fmt) and fmt[i + 1] == "c":
            atoms.append("Dc")
            i += 2
            continue
        if c == "o":
            i += 1
            continue
        atoms.append(c)
        i += 1
    return atoms, repeat


@dataclass(slots=True)
class Value:
    """An option value read from dhcpd.conf: Kea CSV text, or raw bytes."""

    csv: str = ""
    raw: bytes = None
    changed: bool = False
    hostnames: list = field(default_factory=list)


def parse_value(cur, d, resolve):
    """Read the value of option ``d`` (an OptionDef) at the cursor."""
    atoms, repeat = _split_fmt(d.fmt)
    # Domain lists are comma-separated quoted names, like arrays.
    repeat = repeat or (bool(atoms) and atoms[-1] in ("D", "Dc"))
    if not atoms or atoms == ["Z"]:
        cur.expect_end()
        return Value("")
    texts = []
    raws = []
    first = True
    while True:
        for k, atom in enumerate(atoms):
            if not first or k:
                cur.punct(",")
            if cur.at_end() and (not first or k):
                break
            text, raw = _atom_value(cur, atom, resolve)
            if raw is not None and atom in "XY" and (len(atoms) > 1 or repeat):
                text = raw.hex()  # a binary field of a record is written in hex
            texts.append(text)
            raws.append(raw)
            first = False
        if not repeat or cur.at_end():
            break
        if not cur.punct(","):
            if cur.at_end():
                break
    cur.expect_end()
    raw = None
    if all(r is not None for r in raws):
        raw = b"".join(raws)
    return Value(", ".join(texts), raw if any(a in "XxY" for a in atoms) else None)


def _atom_value(cur, atom, resolve):
    tok = cur.peek()
    if atom == "I":
        if tok is not None and tok.type == "STRING":
            raise cur.error(f"{tok.text} (string): expecting IP address or hostname")
        addr, host = cur.ip4_or_host("expecting IP address or hostname")
        if addr is None:
            addr = resolve(host, tok)
        return addr, None
    if atom == "6":
        if tok is not None and tok.type == "STRING":
            raise cur.error("Invalid IPv6 address.")
        return cur.ip6(), None
    if atom in "lLsSbBT":
        if atom == "T" and cur.accept("infinite"):
            return "4294967295", None
        return str(cur.number("expecting a number")), None
    if atom == "f":
        word = cur.accept("true", "false", "on", "off", "ignore")
        if word is None:
            raise cur.error("expecting boolean.")
        return ("true" if word in ("true", "on") else "false"), None
    if atom in "tx":
        if tok is not None and tok.type != "STRING" and atom == "x":
            raw = cur.hexbytes()
            return raw.hex(), raw
        if tok is not None and tok.type == "NAME":
            # dhcpd also takes an unquoted name where text is expected.
            return escape_csv(cur.dotted()), None
        raw = cur.string("expecting string.")
        return escape_csv(raw.decode("latin-1")), raw
    if atom in "XY":
        raw, quoted = cur.string_or_hex("expecting string or hexadecimal data.")
        if quoted:
            return escape_csv(raw.decode("latin-1")), raw
        return raw.hex(), raw
    if atom == "d":
        if tok is not None and tok.type == "STRING":
            raise cur.error("not a valid domain name.")
        name = cur.dotted("not a valid domain name.")
        return name, None
    if atom in ("D", "Dc"):
        raw = cur.string("expecting a domain list.")
        return raw.decode("latin-1"), None
    raise cur.error(f"unsupported option format {atom}")


def escape_csv(text):
    """Kea CSV option data: a comma inside a value is written ``\\,``."""
    return text.replace(",", "\\,")


def option_data(d, value, always_send=False):
    """The Kea option-data entry for definition ``d`` and a parsed :class:`Value`."""
    entry = {"space": d.kea_space, "name": d.kea_name, "code": d.code}
    binary = d.kea_type == "binary"
    if value.raw is not None and (d.kea_type != "string" or not _printable(value.raw)):
        entry["csv-format"] = False
        entry["data"] = value.raw.hex()
    elif binary:
        entry["csv-format"] = False
        entry["data"] = value.csv
    else:
        entry["data"] = value.csv
    if always_send:
        entry["always-send"] = True
    return entry


def _printable(raw):
    return all(32 <= b < 127 for b in raw)


def option_def_entry(d):
    entry = {"space": d.kea_space, "name": d.kea_name, "code": d.code, "type": d.kea_type}
    if d.array:
        entry["array"] = True
    if d.kea_type == "record":
        entry["record-types"] = ", ".join(d.record_types)
    if d.encapsulate:
        entry["encapsulate"] = d.encapsulate
    return entry


def normalize_ip6(text):
    return str(ipaddress.IPv6Address(text))


__all__ = ["OptionRegistry", "OptionDef", "parse_type", "parse_value", "option_data",
           "option_def_entry", "mac_text"]
