"""DHCPv6 messages (RFC 8415 section 8 and 9): client/server messages and the
RELAY-FORW / RELAY-REPL envelopes that nest them.
"""
import socket
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList

OPT_RELAY_MSG = 9
OPT_HDR = struct.Struct("!HH")
# RFC 8415 section 7.6: a relay drops a RELAY-FORW whose hop-count has reached
# this limit, so no valid chain is deeper. Parsing allows a margin above it.
HOP_COUNT_LIMIT = 8
MAX_PARSE_DEPTH = 32


class MessageType6(IntEnum):
    SOLICIT = 1
    ADVERTISE = 2
    REQUEST = 3
    CONFIRM = 4
    RENEW = 5
    REBIND = 6
    REPLY = 7
    RELEASE = 8
    DECLINE = 9
    RECONFIGURE = 10
    INFORMATION_REQUEST = 11
    RELAY_FORW = 12
    RELAY_REPL = 13
    LEASEQUERY = 14
    LEASEQUERY_REPLY = 15
    DHCPV4_QUERY = 20
    DHCPV4_RESPONSE = 21


RELAY_TYPES = (MessageType6.RELAY_FORW, MessageType6.RELAY_REPL)


def parse_options6(buf, start=0, end=None):
    """Parse a run of DHCPv6 options (2-byte code, 2-byte length) into an OptionList."""
    end = len(buf) if end is None else end
    opts = OptionList()
    i = start
    while i < end:
        if i + 4 > end:
            raise CodecError("option header truncated", offset=i)
        code, length = OPT_HDR.unpack_from(buf, i)
        if i + 4 + length > end:
            raise CodecError(f"option length {length} runs past the end", code, i)
        opts.append(Option(code, bytes(buf[i + 4:i + 4 + length])))
        i += 4 + length
    return opts


def build_options6(options):
    out = bytearray()
    for opt in options:
        if len(opt.data) > 0xFFFF:
            raise CodecError("option longer than 65535 bytes", opt.code)
        if not 0 <= opt.code <= 0xFFFF:
            raise CodecError("option code out of range", opt.code)
        out += OPT_HDR.pack(opt.code, len(opt.data))
        out += opt.data
    return bytes(out)


@dataclass(slots=True)
class Packet6:
    """A client/server message: msg-type, 24-bit transaction-id, options."""

    msg_type: int = MessageType6.SOLICIT
    transaction_id: int = 0
    options: OptionList = field(default_factory=OptionList)

    def build(self):
        if not 0 <= self.transaction_id <= 0xFFFFFF:
            raise CodecError("transaction-id does not fit 24 bits")
        if not 0 <= self.msg_type <= 255 or self.msg_type in RELAY_TYPES:
            raise CodecError(f"invalid client/server msg-type {self.msg_type}")
        return (struct.pack("!I", (self.msg_type << 24) | self.transaction_id)
                + build_options6(self.options))


@dataclass(slots=True)
class Relay6:
    """A RELAY-FORW or RELAY-REPL message. ``inner`` is the message carried in the
    Relay Message option (9), parsed; ``options`` holds the relay's other options
    in wire order, with option 9 kept in place (its data is rebuilt from ``inner``)."""

    msg_type: int = MessageType6.RELAY_FORW
    hop_count: int = 0
    link_address: str = "::"
    peer_address: str = "::"
    options: OptionList = field(default_factory=OptionList)
    inner: "Packet6 | Relay6 | None" = None

    @classmethod
    def wrap(cls, inner, link_address="::", peer_address="::", options=(),
             msg_type=MessageType6.RELAY_FORW):
        """Encapsulate ``inner`` as a relay would (RFC 8415 section 19.1): hop-count
        is 0 around a client message and one more than an inner relay's."""
        hop_count = inner.hop_count + 1 if isinstance(inner, Relay6) else 0
        if hop_count >= HOP_COUNT_LIMIT:
            raise CodecError(f"hop-count {hop_count} reaches HOP_COUNT_LIMIT "
                             f"({HOP_COUNT_LIMIT})")
        return cls(msg_type, hop_count, link_address, peer_address, OptionList(options), inner)

    def build(self):
        if self.msg_type not in RELAY_TYPES:
            raise CodecError(f"msg-type {self.msg_type} is not a relay message")
        if not 0 <= self.hop_count <= 255:
            raise CodecError(f"hop-count {self.hop_count} does not fit a byte")
        opts = OptionList(self.options)
        if self.inner is not None:
            payload = self.inner.build()
            if OPT_RELAY_MSG in opts:
                opts.set(OPT_RELAY_MSG, payload)
            else:
                opts.append(Option(OPT_RELAY_MSG, payload))
        try:
            link = socket.inet_pton(socket.AF_INET6, self.link_address)
            peer = socket.inet_pton(socket.AF_INET6, self.peer_address)
        except OSError:
            raise CodecError("invalid IPv6 address in relay header") from None
        return bytes((self.msg_type, self.hop_count)) + link + peer + build_options6(opts)

    def innermost(self):
        """The client's message at the bottom of the relay chain."""
        msg = self.inner
        while isinstance(msg, Relay6):
            msg = msg.inner
        return msg

    def relays(self):
        """Relay envelopes from the outermost (this one) to the innermost."""
        chain, msg = [], self
        while isinstance(msg, Relay6):
            chain.append(msg)
            msg = msg.inner
        return chain


def parse_packet6(buf, _depth=0):
    """Parse a DHCPv6 message (Packet6, or Relay6 with its inner message parsed)."""
    buf = bytes(buf)
    if not buf:
        raise CodecError("empty DHCPv6 message", offset=0)
    msg_type = buf[0]
    if msg_type in RELAY_TYPES:
        if _depth > MAX_PARSE_DEPTH:
            raise CodecError(f"relay messages nested more than {MAX_PARSE_DEPTH} deep",
                             offset=0)
        if len(buf) < 34:
            raise CodecError("relay message shorter than its 34-byte header", offset=len(buf))
        relay = Relay6(msg_type, buf[1], socket.inet_ntop(socket.AF_INET6, buf[2:18]),
                       socket.inet_ntop(socket.AF_INET6, buf[18:34]), parse_options6(buf, 34))
        start = 34
        for opt in relay.options:
            if opt.code == OPT_RELAY_MSG:
                try:
                    relay.inner = parse_packet6(opt.data, _depth + 1)
                except CodecError as err:
                    message = err.message if err.message.startswith("in relay message") \
                        else f"in relay message: {err.message}"
                    raise CodecError(message, err.code, None if err.offset is None
                                     else err.offset + start + 4) from None
                break
            start += 4 + len(opt.data)
        return relay
    if len(buf) < 4:
        raise CodecError("message shorter than its 4-byte header", offset=len(buf))
    return Packet6(msg_type, int.from_bytes(buf[1:4], "big"), parse_options6(buf, 4))
