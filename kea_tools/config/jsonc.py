"""Kea's JSON dialect: comments, ``<?include?>``, extra commas, ``.5`` reals.

A configuration is read in two layers.  :func:`read_source` expands includes and
blanks out comments (keeping every character's offset, so positions survive) and
records which file each stretch of the combined text came from.  :func:`parse`
turns the combined text into plain dicts and lists: it tries the C ``json``
decoder first, because a 50,000-reservation file must load in well under a
second, and falls back to :class:`PositionParser` for Kea's extensions (extra
commas, ``.5``) and for every syntax error, which it reports as
``file:line:col``.  Semantic errors found later carry a JSON path; :meth:`Source.
locate` re-parses with positions (only then) and maps the path to a place.
"""
from __future__ import annotations

import json
import os
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from kea_tools.errors import SourceError

# Kea's lexer stops at ten nested includes, a guard against recursion.
MAX_INCLUDE_DEPTH = 10

# Strings are matched first so that comment starters inside them stay text.
_SPECIAL = re.compile(
    r'"(?:[^"\\\n]|\\.)*"'
    r"|(?P<line>(?://|\#)[^\n]*)"
    r"|(?P<block>/\*[\s\S]*?\*/)"
    r"|(?P<open>/\*)"
    r'|(?P<include><\?include\s*"(?P<path>[^"]*)"\s*\?>)'
)
_NOT_NEWLINE = re.compile(r"[^\n]")
_CANDIDATE = re.compile(r"#|//|/\*|<\?")


@dataclass(slots=True)
class SourceFile:
    """One file that contributed text: its name (as the user spelt it) and text."""

    name: str
    text: str
    line_starts: list[int] | None = None

    def line_col(self, offset):
        """1-based line and column of ``offset``."""
        if self.line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self.line_starts = starts
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1


@dataclass(slots=True)
class Source:
    """The combined text of a configuration and the map back to its files.

    ``segments`` is a sorted list of ``(combined_offset, file_index, file_offset)``:
    text from ``combined_offset`` up to the next segment came from that file.
    """

    text: str
    files: list[SourceFile]
    segments: list[tuple[int, int, int]]
    _starts: list[int] = field(default_factory=list)
    _shadow: object = None

    def where(self, offset):
        """``(file name, line, col)`` of a combined-text offset."""
        if not self._starts:
            self._starts = [seg[0] for seg in self.segments]
        i = max(bisect_right(self._starts, offset) - 1, 0)
        start, file_index, file_offset = self.segments[i]
        src = self.files[file_index]
        line, col = src.line_col(file_offset + offset - start)
        return src.name, line, col

    def error(self, message, offset):
        name, line, col = self.where(offset)
        return SourceError(message, name, line, col)

    def locate(self, path, key=False):
        """Combined offset of the value at JSON ``path`` (of its key with ``key``).

        The path may stop short (a missing key): the deepest existing node is
        returned, which is where Kea points for a missing parameter too.
        """
        if self._shadow is None:
            self._shadow = PositionParser(self).parse()[1]
        node = self._shadow
        offset = node[0]
        key_offset = offset
        for step in path:
            children = node[1]
            if isinstance(step, str) and isinstance(children, dict) and step in children:
                key_offset, node = children[step]
            elif isinstance(step, int) and isinstance(children, list) and 0 <= step < len(children):
                node = children[step]
                key_offset = node[0]
            else:
                return offset
            offset = node[0]
        return key_offset if key else offset


def read_source(path, *, text=None):
    """Read ``path``, expanding includes and blanking comments.

    Includes are resolved as Kea does (relative to the current directory), and,
    when that file does not exist, relative to the including file's directory.
    """
    files: list[SourceFile] = []
    segments: list[tuple[int, int, int]] = []
    pieces: list[str] = []
    length = [0]

    def emit(chunk, file_index, file_offset):
        if chunk:
            segments.append((length[0], file_index, file_offset))
            pieces.append(chunk)
            length[0] += len(chunk)

    def expand(name, body, depth):
        index = len(files)
        files.append(SourceFile(name, body))
        # Only lines holding a comment or include starter need the full scan; a
        # line start is always outside any string (JSON strings cannot span lines).
        done = 0
        pos = 0
        while True:
            cand = _CANDIDATE.search(body, pos)
            if cand is None:
                break
            start = max(body.rfind("\n", 0, cand.start()) + 1, done)
            line_end = body.find("\n", cand.start())
            pos = len(body) if line_end < 0 else line_end
            for m in _SPECIAL.finditer(body, start):
                if m.start() >= pos:
                    break
                kind = m.lastgroup
                if kind is None:
                    continue
                if kind == "open":
                    line, col = files[index].line_col(m.start())
                    raise SourceError("comment not closed", name, line, col)
                emit(body[done:m.start()], index, done)
                if kind == "include":
                    if depth >= MAX_INCLUDE_DEPTH:
                        line, col = files[index].line_col(m.start())
                        raise SourceError("too many nested include", name, line, col)
                    target = _include_path(m.group("path"), name)
                    try:
                        with open(target, encoding="utf-8") as f:
                            inner = f.read()
                    except (OSError, UnicodeDecodeError) as err:
                        line, col = files[index].line_col(m.start())
                        raise SourceError(f"can't open include file {m.group('path')}: "
                                          f"{getattr(err, 'strerror', None) or err}",
                                          name, line, col) from None
                    expand(target, inner, depth + 1)
                else:
                    emit(_NOT_NEWLINE.sub(" ", m.group()), index, m.start())
                done = m.end()
                if done > pos:
                    pos = done
                    break
        emit(body[done:], index, done)

    if text is None:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise SourceError("configuration file not found", path) from None
        except (OSError, UnicodeDecodeError) as err:
            raise SourceError(f"cannot read configuration: {getattr(err, 'strerror', None) or err}",
                              path) from None
    expand(str(path), text, 0)
    if not segments:
        segments.append((0, 0, 0))
    return Source("".join(pieces), files, segments)


def _include_path(target, including):
    if os.path.isabs(target) or os.path.exists(target):
        return target
    beside = os.path.join(os.path.dirname(including), target)
    return beside if os.path.exists(beside) else target


class _Fallback(Exception):
    """The fast decoder met something only the position parser handles."""


def _pairs(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _Fallback
    return d


def _no_constant(_name):
    raise _Fallback


def parse(source, warnings=None):
    """Parse a :class:`Source` into plain JSON values.

    Kea's warnings (extra commas) are appended to ``warnings`` as strings.
    """
    try:
        return json.loads(source.text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except (ValueError, _Fallback, RecursionError):
        pass
    value, shadow = PositionParser(source, warnings).parse()
    source._shadow = shadow
    return value


# One token per match: leading whitespace, then a string, number, word or mark.
_TOKEN = re.compile(
    r'[ \t\r\n]*(?:'
    r'(?P<s>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")'
    r'|(?P<n>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)'
    r'|(?P<w>[A-Za-z_][A-Za-z0-9_]*)'
    r'|(?P<m>[{}\[\]:,])'
    r'|(?P<end>$)'
    r'|(?P<bad>"|.))'
)
_WORDS = {"true": True, "false": False, "null": None}
_NAMES = {"s": "constant string", "n": "number", "w": "word", "m": None, "end": "end of file"}


class PositionParser:
    """Recursive-descent JSON parser that remembers where every value starts.

    It returns ``(value, shadow)``: the shadow mirrors the value, each node being
    ``(offset, children)`` where children is ``{key: (key_offset, node)}`` for a
    map, ``[node, ...]`` for a list and None for a scalar.
    """

    def __init__(self, source, warnings=None):
        self.source = source
        self.text = source.text
        self.warnings = warnings if warnings is not None else []
        self.pos = 0
        self.tok = None
        self.tok_start = 0
        self.kind = None
        self.next()

    def next(self):
        m = _TOKEN.match(self.text, self.pos)
        self.kind = m.lastgroup
        self.tok_start = m.start(self.kind)
        self.tok = m.group(self.kind)
        self.pos = m.end()
        if self.kind == "bad":
            if self.tok == '"':
                raise self.source.error("invalid string (bad escape, control character or "
                                        "no closing quote)", self.tok_start)
            raise self.source.error(f"syntax error, unexpected character {self.tok!r}",
                                    self.tok_start)

    def unexpected(self, expecting):
        what = _NAMES[self.kind] or repr(self.tok)
        raise self.source.error(f"syntax error, unexpected {what}, expecting {expecting}",
                                self.tok_start)

    def parse(self):
        try:
            result = self.value()
        except RecursionError:
            raise self.source.error("maps and lists nested too deeply", self.tok_start) from None
        if self.kind != "end":
            self.unexpected("end of file")
        return result

    def value(self):
        kind, tok, start = self.kind, self.tok, self.tok_start
        if kind == "m":
            if tok == "{":
                return self.object()
            if tok == "[":
                return self.array()
        elif kind == "s":
            self.next()
            return json.loads(tok), (start, None)
        elif kind == "n":
            self.next()
            if "." in tok or "e" in tok or "E" in tok:
                return float(tok), (start, None)
            return int(tok), (start, None)
        elif kind == "w" and tok in _WORDS:
            self.next()
            return _WORDS[tok], (start, None)
        self.unexpected("a value")

    def object(self):
        start = self.tok_start
        result, children = {}, {}
        self.next()
        while True:
            if self.kind == "m" and self.tok == "}":
                self.next()
                return result, (start, children)
            if self.kind != "s":
                self.unexpected('a constant string or "}"')
            key, key_start = json.loads(self.tok), self.tok_start
            self.next()
            if self.kind != "m" or self.tok != ":":
                self.unexpected('":"')
            self.next()
            value, node = self.value()
            if key in children:
                first = self.source.where(children[key][0])
                raise self.source.error(
                    f'duplicate "{key}" entries in map (previous at {first[0]}:{first[1]}:{first[2]})',
                    key_start)
            result[key] = value
            children[key] = (key_start, node)
            if self.kind == "m" and self.tok == ",":
                comma = self.tok_start
                self.next()
                if self.kind == "m" and self.tok == "}":
                    self._extra_comma(comma)
            elif not (self.kind == "m" and self.tok == "}"):
                self.unexpected('"," or "}"')

    def array(self):
        start = self.tok_start
        result, children = [], []
        self.next()
        while True:
            if self.kind == "m" and self.tok == "]":
                self.next()
                return result, (start, children)
            value, node = self.value()
            result.append(value)
            children.append(node)
            if self.kind == "m" and self.tok == ",":
                comma = self.tok_start
                self.next()
                if self.kind == "m" and self.tok == "]":
                    self._extra_comma(comma)
            elif not (self.kind == "m" and self.tok == "]"):
                self.unexpected('"," or "]"')

    def _extra_comma(self, offset):
        name, line, col = self.source.where(offset)
        self.warnings.append(f"{name}:{line}:{col}: Extraneous comma. "
                             "A piece of configuration may have been omitted.")
