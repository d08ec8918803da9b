"""Reading dhcpd.conf values out of a statement's words (addresses, MACs, numbers).

ISC's lexer splits ``10.0.0.1`` into NUMBER ``.`` NUMBER ...; :class:`Cursor` glues
them back the way common/parse.c does, and reports errors at the token.
"""
import ipaddress

from kea_tools.errors import SourceError
from kea_tools.migrate.lexer import is_hex_word

HARDWARE_TYPES = {"ethernet": 1, "token-ring": 6, "fddi": 8, "infiniband": 32}


class Cursor:
    """A read position in one statement's word list."""

    __slots__ = ("words", "i", "stmt")

    def __init__(self, words, stmt, start=0):
        self.words = words
        self.i = start
        self.stmt = stmt

    # -- basic access -------------------------------------------------------
    def peek(self, k=0):
        j = self.i + k
        return self.words[j] if j < len(self.words) else None

    def peek_text(self, k=0):
        t = self.peek(k)
        return t.text.lower() if t is not None and t.type != "STRING" else None

    def next(self):
        t = self.peek()
        if t is None:
            raise self.error("unexpected end of statement")
        self.i += 1
        return t

    def at_end(self):
        return self.i >= len(self.words)

    def rest(self):
        return self.words[self.i:]

    def error(self, message, tok=None):
        tok = tok or self.peek() or self.stmt.open or self.stmt.end
        return SourceError(message, tok.file, tok.line, tok.col)

    def expect_end(self, message="semicolon expected."):
        if not self.at_end():
            raise self.error(message)

    def accept(self, *texts):
        t = self.peek()
        if t is not None and t.type != "STRING" and t.text.lower() in texts:
            self.i += 1
            return t.text.lower()
        return None

    def expect(self, text, message=None):
        if self.accept(text) is None:
            raise self.error(message or f"expecting '{text}'")

    def punct(self, char):
        t = self.peek()
        if t is not None and t.type == char:
            self.i += 1
            return True
        return False

    # -- values -------------------------------------------------------------
    def name(self, message="expecting a name"):
        t = self.peek()
        if t is None or t.type not in ("NAME", "NUMBER"):
            raise self.error(message)
        self.i += 1
        return t.text

    def string(self, message="expecting a quoted string"):
        t = self.peek()
        if t is None or t.type != "STRING":
            raise self.error(message)
        self.i += 1
        return t.value

    def name_or_string(self, message="expecting a name"):
        t = self.peek()
        if t is not None and t.type == "STRING":
            self.i += 1
            return t.text
        return self.dotted(message)

    def number(self, message="expecting a number", signed=True):
        t = self.peek()
        if t is None or t.type != "NUMBER" or (not signed and t.text.startswith("-")):
            raise self.error(message)
        self.i += 1
        return int(t.text)

    def dotted(self, message="expecting a name"):
        """A dotted run of words (host name, domain, IPv4 address)."""
        parts = [self.name(message)]
        while self.peek() is not None and self.peek().type == "." and \
                self.peek(1) is not None and self.peek(1).type in ("NAME", "NUMBER"):
            self.i += 2
            parts.append(self.words[self.i - 1].text)
        if self.peek() is not None and self.peek().type == "." and \
                (self.peek(1) is None or self.peek(1).type not in ("NAME", "NUMBER")):
            self.i += 1  # trailing dot of a fully qualified name
            parts.append("")
        return ".".join(parts)

    def ip4_or_host(self, message="expecting IP address or hostname"):
        """(address, None) for a literal, (None, hostname) for a DNS name."""
        tok = self.peek()
        if tok is None or tok.type not in ("NAME", "NUMBER"):
            raise self.error(message)
        text = self.dotted(message)
        try:
            return str(ipaddress.IPv4Address(text)), None
        except ValueError:
            if all(p.isdigit() for p in text.split(".") if p):
                raise self.error(message, tok)
            return None, text

    def ip4(self, message="expecting IP address"):
        tok = self.peek()
        addr, host = self.ip4_or_host(message)
        if addr is None:
            raise self.error(message, tok)
        return addr

    def ip6(self, message="Invalid IPv6 address."):
        """An IPv6 literal: adjacent NUMBER/NAME/':'/'.' tokens glued together."""
        first = self.peek()
        if first is None or first.type not in ("NAME", "NUMBER", ":"):
            raise self.error(message)
        parts = [first.text]
        self.i += 1
        while True:
            t = self.peek()
            if t is None or t.ws or t.type not in ("NAME", "NUMBER", ":", "."):
                break
            parts.append(t.text)
            self.i += 1
        text = "".join(parts)
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise self.error(message, first) from None

    def hexbytes(self, message="expecting hexadecimal number."):
        """A colon-separated list of hex octets (one or two digits each)."""
        t = self.peek()
        if t is None or t.type not in ("NAME", "NUMBER") or not is_hex_word(t.text) or len(t.text) > 2:
            raise self.error(message)
        out = [int(t.text, 16)]
        self.i += 1
        while self.peek() is not None and self.peek().type == ":":
            n = self.peek(1)
            if n is None or n.type not in ("NAME", "NUMBER") or not is_hex_word(n.text) or len(n.text) > 2:
                raise self.error(message, n)
            out.append(int(n.text, 16))
            self.i += 2
        return bytes(out)

    def string_or_hex(self, message="Expecting string or hex list."):
        t = self.peek()
        if t is not None and t.type == "STRING":
            self.i += 1
            return t.value, True
        try:
            return self.hexbytes(message), False
        except SourceError:
            raise self.error(message) from None


def mac_text(raw):
    return ":".join(f"{b:02x}" for b in raw)


def kea_string_literal(raw):
    """A Kea expression literal for bytes: 'text' when printable, else 0xHEX."""
    if raw and all(32 <= b < 127 and b != 0x27 for b in raw):
        return "'" + raw.decode() + "'"
    if not raw:
        return "''"
    return "0x" + raw.hex()
