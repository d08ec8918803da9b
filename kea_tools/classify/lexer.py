"""PLY lexer for Kea's classification expressions (Kea 2.2 src/lib/eval/lexer.ll).

Flex picks the longest match among all rules, and a rule earlier in the file wins a
tie; PLY tries its rules in order instead. Everything that starts like a word or a
number therefore goes through one rule, :func:`t_LEXEME`, which runs flex's choice
by hand: ``notmember('x')`` is ``not`` then ``member`` as in Kea, ``fe80::1`` is an
address, and a name followed by ``]`` is an option name even when it is spelled
like a keyword (``option[vendor-class]``).
"""
import re
import socket

import ply.lex as lex

from kea_tools.classify.errors import ExpressionError

# Kea 2.2 keywords, plus lcase/ucase (Kea 2.6) and match (Kea 2.7).
KEYWORDS = {
    "option": "OPTION", "relay4": "RELAY4", "relay6": "RELAY6",
    "peeraddr": "PEERADDR", "linkaddr": "LINKADDR",
    "text": "TEXT", "hex": "HEX", "exists": "EXISTS",
    "pkt": "PKT", "iface": "IFACE", "src": "SRC", "dst": "DST", "len": "LEN",
    "pkt4": "PKT4", "mac": "CHADDR", "hlen": "HLEN", "htype": "HTYPE",
    "ciaddr": "CIADDR", "giaddr": "GIADDR", "yiaddr": "YIADDR", "siaddr": "SIADDR",
    "pkt6": "PKT6", "msgtype": "MSGTYPE", "transid": "TRANSID",
    "vendor": "VENDOR", "vendor-class": "VENDOR_CLASS", "data": "DATA",
    "enterprise": "ENTERPRISE",
    "substring": "SUBSTRING", "split": "SPLIT", "all": "ALL", "concat": "CONCAT",
    "ifelse": "IFELSE", "hexstring": "TOHEXSTRING", "addrtotext": "ADDRTOTEXT",
    "int8totext": "INT8TOTEXT", "int16totext": "INT16TOTEXT",
    "int32totext": "INT32TOTEXT", "uint8totext": "UINT8TOTEXT",
    "uint16totext": "UINT16TOTEXT", "uint32totext": "UINT32TOTEXT",
    "not": "NOT", "and": "AND", "or": "OR", "member": "MEMBER",
    "lcase": "LCASE", "ucase": "UCASE", "match": "MATCH",
}

tokens = (
    "STRING", "HEXSTRING", "INTEGER", "OPTION_NAME", "IP_ADDRESS",
    "EQUAL", "DOT", "LPAREN", "RPAREN", "LBRACKET", "RBRACKET", "COMA", "ANY", "PLUS",
    "TOPLEVEL_BOOL", "TOPLEVEL_STRING",
) + tuple(sorted(set(KEYWORDS.values())))

# How bison names each token in "unexpected X, expecting Y" messages (it keeps the
# quotes of "," only).
TOKEN_NAMES = {
    "STRING": "constant string", "HEXSTRING": "constant hexstring",
    "INTEGER": "integer", "OPTION_NAME": "option name", "IP_ADDRESS": "ip address",
    "EQUAL": "==", "DOT": ".", "LPAREN": "(", "RPAREN": ")", "LBRACKET": "[",
    "RBRACKET": "]", "COMA": '","', "ANY": "*", "PLUS": "+",
    "$end": "end of file",
    **{kind: word for word, kind in KEYWORDS.items()},
}

# Keywords Kea added after 2.2; a lexer built with extensions=False (Kea 2.2
# exactly) does not know them.
LATER_KEYWORDS = frozenset(("lcase", "ucase", "match"))

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# Word-like rules in lexer.ll order (the order breaks ties between equal lengths).
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_INT = re.compile(r"-?[0-9]+")
# The name's trailing context: blanks, then "]" (which flex counts in the match
# length but leaves in the input).
_NAME = re.compile(r"([A-Za-z](?:[-_A-Za-z0-9]*[A-Za-z0-9])?)[ \t\n]*(?=\])")
_ADDR4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_ADDR6 = re.compile(r"[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]*")

t_ignore = " \t"
t_EQUAL = r"=="
t_DOT = r"\."
t_LPAREN = r"\("
t_RPAREN = r"\)"
t_LBRACKET = r"\["
t_RBRACKET = r"\]"
t_COMA = r","
t_ANY = r"\*"
t_PLUS = r"\+"


def t_newline(t):
    r"\n+"
    t.lexer.lineno += len(t.value)


def t_STRING(t):
    r"'[^'\n]*'"
    t.value = t.value[1:-1].encode("utf-8")
    return t


def _candidates(data, pos, extensions=True):
    """(match length, rule order, token type, consumed length) for every rule
    that matches at ``pos``."""
    out = []
    for order, (kind, regex) in enumerate((("HEXSTRING", _HEX), ("INTEGER", _INT))):
        m = regex.match(data, pos)
        if m:
            out.append((m.end() - pos, order, kind, m.end() - pos))
    m = _NAME.match(data, pos)
    if m:
        out.append((m.end() + 1 - pos, 2, "OPTION_NAME", m.end() - pos))
    for regex in (_ADDR4, _ADDR6):
        m = regex.match(data, pos)
        if m:
            out.append((m.end() - pos, 3, "IP_ADDRESS", m.end() - pos))
    for word, kind in KEYWORDS.items():
        if data.startswith(word, pos) and (extensions or word not in LATER_KEYWORDS):
            out.append((len(word), 4, kind, len(word)))
    return out


def t_LEXEME(t):
    r"[-0-9A-Za-z:]"
    data, pos = t.lexer.lexdata, t.lexpos
    found = _candidates(data, pos, getattr(t.lexer, "extensions", True))
    if not found:
        _fail(t.lexer, pos, 1, f"Invalid character: {data[pos]}")
    # Longest match first; among equals the earliest rule.
    _, _, kind, consumed = max(found, key=lambda c: (c[0], -c[1]))
    text = data[pos:pos + consumed]
    t.lexer.lexpos = pos + consumed
    t.type = kind
    if kind == "HEXSTRING":
        digits = text[2:]
        t.value = bytes.fromhex(digits if len(digits) % 2 == 0 else "0" + digits)
    elif kind == "INTEGER":
        value = int(text)
        if not INT64_MIN <= value <= INT64_MAX:
            _fail(t.lexer, pos, consumed, f"Failed to convert {text} to an integer.")
        t.value = text
    elif kind == "OPTION_NAME":
        t.lexer.lineno += text.count("\n")
        t.value = text.rstrip(" \t\n")
    elif kind == "IP_ADDRESS":
        t.value = _inet_pton(text)
        if t.value is None:
            _fail(t.lexer, pos, consumed, f"Failed to convert {text} to an IP address.")
    else:
        t.value = text
    return t


def _inet_pton(text):
    """The address's bytes as Kea's IOAddress reads it (inet_pton), or None."""
    for family in (socket.AF_INET6, socket.AF_INET):
        try:
            return socket.inet_pton(family, text)
        except OSError:
            pass
    return None


def t_error(t):
    _fail(t.lexer, t.lexpos, 1, f"Invalid character: {t.value[0]}")


def _fail(lexer, pos, length, message):
    line, col = position(lexer.lexdata, pos)
    raise ExpressionError(message, lexer.lexdata, line, col, col + length - 1)


def position(data, pos):
    """1-based (line, column) of offset ``pos`` in ``data``."""
    line = data.count("\n", 0, pos) + 1
    col = pos - (data.rfind("\n", 0, pos) + 1) + 1
    return line, col


_LEXER = None


def make_lexer(extensions=True):
    """A fresh lexer (``extensions``: also the keywords of Kea after 2.2); the
    master regex is built on first use only."""
    global _LEXER
    if _LEXER is None:
        import sys
        _LEXER = lex.lex(module=sys.modules[__name__], optimize=False, debug=False)
    lexer = _LEXER.clone()
    lexer.extensions = extensions
    return lexer


def tokenize(text):
    """All tokens of ``text`` as (type, value, offset): for tests and debugging."""
    lexer = make_lexer()
    lexer.input(text)
    return [(tok.type, tok.value, tok.lexpos) for tok in iter(lexer.token, None)]
