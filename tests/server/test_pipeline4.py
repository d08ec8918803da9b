"""The DHCPv4 pipeline in-process: every message type and every NAK rule."""
import socket

from kea_tools.codec.option import Option
from kea_tools.leases.model import STATE_DECLINED, Lease4
from kea_tools.server.model import ip_to_int
from tests.server.helpers import (SERVER, Clock, dora, exchange, incoming, mac, packet, pool,
                                  reservation, server, subnet, u32)
from kea_tools.server.model import ReservationIndex


def test_dora_gives_address_router_dns_and_stores_lease():
    pipe = server()
    offer, ack = dora(pipe, mac(1))
    assert offer.msg_type == 2 and ack.msg_type == 5
    assert offer.yiaddr == ack.yiaddr == "192.0.2.10"
    assert ack.options.data(54) == socket.inet_aton(SERVER)
    assert ack.options.data(1) == socket.inet_aton("255.255.255.0")
    assert ack.options.data(3) == socket.inet_aton("192.0.2.1")
    assert len(ack.options.data(6)) == 8
    assert u32(ack.options.data(51)) == 7200
    lease = pipe.leases.backend.get("192.0.2.10")
    assert lease.hwaddr == mac(1) and lease.subnet_id == 1 and lease.valid_lft == 7200
    st = pipe.stats
    assert st.value("pkt4-offer-sent") == 1 and st.value("pkt4-ack-sent") == 1
    assert st.value("subnet[1].assigned-addresses") == 1
    assert st.value("cumulative-assigned-addresses") == 1
    assert st.value("subnet[1].total-addresses") == 11


def test_options_follow_prl_order_and_basic_options_always_sent():
    pipe = server()
    (offer,), _ = exchange(pipe, packet(1, mac(1), prl=bytes([15, 6, 3, 1])))
    codes = offer.options.codes()
    assert codes.index(15) < codes.index(6) < codes.index(3)
    (offer,), _ = exchange(pipe, packet(1, mac(2), prl=b""))
    assert {3, 6, 15} <= set(offer.options.codes())


def test_offer_is_not_stored_and_discover_is_idempotent_for_lease_holder():
    pipe = server()
    exchange(pipe, packet(1, mac(1)))
    assert len(pipe.leases.backend) == 0
    _, ack = dora(pipe, mac(1))
    (offer2,), _ = exchange(pipe, packet(1, mac(1)))
    assert offer2.yiaddr == ack.yiaddr  # lease affinity


def test_requested_address_honoured_and_lifetime_clamped():
    pipe = server([subnet(min_valid_lifetime=100, max_valid_lifetime=1000, valid_lifetime=500)])
    (offer,), _ = exchange(pipe, packet(1, mac(1), requested="192.0.2.15",
                                        options=[Option(51, (50).to_bytes(4, "big"))]))
    assert offer.yiaddr == "192.0.2.15"
    assert u32(offer.options.data(51)) == 100
    (offer,), _ = exchange(pipe, packet(1, mac(2), options=[Option(51, (99999).to_bytes(4, "big"))]))
    assert u32(offer.options.data(51)) == 1000


def test_timers_explicit_and_calculated():
    pipe = server([subnet(renew_timer=1000, rebind_timer=2000)])
    _, ack = dora(pipe, mac(1))
    assert u32(ack.options.data(58)) == 1000 and u32(ack.options.data(59)) == 2000
    pipe = server([subnet(calculate_tee_times=True, valid_lifetime=1000)])
    _, ack = dora(pipe, mac(1))
    assert u32(ack.options.data(58)) == 500 and u32(ack.options.data(59)) == 875
    pipe = server()
    _, ack = dora(pipe, mac(1))
    assert 58 not in ack.options and 59 not in ack.options  # Kea 2.2 v4 default


def test_client_id_echo_and_match():
    pipe = server()
    cid = b"\x01" + mac(9)
    offer, ack = dora(pipe, mac(9), client_id=cid)
    assert ack.options.data(61) == cid
    # Same client-id from a different NIC gets the same lease (match-client-id).
    (offer2,), _ = exchange(pipe, packet(1, mac(10), client_id=cid))
    assert offer2.yiaddr == ack.yiaddr


def test_match_client_id_false_uses_chaddr():
    pipe = server([subnet(match_client_id=False)])
    _, ack = dora(pipe, mac(9), client_id=b"\x01abc")
    (offer2,), _ = exchange(pipe, packet(1, mac(9), client_id=b"\x01xyz"))
    assert offer2.yiaddr == ack.yiaddr


def test_relayed_lands_in_giaddr_subnet_and_echoes_option_82():
    s1 = subnet(1)
    s2 = subnet(2, "198.51.100.0/24", pools=(("198.51.100.100", "198.51.100.110"),))
    pipe = server([s1, s2])
    rai = Option(82, bytes([1, 3]) + b"abc" + bytes([2, 2]) + b"xy")
    (offer,), out = exchange(pipe, packet(1, mac(1), giaddr="198.51.100.1", hops=1, options=[rai]),
                             src="198.51.100.1", port=67, local="192.0.2.1")
    assert offer.yiaddr == "198.51.100.100" and offer.giaddr == "198.51.100.1"
    assert offer.options.codes()[-1] == 82 and offer.options.data(82) == rai.data
    assert out[0].destination.address == "198.51.100.1" and out[0].destination.port == 67


def test_link_selection_and_relay_addresses_select_subnet():
    s1 = subnet(1)
    s2 = subnet(2, "198.51.100.0/24", pools=(("198.51.100.100", "198.51.100.110"),))
    s3 = subnet(3, "203.0.113.0/24", pools=(("203.0.113.10", "203.0.113.20"),),
                relay_addresses=frozenset({"10.9.9.9"}))
    pipe = server([s1, s2, s3])
    link = Option(82, bytes([5, 4]) + socket.inet_aton("198.51.100.7"))
    (offer,), _ = exchange(pipe, packet(1, mac(1), giaddr="192.0.2.254", options=[link]))
    assert offer.yiaddr == "198.51.100.100"
    (offer,), _ = exchange(pipe, packet(1, mac(2), options=[Option(118, socket.inet_aton("198.51.100.1"))]))
    assert offer.yiaddr.startswith("198.51.100.")
    (offer,), _ = exchange(pipe, packet(1, mac(3), giaddr="10.9.9.9"))
    assert offer.yiaddr == "203.0.113.10"


def test_shared_network_spills_into_second_subnet():
    from kea_tools.server.model import SharedNetwork4
    net = SharedNetwork4("floor1")
    s1 = subnet(1, pools=(("192.0.2.10", "192.0.2.11"),), shared_network=net)
    s2 = subnet(2, "198.51.100.0/24", pools=(("198.51.100.10", "198.51.100.11"),),
                shared_network=net)
    net.subnets = [s1, s2]
    pipe = server([s1, s2])
    got = [dora(pipe, mac(i))[1].yiaddr for i in range(4)]
    assert got == ["192.0.2.10", "192.0.2.11", "198.51.100.10", "198.51.100.11"]
    (nothing,) = [exchange(pipe, packet(1, mac(99)))[0]]
    assert nothing == []
    assert pipe.stats.value("v4-allocation-fail-shared-network") == 1


def test_reservation_in_pool_out_of_pool_and_conflict():
    res = reservation(mac(7), "192.0.2.200", hostname="printer")
    pipe = server([subnet(reservations=ReservationIndex([res]))])
    offer, ack = dora(pipe, mac(7), options=[Option(12, b"ignored")])
    assert ack.yiaddr == "192.0.2.200"
    assert ack.options.data(12) == b"printer"
    assert pipe.leases.backend.get("192.0.2.200").hostname == "printer"
    # In-pool reserved address is skipped by the allocator for other clients.
    res2 = reservation(mac(8), "192.0.2.10")
    pipe = server([subnet(reservations=ReservationIndex([res2]))])
    _, ack = dora(pipe, mac(1))
    assert ack.yiaddr == "192.0.2.11"
    _, ack = dora(pipe, mac(8))
    assert ack.yiaddr == "192.0.2.10"


def test_reserved_address_leased_to_other_gives_dynamic_and_counts_conflict():
    pipe = server()
    _, ack = dora(pipe, mac(1))
    assert ack.yiaddr == "192.0.2.10"
    res = reservation(mac(2), "192.0.2.10")
    pipe.model.subnets[0].reservations.add(res)
    pipe.model.index()
    _, ack2 = dora(pipe, mac(2))
    assert ack2.yiaddr != "192.0.2.10"
    assert pipe.stats.value("v4-reservation-conflicts") == 1


def test_global_reservation_with_classes_and_boot_fields():
    from kea_tools.server.model import BootFields, ClientClass4, option_table, OptionItem
    cls = ClientClass4("voip", options=option_table([OptionItem(66, b"tftp.example")]),
                       boot=BootFields("192.0.2.66", None, "phone.cfg"))
    res = reservation(mac(5), None, client_classes=("voip",))
    pipe = server([subnet(reservations_global=True)], classes=[cls],
                  global_reservations=ReservationIndex([res]))
    (offer,), _ = exchange(pipe, packet(1, mac(5), prl=bytes([66, 3])))
    assert offer.options.data(66) == b"tftp.example"
    assert offer.siaddr == "192.0.2.66" and offer.file.rstrip(b"\0") == b"phone.cfg"
    (offer,), _ = exchange(pipe, packet(1, mac(6), prl=bytes([66, 3])))
    assert 66 not in offer.options


def test_class_guarded_pool():
    from kea_tools.server.model import ClientClass4
    from kea_tools.classify import compile_expression
    cls = ClientClass4("phones", test=compile_expression("option[60].text == 'phone'", 4))
    s = subnet(pools=[pool("192.0.2.10", "192.0.2.10", client_class="phones"),
                      ("192.0.2.50", "192.0.2.50")])
    pipe = server([s], classes=[cls])
    (o1,), _ = exchange(pipe, packet(1, mac(1), options=[Option(60, b"phone")]))
    (o2,), _ = exchange(pipe, packet(1, mac(2)))
    assert o1.yiaddr == "192.0.2.10" and o2.yiaddr == "192.0.2.50"


def test_drop_class_drops():
    from kea_tools.server.model import ClientClass4
    from kea_tools.classify import compile_expression
    cls = ClientClass4("DROP", test=compile_expression(f"pkt4.mac == 0x{mac(3).hex()}", 4))
    pipe = server(classes=[cls])
    assert exchange(pipe, packet(1, mac(3)))[0] == []
    assert pipe.stats.value("pkt4-receive-drop") == 1


# --- REQUEST states and NAK rules ------------------------------------------------

def test_request_for_other_server_is_dropped():
    pipe = server()
    (offer,), _ = exchange(pipe, packet(1, mac(1)))
    assert exchange(pipe, packet(3, mac(1), requested=offer.yiaddr, server_id="10.0.0.99"))[0] == []
    assert len(pipe.leases.backend) == 0


def test_request_address_in_use_by_other_is_naked():
    pipe = server()
    _, ack = dora(pipe, mac(1))
    (nak,), out = exchange(pipe, packet(3, mac(2), requested=ack.yiaddr, server_id=SERVER))
    assert nak.msg_type == 6 and nak.yiaddr == "0.0.0.0"
    assert out[0].destination.address == "255.255.255.255"
    assert pipe.stats.value("pkt4-nak-sent") == 1


def test_request_outside_pools_and_outside_network_naked():
    pipe = server()
    (nak,), _ = exchange(pipe, packet(3, mac(1), requested="192.0.2.100", server_id=SERVER))
    assert nak.msg_type == 6
    (nak,), _ = exchange(pipe, packet(3, mac(1), requested="10.1.1.1", server_id=SERVER))
    assert nak.msg_type == 6


def test_request_reserved_for_other_naked_and_client_with_other_reservation_naked():
    res = reservation(mac(8), "192.0.2.12")
    pipe = server([subnet(reservations=ReservationIndex([res]))])
    (nak,), _ = exchange(pipe, packet(3, mac(1), requested="192.0.2.12", server_id=SERVER))
    assert nak.msg_type == 6
    (nak,), _ = exchange(pipe, packet(3, mac(8), requested="192.0.2.15", server_id=SERVER))
    assert nak.msg_type == 6


def test_init_reboot_rules():
    pipe = server()
    _, ack = dora(pipe, mac(1))
    # Known client, right address: ACK.
    (r,), _ = exchange(pipe, packet(3, mac(1), requested=ack.yiaddr))
    assert r.msg_type == 5
    # Known client, wrong address: NAK.
    (r,), _ = exchange(pipe, packet(3, mac(1), requested="192.0.2.19"))
    assert r.msg_type == 6
    # Unknown client, not authoritative: silence.
    assert exchange(pipe, packet(3, mac(2), requested="192.0.2.18"))[0] == []
    # Unknown client, authoritative: NAK.
    pipe = server([subnet(authoritative=True)])
    (r,), _ = exchange(pipe, packet(3, mac(2), requested="192.0.2.18"))
    assert r.msg_type == 6


def test_renewing_and_rebinding_extend_the_lease():
    clock = Clock()
    pipe = server(clock=clock)
    _, ack = dora(pipe, mac(1))
    clock.now += 3600
    (r,), out = exchange(pipe, packet(3, mac(1), ciaddr=ack.yiaddr), src=ack.yiaddr,
                         local=SERVER)
    assert r.msg_type == 5 and r.yiaddr == ack.yiaddr and r.ciaddr == ack.yiaddr
    assert out[0].destination.address == ack.yiaddr
    assert pipe.leases.backend.get(ack.yiaddr).cltt == clock.now
    clock.now += 10
    (r,), out = exchange(pipe, packet(3, mac(1), ciaddr=ack.yiaddr), src=ack.yiaddr)
    assert r.msg_type == 5
    assert pipe.stats.value("subnet[1].assigned-addresses") == 1
    assert pipe.stats.value("cumulative-assigned-addresses") == 1


def test_no_subnet_discover_dropped_request_naked():
    pipe = server([subnet(prefix="10.0.0.0/24", pools=(("10.0.0.10", "10.0.0.20"),))])
    assert exchange(pipe, packet(1, mac(1)), iface="eth9")[0] == []
    (r,), _ = exchange(pipe, packet(3, mac(1), requested="10.0.0.10", server_id=SERVER),
                       iface="eth9")
    assert r.msg_type == 6


def test_pool_exhaustion_no_offer_and_stat():
    pipe = server([subnet(pools=(("192.0.2.10", "192.0.2.11"),))])
    dora(pipe, mac(1))
    dora(pipe, mac(2))
    assert exchange(pipe, packet(1, mac(3)))[0] == []
    assert pipe.stats.value("v4-allocation-fail-subnet") == 1
    assert pipe.stats.value("v4-allocation-fail") == 1


# --- DECLINE, RELEASE, INFORM ----------------------------------------------------

def test_decline_puts_address_in_probation():
    clock = Clock()
    pipe = server(clock=clock)
    _, ack = dora(pipe, mac(1))
    assert exchange(pipe, packet(4, mac(1), requested=ack.yiaddr, server_id=SERVER))[0] == []
    lease = pipe.leases.backend.get(ack.yiaddr)
    assert lease.state == STATE_DECLINED and lease.hwaddr is None and lease.valid_lft == 86400
    assert pipe.stats.value("declined-addresses") == 1
    assert pipe.stats.value("subnet[1].declined-addresses") == 1
    _, ack2 = dora(pipe, mac(1))
    assert ack2.yiaddr != ack.yiaddr
    # A DECLINE for someone else's lease is ignored.
    exchange(pipe, packet(4, mac(5), requested=ack2.yiaddr))
    assert pipe.leases.backend.get(ack2.yiaddr).state == 0


def test_release_deletes_lease():
    pipe = server()
    _, ack = dora(pipe, mac(1))
    assert exchange(pipe, packet(7, mac(2), ciaddr=ack.yiaddr, server_id=SERVER))[0] == []
    assert pipe.leases.backend.get(ack.yiaddr) is not None
    assert exchange(pipe, packet(7, mac(1), ciaddr=ack.yiaddr, server_id=SERVER))[0] == []
    assert pipe.leases.backend.get(ack.yiaddr) is None
    assert pipe.stats.value("subnet[1].assigned-addresses") == 0
    assert pipe.stats.value("pkt4-release-received") == 2


def test_inform_answers_options_to_ciaddr_without_lease():
    pipe = server()
    (ack,), out = exchange(pipe, packet(8, mac(1), ciaddr="192.0.2.77"), src="192.0.2.77",
                           local=SERVER)
    assert ack.msg_type == 5 and ack.yiaddr == "0.0.0.0" and 51 not in ack.options
    assert ack.options.data(3) == socket.inet_aton("192.0.2.1")
    assert out[0].destination.address == "192.0.2.77"
    assert len(pipe.leases.backend) == 0


# --- robustness, batching -----------------------------------------------------------

def test_garbage_is_counted_and_dropped():
    pipe = server()
    reply = packet(2, mac(1))
    reply.op = 2
    out = pipe.process([incoming(b"\x01\x02garbage"), incoming(bytes(300)), incoming(reply),
                        incoming(packet(9, mac(1)))])
    assert out == []
    assert pipe.stats.value("pkt4-parse-failed") == 2
    assert pipe.stats.value("pkt4-receive-drop") == 4
    assert pipe.stats.value("pkt4-received") == 4
    assert pipe.stats.value("pkt4-offer-received") == 1
    assert pipe.stats.value("pkt4-unknown-received") == 1


def test_one_burst_gives_distinct_addresses_and_acks_only_after_store():
    pipe = server()
    hws = [mac(i) for i in range(5)]
    offers, _ = exchange(pipe, *[packet(1, h, xid=i) for i, h in enumerate(hws)])
    assert len({o.yiaddr for o in offers}) == 5
    writes = []
    real_commit = pipe.leases.backend._commit

    def spy():
        writes.append(len(pipe.leases.backend))
        real_commit()
    pipe.leases.backend._commit = spy
    acks, _ = exchange(pipe, *[packet(3, h, xid=i, requested=o.yiaddr, server_id=SERVER)
                               for i, (h, o) in enumerate(zip(hws, offers))])
    assert [a.msg_type for a in acks] == [5] * 5
    assert writes == [5]  # one batch for the whole burst


def test_storage_failure_means_no_ack():
    from kea_tools.leases import BackendError
    pipe = server()
    (offer,), _ = exchange(pipe, packet(1, mac(1)))

    def broken(*a):
        raise BackendError("disk full")
    pipe.leases.backend._commit = broken
    acks, _ = exchange(pipe, packet(3, mac(1), requested=offer.yiaddr, server_id=SERVER))
    assert acks == []
    assert pipe.leases.get(ip_to_int(offer.yiaddr)) is None


def test_orphan_leases_are_kept_and_reported():
    from kea_tools.leases import open_backend
    backend = open_backend("memfile:", 4)
    backend.add(Lease4("10.9.9.9", mac(1), None, 3600, 1_700_000_000, 77))
    pipe = server(backend=backend)
    assert [l.address for l, _ in pipe.orphan_leases()] == ["10.9.9.9"]
    assert pipe.leases.get(ip_to_int("10.9.9.9")) is not None


def test_fast_reply_encoder_matches_codec_build():
    from kea_tools.codec.v4 import Packet4
    from kea_tools.server.pipeline4 import encode_reply
    pipe = server()
    rai = Option(82, bytes([1, 3]) + b"abc")
    _, outs = exchange(pipe, packet(1, mac(1), giaddr="192.0.2.9", options=[rai]),
                       packet(1, mac(2), options=[Option(61, b"\x01" + mac(2))]))
    long_opt = Packet4(op=2, xid=7, yiaddr="192.0.2.3", siaddr="192.0.2.1", sname=b"srv",
                       file=b"boot.efi")
    long_opt.options.extend([Option(53, b"\x05"), rai, Option(43, bytes(range(256)) * 2)])
    for resp in [o.response for o in outs] + [long_opt]:
        assert encode_reply(resp) == resp.build()


def test_lease_affinity_after_reclamation_keeps_counts_right():
    clock = Clock()
    pipe = server(clock=clock)
    _, ack = dora(pipe, mac(1))
    clock.now += 8000
    # Reclaim as the daemon's timer does (expired-reclaimed, identity kept).
    from kea_tools.leases.model import STATE_EXPIRED_RECLAIMED
    for lease in pipe.leases.pop_expired(clock.now, 100):
        pipe.leases.stage_put(lease.copy(state=STATE_EXPIRED_RECLAIMED))
        pipe.stats.add("subnet[1].assigned-addresses", -1)
    pipe.leases.commit()
    assert pipe.stats.value("subnet[1].assigned-addresses") == 0
    _, ack2 = dora(pipe, mac(1))
    assert ack2.yiaddr == ack.yiaddr
    assert pipe.leases.backend.get(ack.yiaddr).state == 0
    assert pipe.stats.value("subnet[1].assigned-addresses") == 1
    # Another client may take an expired (unreclaimed) lease; it is counted as reclaimed.
    clock.now += 8000
    (offer,), _ = exchange(pipe, packet(1, mac(2), requested=ack.yiaddr))
    assert offer.yiaddr == ack.yiaddr
    (ack3,), _ = exchange(pipe, packet(3, mac(2), requested=ack.yiaddr, server_id=SERVER))
    assert ack3.msg_type == 5
    assert pipe.stats.value("reclaimed-leases") == 1
    assert pipe.stats.value("subnet[1].assigned-addresses") == 1


def test_request_for_pool_of_another_class_naked():
    from kea_tools.server.model import ClientClass4
    from kea_tools.classify import compile_expression
    cls = ClientClass4("phones", test=compile_expression("option[60].text == 'phone'", 4))
    s = subnet(pools=[pool("192.0.2.10", "192.0.2.10", client_class="phones"),
                      ("192.0.2.50", "192.0.2.50")])
    pipe = server([s], classes=[cls])
    (nak,), _ = exchange(pipe, packet(3, mac(1), requested="192.0.2.10", server_id=SERVER))
    assert nak.msg_type == 6
    (ack,), _ = exchange(pipe, packet(3, mac(2), requested="192.0.2.10", server_id=SERVER,
                                      options=[Option(60, b"phone")]))
    assert ack.msg_type == 5


def test_nak_via_relay_sets_broadcast_bit_and_keeps_option_82():
    pipe = server()
    rai = Option(82, bytes([1, 2]) + b"ab")
    (nak,), out = exchange(pipe, packet(3, mac(1), requested="10.1.1.1", server_id=SERVER,
                                        giaddr="192.0.2.254", options=[rai]),
                           src="192.0.2.254", port=67, local=SERVER)
    assert nak.msg_type == 6 and nak.flags & 0x8000
    assert nak.options.data(82) == rai.data
    assert out[0].destination.address == "192.0.2.254" and out[0].destination.port == 67
