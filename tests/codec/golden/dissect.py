"""tshark's dissection of DHCP payloads in the compact form the golden fixtures keep.

A dissection is a list of fields ``[name, show, pos, size, children]`` taken from
tshark's PDML: ``name`` is the Wireshark field name (``dhcp.option.router``),
``show`` its displayed value, ``pos``/``size`` locate its bytes in the UDP
payload. Used by capture.py (from pcaps of real traffic) and by test_golden.py
(live, from a pcap written here around the fixture payloads).
"""
import struct
import subprocess
import xml.etree.ElementTree as ET

PROTOS = ("dhcp", "dhcpv6")
LINKTYPE_RAW = 101  # packets start at the IP header


def compact_pdml(elem, base):
    """The fields under a PDML element, pos relative to ``base`` (the payload's
    offset in the frame). Hidden duplicates (``*.value``) and expert-info notes
    are dropped; pos/size locate the raw bytes anyway. Unnamed grouping fields are replaced by their
    children; a message nested in a relay option (a <proto> inside a field)
    becomes a node named after its protocol."""
    out = []
    for child in elem:
        name = child.get("name")
        if child.get("hide") == "yes" or name == "_ws.expert":
            continue
        if child.tag != "proto" and not name:
            out.extend(compact_pdml(child, base))
            continue
        out.append([name, child.get("show"), int(child.get("pos", base)) - base,
                    int(child.get("size", 0)), compact_pdml(child, base)])
    return out


def pdml_dissections(pcap):
    """[(udp payload, tshark Info column, compact fields)] for each DHCP packet."""
    xml = subprocess.run(["tshark", "-n", "-r", str(pcap), "-T", "pdml"], capture_output=True,
                         check=True, timeout=120).stdout
    cols = subprocess.run(["tshark", "-n", "-r", str(pcap), "-T", "fields", "-e", "udp.payload",
                           "-e", "_ws.col.Info"], capture_output=True, text=True, check=True,
                          timeout=120).stdout.splitlines()
    out = []
    for packet, line in zip(ET.fromstring(xml).findall("packet"), cols):
        proto = next((p for p in packet.findall("proto") if p.get("name") in PROTOS), None)
        if proto is None:
            continue
        payload_hex, _, info = line.partition("\t")
        out.append((bytes.fromhex(payload_hex.replace(":", "")), " ".join(info.split()),
                    compact_pdml(proto, int(proto.get("pos")))))
    return out


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _ports(family, payload):
    """Ports that make tshark pick the DHCP dissector and match the message kind."""
    if family == 4:
        return (68, 67) if payload[0] == 1 else (67, 68)
    if payload[0] in (12, 13):
        return 547, 547
    return (547, 546) if payload[0] in (2, 7, 10) else (546, 547)


def ip_udp(family, payload):
    """An IPv4 or IPv6 datagram (documentation addresses) carrying ``payload``."""
    sport, dport = _ports(family, payload)
    length = 8 + len(payload)
    if family == 4:
        src, dst = bytes((192, 0, 2, 2)), bytes((192, 0, 2, 1))
        udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0, 64, 17, 0, src, dst)
        hdr = hdr[:10] + struct.pack("!H", _checksum(hdr)) + hdr[12:]
        return hdr + udp
    src = bytes.fromhex("20010db8000100000000000000000002")
    dst = bytes.fromhex("20010db8000100000000000000000001")
    pseudo = src + dst + struct.pack("!IxxxB", length, 17)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    csum = _checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return struct.pack("!IHBB", 6 << 28, length, 17, 64) + src + dst + udp


def write_pcap(path, packets):
    """A classic pcap (raw IP link type) of (family, payload) pairs."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for i, (family, payload) in enumerate(packets):
            frame = ip_udp(family, payload)
            fh.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)))
            fh.write(frame)
