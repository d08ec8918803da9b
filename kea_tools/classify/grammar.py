"""PLY grammar for Kea's classification expressions (Kea 2.2 src/lib/eval/parser.yy).

The parser builds a small tree of :class:`Node`; :mod:`kea_tools.classify.compiler`
turns it into Python closures. As in Kea, the checks that need the configuration
(option names, ``member()`` classes, DHCPv4-only or DHCPv6-only terms, number
ranges) happen while parsing, so a bad expression is a configuration error with a
column, never a surprise on the first packet.

Like Kea's, the token stream starts with a marker, TOPLEVEL_BOOL or TOPLEVEL_STRING,
that says which kind of expression the caller wants: a class ``test`` must be a
boolean, a flex-id or template expression a string.
"""
import threading
from dataclasses import dataclass

import ply.lex as lex
import ply.yacc as yacc

from kea_tools.classify import lexer as _lexer
from kea_tools.classify.errors import ExpressionError

tokens = _lexer.tokens

# Kea 2.2: "+" binds loosest, then or, and, not. "==" is below "+" so that
# 'a' == 'b' + 'c' compares with the concatenation, as bison's default shift does.
precedence = (
    ("nonassoc", "EQUAL"),
    ("left", "PLUS"),
    ("left", "OR"),
    ("left", "AND"),
    ("right", "NOT"),
)

HOP_COUNT_LIMIT = 32
UINT32_MAX = 0xFFFFFFFF

# Bison lists expected tokens in declaration order; this is parser.yy's.
_DECLARED = (
    "$end LPAREN RPAREN NOT AND OR EQUAL OPTION RELAY4 RELAY6 MEMBER PEERADDR LINKADDR "
    "LBRACKET RBRACKET DOT TEXT HEX EXISTS PKT IFACE SRC DST LEN PKT4 CHADDR HLEN HTYPE "
    "CIADDR GIADDR YIADDR SIADDR SUBSTRING SPLIT ALL COMA CONCAT PLUS IFELSE TOHEXSTRING "
    "ADDRTOTEXT INT8TOTEXT INT16TOTEXT INT32TOTEXT UINT8TOTEXT UINT16TOTEXT UINT32TOTEXT "
    "PKT6 MSGTYPE TRANSID VENDOR_CLASS VENDOR ANY DATA ENTERPRISE TOPLEVEL_BOOL "
    "TOPLEVEL_STRING STRING INTEGER HEXSTRING OPTION_NAME IP_ADDRESS LCASE UCASE MATCH"
).split()
_ORDER = {name: i for i, name in enumerate(_DECLARED)}


@dataclass(slots=True)
class Node:
    """One operator or term: ``op`` names it, ``args`` are child nodes or
    constants, ``pos`` is its offset in the expression text."""

    op: str
    args: tuple
    pos: int = 0


class ParseContext:
    """What the grammar needs from the configuration while parsing."""

    def __init__(self, text, universe, option_code, class_defined):
        self.text = text
        self.universe = universe
        self._option_code = option_code
        self._class_defined = class_defined
        self.members = []

    def error(self, pos, message, length=1):
        line, col = _lexer.position(self.text, pos)
        raise ExpressionError(message, self.text, line, col, col + max(length, 1) - 1)

    def option_code(self, text, pos):
        n = int(text)
        limit = 255 if self.universe == 4 else 65535
        if not 0 <= n <= limit:
            self.error(pos, f"Option code has invalid value in {text}. "
                            f"Allowed range: 0..{limit}", len(text))
        return n

    def option_name(self, name, pos):
        code = self._option_code(name)
        if code is None:
            self.error(pos, f"option '{name}' is not defined", len(name))
        return code

    def uint(self, text, pos, limit):
        n = int(text)
        if not 0 <= n <= limit:
            self.error(pos, f"Invalid value in {text}. Allowed range: 0..{limit}", len(text))
        return n

    def nest_level(self, text, pos):
        n = int(text)
        if not -128 <= n <= 127:
            self.error(pos, f"Invalid value in {text}. Allowed range: -128..127", len(text))
        if self.universe != 6:
            self.error(pos, "Nest level invalid for DHCPv4 packets", len(text))
        if not -HOP_COUNT_LIMIT <= n < HOP_COUNT_LIMIT:
            self.error(pos, f"Nest level has invalid value in {text}. "
                            f"Allowed range: -32..31", len(text))
        return n

    def only(self, universe, word, pos):
        if self.universe != universe:
            self.error(pos, f"{word} can only be used in DHCPv{universe}.", len(word))

    def member(self, name, pos):
        if not self._class_defined(name):
            self.error(pos, f"Not defined client class '{name}'", len(name) + 2)
        self.members.append(name)


def _ctx(p):
    return p.parser.ctx


# --- start ---------------------------------------------------------------------

def p_start(p):
    """start : TOPLEVEL_BOOL bool_expr
             | TOPLEVEL_STRING string_expr"""
    p[0] = p[2]


# --- booleans ------------------------------------------------------------------

def p_bool_paren(p):
    "bool_expr : LPAREN bool_expr RPAREN"
    p[0] = p[2]


def p_bool_not(p):
    "bool_expr : NOT bool_expr"
    p[0] = Node("not", (p[2],), p.lexpos(1))


def p_bool_binary(p):
    """bool_expr : bool_expr AND bool_expr
                 | bool_expr OR bool_expr"""
    p[0] = Node(p[2], (p[1], p[3]), p.lexpos(2))


def p_bool_equal(p):
    "bool_expr : string_expr EQUAL string_expr"
    p[0] = Node("==", (p[1], p[3]), p.lexpos(2))


def p_bool_option(p):
    """bool_expr : OPTION LBRACKET option_code RBRACKET DOT EXISTS
                 | OPTION LBRACKET option_code RBRACKET DOT OPTION LBRACKET sub_option_code RBRACKET DOT EXISTS"""
    p[0] = _option_node(p, "exists")


def p_bool_relay4(p):
    "bool_expr : RELAY4 LBRACKET sub_option_code RBRACKET DOT EXISTS"
    p[0] = _relay4_node(p, "exists")


def p_bool_relay6(p):
    "bool_expr : RELAY6 LBRACKET nest_level RBRACKET DOT OPTION LBRACKET sub_option_code RBRACKET DOT EXISTS"
    p[0] = _relay6_node(p, "exists")


def p_bool_vendor_class(p):
    "bool_expr : VENDOR_CLASS LBRACKET enterprise_id RBRACKET DOT EXISTS"
    p[0] = Node("vendor-class", (p[3], "exists", 0), p.lexpos(1))


def p_bool_vendor(p):
    """bool_expr : VENDOR LBRACKET enterprise_id RBRACKET DOT EXISTS
                 | VENDOR LBRACKET enterprise_id RBRACKET DOT OPTION LBRACKET sub_option_code RBRACKET DOT EXISTS"""
    p[0] = _vendor_node(p, "exists")


def p_bool_member(p):
    "bool_expr : MEMBER LPAREN STRING RPAREN"
    name = p[3].decode("utf-8")
    _ctx(p).member(name, p.lexpos(3))
    p[0] = Node("member", (name,), p.lexpos(1))


def p_bool_match(p):
    "bool_expr : MATCH LPAREN STRING COMA string_expr RPAREN"
    p[0] = Node("match", (p[3], p[5], p.lexpos(3)), p.lexpos(1))


# --- strings -------------------------------------------------------------------

def p_string_literal(p):
    """string_expr : STRING
                   | HEXSTRING
                   | IP_ADDRESS"""
    p[0] = Node("const", (p[1],), p.lexpos(1))


def p_string_integer(p):
    "string_expr : INTEGER"
    n = _ctx(p).uint(p[1], p.lexpos(1), UINT32_MAX)
    p[0] = Node("const", (n.to_bytes(4, "big"),), p.lexpos(1))


def p_string_paren(p):
    "string_expr : LPAREN string_expr RPAREN"
    p[0] = p[2]


def p_string_option(p):
    """string_expr : OPTION LBRACKET option_code RBRACKET DOT option_repr_type
                   | OPTION LBRACKET option_code RBRACKET DOT OPTION LBRACKET sub_option_code RBRACKET DOT option_repr_type"""
    p[0] = _option_node(p, p[len(p) - 1])


def p_string_relay4(p):
    "string_expr : RELAY4 LBRACKET sub_option_code RBRACKET DOT option_repr_type"
    p[0] = _relay4_node(p, p[6])


def p_string_relay6(p):
    "string_expr : RELAY6 LBRACKET nest_level RBRACKET DOT OPTION LBRACKET sub_option_code RBRACKET DOT option_repr_type"
    p[0] = _relay6_node(p, p[11])


def p_string_relay6_field(p):
    "string_expr : RELAY6 LBRACKET nest_level RBRACKET DOT relay6_field"
    _ctx(p).only(6, "relay6", p.lexpos(1))
    p[0] = Node("relay6-field", (p[3], p[6]), p.lexpos(1))


def p_string_pkt(p):
    "string_expr : PKT DOT pkt_metadata"
    p[0] = Node("pkt", (p[3],), p.lexpos(1))


def p_string_pkt4(p):
    "string_expr : PKT4 DOT pkt4_field"
    _ctx(p).only(4, "pkt4", p.lexpos(1))
    p[0] = Node("pkt4", (p[3],), p.lexpos(1))


def p_string_pkt6(p):
    "string_expr : PKT6 DOT pkt6_field"
    _ctx(p).only(6, "pkt6", p.lexpos(1))
    p[0] = Node("pkt6", (p[3],), p.lexpos(1))


def p_string_substring(p):
    "string_expr : SUBSTRING LPAREN string_expr COMA INTEGER COMA length_expr RPAREN"
    p[0] = Node("substring", (p[3], p[5], p[7]), p.lexpos(1))


def p_length_expr(p):
    """length_expr : INTEGER
                   | ALL"""
    p[0] = p[1]


def p_string_split(p):
    "string_expr : SPLIT LPAREN string_expr COMA string_expr COMA INTEGER RPAREN"
    p[0] = Node("split", (p[3], p[5], p[7]), p.lexpos(1))


def p_string_concat(p):
    "string_expr : CONCAT LPAREN string_expr COMA string_expr RPAREN"
    p[0] = Node("concat", (p[3], p[5]), p.lexpos(1))


def p_string_plus(p):
    "string_expr : string_expr PLUS string_expr"
    p[0] = Node("concat", (p[1], p[3]), p.lexpos(2))


def p_string_ifelse(p):
    "string_expr : IFELSE LPAREN bool_expr COMA string_expr COMA string_expr RPAREN"
    p[0] = Node("ifelse", (p[3], p[5], p[7]), p.lexpos(1))


def p_string_hexstring(p):
    "string_expr : TOHEXSTRING LPAREN string_expr COMA string_expr RPAREN"
    p[0] = Node("hexstring", (p[3], p[5]), p.lexpos(1))


def p_string_unary(p):
    """string_expr : ADDRTOTEXT LPAREN string_expr RPAREN
                   | INT8TOTEXT LPAREN string_expr RPAREN
                   | INT16TOTEXT LPAREN string_expr RPAREN
                   | INT32TOTEXT LPAREN string_expr RPAREN
                   | UINT8TOTEXT LPAREN string_expr RPAREN
                   | UINT16TOTEXT LPAREN string_expr RPAREN
                   | UINT32TOTEXT LPAREN string_expr RPAREN
                   | LCASE LPAREN string_expr RPAREN
                   | UCASE LPAREN string_expr RPAREN"""
    p[0] = Node(p[1], (p[3],), p.lexpos(1))


def p_string_vendor_enterprise(p):
    """string_expr : VENDOR DOT ENTERPRISE
                   | VENDOR_CLASS DOT ENTERPRISE"""
    p[0] = Node(p[1], (0, "enterprise", 0), p.lexpos(1))


def p_string_vendor_option(p):
    "string_expr : VENDOR LBRACKET enterprise_id RBRACKET DOT OPTION LBRACKET sub_option_code RBRACKET DOT option_repr_type"
    p[0] = _vendor_node(p, p[11])


def p_string_vendor_class_data(p):
    """string_expr : VENDOR_CLASS LBRACKET enterprise_id RBRACKET DOT DATA
                   | VENDOR_CLASS LBRACKET enterprise_id RBRACKET DOT DATA LBRACKET INTEGER RBRACKET"""
    index = 0 if len(p) == 7 else _ctx(p).uint(p[8], p.lexpos(8), 255)
    p[0] = Node("vendor-class", (p[3], "data", index), p.lexpos(1))


# --- small pieces ----------------------------------------------------------------

def p_option_code(p):
    """option_code : INTEGER
                   | OPTION_NAME"""
    if p.slice[1].type == "INTEGER":
        p[0] = _ctx(p).option_code(p[1], p.lexpos(1))
    else:
        p[0] = _ctx(p).option_name(p[1], p.lexpos(1))


def p_sub_option_code(p):
    "sub_option_code : INTEGER"
    p[0] = _ctx(p).option_code(p[1], p.lexpos(1))


def p_option_repr_type(p):
    """option_repr_type : TEXT
                        | HEX"""
    p[0] = p[1]


def p_nest_level(p):
    "nest_level : INTEGER"
    p[0] = _ctx(p).nest_level(p[1], p.lexpos(1))


def p_enterprise_id(p):
    """enterprise_id : INTEGER
                     | ANY"""
    p[0] = 0 if p[1] == "*" else _ctx(p).uint(p[1], p.lexpos(1), UINT32_MAX)


def p_fields(p):
    """pkt_metadata : IFACE
                    | SRC
                    | DST
                    | LEN
       pkt4_field : CHADDR
                  | HLEN
                  | HTYPE
                  | CIADDR
                  | GIADDR
                  | YIADDR
                  | SIADDR
                  | MSGTYPE
                  | TRANSID
       pkt6_field : MSGTYPE
                  | TRANSID
       relay6_field : PEERADDR
                    | LINKADDR"""
    p[0] = p[1]


def _option_node(p, repr_):
    if len(p) == 7:
        return Node("option", (p[3], repr_), p.lexpos(1))
    return Node("sub-option", (p[3], p[8], repr_), p.lexpos(1))


def _relay4_node(p, repr_):
    _ctx(p).only(4, "relay4", p.lexpos(1))
    return Node("relay4", (p[3], repr_), p.lexpos(1))


def _relay6_node(p, repr_):
    _ctx(p).only(6, "relay6", p.lexpos(1))
    return Node("relay6", (p[3], p[8], repr_), p.lexpos(1))


def _vendor_node(p, repr_):
    # Kea: vendor[e].option[0] is the same token as vendor[e].exists.
    sub = p[8] if len(p) == 12 else 0
    return Node("vendor", (p[3], repr_, sub), p.lexpos(1))


def p_error(tok):
    parser = _STATE.parser
    ctx = parser.ctx
    if tok is None:
        pos, what, length, kind = len(ctx.text), "end of file", 1, "$end"
    else:
        pos, what = tok.lexpos, _lexer.TOKEN_NAMES.get(tok.type, tok.type)
        length = max(1, getattr(tok, "end", tok.lexpos + 1) - tok.lexpos)
        kind = tok.type
    message = f"syntax error, unexpected {what}"
    expected = _expected(parser, kind)
    if 0 < len(expected) <= 4:
        message += ", expecting " + " or ".join(
            _lexer.TOKEN_NAMES.get(t, t) for t in expected)
    ctx.error(pos, message, length)


def _expected(parser, kind):
    """The tokens bison would list as expected. Bison performs a state's default
    (most common) reduction whatever the lookahead, so it notices an error
    later than PLY does; replay those reductions from PLY's state first."""
    stack = list(parser.statestack) or [0]
    for _ in range(len(parser.action)):
        actions = parser.action[stack[-1]]
        reductions = [a for a in actions.values() if a < 0]
        if kind in actions or not reductions:
            break
        rule = max(set(reductions), key=lambda r: (reductions.count(r), r))
        prod = parser.productions[-rule]
        if prod.len:
            del stack[-prod.len:]
        stack.append(parser.goto[stack[-1]][prod.name])
    else:
        actions = {}
    reductions = [a for a in actions.values() if a < 0]
    default = max(set(reductions), key=lambda r: (reductions.count(r), r)) if reductions else None
    return sorted((t for t, a in actions.items() if t != "error" and a != default),
                  key=lambda t: _ORDER.get(t, len(_ORDER)))


class _State:
    """The parser, built once on first use; parsing is serialised by a lock
    because PLY keeps its state on the parser object."""

    def __init__(self):
        self.lock = threading.Lock()
        self.parser = None

    def get(self):
        if self.parser is None:
            import sys
            self.parser = yacc.yacc(module=sys.modules[__name__], start="start",
                                    write_tables=False, debug=False,
                                    errorlog=yacc.NullLogger())
        return self.parser


_STATE = _State()


class _TokenStream:
    """The lexer, preceded by the TOPLEVEL_BOOL/TOPLEVEL_STRING marker."""

    def __init__(self, text, top, extensions):
        self.lexer = _lexer.make_lexer(extensions)
        self.lexer.input(text)
        self.first = lex.LexToken()
        self.first.type, self.first.value = top, top
        self.first.lineno, self.first.lexpos, self.first.lexer = 1, 0, None

    def input(self, text):
        pass

    def token(self):
        if self.first is not None:
            tok, self.first = self.first, None
            return tok
        tok = self.lexer.token()
        if tok is not None:
            tok.end = self.lexer.lexpos  # for the caret under a bad token
        return tok


def parse(text, universe=4, kind="bool", option_code=None, class_defined=None,
          extensions=True):
    """Parse ``text`` into a :class:`Node` tree, raising ExpressionError.

    ``kind`` is "bool" (a class test) or "string". ``option_code(name)`` returns a
    code or None; ``class_defined(name)`` says whether member('name') may be used.
    ``extensions`` allows lcase, ucase (Kea 2.6) and match (Kea 2.7).
    Returns (tree, context) where context.members lists the classes referenced.
    """
    ctx = ParseContext(text, universe, option_code or (lambda name: None),
                       class_defined or (lambda name: True))
    top = "TOPLEVEL_BOOL" if kind == "bool" else "TOPLEVEL_STRING"
    with _STATE.lock:
        parser = _STATE.get()
        parser.ctx = ctx
        try:
            tree = parser.parse(text, lexer=_TokenStream(text, top, extensions))
        finally:
            parser.ctx = None
    return tree, ctx
