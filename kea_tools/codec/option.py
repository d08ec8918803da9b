"""Options as they travel: a code and its payload bytes, in wire order.

Typed values (addresses, integers, records, sub-options) are decoded on demand
through the option definitions in :mod:`kea_tools.codec.optiondefs`; the raw
bytes stay the source of truth so that build(parse(b)) == b.
"""
from dataclasses import dataclass


@dataclass(slots=True)
class Option:
    code: int
    data: bytes = b""


class OptionList(list):
    """Options in wire order, duplicates kept, with a mapping view on top."""

    __slots__ = ()

    def get(self, code, default=None):
        """The first option with ``code``, or ``default``."""
        for opt in self:
            if opt.code == code:
                return opt
        return default

    def get_all(self, code):
        return [opt for opt in self if opt.code == code]

    def __contains__(self, code):
        if isinstance(code, Option):
            return list.__contains__(self, code)
        return any(opt.code == code for opt in self)

    def data(self, code, default=None):
        """The payload of the first option with ``code``, or ``default``."""
        opt = self.get(code)
        return default if opt is None else opt.data

    def remove_code(self, code):
        self[:] = [opt for opt in self if opt.code != code]

    def set(self, code, data):
        """Replace the first option with ``code`` (dropping others) or append it."""
        for i, opt in enumerate(self):
            if opt.code == code:
                self[i] = Option(code, data)
                self[i + 1:] = [o for o in self[i + 1:] if o.code != code]
                return
        self.append(Option(code, data))

    def codes(self):
        return [opt.code for opt in self]
