"""Kea JSON output with comments (Kea's parser accepts ``//`` comments).

A translated configuration is plain dicts and lists plus two markers: :class:`Note`
(a comment line placed where it sits) and :class:`Skipped` (a value that could not
be carried over, printed commented out in full so a person can finish the job).
"""
import json
from dataclasses import dataclass


@dataclass(slots=True, eq=False)
class Note:
    """A comment at this place in a dict (as a key) or a list (as an item)."""

    text: str


@dataclass(slots=True, eq=False)
class Skipped:
    """A value kept only as a comment, with the reason it was not translated."""

    value: object
    reason: str = ""


def _is_real(item):
    return not isinstance(item, (Note, Skipped))


def render(doc, indent=2):
    """Render ``doc`` as Kea JSON text with comments."""
    out = []
    _render(doc, 0, indent, out, "", "")
    return "\n".join(out) + "\n"


def _comment_block(value, level, step, out, prefix_key, reason):
    if reason:
        for line in reason.splitlines():
            out.append(" " * level + "// " + line)
    body = []
    _render(_strip(value), 0, step, body, prefix_key, "")
    for line in body:
        out.append(" " * level + "//  " + line)


def _strip(value):
    """Drop markers inside a value that is itself commented out."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not isinstance(k, Note) and not isinstance(v, Skipped)}
    if isinstance(value, list):
        return [_strip(v) for v in value if _is_real(v)]
    return value


def _render(value, level, step, out, key_prefix, comma):
    pad = " " * level
    if isinstance(value, dict):
        real = [k for k, v in value.items() if not isinstance(k, Note) and not isinstance(v, Skipped)]
        if not value:
            out.append(f"{pad}{key_prefix}{{ }}{comma}")
            return
        out.append(f"{pad}{key_prefix}{{")
        last = real[-1] if real else None
        for k, v in value.items():
            if isinstance(k, Note):
                for line in k.text.splitlines():
                    out.append(" " * (level + step) + "// " + line)
            elif isinstance(v, Skipped):
                _comment_block(v.value, level + step, step, out, json.dumps(k) + ": ", v.reason)
            else:
                _render(v, level + step, step, out, json.dumps(k) + ": ", "" if k is last else ",")
        out.append(f"{pad}}}{comma}")
    elif isinstance(value, list):
        real_idx = [i for i, v in enumerate(value) if _is_real(v)]
        if not value:
            out.append(f"{pad}{key_prefix}[ ]{comma}")
            return
        out.append(f"{pad}{key_prefix}[")
        last = real_idx[-1] if real_idx else None
        for i, v in enumerate(value):
            if isinstance(v, Note):
                for line in v.text.splitlines():
                    out.append(" " * (level + step) + "// " + line)
            elif isinstance(v, Skipped):
                _comment_block(v.value, level + step, step, out, "", v.reason)
            else:
                _render(v, level + step, step, out, "", "" if i == last else ",")
        out.append(f"{pad}]{comma}")
    else:
        out.append(f"{pad}{key_prefix}{json.dumps(value)}{comma}")


def plain(value):
    """The same document without markers (what Kea will read)."""
    return _strip(value)
