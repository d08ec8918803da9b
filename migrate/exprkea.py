"""ISC expressions (dhcp-eval(5)) -> Kea 2.2 expressions (Kea ARM "Classification").

Constant sub-expressions are folded first (ISC semantics); what is left is
rewritten in Kea's language when it has an equivalent, else :class:`Untranslatable`
says why.
"""
from kea_tools.migrate.values import kea_string_literal

BOOLEAN_OPS = {"=", "!=", "~=", "~~", "and", "or"}
NUMERIC_OPS = {"+", "-", "*", "/", "%", "&", "|", "^"}


class Untranslatable(Exception):
    """The expression has no Kea 2.2 equivalent; the message says which part."""


class NotConstant(Exception):
    pass


def kind_of(e):
    """'boolean', 'data' or 'numeric' (ISC's three expression types)."""
    k = e[0]
    if k == "binop":
        return "boolean" if e[1] in BOOLEAN_OPS else "numeric"
    if k in ("not", "exists", "check", "known", "static") or (k == "call" and e[1] == "defined"):
        return "boolean"
    if k == "number" or (k == "call" and e[1] == "extract-int") or k in ("lease-time", "client-state"):
        return "numeric"
    if k in ("variable", "funcall"):
        return "any"
    return "data"


def is_constant(e):
    try:
        fold(e)
        return True
    except (NotConstant, Untranslatable):
        return False


def fold(e):
    """Evaluate a constant expression: bytes, int, bool or None (ISC null)."""
    k = e[0]
    if k == "data":
        return e[1]
    if k == "number":
        return e[1]
    if k == "null":
        return None
    if k == "not":
        return not _bool(fold(e[1]))
    if k == "binop":
        op = e[1]
        a, b = fold(e[2]), fold(e[3])
        if op == "=":
            return _data(a) == _data(b)
        if op == "!=":
            return _data(a) != _data(b)
        if op == "and":
            return _bool(a) and _bool(b)
        if op == "or":
            return _bool(a) or _bool(b)
        if op in NUMERIC_OPS:
            a, b = _int(a), _int(b)
            if op in "/%" and b == 0:
                raise NotConstant()
            return {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0, "%": a % b if b else 0,
                    "&": a & b, "|": a | b, "^": a ^ b}[op] & 0xFFFFFFFF
        raise NotConstant()
    if k == "call":
        name, args = e[1], e[2]
        vals = [fold(a) for a in args] if name != "pick-first-value" else None
        if name == "substring":
            d, off, ln = _data(vals[0]), _int(vals[1]), _int(vals[2])
            return d[off:off + ln]
        if name == "suffix":
            d, ln = _data(vals[0]), _int(vals[1])
            return d[-ln:] if ln else b""
        if name == "concat":
            if any(v is None for v in vals):
                return None
            return b"".join(_data(v) for v in vals)
        if name == "lcase":
            return _data(vals[0]).lower()
        if name == "ucase":
            return _data(vals[0]).upper()
        if name == "reverse":
            width, d = _int(vals[0]), _data(vals[1])
            if width <= 0:
                raise NotConstant()
            chunks = [d[i:i + width] for i in range(0, len(d), width)]
            return b"".join(reversed(chunks))
        if name == "encode-int":
            n, width = _int(vals[0]), _int(vals[1])
            return (n & ((1 << width) - 1)).to_bytes(width // 8, "big")
        if name == "extract-int":
            d, width = _data(vals[0]), _int(vals[1])
            if len(d) < width // 8:
                return None
            return int.from_bytes(d[:width // 8], "big")
        if name == "binary-to-ascii":
            base, width, sep, d = _int(vals[0]), _int(vals[1]), _data(vals[2]), _data(vals[3])
            step = width // 8
            nums = [int.from_bytes(d[i:i + step], "big") for i in range(0, len(d), step)]
            digits = {8: "%o", 10: "%d", 16: "%x"}.get(base)
            if digits is None:
                raise NotConstant()
            return sep.join((digits % n).encode() for n in nums)
        if name == "pick-first-value":
            for a in args:
                v = fold(a)
                if v is not None and v != b"":
                    return v
            return None
    raise NotConstant()


def _data(v):
    if v is None:
        return b""
    if isinstance(v, bool):
        raise NotConstant()
    if isinstance(v, int):
        # A bare number where ISC wants data is a one-byte hex constant.
        return bytes([v & 0xFF]) if 0 <= v < 256 else v.to_bytes(4, "big")
    return v


def _int(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise NotConstant()


def _bool(v):
    if isinstance(v, bool):
        return v
    raise NotConstant()


def describe(e):
    """ISC-like text of an expression for notes and messages."""
    k = e[0]
    if k == "data":
        raw = e[1]
        if all(32 <= b < 127 for b in raw):
            return "'" + raw.decode() + "'"
        return "0x" + raw.hex()
    if k == "number":
        return str(e[1])
    if k == "binop":
        return f"{describe(e[2])} {e[1]} {describe(e[3])}"
    if k == "not":
        return f"not {describe(e[1])}"
    if k in ("option", "exists", "config-option"):
        space, name = e[1]
        return f"{k} {space or 'dhcp'}.{name}"
    if k == "check":
        return f"check '{e[1]}'"
    if k in ("call", "funcall"):
        return f"{e[1]}(" + ", ".join(describe(a) for a in e[2]) + ")"
    if k == "variable":
        return e[1]
    return k


class KeaExpr:
    """Rewrites ISC expressions for one conversion (needs the option registry)."""

    def __init__(self, registry, family):
        self.reg = registry
        self.family = family

    def boolean(self, e):
        if kind_of(e) not in ("boolean",):
            raise Untranslatable(f"'{describe(e)}' is not a boolean expression")
        return self._bool(e)

    def _bool(self, e):
        k = e[0]
        if k == "binop":
            op = e[1]
            if op in ("=", "!="):
                test = f"{self.data(e[2])} == {self.data(e[3])}"
                return test if op == "=" else f"not ({test})"
            if op in ("and", "or"):
                return f"({self._bool(e[2])}) {op} ({self._bool(e[3])})"
            if op in ("~=", "~~"):
                raise Untranslatable("regular expression matching (~= / ~~) has no Kea 2.2 equivalent")
            raise Untranslatable(f"operator {op} is not boolean")
        if k == "not":
            if e[1][0] == "not":
                return self._bool(e[1][1])
            if e[1][0] == "binop" and e[1][1] == "!=":
                return self._bool(("binop", "=", e[1][2], e[1][3]))
            return f"not ({self._bool(e[1])})"
        if k == "exists":
            return self._option_ref(e, "exists")
        if k == "known":
            return "member('KNOWN')"
        if k == "check":
            return f"member('{e[1]}')"
        raise Untranslatable(f"'{describe(e)}' has no Kea 2.2 equivalent")

    def data(self, e):
        try:
            value = fold(e)
            if isinstance(value, bool):
                raise Untranslatable(f"'{describe(e)}' is not a data expression")
            return kea_string_literal(_data(value))
        except NotConstant:
            pass
        k = e[0]
        if k == "option":
            return self._option_ref(e, "hex")
        if k == "hardware":
            if self.family == 6:
                raise Untranslatable("hardware is a DHCPv4 expression")
            return "concat(substring(pkt4.htype, -1, all), pkt4.mac)"
        if k == "call":
            name, args = e[1], e[2]
            if name == "substring":
                off, ln = self._const_int(args[1]), self._const_int(args[2])
                if args[0][0] == "hardware" and self.family == 4 and off >= 0 and ln > 0:
                    # hardware is htype then chaddr: address the fields directly.
                    if off == 0 and ln == 1:
                        return "substring(pkt4.htype, -1, all)"
                    if off >= 1:
                        return f"substring(pkt4.mac, {off - 1}, {ln})"
                return f"substring({self.data(args[0])}, {off}, {ln})"
            if name == "suffix":
                ln = self._const_int(args[1])
                return f"substring({self.data(args[0])}, -{ln}, all)" if ln else "''"
            if name == "concat":
                parts = [p for p in (self.data(a) for a in args) if p != "''"] or ["''"]
                out = parts[-1]
                for p in reversed(parts[:-1]):
                    out = f"concat({p}, {out})"
                return out
            if name == "v6relay":
                depth = self._const_int(args[0])
                inner = args[1]
                if inner[0] != "option":
                    raise Untranslatable("v6relay() of something other than an option")
                d = self.reg.lookup(inner[1][0] or "dhcp6", inner[1][1], inner[2])
                return f"relay6[{depth}].option[{d.code}].hex"
            raise Untranslatable(f"{name}() of non-constant data has no Kea 2.2 equivalent")
        if k == "data":
            return kea_string_literal(e[1])
        raise Untranslatable(f"'{describe(e)}' has no Kea 2.2 equivalent")

    def _const_int(self, e):
        try:
            return _int(fold(e))
        except NotConstant:
            raise Untranslatable(f"'{describe(e)}' must be a constant number for Kea") from None

    def _option_ref(self, e, what):
        space, name = e[1]
        d = self.reg.lookup(space, name, e[2])
        if d.isc_space == "agent":
            return f"relay4[{d.code}].{what}"
        sp = self.reg.spaces[d.isc_space]
        if d.isc_space in ("dhcp", "dhcp6"):
            if (d.isc_space == "dhcp") != (self.family == 4):
                raise Untranslatable(f"option {d.isc_space}.{name} is not in this protocol")
            return f"option[{d.code}].{what}"
        if sp.vendor:
            return f"vendor[{sp.vendor}].option[{d.code}].{what}"
        raise Untranslatable(f"option {d.isc_space}.{name} is in a space Kea cannot reach from an expression")
