"""Errors of the expression language: one for the text, one for a packet."""
from kea_tools.errors import SourceError


class ExpressionError(SourceError):
    """A bad expression, found while lexing, parsing or resolving it.

    ``col`` and ``end_col`` are 1-based columns of the offending text on ``line``;
    ``text`` is the whole expression so :meth:`caret` can show where it went wrong.
    """

    def __init__(self, message, text="", line=1, col=1, end_col=None, file="<expression>"):
        super().__init__(message, file, line, col)
        self.text = text
        self.end_col = end_col if end_col is not None else col

    def caret(self):
        """The offending line of the expression and a caret line under it."""
        lines = self.text.split("\n")
        if not 1 <= self.line <= len(lines):
            return ""
        src = lines[self.line - 1]
        width = max(1, self.end_col - self.col + 1)
        return f"{src}\n{' ' * (self.col - 1)}{'^' * width}"


class EvalError(Exception):
    """An expression could not be evaluated on a packet (Kea's EvalTypeError).

    The server treats it as "the class does not match" and logs it; it is never a
    reason to drop the packet.
    """
