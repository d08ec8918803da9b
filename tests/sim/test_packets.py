"""Request templates checked with the codec; reply parsers against codec-built replies."""
import ipaddress
import struct

from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Packet6, Relay6, parse_packet6
from kea_tools.sim import packets as P
from kea_tools.sim.identity import ClientIdentity

IDENT = ClientIdentity(bytes.fromhex("3c0754000001"), bytes.fromhex("00030001") +
                       bytes.fromhex("3c0754000001"), "annas-iphone", b"MSFT 5.0")
GIADDR = ipaddress.IPv4Address("192.0.2.2").packed
SID = ipaddress.IPv4Address("192.0.2.1").packed


def test_discover_relay_shape():
    v4 = P.V4Packets(True, GIADDR, custom=((55, b"\x2a"), (77, b"lab")))
    pkt = Packet4.parse(bytes(v4.discover(0xDEADBEEF, IDENT)))
    assert (pkt.op, pkt.hops, pkt.xid, pkt.flags, pkt.giaddr) == (1, 1, 0xDEADBEEF, 0,
                                                                   "192.0.2.2")
    assert pkt.mac == IDENT.mac and pkt.msg_type == 1
    assert pkt.options.data(61) == b"\x01" + IDENT.mac
    assert pkt.options.data(12) == b"annas-iphone"
    assert pkt.options.data(60) == b"MSFT 5.0"
    assert pkt.options.data(55) == bytes((1, 28, 2, 3, 15, 6, 12, 42))
    assert pkt.options.data(77) == b"lab"


def test_client_mode_sets_broadcast_flag():
    pkt = Packet4.parse(bytes(P.V4Packets(False).discover(1, IDENT)))
    assert pkt.broadcast and pkt.hops == 0 and pkt.giaddr == "0.0.0.0"


def test_request_renew_release():
    v4 = P.V4Packets(True, GIADDR)
    yi = ipaddress.IPv4Address("10.0.0.7").packed
    req = Packet4.parse(bytes(v4.request(7, IDENT, yi, SID)))
    assert req.msg_type == 3 and req.options.data(50) == yi and req.options.data(54) == SID
    ren = Packet4.parse(bytes(v4.renew(8, IDENT, yi)))
    assert ren.ciaddr == "10.0.0.7" and 50 not in ren.options and 54 not in ren.options
    rel = Packet4.parse(bytes(v4.release(9, IDENT, yi, SID)))
    assert rel.msg_type == 7 and rel.ciaddr == "10.0.0.7" and rel.options.data(54) == SID


def test_custom_option_overrides_identity_option():
    v4 = P.V4Packets(True, GIADDR, custom=((61, b"\xffabc"),))
    pkt = Packet4.parse(bytes(v4.discover(1, IDENT)))
    assert pkt.options.get_all(61) == [Option(61, b"\xffabc")]


def test_parse_reply4():
    rep = Packet4(op=2, xid=77, yiaddr="10.0.0.9", chaddr=IDENT.mac + bytes(10),
                  options=OptionList([Option(53, b"\x05"), Option(54, SID)])).build()
    assert P.parse_reply4(rep) == (77, 5, ipaddress.IPv4Address("10.0.0.9").packed, SID,
                                   IDENT.mac)
    assert P.parse_reply4(rep[:239]) is None          # no options
    assert P.parse_reply4(b"\x01" + rep[1:]) is None  # a request, not a reply
    assert P.parse_reply4(rep[:241] + b"\x35\x09") is None  # option runs past the end
    no_type = Packet4(op=2, xid=1, options=OptionList([Option(54, SID)])).build()
    assert P.parse_reply4(no_type) is None


def test_solicit_relayed_and_direct():
    link = ipaddress.IPv6Address("2001:db8::2").packed
    v6 = P.V6Packets(link, "address-and-prefix", rapid_commit=True, custom=((1234, b"x"),))
    relay = parse_packet6(v6.solicit(0xABCDEF, IDENT))
    assert isinstance(relay, Relay6) and relay.msg_type == 12 and relay.hop_count == 0
    assert relay.link_address == relay.peer_address == "2001:db8::2"
    sol = relay.inner
    assert (sol.msg_type, sol.transaction_id) == (1, 0xABCDEF)
    assert sol.options.data(1) == IDENT.duid
    assert sol.options.data(3) == struct.pack("!III", 1, 3600, 5400)
    assert sol.options.data(25) == struct.pack("!III", 1, 3600, 5400)
    assert 14 in sol.options and sol.options.data(1234) == b"x"
    assert sol.options.data(39) == b"\x00\x0cannas-iphone"
    assert sol.options.data(16) == struct.pack("!IH", 311, 8) + b"MSFT 5.0"
    direct = parse_packet6(P.V6Packets(None).solicit(5, IDENT))
    assert isinstance(direct, Packet6) and 25 not in direct.options


def _reply6(mtype=7, status=None, with_ia=True):
    ia_sub = struct.pack("!HH", 5, 24) + ipaddress.IPv6Address("2001:db8::9").packed + bytes(8)
    if status is not None:
        ia_sub += struct.pack("!HHH", 13, 2, status)
    opts = OptionList([Option(1, IDENT.duid), Option(2, b"\x00\x02server")])
    if with_ia:
        opts.append(Option(3, struct.pack("!III", 1, 0, 0) + ia_sub))
    return Packet6(mtype, 42, opts)


def test_parse_reply6_direct_and_relayed():
    msg = _reply6()
    r = P.parse_reply6(msg.build())
    xid, mtype, duid, sid, ias, leases, status = r
    assert (xid, mtype, duid, status) == (42, 7, IDENT.duid, 0)
    assert sid == struct.pack("!HH", 2, 8) + b"\x00\x02server"
    assert leases == (ipaddress.IPv6Address("2001:db8::9").packed,)
    assert ias.startswith(struct.pack("!HH", 3, len(msg.options.data(3))))
    wrapped = Relay6(13, 0, "2001:db8::2", "2001:db8::2", OptionList(), msg).build()
    assert P.parse_reply6(wrapped) == r
    assert P.parse_reply6(_reply6(status=2).build())[6] == 2
    assert P.parse_reply6(_reply6(with_ia=False).build())[5] == ()
    assert P.parse_reply6(msg.build()[:-3]) is None
    assert P.parse_reply6(b"\x0d\x00" + bytes(32)) is None  # relay without a message


def test_request_copies_ias_and_server_id():
    v6 = P.V6Packets(None)
    _, _, _, sid, ias, _, _ = P.parse_reply6(_reply6(mtype=2).build())
    req = parse_packet6(v6.after_reply(P.REQUEST6, 9, IDENT, sid, ias))
    assert req.msg_type == 3 and req.transaction_id == 9
    assert req.options.data(2) == b"\x00\x02server"
    assert req.options.data(3) == _reply6().options.data(3)


# --- RFC 8357: relay source port ---------------------------------------------------

def test_v4_relay_port_suboption_goes_last_in_every_request():
    v4 = P.V4Packets(True, GIADDR, custom=((77, b"lab"),), relay_port=True)
    for raw in (v4.discover(1, IDENT), v4.request(2, IDENT, SID, SID), v4.renew(3, IDENT, SID),
                v4.release(4, IDENT, SID, SID)):
        # option 82, length 2, sub-option 19 with no data, then End
        assert bytes(raw).endswith(b"\x52\x02\x13\x00\xff")
        pkt = Packet4.parse(bytes(raw))
        assert pkt.options.data(82) == b"\x13\x00" and pkt.options.data(77) == b"lab"
        assert pkt.giaddr == "192.0.2.2" and pkt.hops == 1


def test_v4_without_relay_port_is_perfdhcp_shaped():
    plain = bytes(P.V4Packets(True, GIADDR).discover(1, IDENT))
    marked = bytes(P.V4Packets(True, GIADDR, relay_port=True).discover(1, IDENT))
    assert 82 not in Packet4.parse(plain).options
    assert marked == plain[:-1] + b"\x52\x02\x13\x00\xff"


def test_v4_relay_port_joins_a_given_option_82():
    circuit = b"\x01\x03eth"
    v4 = P.V4Packets(True, GIADDR, custom=((82, circuit), (77, b"lab")), relay_port=True)
    opts = Packet4.parse(bytes(v4.discover(1, IDENT))).options
    assert opts.data(82) == circuit + b"\x13\x00"
    assert len(opts.get_all(82)) == 1
    already = P.V4Packets(True, GIADDR, custom=((82, b"\x13\x00" + circuit),), relay_port=True)
    assert Packet4.parse(bytes(already.discover(1, IDENT))).options.data(82) == \
        b"\x13\x00" + circuit
    off = P.V4Packets(True, GIADDR, custom=((82, circuit),))
    assert Packet4.parse(bytes(off.discover(1, IDENT))).options.data(82) == circuit


def test_v6_relay_source_port_option_in_relay_forw():
    link = ipaddress.IPv6Address("2001:db8::2").packed
    v6 = P.V6Packets(link, relay_port=True)
    _, _, _, sid, ias, _, _ = P.parse_reply6(_reply6(mtype=2).build())
    for raw in (v6.solicit(7, IDENT), v6.after_reply(P.REQUEST6, 8, IDENT, sid, ias)):
        # RELAY-FORW header, then option 135 (length 2, Downstream Source Port 0:
        # no relay below us), then the relay message option
        assert raw[:34] == b"\x0c\x00" + link + link
        assert raw[34:40] == b"\x00\x87\x00\x02\x00\x00"
        assert raw[40:42] == b"\x00\x09"
        relay = parse_packet6(raw)
        assert relay.options.data(135) == b"\x00\x00"
        assert relay.inner.options.data(1) == IDENT.duid
        assert 135 not in relay.inner.options
    plain = P.V6Packets(link).solicit(7, IDENT)
    assert 135 not in parse_packet6(plain).options
    assert v6.solicit(7, IDENT) == plain[:34] + b"\x00\x87\x00\x02\x00\x00" + plain[34:]
    # a client (no relay) has no relay source port to give
    assert isinstance(parse_packet6(P.V6Packets(None, relay_port=True).solicit(7, IDENT)),
                      Packet6)


def test_parse_reply6_skips_the_echoed_relay_source_port():
    msg = _reply6()
    echoed = OptionList([Option(135, b"\x00\x00"), Option(18, b"eth0")])
    wrapped = Relay6(13, 0, "2001:db8::2", "2001:db8::2", echoed, msg).build()
    assert P.parse_reply6(wrapped) == P.parse_reply6(msg.build())
