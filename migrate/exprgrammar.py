"""PLY grammar of ISC DHCP expressions (dhcp-eval(5)) with ISC's precedence.

Precedence follows common/tree.c ``op_val`` (higher binds tighter): ``& | ^``
(100) > ``= != ~= ~~`` (4) > ``and or`` (3, same level) > ``+ -`` (2) > ``* / %``
(1). ``not`` takes only the next term. The input is the word list of a statement
(see :mod:`kea_tools.migrate.grammar`); :func:`expr_tokens` regroups ISC's raw
tokens (colon-hex lists, ``!=``, dotted option names) first. The result is a
tuple tree ``(kind, ...)`` with a ``Token`` for location at the leaves.
"""
from dataclasses import dataclass

import ply.yacc as yacc

from kea_tools.migrate.lexer import is_hex_word

FUNCTIONS = {
    "substring", "suffix", "concat", "lcase", "ucase", "binary-to-ascii", "encode-int",
    "extract-int", "reverse", "pick-first-value", "pick", "packet", "gethostname",
    "gethostbyname", "v6relay", "defined",
}
NULLARY = {
    "known", "static", "hardware", "leased-address", "host-decl-name", "filename",
    "server-name", "null", "lease-time", "client-state",
}
CONSTANTS = {
    # client-state values (ISC dhcpd.h enum dhcp_state)
    "reboot": 1, "booting": 2, "select": 3, "request": 4, "bound": 5, "renew": 6, "rebind": 7,
    # DNS rcodes as ISC result codes (ISC_RESULTCLASS_DHCP = 6 << 16, result.h)
    "noerror": 0, "formerr": 393229, "servfail": 393230, "nxdomain": 393231, "notimp": 27,
    "refused": 393233, "yxdomain": 393234, "yxrrset": 393235, "nxrrset": 393236,
    "notauth": 393237, "notzone": 393238,
}

tokens = ("STRING", "HEX", "NUMBER", "NAME", "OPTION", "CONFIGOPTION", "EXISTS", "CHECK",
          "FUNC", "NULLARY", "CONST", "AND", "OR", "NOT", "NE", "REQ", "RIEQ")
literals = "=+-*/%&|^(),"

precedence = (
    ("left", "*", "/", "%"),
    ("left", "+", "-"),
    ("left", "AND", "OR"),
    ("left", "=", "NE", "REQ", "RIEQ"),
    ("left", "&", "|", "^"),
    ("right", "NOT"),
)


@dataclass(slots=True)
class ETok:
    type: str
    value: object
    tok: object  # the first source Token, for error locations
    lineno: int = 0
    lexpos: int = 0


def p_expr_binop(p):
    """expr : expr OR expr
            | expr AND expr
            | expr '=' expr
            | expr NE expr
            | expr REQ expr
            | expr RIEQ expr
            | expr '+' expr
            | expr '-' expr
            | expr '*' expr
            | expr '/' expr
            | expr '%' expr
            | expr '&' expr
            | expr '|' expr
            | expr '^' expr"""
    kind = p.slice[2].type
    p[0] = ("binop", _OPNAME.get(kind, kind), p[1], p[3])


_OPNAME = {"OR": "or", "AND": "and", "NE": "!=", "REQ": "~=", "RIEQ": "~~"}


def p_expr_not(p):
    "expr : NOT expr"
    p[0] = ("not", p[2])


def p_expr_paren(p):
    "expr : '(' expr ')'"
    p[0] = p[2]


def p_expr_string(p):
    "expr : STRING"
    p[0] = ("data", p.slice[1].value)


def p_expr_hex(p):
    "expr : HEX"
    p[0] = ("data", p.slice[1].value)


def p_expr_number(p):
    "expr : NUMBER"
    p[0] = ("number", p.slice[1].value, p.slice[1].tok)


def p_expr_option(p):
    """expr : OPTION
            | CONFIGOPTION
            | EXISTS"""
    kind = {"OPTION": "option", "CONFIGOPTION": "config-option", "EXISTS": "exists"}[p.slice[1].type]
    p[0] = (kind, p.slice[1].value, p.slice[1].tok)


def p_expr_check(p):
    "expr : CHECK"
    p[0] = ("check", p.slice[1].value, p.slice[1].tok)


def p_expr_nullary(p):
    "expr : NULLARY"
    p[0] = (p.slice[1].value,)


def p_expr_const(p):
    "expr : CONST"
    p[0] = ("number", CONSTANTS[p.slice[1].value], p.slice[1].tok)


def p_expr_func(p):
    "expr : FUNC '(' args ')'"
    p[0] = ("call", p.slice[1].value, p[3], p.slice[1].tok)


def p_expr_userfunc(p):
    "expr : NAME '(' args ')'"
    p[0] = ("funcall", p.slice[1].value, p[3], p.slice[1].tok)


def p_expr_variable(p):
    "expr : NAME"
    p[0] = ("variable", p.slice[1].value, p.slice[1].tok)


def p_args(p):
    """args : arglist
            | empty"""
    p[0] = p[1] if p[1] is not None else []


def p_arglist(p):
    """arglist : arglist ',' expr
               | expr"""
    if len(p) == 2:
        p[0] = [p[1]]
    else:
        p[1].append(p[3])
        p[0] = p[1]


def p_empty(p):
    "empty :"


class ExprError(Exception):
    pass


def p_error(t):
    if t is None:
        raise ExprError("unexpected end of expression")
    raise ExprError(f"unexpected {t.tok.text!r} in expression", t.tok)


def _hex_run(words, i):
    """Length of a colon-separated hex list starting at words[i] (0 if none)."""
    n = len(words)
    j = i
    if not (words[j].type in ("NUMBER", "NAME") and is_hex_word(words[j].text) and len(words[j].text) <= 2):
        return 0
    j += 1
    while j + 1 < n and words[j].type == ":" and words[j + 1].type in ("NUMBER", "NAME") \
            and is_hex_word(words[j + 1].text) and len(words[j + 1].text) <= 2:
        j += 2
    return j - i if j - i > 1 else 0


def option_name(words, i):
    """Read ``[SPACE.]NAME`` at words[i]; returns (space or None, name, next index)."""
    if i >= len(words) or words[i].type != "NAME":
        raise ExprError("expecting an option name", words[i] if i < len(words) else None)
    if i + 2 < len(words) and words[i + 1].type == "." and words[i + 2].type == "NAME":
        return words[i].text, words[i + 2].text, i + 3
    return None, words[i].text, i + 1


def expr_tokens(words):
    """Regroup raw dhcpd.conf tokens into expression tokens."""
    out = []
    i, n = 0, len(words)
    while i < n:
        w = words[i]
        t = w.type
        if t == "STRING":
            out.append(ETok("STRING", w.value, w))
            i += 1
            continue
        run = _hex_run(words, i)
        if run:
            octets = [words[k].text for k in range(i, i + run, 2)]
            out.append(ETok("HEX", bytes(int(o, 16) for o in octets), w))
            i += run
            continue
        if t == "NUMBER":
            out.append(ETok("NUMBER", int(w.text), w))
            i += 1
            continue
        if t == "NAME":
            low = w.text.lower()
            if low in ("and", "or", "not"):
                out.append(ETok(low.upper(), low, w))
                i += 1
            elif low in ("option", "config-option", "exists"):
                space, name, i = option_name(words, i + 1)
                kind = {"option": "OPTION", "config-option": "CONFIGOPTION", "exists": "EXISTS"}[low]
                out.append(ETok(kind, (space, name), w))
            elif low == "check":
                if i + 1 >= n or words[i + 1].type != "STRING":
                    raise ExprError("expecting a class name", w)
                out.append(ETok("CHECK", words[i + 1].text, w))
                i += 2
            elif low in FUNCTIONS and i + 1 < n and words[i + 1].type == "(":
                out.append(ETok("FUNC", "pick-first-value" if low == "pick" else low, w))
                i += 1
            elif low in NULLARY:
                out.append(ETok("NULLARY", low, w))
                i += 1
            elif low in CONSTANTS:
                out.append(ETok("CONST", low, w))
                i += 1
            else:
                out.append(ETok("NAME", w.text, w))
                i += 1
            continue
        if t == "!" and i + 1 < n and words[i + 1].type == "=":
            out.append(ETok("NE", "!=", w))
            i += 2
            continue
        if t == "~" and i + 1 < n and words[i + 1].type in ("=", "~"):
            out.append(ETok("REQ" if words[i + 1].type == "=" else "RIEQ", "~", w))
            i += 2
            continue
        if t in literals:
            out.append(ETok(t, t, w))
            i += 1
            continue
        raise ExprError(f"unexpected {w.text!r} in expression", w)
    return out


class _Feed:
    def __init__(self, toks):
        self._it = iter(toks)

    def token(self):
        return next(self._it, None)


_PARSER = None


def parse_expression(words):
    """Parse a word list as one ISC expression; raises ExprError(message, token)."""
    global _PARSER
    if _PARSER is None:
        import sys
        _PARSER = yacc.yacc(module=sys.modules[__name__], start="expr", write_tables=False,
                            debug=False, errorlog=yacc.NullLogger())
    toks = expr_tokens(words)
    if not toks:
        raise ExprError("expecting an expression", words[0] if words else None)
    return _PARSER.parse(lexer=_Feed(toks))
