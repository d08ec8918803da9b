"""The codec's one error type."""


class CodecError(ValueError):
    """Malformed packet or option data.

    ``code`` is the option code being decoded (None for header fields) and
    ``offset`` the byte offset in the buffer where the problem was found.
    """

    def __init__(self, message, code=None, offset=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.offset = offset

    def __str__(self):
        where = []
        if self.code is not None:
            where.append(f"option {self.code}")
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        return f"{self.message} ({', '.join(where)})" if where else self.message
