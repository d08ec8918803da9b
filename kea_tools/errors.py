"""Errors a user sees: one line, no traceback, a non-zero exit."""


class UserError(Exception):
    """An error caused by the user's input (a file, an argument, a value).

    The CLI prints ``str(err)`` on stderr and exits with ``exit_code``; it never
    shows a traceback for these.
    """

    exit_code = 1


class SourceError(UserError):
    """An error at a place in a text file: printed as ``file:line:col: message``."""

    def __init__(self, message, file=None, line=None, col=None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.col = col

    def __str__(self):
        where = [str(p) for p in (self.file or "<input>", self.line, self.col) if p is not None]
        return f"{':'.join(where)}: {self.message}"
