"""PLY lexer for the dhcpd.conf language (ISC DHCP common/conflex.c rules).

Tokens are ISC's: quoted strings, decimal numbers, names (letters, digits, ``-``,
``_``) and one-character punctuation. Addresses, MACs and dotted names are
sequences of these; the statement parser glues them back together, using each
token's ``ws`` flag (whitespace before it) the way ISC's ``next_raw_token`` does
for IPv6 literals. Keywords are not reserved here because ISC reserves them only
where the grammar expects one (``host server { }`` is legal). ``%`` is one token:
at the start of a statement it opens a keama directive, elsewhere it is modulo.
A lexical error does not raise: it becomes a final ERROR token (see tokenize()).
"""
import re

import ply.lex as lex

from kea_tools.errors import SourceError

tokens = ("STRING", "NAME")
literals = ";{}(),.:/=!~%+*&|^-<>[]?@$"

t_ignore = " \t\r\f\v"

_DECIMAL = re.compile(r"-?[0-9]+\Z")
_HEX_WORD = re.compile(r"[0-9a-fA-F]+\Z")
_ESCAPES = {"t": 9, "r": 13, "n": 10, "b": 8}


def t_newline(t):
    r"\n+"
    t.lexer.lineno += len(t.value)
    t.lexer.line_start = t.lexpos + len(t.value) - 1


def t_comment(t):
    r"\#[^\n]*"
    t.lexer.comments.append((t.lexer.lineno, t.value[1:].strip()))


def t_STRING(t):
    r'"(?:[^"\\]|\\(?:.|\n))*"'
    t.lexer.lineno += t.value.count("\n")
    t.value = unescape(t.value[1:-1], t)
    return t


# A string rule (no Python call per token); tokenize() tells a NUMBER (decimal
# digits, optionally led by '-') from a NAME.
t_NAME = r"-?[0-9]+(?![A-Za-z0-9_-])|[A-Za-z0-9_][A-Za-z0-9_-]*"


def t_error(t):
    col = t.lexpos - t.lexer.line_start
    if t.value[0] == '"':
        raise SourceError("unterminated string", t.lexer.filename, t.lexer.lineno, col)
    raise SourceError(f"unexpected character {t.value[0]!r}", t.lexer.filename, t.lexer.lineno, col)


def unescape(text, tok=None):
    """Decode ISC string escapes: \\t \\r \\n \\b, \\NNN octal, \\xHH, \\c -> c."""
    if "\\" not in text:
        return text.encode("latin-1", "replace")
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 >= n:
            out += c.encode("latin-1", "replace")
            i += 1
            continue
        e = text[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e in "0123" and re.match(r"[0-7]{3}", text[i + 1:i + 4]):
            out.append(int(text[i + 1:i + 4], 8))
            i += 4
        elif e == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += e.encode("latin-1", "replace")
            i += 2
    return bytes(out)


def is_hex_word(text):
    """ISC's NUMBER_OR_NAME: a token made only of hex digits (``0e``, ``ab``)."""
    return bool(_HEX_WORD.match(text))


_LEXER = None


def make_lexer(filename):
    """A fresh lexer for one file (tables built once, cloned per file)."""
    global _LEXER
    if _LEXER is None:
        import sys
        _LEXER = lex.lex(module=sys.modules[__name__], optimize=False, debug=False)
    lexer = _LEXER.clone()
    lexer.filename = filename
    lexer.lineno = 1
    lexer.line_start = -1
    lexer.comments = []
    return lexer


class Token:
    """One token with its place: type, value, line, col, start/end offsets, ws flag."""

    __slots__ = ("type", "value", "line", "col", "start", "end", "ws", "file")

    def __init__(self, type_, value, line, col, start, end, ws, file):
        self.type = type_
        self.value = value
        self.line = line
        self.col = col
        self.start = start
        self.end = end
        self.ws = ws
        self.file = file

    def __repr__(self):
        return f"Token({self.type}, {self.value!r}, {self.line}:{self.col})"

    @property
    def text(self):
        v = self.value
        return v.decode("latin-1") if isinstance(v, bytes) else v


def tokenize(text, filename):
    """Yield :class:`Token` objects for ``text``; comments are kept on the lexer."""
    lexer = make_lexer(filename)
    lexer.input(text)
    prev_end = -1
    try:
        for t in lexer:
            kind = t.type
            if kind == "STRING":
                end = lexer.lexpos
            else:
                value = t.value
                end = t.lexpos + len(value)
                if kind == "NAME" and (value[0] in "0123456789-") and _DECIMAL.match(value):
                    kind = "NUMBER"
            yield Token(kind, t.value, t.lineno, t.lexpos - lexer.line_start, t.lexpos, end,
                        t.lexpos != prev_end, filename)
            prev_end = end
    except SourceError as err:
        # ISC's parser reads tokens on demand, so what precedes a bad token is
        # interpreted (and may fail) first: the error ends the stream as a token.
        pos = lexer.lexpos
        yield Token("ERROR", err, err.line, err.col, pos, pos, True, filename)
