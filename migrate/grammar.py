"""PLY grammar of dhcpd.conf's block structure.

dhcpd.conf is a list of statements, each a run of words ended by ``;`` or by a
``{ ... }`` block (dhcpd.conf(5)). The token feed hands the grammar each run of
words between ``;``, ``{`` and ``}`` as one WORDS token (the lexer's tokens inside). Keywords are reserved only where ISC's
recursive parser expects one, so this LALR grammar stops at that structure; the
meaning of each statement (declarations, parameters, options, expressions) is
decided by :mod:`kea_tools.migrate.confparse`, which also runs the PLY
expression grammar of :mod:`kea_tools.migrate.exprgrammar`.
"""
from dataclasses import dataclass

import ply.yacc as yacc

from kea_tools.errors import SourceError
from kea_tools.migrate import lexer as _lexer

tokens = ("WORDS",)


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
    """words : WORDS
             | empty"""
    p[0] = p[1] if p[1] is not None else []


def p_empty(p):
    "empty :"


def p_error(tok):
    if tok is None:
        raise SourceError("unexpected end of file (missing '}')", _state.filename,
                          _state.last_line, 0)
    t = tok.value[0] if isinstance(tok.value, list) else tok.value
    raise SourceError(f"unexpected '{t.text}'", t.file, t.line, t.col)


class _State:
    filename = "<input>"
    last_line = 1


_state = _State()
_PARSER = None


class _PlyTok:
    __slots__ = ("type", "value", "lineno", "lexpos", "lexer")

    def __init__(self, type_, value, tok):
        self.type = type_
        self.value = value
        self.lineno = tok.line
        self.lexpos = tok.start


class _Feed:
    """Feeds the parser: ``;``, ``{``, ``}`` and WORDS runs in between.

    ``option x code 1 = { boolean, text };`` is the one place where ``{ }`` is not a
    block, so braces that follow ``code N =`` stay inside the run of words.
    """

    def __init__(self, toks):
        self._toks = toks
        self._i = 0

    def token(self):
        toks = self._toks
        n = len(toks)
        i = self._i
        if i >= n:
            return None
        tok = toks[i]
        if tok.type in ";{}":
            self._i = i + 1
            _state.last_line = tok.line
            return _PlyTok(tok.type, tok, tok)
        start = i
        record = 0
        while i < n:
            t = toks[i].type
            if record:
                if t == "{":
                    record += 1
                elif t == "}":
                    record -= 1
            elif t == "{" and i - start >= 3 and toks[i - 1].type == "=" \
                    and toks[i - 3].type == "NAME" and toks[i - 3].value.lower() == "code":
                record = 1
            elif t in ";{}":
                break
            i += 1
        self._i = i
        _state.last_line = toks[i - 1].line
        return _PlyTok("WORDS", toks[start:i], toks[start])


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
