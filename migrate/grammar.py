"""PLY grammar of dhcpd.conf's block structure.

dhcpd.conf is a list of statements, each a run of words ended by ``;`` or by a
``{ ... }`` block (dhcpd.conf(5)). Keywords are reserved only where ISC's
recursive parser expects one, so this LALR grammar stops at that structure; the
meaning of each statement (declarations, parameters, options, expressions) is
decided by :mod:`kea_tools.migrate.confparse`, which also runs the PLY
expression grammar of :mod:`kea_tools.migrate.exprgrammar`.
"""
from dataclasses import dataclass, field

import ply.yacc as yacc

from kea_tools.errors import SourceError
from kea_tools.migrate import lexer as _lexer

tokens = _lexer.tokens + ("PUNCT",)


@dataclass(slots=True)
class Stmt:
    """One statement: its words, its block (None for ``;``), and where it ends."""

    words: list
    body: list = None
    end: object = None
    open: object = None
    file: str = ""
    text: str = ""

    @property
    def line(self):
        return self.words[0].line if self.words else self.end.line

    @property
    def col(self):
        return self.words[0].col if self.words else self.end.col


def p_config(p):
    "config : statements"
    p[0] = p[1]


def p_statements(p):
    """statements : statements statement
                  | empty"""
    if len(p) == 2:
        p[0] = []
    else:
        p[1].append(p[2])
        p[0] = p[1]


def p_statement_simple(p):
    "statement : words ';'"
    p[0] = Stmt(p[1], None, p[2])


def p_statement_block(p):
    "statement : words '{' statements '}'"
    p[0] = Stmt(p[1], p[3], p[4], p[2])


def p_words(p):
    """words : words word
             | empty"""
    if len(p) == 2:
        p[0] = []
    else:
        p[1].append(p[2])
        p[0] = p[1]


def p_word(p):
    """word : STRING
            | NUMBER
            | NAME
            | PUNCT"""
    p[0] = p[1]


def p_empty(p):
    "empty :"


def p_error(tok):
    if tok is None:
        raise SourceError("unexpected end of file (missing '}')", _state.filename,
                          _state.last_line, 0)
    t = tok.value
    raise SourceError(f"unexpected '{t.text}'", t.file, t.line, t.col)


class _State:
    filename = "<input>"
    last_line = 1


_state = _State()
_PARSER = None


class _PlyTok:
    __slots__ = ("type", "value", "lineno", "lexpos", "lexer")

    def __init__(self, tok, structural=True):
        if tok.type in ("STRING", "NUMBER", "NAME") or (structural and tok.type in ";{}"):
            self.type = tok.type
        else:
            self.type = "PUNCT"
        self.value = tok
        self.lineno = tok.line
        self.lexpos = tok.start


class _Feed:
    """Feeds tokens to the parser; braces of an option record type are words.

    ``option x code 1 = { boolean, text };`` is the one place where ``{ }`` is not a
    block, so braces that follow ``code N =`` are passed on as punctuation.
    """

    def __init__(self, toks):
        self._it = iter(toks)
        self._recent = []
        self._record = 0

    def token(self):
        tok = next(self._it, None)
        if tok is None:
            return None
        _state.last_line = tok.line
        structural = True
        if self._record:
            structural = False
            if tok.type == "{":
                self._record += 1
            elif tok.type == "}":
                self._record -= 1
        elif tok.type == "{" and len(self._recent) >= 3 and self._recent[-1].type == "=" \
                and self._recent[-3].type == "NAME" and self._recent[-3].text.lower() == "code":
            self._record = 1
            structural = False
        if structural and tok.type in ";{}":
            self._recent = []
        else:
            self._recent.append(tok)
        return _PlyTok(tok, structural)


def parse_text(text, filename):
    """Parse ``text`` into a list of :class:`Stmt` with source text attached."""
    global _PARSER
    if _PARSER is None:
        import sys
        _PARSER = yacc.yacc(module=sys.modules[__name__], start="config",
                            write_tables=False, debug=False, errorlog=yacc.NullLogger())
    _state.filename = filename
    _state.last_line = 1
    toks = list(_lexer.tokenize(text, filename))
    stmts = _PARSER.parse(lexer=_Feed(toks), tokenfunc=None) if toks else []
    _attach(stmts, text, filename)
    return stmts


def _attach(stmts, text, filename):
    for s in stmts:
        s.file = filename
        first = s.words[0].start if s.words else (s.open or s.end).start
        s.text = text[first:s.end.end]
        if s.body is not None:
            _attach(s.body, text, filename)
