"""Compile a parsed expression into nested Python closures, once.

Every Kea value is a byte string; booleans only ever meet boolean operators
(the grammar sees to that), so inside the closures they are Python bools, and
the ``"true"``/``"false"`` strings appear only at the edges. Constant
sub-expressions are evaluated at compile time. Kea 2.2 evaluates every operand
of ``and``, ``or`` and ``ifelse`` (no short-circuit), which matters only when an
operand fails, and the closures do the same.
"""
import re
import socket
import struct
from dataclasses import dataclass

from kea_tools.classify import grammar
from kea_tools.classify.errors import EvalError, ExpressionError
from kea_tools.classify.lexer import position
from kea_tools.classify.optionspace import (
    VENDOR_CLASS_OPTION, VENDOR_OPTION, OptionDefs, option_text, parse_tlvs,
    vendor_class_tuples, vendor_suboptions)

INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
_NOT_CONST = object()
_RELAY_MSG = 9


@dataclass(slots=True)
class Expression:
    """A compiled expression. ``evaluate(query)`` returns a bool (kind "bool") or
    bytes (kind "string") and raises EvalError where Kea's evaluation throws.
    ``members`` are the classes it names in member(), in order."""

    text: str
    kind: str
    universe: int
    members: tuple
    evaluate: object

    def __call__(self, query):
        return self.evaluate(query)

    def depends_on(self, names):
        """Whether member() names any of ``names`` (e.g. {"KNOWN", "UNKNOWN"})."""
        return any(m in names for m in self.members)


def compile_expression(text, universe=4, kind="bool", option_defs=None, class_defined=None,
                       kea_2_2_only=False):
    """Parse and compile ``text``; raise ExpressionError (with a column) if it is bad.

    ``option_defs`` is an OptionDefs, a codec option-definition registry or a list
    of Kea ``option-def`` maps (names in option[...] resolve against it, here and
    now); ``class_defined(name)`` decides which member() names are allowed
    (default: any). ``kea_2_2_only`` refuses the later additions lcase(), ucase()
    and match() as Kea 2.2 does.
    """
    defs = OptionDefs.coerce(option_defs, universe)
    tree, ctx = grammar.parse(text, universe, kind, defs.code, class_defined,
                              not kea_2_2_only)
    fn, const = _Compiler(defs, universe, text).build(tree)
    if const is not _NOT_CONST:
        fn = _constant(const)
    return Expression(text, kind, universe, tuple(dict.fromkeys(ctx.members)), fn)


def _constant(value):
    return lambda q: value


def _u32(n):
    return (n & 0xFFFFFFFF).to_bytes(4, "big")


class _Compiler:
    def __init__(self, defs, universe, text):
        self.defs = defs
        self.universe = universe
        self.text = text

    def build(self, node):
        """(closure, constant value or _NOT_CONST) for ``node``."""
        method = getattr(self, _METHODS.get(node.op) or "op_" + node.op.replace("-", "_"))
        fn, pure = method(node, *node.args)
        if pure:
            try:
                return fn, fn(None)
            except EvalError:
                pass
        return fn, _NOT_CONST

    def _children(self, *nodes):
        built = [self.build(n) for n in nodes]
        return [f for f, _ in built], all(c is not _NOT_CONST for _, c in built), built

    # --- literals and operators ---------------------------------------------------
    def op_const(self, node, value):
        return _constant(value), True

    def op_not(self, node, operand):
        (f,), pure, _ = self._children(operand)
        return (lambda q: not f(q)), pure

    def op_and(self, node, left, right):
        (a, b), pure, _ = self._children(left, right)
        return (lambda q: a(q) & b(q)), pure

    def op_or(self, node, left, right):
        (a, b), pure, _ = self._children(left, right)
        return (lambda q: a(q) | b(q)), pure

    def op_equal(self, node, left, right):
        (a, b), pure, built = self._children(left, right)
        if built[1][1] is not _NOT_CONST:
            value = built[1][1]
            return (lambda q: a(q) == value), pure
        if built[0][1] is not _NOT_CONST:
            value = built[0][1]
            return (lambda q: b(q) == value), pure
        return (lambda q: a(q) == b(q)), pure

    def op_concat(self, node, left, right):
        (a, b), pure, _ = self._children(left, right)
        return (lambda q: a(q) + b(q)), pure

    def op_ifelse(self, node, cond, yes, no):
        (c, a, b), pure, _ = self._children(cond, yes, no)

        def ifelse(q):
            # Kea 2.2 evaluates both branches before choosing.
            then, other = a(q), b(q)
            return then if c(q) else other
        return ifelse, pure

    def op_substring(self, node, operand, start_text, length_text):
        (f,), pure, _ = self._children(operand)
        start = int(start_text)
        length = None if length_text == "all" else int(length_text)
        bad = next((t for t, v in ((start_text, start), (length_text, length))
                    if v is not None and not INT_MIN <= v <= INT_MAX), None)

        def substring(q):
            s = f(q)
            if not s:
                return b""
            if bad is not None:
                raise EvalError(f"the parameter '{bad}' of substring couldn't be "
                                f"converted to an integer.")
            size = len(s)
            pos = start
            count = size if length is None else length
            if pos < -size or pos >= size:
                return b""
            if pos < 0:
                pos += size
            if count < 0:
                count = -count
                if count <= pos:
                    pos -= count
                else:
                    count, pos = pos, 0
            return s[pos:pos + count]
        return substring, pure

    def op_split(self, node, operand, delims, field_text):
        (f, d), pure, _ = self._children(operand, delims)
        field = int(field_text)
        in_range = INT_MIN <= field <= INT_MAX

        def split(q):
            s, seps = f(q), d(q)
            if not s:
                return b""
            if not in_range:
                raise EvalError(f"the parameter '{field_text}' for the field field for "
                                f"split couldn't be converted to an integer.")
            if not seps:
                return s
            parts = re.split(b"[" + re.escape(seps) + b"]", s)
            return parts[field - 1] if 1 <= field <= len(parts) else b""
        return split, pure

    def op_hexstring(self, node, operand, separator):
        (f, sep), pure, _ = self._children(operand, separator)
        return (lambda q: sep(q).join(b"%02x" % c for c in f(q))), pure

    def op_addrtotext(self, node, operand):
        (f,), pure, _ = self._children(operand)

        def addrtotext(q):
            s = f(q)
            if not s:
                return b""
            if len(s) == 4:
                return socket.inet_ntop(socket.AF_INET, s).encode()
            if len(s) == 16:
                return socket.inet_ntop(socket.AF_INET6, s).encode()
            raise EvalError(f"Can not convert to valid address: {len(s)} bytes")
        return addrtotext, pure

    def _int_to_text(self, node, operand, fmt, size):
        (f,), pure, _ = self._children(operand)
        unpack = struct.Struct("!" + fmt).unpack

        def to_text(q):
            s = f(q)
            if not s:
                return b""
            if len(s) != size:
                raise EvalError(f"{node.op} needs {size} byte(s), got {len(s)}")
            return str(unpack(s)[0]).encode()
        return to_text, pure

    def op_int8totext(self, node, operand):
        return self._int_to_text(node, operand, "b", 1)

    def op_int16totext(self, node, operand):
        return self._int_to_text(node, operand, "h", 2)

    def op_int32totext(self, node, operand):
        return self._int_to_text(node, operand, "i", 4)

    def op_uint8totext(self, node, operand):
        return self._int_to_text(node, operand, "B", 1)

    def op_uint16totext(self, node, operand):
        return self._int_to_text(node, operand, "H", 2)

    def op_uint32totext(self, node, operand):
        return self._int_to_text(node, operand, "I", 4)

    def op_lcase(self, node, operand):
        (f,), pure, _ = self._children(operand)
        return (lambda q: f(q).lower()), pure

    def op_ucase(self, node, operand):
        (f,), pure, _ = self._children(operand)
        return (lambda q: f(q).upper()), pure

    def op_match(self, node, pattern, operand, pattern_pos):
        (f,), pure, _ = self._children(operand)
        try:
            regex = re.compile(pattern)
        except re.error as err:
            line, col = position(self.text, pattern_pos)
            raise ExpressionError(f"invalid regular expression '{pattern.decode()}': {err}",
                                  self.text, line, col, col + len(pattern) + 1) from None
        return (lambda q: regex.search(f(q)) is not None), pure

    def op_member(self, node, name):
        return (lambda q: name in q.classes), False

    # --- packet fields ------------------------------------------------------------
    def op_pkt(self, node, field):
        getters = {
            "iface": lambda q: q.iface.encode(),
            "src": lambda q: q.src_bytes,
            "dst": lambda q: q.dst_bytes,
            "len": self._length(),
        }
        return getters[field], False

    def _length(self):
        """pkt.len: Kea's Pkt::len(). For DHCPv4 that is the 236-byte header plus each
        option as Kea re-packs it: a string option loses its trailing NULs."""
        if self.universe == 6:
            return lambda q: _u32(q.kea_length())
        strings = frozenset(d.code for d in self.defs.registry.space("dhcp4", 4)
                            if d.type == "string" and not d.array
                            and (d.in_kea_2_2 or not d.standard))

        def length4(q):
            if q.length is not None:
                return _u32(q.length)
            total = 236
            for opt in q.message.options:
                data = opt.data.rstrip(b"\0") if opt.code in strings else opt.data
                total += 2 + len(data)
            return _u32(total)
        return length4

    def op_pkt4(self, node, field):
        getters = {
            "mac": lambda q: q.message.mac,
            "hlen": lambda q: _u32(len(q.message.mac)),
            "htype": lambda q: _u32(q.message.htype),
            "ciaddr": lambda q: socket.inet_aton(q.message.ciaddr),
            "giaddr": lambda q: socket.inet_aton(q.message.giaddr),
            "yiaddr": lambda q: socket.inet_aton(q.message.yiaddr),
            "siaddr": lambda q: socket.inet_aton(q.message.siaddr),
            "msgtype": lambda q: _u32(q.message.msg_type or 0),
            "transid": lambda q: _u32(q.message.xid),
        }
        return getters[field], False

    def op_pkt6(self, node, field):
        getters = {
            "msgtype": lambda q: _u32(q.message.msg_type),
            "transid": lambda q: _u32(q.message.transaction_id),
        }
        return getters[field], False

    def op_relay6_field(self, node, nest, field):
        attr = "peer_address" if field == "peeraddr" else "link_address"

        def relay_field(q):
            relay = _relay(q, nest)
            if relay is None:
                return b""
            return socket.inet_pton(socket.AF_INET6, getattr(relay, attr))
        return relay_field, False

    # --- options -----------------------------------------------------------------
    def _present(self, repr_, lookup, render):
        """A closure for .exists/.hex/.text over ``lookup(q)`` -> payload or None."""
        if repr_ == "exists":
            return lambda q: lookup(q) is not None
        if repr_ == "hex":
            def hex_(q):
                data = lookup(q)
                return b"" if data is None else render[0](data)
            return hex_

        def text(q):
            data = lookup(q)
            return b"" if data is None else render[1](data)
        return text

    def _renderers(self, code, space):
        """(hex, text) functions for an option of ``code`` in ``space``: the hex of a
        string option loses trailing NULs because Kea re-packs its trimmed value."""
        d = self.defs.rendering_def(code, space)
        if d is not None and d.type == "string" and not d.array:
            strip = lambda data: data.rstrip(b"\0")
            return strip, strip
        defs = self.defs
        return (lambda data: data), (lambda data: option_text(defs, code, data, space))

    def op_option(self, node, code, repr_):
        if (self.universe, code) == (4, 43) and repr_ == "text":
            # Until Kea's deferred unpacking, option 43 is opaque bytes.
            defs = self.defs

            def text43(q):
                data = q.option(43)
                if data is None:
                    return b""
                return option_text(defs, 43, data, None, raw=not q.deferred_unpacked)
            return text43, False
        return self._present(repr_, lambda q: q.option(code), self._renderers(code, None)), False

    def op_sub_option(self, node, code, sub, repr_):
        vendor = code == VENDOR_OPTION[self.universe]
        if vendor and sub != 0:
            # option[125].option[c] reads the same sub-option as vendor[*].option[c].
            return self.op_vendor(node, 0, repr_, sub)
        lookup = self._suboption_lookup(code)
        space = "vendor" if vendor else self.defs.space_of_suboptions(code)
        renders = self._renderers(sub, space)
        return self._present(repr_, lambda q: lookup(q).get(sub), renders), False

    def op_relay4(self, node, sub, repr_):
        return self.op_sub_option(node, 82, sub, repr_)

    def _suboption_lookup(self, code):
        """A closure returning the {code: payload} sub-options of option ``code``."""
        universe = self.universe
        if code == VENDOR_OPTION[universe]:
            def vendor_subs(q):
                data = q.option(code)
                if data is None:
                    return {}
                parsed = q.cached(("vendor", code), lambda: vendor_suboptions(universe, data))
                return {} if parsed is None else parsed[1]
            return vendor_subs
        where = self.defs.suboption_offset(code)
        if where is None:
            return lambda q: {}
        offset, deferred = where
        width = 1 if universe == 4 else 2

        def subs(q):
            data = q.option(code)
            if data is None or (deferred and not q.deferred_unpacked):
                return {}
            return q.cached(("sub", code), lambda: parse_tlvs(data, width, offset))
        return subs

    def op_relay6(self, node, nest, code, repr_):
        def lookup(q):
            relay = _relay(q, nest)
            if relay is None or code == _RELAY_MSG:
                return None
            return relay.options.data(code)
        return self._present(repr_, lookup, self._renderers(code, None)), False

    def op_vendor(self, node, enterprise, repr_, sub):
        universe, code = self.universe, VENDOR_OPTION[self.universe]
        failure = False if repr_ == "exists" else b""

        def parsed(q):
            data = q.option(code)
            if data is None:
                return None
            info = q.cached(("vendor", code), lambda: vendor_suboptions(universe, data))
            if info is None or (enterprise and info[0] != enterprise):
                return None
            return info

        if repr_ == "enterprise":
            def vendor_enterprise(q):
                info = parsed(q)
                return failure if info is None else _u32(info[0])
            return vendor_enterprise, False
        if sub == 0:
            # Kea builds vendor[e].option[0] as the plain existence token.
            truth = True if repr_ == "exists" else b"true"

            def vendor_exists(q):
                return failure if parsed(q) is None else truth
            return vendor_exists, False
        defs = self.defs

        def vendor_option(q):
            info = parsed(q)
            data = None if info is None else info[1].get(sub)
            if repr_ == "exists":
                return data is not None
            if data is None:
                return b""
            if repr_ == "hex":
                return data
            return option_text(defs, sub, data, f"vendor-{info[0]}")
        return vendor_option, False

    def op_vendor_class(self, node, enterprise, field, index):
        universe, code = self.universe, VENDOR_CLASS_OPTION[self.universe]
        failure = False if field == "exists" else b""

        def parsed(q):
            data = q.option(code)
            if data is None:
                return None
            info = q.cached(("vclass", code), lambda: vendor_class_tuples(universe, data))
            if info is None or (enterprise and info[0] != enterprise):
                return None
            return info

        if field == "exists":
            return (lambda q: parsed(q) is not None), False
        if field == "enterprise":
            def enterprise_id(q):
                info = parsed(q)
                return failure if info is None else _u32(info[0])
            return enterprise_id, False

        def data(q):
            info = parsed(q)
            if info is None or index >= len(info[1]):
                return b""
            return info[1][index]
        return data, False


# Operators whose names are not identifiers.
_METHODS = {"==": "op_equal"}


def _relay(q, nest):
    relays = q.relays
    level = nest if nest >= 0 else len(relays) + nest
    if 0 <= level < len(relays):
        return relays[level]
    return None
