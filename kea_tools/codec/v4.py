"""DHCPv4 packets: the BOOTP header (RFC 951, RFC 2131 section 2) and options
(RFC 2132), with RFC 3396 long options and option overload (option 52).
"""
import socket
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList

MAGIC_COOKIE = b"\x63\x82\x53\x63"
HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")
HEADER_LEN = HEADER.size  # 236
OPTIONS_OFFSET = HEADER_LEN + 4

PAD, END = 0, 255
OPT_MSG_TYPE = 53
OPT_OVERLOAD = 52
OPT_RAI = 82

BOOTREQUEST, BOOTREPLY = 1, 2
FLAG_BROADCAST = 0x8000


class MessageType4(IntEnum):
    DHCPDISCOVER = 1
    DHCPOFFER = 2
    DHCPREQUEST = 3
    DHCPDECLINE = 4
    DHCPACK = 5
    DHCPNAK = 6
    DHCPRELEASE = 7
    DHCPINFORM = 8
    DHCPLEASEQUERY = 10
    DHCPLEASEUNASSIGNED = 11
    DHCPLEASEUNKNOWN = 12
    DHCPLEASEACTIVE = 13


def _ip(b):
    return socket.inet_ntoa(b)


def _ipb(s):
    try:
        return socket.inet_aton(s) if isinstance(s, str) else bytes(s)
    except OSError:
        raise CodecError(f"invalid IPv4 address {s!r}") from None


def _parse_area(buf, start, end, chunks, order, in_main):
    """Walk TLVs in buf[start:end]; collect payload chunks per code (RFC 3396).

    Returns (overload value or 0, offset just past End or end of area).
    """
    i = start
    overload = 0
    while i < end:
        code = buf[i]
        if code == PAD:
            i += 1
            continue
        if code == END:
            return overload, i + 1
        if i + 1 >= end:
            raise CodecError("option truncated before its length", code, i)
        length = buf[i + 1]
        if i + 2 + length > end:
            raise CodecError(f"option length {length} runs past the end of the packet", code, i)
        data = buf[i + 2:i + 2 + length]
        if code == OPT_OVERLOAD and in_main:
            if length != 1 or data[0] not in (1, 2, 3):
                raise CodecError("invalid option overload value", code, i)
            overload = data[0]
        if code in chunks:
            chunks[code].append(data)
        else:
            chunks[code] = [data]
            order.append(code)
        i += 2 + length
    return overload, i


@dataclass(slots=True)
class Packet4:
    """A DHCPv4 message. Addresses are dotted-quad strings; chaddr is 16 raw bytes."""

    op: int = BOOTREQUEST
    htype: int = 1
    hlen: int = 6
    hops: int = 0
    xid: int = 0
    secs: int = 0
    flags: int = 0
    ciaddr: str = "0.0.0.0"
    yiaddr: str = "0.0.0.0"
    siaddr: str = "0.0.0.0"
    giaddr: str = "0.0.0.0"
    chaddr: bytes = bytes(16)
    sname: bytes = bytes(64)
    file: bytes = bytes(128)
    options: OptionList = field(default_factory=OptionList)
    # Bytes after the End option (clients pad to the BOOTP minimum of 300 bytes);
    # kept so that build(parse(b)) == b.
    padding: bytes = b""
    # Codes that arrived in sname/file through option overload: build() leaves
    # them out of the options field, because sname/file already carry them.
    overloaded: frozenset = frozenset()

    # --- convenience -------------------------------------------------------
    @property
    def msg_type(self):
        data = self.options.data(OPT_MSG_TYPE)
        return data[0] if data else None

    @msg_type.setter
    def msg_type(self, value):
        self.options.set(OPT_MSG_TYPE, bytes([value]))

    @property
    def mac(self):
        """The hardware address: chaddr's first hlen bytes (at most 16)."""
        return bytes(self.chaddr[:min(self.hlen, 16)])

    @property
    def broadcast(self):
        return bool(self.flags & FLAG_BROADCAST)

    @property
    def is_relayed(self):
        return self.giaddr != "0.0.0.0"

    # --- wire --------------------------------------------------------------
    @classmethod
    def parse(cls, buf):
        """Parse one DHCPv4 (or BOOTP) message; raise CodecError if malformed."""
        buf = bytes(buf)
        if len(buf) < HEADER_LEN:
            raise CodecError(f"packet of {len(buf)} bytes is shorter than the BOOTP header",
                             offset=len(buf))
        (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr,
         chaddr, sname, file) = HEADER.unpack_from(buf)
        pkt = cls(op, htype, hlen, hops, xid, secs, flags, _ip(ciaddr), _ip(yiaddr),
                  _ip(siaddr), _ip(giaddr), chaddr, sname, file)
        if len(buf) == HEADER_LEN:
            return pkt  # BOOTP without vendor area
        if buf[HEADER_LEN:OPTIONS_OFFSET] != MAGIC_COOKIE:
            raise CodecError("bad magic cookie", offset=HEADER_LEN)
        chunks, order = {}, []
        overload, stop = _parse_area(buf, OPTIONS_OFFSET, len(buf), chunks, order, True)
        pkt.padding = buf[stop:]
        if overload:
            main_codes = set(order)
            base = 108  # offset of file in the header
            if overload & 1:
                _parse_area(buf, base, base + 128, chunks, order, False)
            if overload & 2:
                _parse_area(buf, 44, 44 + 64, chunks, order, False)
            pkt.overloaded = frozenset(c for c in order if c not in main_codes)
        pkt.options = OptionList(Option(code, b"".join(chunks[code])) for code in order)
        return pkt

    def build(self):
        """Encode: options longer than 255 bytes are split (RFC 3396); relay agent
        information (82) goes last, End at the end."""
        out = bytearray(HEADER.pack(
            self.op, self.htype, self.hlen, self.hops, self.xid, self.secs, self.flags,
            _ipb(self.ciaddr), _ipb(self.yiaddr), _ipb(self.siaddr), _ipb(self.giaddr),
            bytes(self.chaddr).ljust(16, b"\0")[:16], bytes(self.sname).ljust(64, b"\0")[:64],
            bytes(self.file).ljust(128, b"\0")[:128]))
        out += MAGIC_COOKIE
        rai = None
        for opt in self.options:
            if opt.code in self.overloaded:
                continue
            if opt.code == OPT_RAI:
                rai = opt
                continue
            _put(out, opt)
        if rai is not None:
            _put(out, rai)
        out.append(END)
        out += self.padding
        return bytes(out)


def _put(out, opt):
    code, data = opt.code, opt.data
    if code in (PAD, END):
        out.append(code)
        return
    if not data:
        out += bytes((code, 0))
        return
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes((code, len(chunk)))
        out += chunk
