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
    broken: SourceError = None   # set when the file's lexical error cut this statement short

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

    At the lexer's ERROR token the feed closes what is open (the statement being
    read, then each block) with tokens whose value is None, so the parse ends with
    the statements read so far and the cut ones marked ``broken``.
    """

    def __init__(self, toks):
        self._toks = toks
        self._i = 0
        self._depth = 0
        self._last = None
        self._closing = None
        self.error = None

    def token(self):
        if self._closing is not None:
            return self._closing.pop(0) if self._closing else None
        tok = self._next()
        if tok is not None:
            self._last = tok.type
        return tok

    def _close(self, err_tok):
        self.error = err_tok.value
        closers = [";"] if self._last == "WORDS" else []
        closers += ["}"] * self._depth
        self._closing = [_PlyTok(c, _lexer.Token(c, None, err_tok.line, err_tok.col, err_tok.start,
                                                 err_tok.end, True, err_tok.file), err_tok)
                         for c in closers]
        return self._closing.pop(0) if self._closing else None

    def _next(self):
        toks = self._toks
        n = len(toks)
        i = self._i
        if i >= n:
            return None
        tok = toks[i]
        if tok.type in ";{}":
            self._i = i + 1
            _state.last_line = tok.line
            self._depth += (tok.type == "{") - (tok.type == "}")
            return _PlyTok(tok.type, tok, tok)
        if tok.type == "ERROR":
            self._i = n
            return self._close(tok)
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
            elif t in ";{}" or t == "ERROR":
                break
            i += 1
        self._i = i
        _state.last_line = toks[i - 1].line
        return _PlyTok("WORDS", toks[start:i], toks[start])


@dataclass(slots=True)
class Parsed:
    """A file's statements and the lexical error that ended it early, if any."""

    stmts: list
    error: SourceError = None


def parse(text, filename):
    """Parse ``text`` into :class:`Stmt` objects with source text attached.

    A lexical error does not raise here: the statements before it are returned with
    it, so that the caller interprets them first, as ISC's parser does."""
    global _PARSER
    if _PARSER is None:
        import sys
        _PARSER = yacc.yacc(module=sys.modules[__name__], start="config",
                            write_tables=False, debug=False, errorlog=yacc.NullLogger())
    _state.filename = filename
    _state.last_line = 1
    toks = list(_lexer.tokenize(text, filename))
    feed = _Feed(toks)
    stmts = _PARSER.parse(lexer=feed, tokenfunc=None) if toks else []
    _attach(stmts, text, filename, feed.error)
    return Parsed(stmts, feed.error)


def parse_text(text, filename):
    """Parse ``text`` into a list of :class:`Stmt`; a lexical error raises."""
    parsed = parse(text, filename)
    if parsed.error is not None:
        raise parsed.error
    return parsed.stmts


def _attach(stmts, text, filename, error):
    for s in stmts:
        s.file = filename
        first = s.words[0].start if s.words else (s.open or s.end).start
        s.text = text[first:s.end.end]
        if s.end.value is None:
            s.broken = error
        if s.body is not None:
            _attach(s.body, text, filename, error)
