"""Wire templates for the simulator's requests and minimal parsers for replies.

The per-packet path must stay cheap (10,000 packets out and in per second), so
requests are pre-built headers patched with a transaction id and a client's bytes,
and replies are read for only what the bookkeeping needs (xid, message type,
client identity, leased address, server identifier). The full codec
(:mod:`kea_tools.codec`) is what the tests use to check these bytes.
"""
import struct

V4_COOKIE = b"\x63\x82\x53\x63"
V4_HEADER_LEN = 236
# DHCPv4 message types (RFC 2132 section 9.6)
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE = 1, 2, 3, 4, 5, 6, 7
# perfdhcp's parameter request list
V4_PRL = bytes((1, 28, 2, 3, 15, 6, 12))
V4_PER_CLIENT = (61, 12, 60)  # options built from the client identity
# Relay Agent Information (RFC 3046) and its Relay Agent Source Port sub-option
# (RFC 8357 section 5.1): empty, it asks the server to answer to the UDP source port.
O4_RAI, RAI_RELAY_PORT = 82, 19
RAI_RELAY_PORT_SUBOPTION = bytes((RAI_RELAY_PORT, 0))

# DHCPv6 message types and option codes (RFC 8415 sections 7.3 and 21)
SOLICIT, ADVERTISE, REQUEST6, RENEW, REPLY, RELEASE6 = 1, 2, 3, 5, 7, 8
RELAY_FORW, RELAY_REPL = 12, 13
O6_CLIENTID, O6_SERVERID, O6_IA_NA, O6_IAADDR, O6_ORO = 1, 2, 3, 5, 6
O6_ELAPSED, O6_RELAY_MSG, O6_STATUS, O6_RAPID_COMMIT = 8, 9, 13, 14
O6_VENDOR_CLASS, O6_FQDN, O6_IA_PD, O6_IAPREFIX = 16, 39, 25, 26
O6_RELAY_SOURCE_PORT = 135  # RFC 8357 section 5.2
V6_PER_CLIENT = (O6_CLIENTID, O6_FQDN, O6_VENDOR_CLASS)
LEASE_TYPES = {  # -e value -> IA options the SOLICIT carries
    "address-only": (O6_IA_NA,),
    "prefix-only": (O6_IA_PD,),
    "address-and-prefix": (O6_IA_NA, O6_IA_PD),
}
_H = struct.Struct("!HH")


def _v4opt(code, data):
    out = bytearray()
    for i in range(0, max(len(data), 1), 255):  # RFC 3396 split of long values
        chunk = data[i:i + 255]
        out += bytes((code, len(chunk))) + chunk
    return bytes(out)


def _v6opt(code, data):
    return _H.pack(code, len(data)) + data


def dns_name(name):
    """A host name in DNS wire format, as a partial name (no root label, RFC 4704)."""
    return b"".join(bytes((len(label),)) + label.encode() for label in name.split(".") if label)


def _rai_has_relay_port(data):
    """Whether relay agent information ``data`` already holds sub-option 19."""
    i = 0
    while i + 1 < len(data):
        if data[i] == RAI_RELAY_PORT:
            return True
        i += 2 + data[i + 1]
    return False


class V4Packets:
    """DHCPv4 requests (RFC 2131 section 4.4), relay-shaped like perfdhcp (hops 1,
    giaddr = our address, sent from port 67) or client-shaped (broadcast flag set).

    ``relay_port``: the relay sends from a port other than 67, so every request
    carries option 82 with the Relay Agent Source Port sub-option (RFC 8357); an
    option 82 given with ``custom`` gets the sub-option appended in place.
    """

    def __init__(self, relay, giaddr=b"\0\0\0\0", custom=(), relay_port=False):
        hdr = bytearray(V4_HEADER_LEN + 4)
        hdr[0:4] = bytes((1, 1, 6, 1 if relay else 0))
        if not relay:
            hdr[10:12] = b"\x80\x00"  # broadcast flag: we have no address to unicast to
        hdr[24:28] = giaddr
        hdr[236:240] = V4_COOKIE
        self.header = bytes(hdr)
        self.giaddr = giaddr
        prl = V4_PRL
        extra = []
        self.overridden = set()
        rai_given = False
        for code, data in custom:
            if code == 55:
                prl += data  # perfdhcp concatenates extra PRL codes
                continue
            if code == O4_RAI and relay_port:
                rai_given = True
                if not _rai_has_relay_port(data):
                    data += RAI_RELAY_PORT_SUBOPTION
            extra.append(_v4opt(code, data))
            self.overridden.add(code)
        if relay_port and not rai_given:
            # RFC 3046 section 2.1: the relay's option 82 goes last, before End.
            extra.append(_v4opt(O4_RAI, RAI_RELAY_PORT_SUBOPTION))
        self.tail = _v4opt(55, prl) + b"".join(extra) + b"\xff"

    def client_options(self, ident):
        parts = []
        if 61 not in self.overridden:
            parts.append(b"\x3d\x07\x01" + ident.mac)
        if ident.hostname and 12 not in self.overridden:
            parts.append(_v4opt(12, ident.hostname.encode()))
        if ident.vendor_class and 60 not in self.overridden:
            parts.append(_v4opt(60, ident.vendor_class))
        return b"".join(parts)

    def _packet(self, xid, ident, ciaddr, options):
        pkt = bytearray(self.header)
        pkt[4:8] = xid.to_bytes(4, "big")
        if ciaddr:
            pkt[12:16] = ciaddr
        pkt[28:34] = ident.mac
        pkt += options
        return pkt

    def discover(self, xid, ident):
        return self._packet(xid, ident, None,
                            b"\x35\x01\x01" + self.client_options(ident) + self.tail)

    def request(self, xid, ident, yiaddr, server_id):
        """SELECTING-state REQUEST: requested address and server id from the OFFER."""
        sid = b"\x36\x04" + server_id if server_id else b""
        return self._packet(xid, ident, None, b"\x35\x01\x03\x32\x04" + yiaddr + sid
                            + self.client_options(ident) + self.tail)

    def renew(self, xid, ident, ciaddr):
        """RENEWING-state REQUEST: ciaddr set, no server id, no requested address."""
        return self._packet(xid, ident, ciaddr,
                            b"\x35\x01\x03" + self.client_options(ident) + self.tail)

    def release(self, xid, ident, ciaddr, server_id):
        sid = b"\x36\x04" + server_id if server_id else b""
        return self._packet(xid, ident, ciaddr, b"\x35\x01\x07" + sid
                            + self.client_options(ident) + self.tail)


def parse_reply4(data):
    """(xid, message type, yiaddr, server id or b"", chaddr[:6]) or None if malformed.

    Reads only the options field (no overload): replies to our requests never need
    sname/file for message type or server id.
    """
    n = len(data)
    if n < 241 or data[0] != 2 or data[236:240] != V4_COOKIE:
        return None
    mtype = None
    sid = b""
    i = 240
    while i < n:
        code = data[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= n:
            return None
        end = i + 2 + data[i + 1]
        if end > n:
            return None
        if code == 53:
            mtype = data[i + 2] if end > i + 2 else None
        elif code == 54:
            sid = data[i + 2:end]
        i = end
    if mtype is None:
        return None
    return int.from_bytes(data[4:8], "big"), mtype, data[16:20], sid, data[28:34]


class V6Packets:
    """DHCPv6 requests (RFC 8415 section 18.2), sent direct (client mode) or wrapped
    in one RELAY-FORW (relay mode, like perfdhcp -A 1).

    ``relay_port``: the relay sends from a port other than 547, so the RELAY-FORW
    carries the Relay Source Port option (RFC 8357 section 5.2). Its Downstream
    Source Port is 0: no relay sits below us, only we use a non-DHCP port; the
    server answers to the UDP source port of the datagram.
    """

    def __init__(self, relay_addr=None, lease_type="address-only", rapid_commit=False,
                 custom=(), relay_port=False):
        # RELAY-FORW header: hop-count 0, link-address and peer-address = our address.
        self.relay_header = None
        if relay_addr:
            self.relay_header = bytes((RELAY_FORW, 0)) + relay_addr + relay_addr
            if relay_port:
                self.relay_header += _v6opt(O6_RELAY_SOURCE_PORT, b"\0\0")
        self.ia_codes = LEASE_TYPES[lease_type]
        common = _v6opt(O6_ELAPSED, b"\0\0") + _v6opt(O6_ORO, struct.pack("!HH", 23, 24))
        self.overridden = {code for code, _ in custom}
        self.extra = b"".join(_v6opt(code, data) for code, data in custom)
        ias = b"".join(_v6opt(c, struct.pack("!III", 1, 3600, 5400)) for c in self.ia_codes)
        self.solicit_tail = (common + (_v6opt(O6_RAPID_COMMIT, b"") if rapid_commit else b"")
                             + ias + self.extra)
        self.common = common

    def client_options(self, ident):
        parts = []
        if O6_CLIENTID not in self.overridden:
            parts.append(_v6opt(O6_CLIENTID, ident.duid))
        if ident.hostname and O6_FQDN not in self.overridden:
            # Flags 0: the client updates nothing itself and lets the server decide.
            parts.append(_v6opt(O6_FQDN, b"\x00" + dns_name(ident.hostname)))
        if ident.vendor_class and O6_VENDOR_CLASS not in self.overridden:
            vc = ident.vendor_class
            # enterprise-number 311 is the one clients use for free-text classes
            parts.append(_v6opt(O6_VENDOR_CLASS, struct.pack("!IH", 311, len(vc)) + vc))
        return b"".join(parts)

    def _wrap(self, msg):
        if self.relay_header is None:
            return msg
        return self.relay_header + _H.pack(O6_RELAY_MSG, len(msg)) + msg

    def solicit(self, xid, ident):
        return self._wrap(((SOLICIT << 24) | xid).to_bytes(4, "big")
                          + self.client_options(ident) + self.solicit_tail)

    def after_reply(self, mtype, xid, ident, server_id_opt, ia_opts):
        """REQUEST / RENEW / RELEASE carrying the server id and IAs of a reply."""
        return self._wrap(((mtype << 24) | xid).to_bytes(4, "big") + self.client_options(ident)
                          + server_id_opt + self.common + ia_opts + self.extra)


def parse_reply6(data):
    """(xid, type, client DUID, server-id option bytes, IA option bytes, leases,
    status) or None if malformed. ``leases`` is a tuple of address / prefix keys
    found in IA_NA and IA_PD; ``status`` is the first non-success status code in the
    message or its IAs (0 if none). Relay replies are unwrapped."""
    depth = 0
    while data and data[0] == RELAY_REPL:
        depth += 1
        if depth > 8 or len(data) < 34:
            return None
        inner = None
        i, n = 34, len(data)
        while i + 4 <= n:
            code, length = _H.unpack_from(data, i)
            if i + 4 + length > n:
                return None
            if code == O6_RELAY_MSG:
                inner = data[i + 4:i + 4 + length]
                break
            i += 4 + length
        if inner is None:
            return None
        data = inner
    n = len(data)
    if n < 4:
        return None
    mtype = data[0]
    xid = int.from_bytes(data[1:4], "big")
    duid = b""
    sid = b""
    ias = []
    leases = []
    status = 0
    i = 4
    while i < n:
        if i + 4 > n:
            return None
        code, length = _H.unpack_from(data, i)
        end = i + 4 + length
        if end > n:
            return None
        if code == O6_CLIENTID:
            duid = data[i + 4:end]
        elif code == O6_SERVERID:
            sid = data[i:end]
        elif code == O6_IA_NA or code == O6_IA_PD:
            ias.append(data[i:end])
            j = i + 16
            if j > end:
                return None
            while j + 4 <= end:
                scode, slen = _H.unpack_from(data, j)
                send = j + 4 + slen
                if send > end:
                    return None
                if scode == O6_IAADDR and slen >= 24:
                    leases.append(data[j + 4:j + 20])
                elif scode == O6_IAPREFIX and slen >= 25:
                    leases.append(data[j + 12:j + 29])  # prefix length + prefix
                elif scode == O6_STATUS and slen >= 2 and not status:
                    status = int.from_bytes(data[j + 4:j + 6], "big")
                j = send
        elif code == O6_STATUS and length >= 2 and not status:
            status = int.from_bytes(data[i + 4:i + 6], "big")
        i = end
    return xid, mtype, duid, sid, b"".join(ias), tuple(leases), status
