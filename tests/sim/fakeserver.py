"""An in-process DHCP server for the simulator's unit tests.

It answers over one end of a socketpair with replies built by the codec, and can
misbehave on purpose (NAK, stay silent, hand one address to everyone, garble,
answer for another client) so the simulator's counters can be checked exactly.
"""
import ipaddress
import socket
import struct
import threading
from dataclasses import dataclass, field

from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Packet6, Relay6, parse_packet6

SERVER_ID4 = "192.0.2.1"
RAI_RELAY_PORT, O6_RELAY_SOURCE_PORT = 19, 135  # RFC 8357
SERVER_DUID = bytes.fromhex("000200000009") + b"fake"


def _suboptions(data):
    """Sub-option codes of relay agent information ``data`` (None: no option 82)."""
    codes, i = [], 0
    while data and i + 1 < len(data):
        codes.append(data[i])
        i += 2 + data[i + 1]
    return codes


@dataclass(slots=True)
class Misbehaviour:
    """Every Nth request of a kind gets the treatment (0 = never)."""

    nak_every: int = 0          # v4: NAK the REQUEST; v6: NoAddrsAvail status in Reply
    silent_every: int = 0       # no answer to the Nth DISCOVER/SOLICIT
    garble_every: int = 0       # send junk instead of the Nth OFFER/ADVERTISE
    wrong_client_every: int = 0  # Nth OFFER/ADVERTISE carries another chaddr/DUID
    no_lease_every: int = 0     # Nth OFFER (yiaddr 0) / ADVERTISE (no IA) has no lease
    same_address: bool = False  # every ACK/REPLY gives the same address
    counts: dict = field(default_factory=dict)

    def hit(self, kind, every):
        n = self.counts[kind] = self.counts.get(kind, 0) + 1
        return bool(every) and n % every == 0


class FakeServer:
    """``with FakeServer(family) as srv: Simulator(cfg, srv.client_sock, None)``."""

    def __init__(self, family=4, misbehave=None, udp=False):
        """``udp``: listen on 127.0.0.1 / ::1 at ``self.port`` instead of a
        socketpair (for command-line runs), answering the way Kea does: a relayed
        request's reply goes to port 67 / 547 unless the relay named its source
        port with RFC 8357's option (82.19 / 135)."""
        self.family = family
        self.bad = misbehave or Misbehaviour()
        if udp:
            af = socket.AF_INET if family == 4 else socket.AF_INET6
            self.sock = socket.socket(af, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1" if family == 4 else "::1", 0))
            self.port = self.sock.getsockname()[1]
            self.client_sock = None
        else:
            self.client_sock, self.sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.client_sock.setblocking(False)
        self.next_host = 10
        self.leases = {}
        self.received = []   # raw requests, for packet-level assertions
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
        if self.client_sock is not None:
            self.client_sock.close()

    def _serve(self):
        self.sock.settimeout(0.02)
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(data)
            reply = self.answer4(data) if self.family == 4 else self.answer6(data)
            if reply is not None:
                if peer:
                    self.sock.sendto(reply, (peer[0], self._reply_port(data, peer[1]))
                                     + tuple(peer[2:]))
                else:
                    self.sock.send(reply)

    def _reply_port(self, data, src_port):
        if self.family == 4:
            req = Packet4.parse(data)
            if req.giaddr == "0.0.0.0":
                return src_port
            return src_port if RAI_RELAY_PORT in _suboptions(req.options.data(82)) else 67
        msg = parse_packet6(data)
        if not isinstance(msg, Relay6):
            return src_port
        return src_port if O6_RELAY_SOURCE_PORT in msg.options else 547

    def _address(self, key):
        if self.bad.same_address:
            return 10
        if key not in self.leases:
            self.leases[key] = self.next_host
            self.next_host += 1
        return self.leases[key]

    # --- DHCPv4 -------------------------------------------------------------
    def answer4(self, data):
        req = Packet4.parse(data)
        mtype = req.msg_type
        host = self._address(req.mac)
        yiaddr = str(ipaddress.IPv4Address("10.0.0.0") + host)
        if mtype == 1:
            if self.bad.hit("discover", self.bad.silent_every):
                return None
            if self.bad.hit("offer-garble", self.bad.garble_every):
                return b"\x02" + bytes(20)
            reply_type = 2
        elif mtype == 3:
            reply_type = 6 if self.bad.hit("request", self.bad.nak_every) else 5
            if req.ciaddr != "0.0.0.0":
                yiaddr = req.ciaddr  # renewal
        else:
            return None  # RELEASE and others have no answer
        chaddr = req.chaddr
        if reply_type == 2 and self.bad.hit("offer-wrong", self.bad.wrong_client_every):
            chaddr = b"\xee" * 6 + bytes(10)
        if reply_type == 2 and self.bad.hit("offer-empty", self.bad.no_lease_every):
            yiaddr = "0.0.0.0"
        rep = Packet4(op=2, xid=req.xid, giaddr=req.giaddr, chaddr=chaddr,
                      yiaddr="0.0.0.0" if reply_type == 6 else yiaddr,
                      options=OptionList([Option(53, bytes([reply_type])),
                                          Option(54, ipaddress.IPv4Address(SERVER_ID4).packed),
                                          Option(51, struct.pack("!I", 4000))]))
        return rep.build()

    # --- DHCPv6 -------------------------------------------------------------
    def answer6(self, data):
        msg = parse_packet6(data)
        relay = msg if isinstance(msg, Relay6) else None
        inner = relay.innermost() if relay else msg
        mtype = inner.msg_type
        duid = inner.options.data(1)
        if mtype == 1:
            if self.bad.hit("solicit", self.bad.silent_every):
                return None
            if self.bad.hit("adv-garble", self.bad.garble_every):
                return b"\x02\x00"
            reply_type = 7 if 14 in inner.options else 2
        elif mtype in (3, 5, 8):
            reply_type = 7
        else:
            return None
        if reply_type == 2 and self.bad.hit("adv-wrong", self.bad.wrong_client_every):
            duid = b"\x00\x03\x00\x01" + b"\xee" * 6
        opts = OptionList([Option(1, duid), Option(2, SERVER_DUID)])
        if mtype == 8:
            opts.append(Option(13, b"\x00\x00released"))
        elif mtype == 3 and self.bad.hit("request6", self.bad.nak_every):
            opts.append(Option(13, b"\x00\x02no addresses"))
        elif mtype == 1 and self.bad.hit("adv-empty", self.bad.no_lease_every):
            pass  # an Advertise without the IA asked for
        else:
            host = self._address(duid)
            for ia in inner.options.get_all(3):
                addr = (ipaddress.IPv6Address("2001:db8::") + host).packed
                sub = struct.pack("!HH", 5, 24) + addr + struct.pack("!II", 3000, 4000)
                opts.append(Option(3, ia.data[:12] + sub))
            for ia in inner.options.get_all(25):
                prefix = (ipaddress.IPv6Address("2001:db8:100::") + (host << 64)).packed
                sub = struct.pack("!HH", 26, 25) + struct.pack("!IIB", 3000, 4000, 64) + prefix
                opts.append(Option(25, ia.data[:12] + sub))
        if 14 in inner.options and reply_type == 7 and mtype == 1:
            opts.append(Option(14, b""))
        rep = Packet6(reply_type, inner.transaction_id, opts)
        if relay is None:
            return rep.build()
        # Kea echoes interface-id and the relay source port (RFC 8357) in RELAY-REPL.
        echoed = OptionList(o for o in relay.options if o.code in (18, O6_RELAY_SOURCE_PORT))
        return Relay6(13, relay.hop_count, relay.link_address, relay.peer_address,
                      echoed, rep).build()
