"""A small pcap / pcapng reader that finds DHCP payloads.

Reads classic pcap (both byte orders, micro- and nanosecond) and pcapng (SHB,
IDB, EPB, SPB and the obsolete PB), follows Ethernet (with 802.1Q/802.1ad tags),
Linux cooked capture v1 and v2, BSD loopback and raw IP link types, skips IPv6
extension headers and IP fragments, and yields the UDP payloads that come from
or go to ports 67/68 (DHCPv4) or 546/547 (DHCPv6).
"""
import socket
import struct
from dataclasses import dataclass

from kea_tools.codec.errors import CodecError

DHCP4_PORTS = frozenset((67, 68))
DHCP6_PORTS = frozenset((546, 547))

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP = 0, 1, 101, 108
LINKTYPE_SLL, LINKTYPE_SLL2, LINKTYPE_IPV4, LINKTYPE_IPV6 = 113, 276, 228, 229
LINKTYPE_RAW_OLD = 12  # DLT_RAW on OpenBSD-derived captures

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
IPV6_EXT = frozenset((0, 43, 60))  # hop-by-hop, routing, destination options
IPV6_FRAGMENT = 44


@dataclass(slots=True)
class Frame:
    number: int       # 1-based, as Wireshark counts
    family: int       # 4 or 6
    payload: bytes    # the UDP payload: a DHCP message
    src: str = ""
    dst: str = ""


def read_dhcp_frames(path):
    """Frames of a capture file that carry DHCP, in file order.

    Raises CodecError when the file is not a capture or is cut short in a way
    that loses the framing; frames that are not DHCP are skipped.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    for number, linktype, frame in _frames(data):
        found = _dhcp_payload(linktype, frame)
        if found is not None:
            yield Frame(number, *found)


def _frames(data):
    if len(data) < 4:
        raise CodecError("file too short to be a capture", offset=0)
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng_frames(data)
        return
    for endian in ("<", ">"):
        (value,) = struct.unpack(endian + "I", magic)
        if value in (0xA1B2C3D4, 0xA1B23C4D):
            yield from _pcap_frames(data, endian)
            return
    raise CodecError("not a pcap or pcapng file", offset=0)


def _pcap_frames(data, endian):
    if len(data) < 24:
        raise CodecError("pcap header truncated", offset=len(data))
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    record = struct.Struct(endian + "IIII")
    pos, number = 24, 0
    while pos + 16 <= len(data):
        _, _, caplen, _ = record.unpack_from(data, pos)
        pos += 16
        if pos + caplen > len(data):
            raise CodecError(f"frame {number + 1} truncated", offset=pos)
        number += 1
        yield number, linktype, data[pos:pos + caplen]
        pos += caplen


def _pcapng_frames(data):
    pos, number = 0, 0
    endian = "<"
    interfaces = []
    while pos + 12 <= len(data):
        btype_raw = data[pos:pos + 4]
        if btype_raw == b"\x0a\x0d\x0d\x0a":
            bom = data[pos + 8:pos + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []  # each section numbers its interfaces afresh
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if blen < 12 or blen % 4 or pos + blen > len(data):
            raise CodecError(f"pcapng block of length {blen} is malformed", offset=pos)
        body = data[pos + 8:pos + blen - 4]
        if btype == 1:  # interface description
            interfaces.append(struct.unpack_from(endian + "H", body)[0])
        elif btype in (6, 2):  # enhanced packet, obsolete packet
            iface, caplen = (struct.unpack_from(endian + "I", body)[0],
                             struct.unpack_from(endian + "I", body, 12)[0])
            if btype == 2:
                iface = struct.unpack_from(endian + "H", body)[0]
            number += 1
            if iface < len(interfaces) and 20 + caplen <= len(body):
                yield number, interfaces[iface], body[20:20 + caplen]
        elif btype == 3:  # simple packet: interface 0, length in the block
            number += 1
            if interfaces:
                orig = struct.unpack_from(endian + "I", body)[0]
                yield number, interfaces[0], body[4:4 + min(orig, len(body) - 4)]
        pos += blen


def _dhcp_payload(linktype, frame):
    try:
        ip = _network_layer(linktype, frame)
        if ip is None:
            return None
        return _udp_dhcp(ip)
    except (IndexError, struct.error):
        return None  # a frame cut short by the snap length: not something to decode


def _network_layer(linktype, frame):
    if linktype == LINKTYPE_ETHERNET:
        ethertype, pos = struct.unpack_from("!H", frame, 12)[0], 14
        while ethertype in (ETH_VLAN, ETH_QINQ):
            ethertype = struct.unpack_from("!H", frame, pos + 2)[0]
            pos += 4
        return frame[pos:] if ethertype in (ETH_IPV4, ETH_IPV6) else None
    if linktype == LINKTYPE_SLL:
        ethertype = struct.unpack_from("!H", frame, 14)[0]
        return frame[16:] if ethertype in (ETH_IPV4, ETH_IPV6) else None
    if linktype == LINKTYPE_SLL2:
        ethertype = struct.unpack_from("!H", frame, 0)[0]
        return frame[20:] if ethertype in (ETH_IPV4, ETH_IPV6) else None
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        return frame[4:]
    if linktype in (LINKTYPE_RAW, LINKTYPE_RAW_OLD, LINKTYPE_IPV4, LINKTYPE_IPV6):
        return frame
    return None


def _udp_dhcp(ip):
    version = ip[0] >> 4
    if version == 4:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        frag = struct.unpack_from("!H", ip, 6)[0]
        if ip[9] != 17 or frag & 0x3FFF:  # not UDP, or a fragment
            return None
        src, dst = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
        udp = ip[ihl:total] if total >= ihl else ip[ihl:]
    elif version == 6:
        nxt, pos = ip[6], 40
        while nxt in IPV6_EXT:
            nxt, pos = ip[pos], pos + 8 + ip[pos + 1] * 8
        if nxt != 17:
            return None  # fragments (44) and everything that is not UDP
        src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
        udp = ip[pos:pos + struct.unpack_from("!H", ip, 4)[0] - (pos - 40)]
    else:
        return None
    sport, dport, length = struct.unpack_from("!HHH", udp)
    payload = udp[8:length] if length >= 8 else udp[8:]
    ports = {sport, dport}
    if ports & DHCP4_PORTS and version == 4:
        return 4, bytes(payload), f"{src}:{sport}", f"{dst}:{dport}"
    if ports & DHCP6_PORTS and version == 6:
        return 6, bytes(payload), f"[{src}]:{sport}", f"[{dst}]:{dport}"
    return None
