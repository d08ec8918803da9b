"""Builders for in-process DHCPv6 server tests: a config, client messages, a clock."""
import struct

from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v6 import Packet6, Relay6, parse_options6, parse_packet6
from kea_tools.config import build
from kea_tools.leases import open_backend
from kea_tools.server.configmap import build_model6
from kea_tools.server.leasetable import LeaseTable6
from kea_tools.server.model import ip6_to_int
from kea_tools.server.hooks import HooksManager
from kea_tools.server.interfaces import Incoming
from kea_tools.server.pipeline6 import Pipeline6
from kea_tools.server.stats import Statistics

SERVER_DUID = bytes.fromhex("000200000009bf6b6561637c6c")
MCAST = "ff02::1:2"
SOLICIT, ADVERTISE, REQUEST, CONFIRM, RENEW, REBIND, REPLY, RELEASE, DECLINE = range(1, 10)
INFREQ = 11


class Clock:
    def __init__(self, now=1_700_000_000):
        self.now = now

    def __call__(self):
        return self.now


def config(**over):
    """A Dhcp6 section: one subnet on eth0 with an address pool and a pd-pool."""
    section = {
        "interfaces-config": {"interfaces": ["eth0"]},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "option-data": [{"name": "dns-servers", "data": "2001:db8::53"},
                        {"name": "domain-search", "data": "example.org"}],
        "subnet6": [{
            "id": 1, "subnet": "2001:db8:1::/64", "interface": "eth0",
            "pools": [{"pool": "2001:db8:1::10 - 2001:db8:1::1f"}],
            "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 60}],
        }],
    }
    section.update(over)
    return section


def server(section=None, *, backend=None, hooks=None, clock=None, **kw):
    cfg = build(section or config(), 6)
    cfg.raw = {"Dhcp6": section or config()}
    model = build_model6(cfg)
    clock = clock or Clock()
    backend = open_backend("memfile:", 6) if backend is None else backend
    pipe = Pipeline6(model, LeaseTable6(backend), Statistics(clock=clock), hooks or HooksManager(),
                     server_duid=SERVER_DUID, clock=clock, **kw)
    pipe.init_stats()
    return pipe


def duid(n):
    return struct.pack("!HH", 3, 1) + bytes([2, 0, 0, 0, (n >> 8) & 0xFF, n & 0xFF])


def opt(code, data=b""):
    return Option(code, data)


def sub(code, data):
    return struct.pack("!HH", code, len(data)) + data


def iaaddr(address, pref=0, valid=0):
    return sub(5, ip6_to_int(address).to_bytes(16, "big") + struct.pack("!II", pref, valid))


def iaprefix(prefix, plen, pref=0, valid=0):
    return sub(26, struct.pack("!IIB", pref, valid, plen) + ip6_to_int(prefix).to_bytes(16, "big"))


def ia_na(iaid=1, *addrs, code=3):
    return Option(code, struct.pack("!III", iaid, 0, 0) + b"".join(addrs))


def ia_ta(iaid=1, *addrs):
    return Option(4, struct.pack("!I", iaid) + b"".join(addrs))


def ia_pd(iaid=1, *prefixes):
    return Option(25, struct.pack("!III", iaid, 0, 0) + b"".join(prefixes))


def oro(*codes):
    return Option(6, b"".join(struct.pack("!H", c) for c in codes))


def message(msg_type, client=1, *options, server_id=None, xid=0x123456, client_id=True):
    opts = [Option(1, duid(client))] if client_id else []
    if server_id is not None:
        opts.append(Option(2, server_id))
    opts.extend(options)
    return Packet6(msg_type, xid, OptionList(opts))


def incoming(pkt, *, src="fe80::2:0:0:1", port=546, iface="eth0", local=MCAST):
    data = pkt if isinstance(pkt, bytes) else pkt.build()
    return Incoming(data, src, port, iface, local)


def exchange(pipe, *pkts, **kw):
    """Run packets as one burst; returns the parsed replies and the Outgoing6 list."""
    out = pipe.process([incoming(p, **kw) for p in pkts])
    return [parse_packet6(o.data) for o in out], out


def one(pipe, pkt, **kw):
    replies, out = exchange(pipe, pkt, **kw)
    assert len(replies) == 1, f"expected one reply, got {len(replies)}"
    return replies[0]


def ias(reply, code=3):
    """IA options of ``code`` in a reply: [(iaid, t1, t2, OptionList)]."""
    out = []
    for o in reply.options.get_all(code):
        head = 4 if code == 4 else 12
        iaid = struct.unpack_from("!I", o.data)[0]
        t1, t2 = struct.unpack_from("!II", o.data, 4) if head == 12 else (0, 0)
        out.append((iaid, t1, t2, parse_options6(o.data, head)))
    return out


def addresses(reply, code=3):
    """[(address text, preferred, valid)] of every IAADDR in IAs of ``code``."""
    from kea_tools.server.model import int_to_ip6
    out = []
    for _, _, _, subs in ias(reply, code):
        for s in subs.get_all(5):
            pref, valid = struct.unpack_from("!II", s.data, 16)
            out.append((int_to_ip6(int.from_bytes(s.data[:16], "big")), pref, valid))
    return out


def prefixes(reply):
    from kea_tools.server.model import int_to_ip6
    out = []
    for _, _, _, subs in ias(reply, 25):
        for s in subs.get_all(26):
            pref, valid, plen = struct.unpack_from("!IIB", s.data)
            out.append((int_to_ip6(int.from_bytes(s.data[9:25], "big")), plen, pref, valid,
                        parse_options6(s.data, 25)))
    return out


def status(options):
    data = options.data(13)
    if data is None:
        return None
    return struct.unpack_from("!H", data)[0]


def relayed(pkt, link="2001:db8:1::1", peer="fe80::2:0:0:1", options=(), hops=1):
    msg = pkt
    for i in range(hops):
        msg = Relay6.wrap(msg, link_address=link if i == 0 else "::",
                          peer_address=peer, options=options if i == 0 else ())
    return msg


def sarr(pipe, client=1, *extra, **kw):
    """Solicit/Advertise/Request/Reply with one IA_NA; returns (advertise, reply)."""
    adv = one(pipe, message(SOLICIT, client, ia_na(1), *extra), **kw)
    addrs = addresses(adv)
    req = message(REQUEST, client, ia_na(1, *(iaaddr(a) for a, _, _ in addrs)), *extra,
                  server_id=SERVER_DUID)
    return adv, one(pipe, req, **kw)
