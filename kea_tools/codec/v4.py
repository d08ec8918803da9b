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
SNAME_OFFSET = 44
FILE_OFFSET = 108

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
        return socket.inet_pton(socket.AF_INET, s) if isinstance(s, str) else bytes(s)
    except (OSError, TypeError, ValueError):
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
    # Option overload layout of a parsed packet: code -> the part of its payload
    # that sat in the options field (b"" if none). sname/file keep the rest, so
    # build() writes only that part; options built from scratch leave it empty.
    overloaded: dict = field(default_factory=dict)

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
            main = {code: (len(parts), b"".join(parts)) for code, parts in chunks.items()}
            # RFC 3396 section 7: options, then file, then sname are concatenated.
            if overload & 1:
                _parse_area(buf, FILE_OFFSET, FILE_OFFSET + 128, chunks, order, False)
            if overload & 2:
                _parse_area(buf, SNAME_OFFSET, SNAME_OFFSET + 64, chunks, order, False)
            pkt.overloaded = {code: main.get(code, (0, b""))[1] for code in order
                              if len(chunks[code]) > main.get(code, (0, b""))[0]}
        pkt.options = OptionList(Option(code, b"".join(chunks[code])) for code in order)
        return pkt

    def build(self, max_size=None):
        """Encode: options longer than 255 bytes are split (RFC 3396); relay agent
        information (82) goes last, End at the end.

        ``max_size`` is the largest DHCP message (UDP payload) the receiver takes:
        a server passes option 57's value minus the 28 bytes of IP and UDP headers.
        When the options do not fit, they spill into file and then sname (when
        those are empty) and option 52 says so (RFC 2132 section 9.3); CodecError
        if they still do not fit.
        """
        try:
            out = bytearray(HEADER.pack(
                self.op, self.htype, self.hlen, self.hops, self.xid, self.secs, self.flags,
                _ipb(self.ciaddr), _ipb(self.yiaddr), _ipb(self.siaddr), _ipb(self.giaddr),
                bytes(self.chaddr).ljust(16, b"\0")[:16], bytes(self.sname).ljust(64, b"\0")[:64],
                bytes(self.file).ljust(128, b"\0")[:128]))
            out += MAGIC_COOKIE
            rai = []
            overloaded = self.overloaded
            for opt in self.options:
                if opt.code == OPT_RAI:
                    rai.append(opt)
                elif opt.code in overloaded and opt.data.startswith(overloaded[opt.code]):
                    if overloaded[opt.code]:
                        _put(out, Option(opt.code, overloaded[opt.code]))
                else:
                    _put(out, opt)
            for opt in rai:
                _put(out, opt)
            out.append(END)
            if max_size is None or len(out) + len(self.padding) <= max_size:
                out += self.padding
                return bytes(out)
            if len(out) <= max_size:
                out += self.padding[:max_size - len(out)]
                return bytes(out)
            return self._build_overloaded(out[:OPTIONS_OFFSET], max_size)
        except CodecError:
            raise
        except (struct.error, ValueError, OverflowError, TypeError) as err:
            raise CodecError(f"cannot encode packet: {err}") from None

    def _build_overloaded(self, out, max_size):
        if self.overloaded or OPT_OVERLOAD in self.options:
            raise CodecError("packet already uses option overload and does not fit "
                             f"{max_size} bytes", OPT_OVERLOAD)
        pinned = [o for o in self.options if o.code == OPT_MSG_TYPE]
        tail = [o for o in self.options if o.code == OPT_RAI]
        spill = [o for o in self.options if o.code not in (OPT_MSG_TYPE, OPT_RAI)]
        for opt in pinned:
            _put(out, opt)
        overload_at = len(out)
        out += bytes((OPT_OVERLOAD, 1, 0))
        tail_bytes = bytearray()
        for opt in tail:
            _put(tail_bytes, opt)
        main_room = max_size - len(out) - len(tail_bytes) - 1
        if main_room < 0:
            raise CodecError(f"required options do not fit {max_size} bytes")
        # Areas in RFC 3396 concatenation order: options field, file, sname;
        # file and sname keep one byte for their End option.
        areas = [bytearray()]
        rooms = [main_room]
        fields = []
        if not any(self.file):
            areas.append(bytearray())
            rooms.append(127)
            fields.append((1, FILE_OFFSET, 128))
        if not any(self.sname):
            areas.append(bytearray())
            rooms.append(63)
            fields.append((2, SNAME_OFFSET, 64))
        k = 0
        for opt in spill:
            for chunk in _chunks(opt):
                code, data = chunk
                while True:
                    room = rooms[k] - len(areas[k])
                    if 2 + len(data) <= room:
                        areas[k] += bytes((code, len(data))) + data
                        break
                    # Split only what no fresh area could hold whole (RFC 3396).
                    nxt = rooms[k + 1] if k + 1 < len(rooms) else 0
                    if room >= 3 and (2 + len(data) > nxt):
                        areas[k] += bytes((code, room - 2)) + data[:room - 2]
                        data = data[room - 2:]
                    k += 1
                    if k == len(areas):
                        raise CodecError(f"options do not fit {max_size} bytes even with "
                                         "option overload")
        used = 0
        for (flag, offset, size), area in zip(fields, areas[1:]):
            if area:
                used |= flag
                out[offset:offset + size] = (area + bytes((END,))).ljust(size, b"\0")
        if not used:
            del out[overload_at:overload_at + 3]
        else:
            out[overload_at + 2] = used
        out += areas[0]
        out += tail_bytes
        out.append(END)
        return bytes(out)


def _chunks(opt):
    data = opt.data
    if opt.code in (PAD, END):
        return []  # padding is the areas' zero fill; End is written per area
    if not data:
        return [(opt.code, b"")]
    return [(opt.code, data[i:i + 255]) for i in range(0, len(data), 255)]


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
