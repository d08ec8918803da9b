"""Builders for in-process server tests: a small model, client packets, a clock."""
import json
import logging
import socket
import struct

from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import Packet4
from kea_tools.leases import open_backend
from kea_tools.server.hooks import HooksManager
from kea_tools.server.leasetable import LeaseTable
from kea_tools.server.model import (OptionItem, Pool, Reservation4,
                                    ServerModel, Subnet4, ip_to_int, option_table)
from kea_tools.server.interfaces import Incoming
from kea_tools.server.pipeline4 import Pipeline4
from kea_tools.server.stats import Statistics

SERVER = "192.0.2.1"
ROUTER = OptionItem(3, socket.inet_aton("192.0.2.1"))
DNS = OptionItem(6, socket.inet_aton("192.0.2.53") + socket.inet_aton("192.0.2.54"))
DOMAIN = OptionItem(15, b"example.org")


class Clock:
    def __init__(self, now=1_700_000_000):
        self.now = now

    def __call__(self):
        return self.now


def mac(n):
    return bytes([0x02, 0, 0, 0, (n >> 8) & 0xFF, n & 0xFF])


def pool(start, end, **kw):
    return Pool(ip_to_int(start), ip_to_int(end), **kw)


def subnet(id=1, prefix="192.0.2.0/24", pools=(("192.0.2.10", "192.0.2.20"),), **kw):
    kw.setdefault("options", option_table([ROUTER, DNS, DOMAIN]))
    return Subnet4(id=id, prefix=prefix, pools=[p if isinstance(p, Pool) else pool(*p) for p in pools],
                   **kw)


def reservation(hw, address=None, **kw):
    return Reservation4("hw-address", hw, ip_to_int(address) if address else None, **kw)


def server(subnets=None, *, backend=None, hooks=None, clock=None, **model_kw):
    model = ServerModel(subnets=list(subnets or [subnet()]), **model_kw)
    clock = clock or Clock()
    backend = backend or open_backend("memfile:", 4)
    stats = Statistics(clock=clock)
    pipe = Pipeline4(model, LeaseTable(backend), stats, hooks or HooksManager(), clock=clock,
                     server_addresses=lambda iface: (SERVER,), our_addresses={SERVER})
    pipe.init_stats()
    return pipe


def packet(msg_type, hw, *, xid=0x1234, ciaddr="0.0.0.0", giaddr="0.0.0.0", flags=0,
           options=(), requested=None, server_id=None, client_id=None, prl=b"\x01\x03\x06\x0f",
           hops=0):
    opts = [Option(53, bytes([msg_type]))]
    if client_id is not None:
        opts.append(Option(61, client_id))
    if requested is not None:
        opts.append(Option(50, socket.inet_aton(requested)))
    if server_id is not None:
        opts.append(Option(54, socket.inet_aton(server_id)))
    if prl:
        opts.append(Option(55, prl))
    opts.extend(options)
    return Packet4(xid=xid, ciaddr=ciaddr, giaddr=giaddr, flags=flags, hops=hops,
                   chaddr=hw + bytes(16 - len(hw)), options=OptionList(opts))


def incoming(pkt, *, src="0.0.0.0", port=68, iface="eth0", local="255.255.255.255"):
    data = pkt.build() if isinstance(pkt, Packet4) else pkt
    return Incoming(data, src, port, iface, local)


def exchange(pipe, *pkts, **kw):
    """Run packets as one burst; returns the parsed replies (None where there is none)."""
    out = pipe.process([incoming(p, **kw) for p in pkts])
    return [Packet4.parse(o.data) for o in out], out


def dora(pipe, hw, **kw):
    (offer,), _ = exchange(pipe, packet(1, hw, **kw))
    (ack,), _ = exchange(pipe, packet(3, hw, requested=offer.yiaddr, server_id=SERVER, **kw))
    return offer, ack


def u32(data):
    return struct.unpack("!I", data)[0]


class LogLines(list):
    """Debug lines written to ``logger`` inside the block, whatever the logging
    configuration of the process (another test may have stopped propagation)."""

    def __init__(self, logger):
        super().__init__()
        self.logger = logger
        self.handler = logging.Handler(logging.DEBUG)
        self.handler.emit = lambda record: self.append(record.getMessage())

    def __enter__(self):
        self.level = self.logger.level
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self.handler)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)
        return False


class NcrSocket:
    """Stands in for the socket an NcrSender writes NameChangeRequests to."""

    def __init__(self):
        self.sent = []

    def sendto(self, data, dest):
        self.sent.append(data)
        return len(data)

    def fileno(self):
        return -1

    def close(self):
        pass

    def take(self):
        """The NCRs sent since the last call, as dicts (the 2-byte length cut)."""
        out = [json.loads(data[2:]) for data in self.sent]
        self.sent.clear()
        return out
