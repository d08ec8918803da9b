"""The simulator against an in-process server over a socketpair: exact counters."""
import io
import ipaddress

import pytest

from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import parse_packet6
from kea_tools.sim.engine import EXIT_DROPS, EXIT_OK, PerfConfig, Simulator, sends_relay_port

from tests.sim.fakeserver import FakeServer, Misbehaviour

RELAY4 = ipaddress.IPv4Address("192.0.2.2").packed
RELAY6 = ipaddress.IPv6Address("2001:db8::2").packed


def run(family=4, misbehave=None, local_port=None, **kw):
    kw.setdefault("rate", 2000)
    kw.setdefault("num_requests", (50,))
    kw.setdefault("clients", 1000)
    kw.setdefault("drop_time", 0.3)
    cfg = PerfConfig(family=family, server="192.0.2.1" if family == 4 else "2001:db8::1",
                     **kw)
    with FakeServer(family, misbehave) as srv:
        sim = Simulator(cfg, srv.client_sock, None, RELAY4 if family == 4 else RELAY6,
                        out=io.StringIO(), err=io.StringIO(), local_port=local_port)
        stats = sim.run()
    return sim, stats, srv


def counters(stats):
    return {ex.name: (ex.sent, ex.received, ex.drops) for ex in stats.exchanges}


def test_v4_dora_all_answered():
    sim, stats, srv = run()
    assert counters(stats) == {"DISCOVER-OFFER": (50, 50, 0), "REQUEST-ACK": (50, 50, 0)}
    assert stats.completed == 50
    assert sim.exit_code(stats) == EXIT_OK
    assert stats.exit_reason == "Reached max requests limit"
    # Relay-shaped like perfdhcp: hops 1, giaddr ours, REQUEST keeps the xid.
    pkts = [Packet4.parse(p) for p in srv.received]
    first = pkts[0]
    second = next(p for p in pkts if p.msg_type == 3)
    assert (first.hops, first.giaddr, first.msg_type) == (1, "192.0.2.2", 1)
    assert second.xid == first.xid
    assert second.options.data(50) == ipaddress.IPv4Address("10.0.0.10").packed
    assert second.options.data(54) == ipaddress.IPv4Address("192.0.2.1").packed


def test_v4_naks_are_counted_apart_from_drops():
    sim, stats, _ = run(misbehave=Misbehaviour(nak_every=5))
    ra = stats.exchanges[1]
    assert (ra.sent, ra.received, ra.naks, ra.drops) == (50, 50, 10, 0)
    assert sim.exit_code(stats) == EXIT_OK


def test_v4_silence_is_drops_and_exit_3():
    sim, stats, _ = run(misbehave=Misbehaviour(silent_every=10))
    do = stats.exchanges[0]
    assert (do.sent, do.received, do.drops, do.collected) == (50, 45, 5, 5)
    assert sim.exit_code(stats) == EXIT_DROPS


def test_v4_max_drop_stops_the_run():
    sim, stats, _ = run(misbehave=Misbehaviour(silent_every=2), num_requests=(), rate=500,
                        max_drop=((5, False),), drop_time=0.05, period=10)
    assert stats.exit_reason == "Reached maximum drops number"
    assert stats.duration < 5
    assert sim.exit_code(stats) == EXIT_DROPS


def test_v4_max_drop_percent_tolerates_fewer():
    sim, stats, _ = run(misbehave=Misbehaviour(silent_every=25), max_drop=((10.0, True),))
    assert stats.exchanges[0].drops == 2
    assert sim.exit_code(stats) == EXIT_OK  # 4 % < 10 %


def test_v4_malformed_and_mismatched_replies():
    sim, stats, _ = run(misbehave=Misbehaviour(garble_every=10, wrong_client_every=7))
    do = stats.exchanges[0]
    assert stats.malformed == 5
    # An OFFER for another chaddr does not answer the request: it stays pending.
    assert do.mismatched == (50 - 5) // 7
    assert do.received == 50 - 5 - do.mismatched


def test_v4_same_address_to_two_clients_is_reported():
    sim, stats, _ = run(misbehave=Misbehaviour(same_address=True))
    assert stats.exchanges[1].non_unique == 49


def test_v4_repeated_client_is_not_non_unique():
    sim, stats, _ = run(clients=5)
    assert stats.exchanges[1].non_unique == 0


def test_v4_two_way():
    sim, stats, srv = run(two_way=True)
    assert [ex.name for ex in stats.exchanges] == ["DISCOVER-OFFER"]
    assert stats.completed == 50
    assert all(Packet4.parse(p).msg_type == 1 for p in srv.received)


def test_v4_renew_and_release():
    sim, stats, srv = run(num_requests=(), period=0.6, rate=500, renew_rate=50,
                          release_rate=50)
    names = [ex.name for ex in stats.exchanges]
    assert names == ["DISCOVER-OFFER", "REQUEST-ACK", "REQUEST-ACK (renewal)", "RELEASE"]
    renew, release = stats.exchanges[2], stats.exchanges[3]
    assert renew.sent > 10 and renew.received == renew.sent and renew.orphans == 0
    assert release.sent > 10 and release.drops == 0  # a RELEASE has no answer
    assert stats.exchanges[1].orphans == 0  # renewal ACKs do not inflate orphans
    assert sim.exit_code(stats) == EXIT_OK
    kinds = {Packet4.parse(p).msg_type for p in srv.received}
    assert kinds == {1, 3, 7}


def test_v6_sarr_relayed():
    sim, stats, srv = run(family=6)
    assert counters(stats) == {"SOLICIT-ADVERTISE": (50, 50, 0),
                               "REQUEST-REPLY": (50, 50, 0)}
    relay = parse_packet6(srv.received[0])
    assert relay.msg_type == 12 and relay.link_address == "2001:db8::2"
    solicit = relay.innermost()
    assert solicit.msg_type == 1 and 3 in solicit.options and 25 not in solicit.options
    request = next(m for m in (parse_packet6(p).innermost() for p in srv.received)
                   if m.msg_type == 3)
    assert request.options.data(2) is not None
    assert request.options.data(1) == solicit.options.data(1)
    assert request.transaction_id != solicit.transaction_id  # v6 REQUEST: new xid


def test_v6_prefixes_and_status_codes():
    sim, stats, _ = run(family=6, lease_type="address-and-prefix",
                        misbehave=Misbehaviour(nak_every=10))
    rr = stats.exchanges[1]
    assert (rr.received, rr.naks, rr.rejected, rr.drops) == (50, 5, 0, 0)


@pytest.mark.parametrize("family", [4, 6])
def test_answers_without_a_lease_are_rejected(family):
    sim, stats, srv = run(family=family, misbehave=Misbehaviour(no_lease_every=10),
                          **({"lease_type": "prefix-only"} if family == 6 else {}))
    first, second = stats.exchanges
    assert (first.received, first.rejected, first.drops) == (50, 5, 0)
    assert second.sent == 45 and stats.completed == 45
    if family == 6:
        solicit = parse_packet6(srv.received[0]).innermost()
        assert 25 in solicit.options and 3 not in solicit.options


def test_v6_rapid_commit():
    sim, stats, _ = run(family=6, rapid_commit=True)
    sa, rr = stats.exchanges
    assert (sa.sent, sa.received, rr.sent) == (50, 50, 0)
    assert stats.completed == 50


def test_v6_renew_release_and_mismatch():
    sim, stats, _ = run(family=6, num_requests=(), period=0.6, rate=500, renew_rate=50,
                        release_rate=50, misbehave=Misbehaviour(wrong_client_every=9))
    sa, rr, renew, release = stats.exchanges
    assert sa.mismatched > 0 and sa.received + sa.mismatched == sa.sent
    assert renew.received == renew.sent > 10
    assert release.received == release.sent > 10


@pytest.mark.parametrize("identities", ["sequential", "faker"])
def test_seed_makes_runs_reproducible(identities):
    def packets():
        _, _, srv = run(seed=42, identities=identities, num_requests=(20,))
        return srv.received
    assert sorted(packets()) == sorted(packets())  # interleaving depends on timing


def test_faker_identities_on_the_wire():
    _, _, srv = run(seed=3, identities="faker", num_requests=(10,))
    discovers = [Packet4.parse(p) for p in srv.received if Packet4.parse(p).msg_type == 1]
    from kea_tools.sim.identity import VENDOR_PROFILES
    ouis = {o for prof in VENDOR_PROFILES for o in prof.ouis}
    for pkt in discovers:
        assert int.from_bytes(pkt.mac[:3], "big") in ouis
        assert pkt.options.data(12)  # host name
        assert pkt.options.data(61) == b"\x01" + pkt.mac
    assert len({p.mac for p in discovers}) == 10


def test_v6_client_id_given_with_o_is_what_replies_are_matched_on():
    duid = bytes.fromhex("000300010200000000aa")
    sim, stats, srv = run(family=6, options=((1, duid),), num_requests=(20,))
    assert counters(stats)["REQUEST-REPLY"] == (20, 20, 0)
    assert all(parse_packet6(p).innermost().options.get_all(1)[0].data == duid
               for p in srv.received)


@pytest.mark.parametrize("family, mode, local_port, enabled, expected", [
    (4, "relay", 67, True, False),       # perfdhcp's port: perfdhcp's bytes
    (4, "relay", 40000, True, True),
    (4, "relay", 547, True, True),       # 547 is not the DHCPv4 relay port
    (4, "relay", 40000, False, False),   # --no-relay-port
    (4, "relay", None, True, False),     # port unknown (a socketpair)
    (4, "client", 40000, True, False),   # a client is no relay
    (6, "relay", 547, True, False),
    (6, "relay", 67, True, True),
    (6, "relay", 40000, True, True),
    (6, "relay", 40000, False, False),
    (6, "client", 40000, True, False),
])
def test_sends_relay_port(family, mode, local_port, enabled, expected):
    cfg = PerfConfig(family=family, mode=mode, relay_port=enabled)
    assert sends_relay_port(cfg, local_port) is expected


def _rai(pkt):
    return pkt.options.data(82)


@pytest.mark.parametrize("family", [4, 6])
def test_relay_port_option_on_every_request_from_a_non_dhcp_port(family):
    sim, stats, srv = run(family=family, local_port=40000, renew_rate=200, release_rate=200,
                          num_requests=(60,))
    assert all(ex.drops == 0 for ex in stats.exchanges)
    kinds = set()
    for raw in srv.received:
        if family == 4:
            pkt = Packet4.parse(raw)
            kinds.add(pkt.msg_type)
            assert _rai(pkt) == b"\x13\x00"
        else:
            relay = parse_packet6(raw)
            kinds.add(relay.innermost().msg_type)
            assert relay.options.data(135) == b"\x00\x00"
    assert kinds == ({1, 3, 7} if family == 4 else {1, 3, 5, 8})
    _, _, srv = run(family=family, local_port=67 if family == 4 else 547)
    if family == 4:
        assert not any(82 in Packet4.parse(raw).options for raw in srv.received)
    else:
        assert not any(135 in parse_packet6(raw).options for raw in srv.received)
    _, _, srv = run(family=family, local_port=40000, relay_port=False)
    assert srv.received and all(
        82 not in Packet4.parse(raw).options if family == 4 else
        135 not in parse_packet6(raw).options for raw in srv.received)
