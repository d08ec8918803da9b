"""The DHCPv6 pipeline in-process: every message type and every status code."""
import struct

from kea_tools.codec.option import Option
from kea_tools.codec.v6 import Relay6
from kea_tools.leases.model import EMPTY_DUID, STATE_DECLINED, TYPE_PD
from kea_tools.server import hooks as H
from kea_tools.server.hooks import HooksManager
from kea_tools.server.pipeline6 import pd_exclude, tee_times
from tests.server6.helpers import (ADVERTISE, CONFIRM, DECLINE, INFREQ, MCAST, REBIND, RELEASE,
                                   RENEW, REPLY, REQUEST, SERVER_DUID, SOLICIT, Clock, addresses,
                                   config, duid, exchange, ia_na, ia_pd, ia_ta, iaaddr, iaprefix,
                                   ias, message, one, oro, prefixes, relayed, sarr, server,
                                   status)

NOADDRS, NOBINDING, NOTONLINK, USEMULTICAST, NOPREFIX = 2, 3, 4, 5, 6


def test_solicit_advertise_request_reply_stores_lease():
    pipe = server()
    adv, rep = sarr(pipe, 1, oro(23, 24))
    assert adv.msg_type == ADVERTISE and rep.msg_type == REPLY
    assert adv.options.data(2) == SERVER_DUID and adv.options.data(1) == duid(1)
    assert addresses(adv) == [("2001:db8:1::10", 3000, 4000)]
    assert addresses(rep) == addresses(adv)
    (iaid, t1, t2, _), = ias(rep)
    assert (iaid, t1, t2) == (1, 1500, 2400)  # 0.5 / 0.8 of preferred
    assert rep.options.data(23) is not None and rep.options.data(24) is not None
    lease = pipe.leases.backend.get("2001:db8:1::10")
    assert lease.duid == duid(1) and lease.iaid == 1 and lease.valid_lft == 4000
    assert lease.preferred_lft == 3000 and lease.subnet_id == 1
    assert lease.hwaddr == bytes([2, 0, 0, 0, 0, 1]) and lease.hwaddr_source == 4
    st = pipe.stats
    assert st.value("pkt6-solicit-received") == 1 and st.value("pkt6-advertise-sent") == 1
    assert st.value("pkt6-request-received") == 1 and st.value("pkt6-reply-sent") == 1
    assert st.value("subnet[1].assigned-nas") == 1 and st.value("cumulative-assigned-nas") == 1
    assert st.value("subnet[1].total-nas") == 16 and st.value("subnet[1].total-pds") == 16


def test_mac_from_eui64_link_local_source():
    pipe = server()
    _, rep = sarr(pipe, 1, src="fe80::a8:bbff:fecc:ddee")
    lease = pipe.leases.backend.get(addresses(rep)[0][0])
    assert lease.hwaddr_source == 2
    assert lease.hwaddr == bytes.fromhex("02a8bbccddee") and lease.hwtype == 1


def test_advertise_is_not_stored_and_affinity_holds():
    pipe = server()
    one(pipe, message(SOLICIT, 1, ia_na(1)))
    assert len(pipe.leases.backend) == 0
    _, rep = sarr(pipe, 1)
    adv2 = one(pipe, message(SOLICIT, 1, ia_na(1)))
    assert addresses(adv2)[0][0] == addresses(rep)[0][0]
    _, rep2 = sarr(pipe, 2)
    # The iterative allocator's cursor moves on ADVERTISE too, as Kea's does.
    assert addresses(rep2)[0][0] not in (addresses(rep)[0][0], "2001:db8:1::10")


def test_unrequested_options_not_sent_always_send_is():
    section = config(option_data=None)
    section.pop("option_data")
    section["option-data"] = [{"name": "dns-servers", "data": "2001:db8::53"},
                              {"name": "sntp-servers", "data": "2001:db8::123",
                               "always-send": True}]
    pipe = server(section)
    adv = one(pipe, message(SOLICIT, 1, ia_na(1)))
    assert adv.options.data(23) is None and adv.options.data(31) is not None


def test_hinted_address_and_lifetimes_clamped():
    section = config()
    section["subnet6"][0].update({"min-valid-lifetime": 1000, "max-valid-lifetime": 5000,
                                  "min-preferred-lifetime": 500, "max-preferred-lifetime": 4000})
    pipe = server(section)
    adv = one(pipe, message(SOLICIT, 1, ia_na(1, iaaddr("2001:db8:1::15", 100, 99999))))
    assert addresses(adv) == [("2001:db8:1::15", 500, 5000)]


def test_no_address_available_status_in_ia():
    section = config()
    section["subnet6"][0]["pools"] = [{"pool": "2001:db8:1::10/128"}]
    pipe = server(section)
    sarr(pipe, 1)
    adv = one(pipe, message(SOLICIT, 2, ia_na(7)))
    (iaid, t1, t2, subs), = ias(adv)
    assert iaid == 7 and (t1, t2) == (0, 0) and status(subs) == NOADDRS
    rep = one(pipe, message(REQUEST, 2, ia_na(7), server_id=SERVER_DUID))
    assert status(ias(rep)[0][3]) == NOADDRS
    assert pipe.stats.value("v6-allocation-fail") == 2
    assert pipe.stats.value("v6-allocation-fail-subnet") == 2


def test_no_subnet_gives_noaddrsavail():
    pipe = server()
    adv = one(pipe, message(SOLICIT, 1, ia_na(1), ia_pd(2)), iface="eth9")
    assert status(ias(adv)[0][3]) == NOADDRS
    assert status(ias(adv, 25)[0][3]) == NOPREFIX


def test_prefix_delegation_and_no_prefix_avail():
    section = config()
    section["subnet6"][0]["pd-pools"] = [{"prefix": "2001:db8:8::", "prefix-len": 63,
                                          "delegated-len": 64}]
    pipe = server(section)
    adv = one(pipe, message(SOLICIT, 1, ia_pd(5)))
    (p, plen, pref, valid, _), = prefixes(adv)
    assert (p, plen, pref, valid) == ("2001:db8:8::", 64, 3000, 4000)
    rep = one(pipe, message(REQUEST, 1, ia_pd(5, iaprefix(p, plen)), server_id=SERVER_DUID))
    assert prefixes(rep)[0][:2] == ("2001:db8:8::", 64)
    lease = pipe.leases.backend.get("2001:db8:8::")
    assert lease.type == TYPE_PD and lease.prefix_len == 64 and lease.iaid == 5
    for client in (2, 3):
        rep = one(pipe, message(SOLICIT, client, ia_pd(5), Option(14)))
    # rapid commit is off: client 2 and 3 only got advertised 2001:db8:8:1::/64
    assert prefixes(rep)[0][0] == "2001:db8:8:1::"
    one(pipe, message(REQUEST, 2, ia_pd(5), server_id=SERVER_DUID))
    adv = one(pipe, message(SOLICIT, 3, ia_pd(5)))
    assert status(ias(adv, 25)[0][3]) == NOPREFIX
    st = pipe.stats
    assert st.value("subnet[1].assigned-pds") == 2 and st.value("cumulative-assigned-pds") == 2
    assert st.value("subnet[1].total-pds") == 2


def test_pd_exclude_sent_when_requested():
    section = config()
    section["subnet6"][0]["pd-pools"] = [{
        "prefix": "2001:db8:8::", "prefix-len": 56, "delegated-len": 64,
        "excluded-prefix": "2001:db8:8::1000:0:0:0", "excluded-prefix-len": 72}]
    pipe = server(section)
    adv = one(pipe, message(SOLICIT, 1, ia_pd(1)))
    assert prefixes(adv)[0][4].data(67) is None
    adv = one(pipe, message(SOLICIT, 1, ia_pd(1), oro(67)))
    assert prefixes(adv)[0][4].data(67) == bytes([72, 0x10])


def test_pd_exclude_encoding_rfc6603():
    class Pool:
        delegated_len, excluded_prefix_len = 56, 64
        excluded_prefix = int.from_bytes(bytes.fromhex("20010db8000000ab") + bytes(8), "big")
    assert pd_exclude(Pool) == bytes([64, 0xab])


def test_both_ia_na_and_ia_pd_in_one_exchange_and_ia_ta():
    pipe = server()
    rep = one(pipe, message(REQUEST, 1, ia_na(1), ia_pd(2), ia_ta(3), server_id=SERVER_DUID))
    assert len(addresses(rep)) == 1 and len(prefixes(rep)) == 1
    assert len(addresses(rep, 4)) == 1
    assert addresses(rep, 4)[0][0] != addresses(rep)[0][0]
    assert len(pipe.leases.backend) == 3


def test_rapid_commit():
    section = config()
    section["subnet6"][0]["rapid-commit"] = True
    pipe = server(section)
    rep = one(pipe, message(SOLICIT, 1, ia_na(1), Option(14)))
    assert rep.msg_type == REPLY and 14 in rep.options
    assert len(pipe.leases.backend) == 1
    adv = one(pipe, message(SOLICIT, 2, ia_na(1)))
    assert adv.msg_type == ADVERTISE and 14 not in adv.options


def test_renew_extends_and_zeroes_foreign_addresses():
    clock = Clock()
    pipe = server(clock=clock)
    _, rep = sarr(pipe, 1)
    addr = addresses(rep)[0][0]
    clock.now += 1000
    ren = one(pipe, message(RENEW, 1, ia_na(1, iaaddr(addr), iaaddr("2001:db8:1::1e")),
                            server_id=SERVER_DUID))
    assert (addr, 3000, 4000) in addresses(ren)
    assert ("2001:db8:1::1e", 0, 0) in addresses(ren)
    assert pipe.leases.backend.get(addr).cltt == clock.now
    assert pipe.stats.value("pkt6-renew-received") == 1
    assert pipe.stats.value("subnet[1].assigned-nas") == 1


def test_renew_without_binding_allocates_or_nobinding():
    section = config()
    section["subnet6"][0]["pools"] = [{"pool": "2001:db8:1::10/128"}]
    pipe = server(section)
    ren = one(pipe, message(RENEW, 1, ia_na(1, iaaddr("2001:db8:1::99")), server_id=SERVER_DUID))
    assert ("2001:db8:1::10", 3000, 4000) in addresses(ren)  # RFC 7550, as Kea
    ren = one(pipe, message(RENEW, 2, ia_na(1), server_id=SERVER_DUID))
    assert status(ias(ren)[0][3]) == NOBINDING


def test_rebind_extends_and_unknown_link_gets_zero_lifetimes():
    pipe = server()
    _, rep = sarr(pipe, 1)
    addr = addresses(rep)[0][0]
    reb = one(pipe, message(REBIND, 1, ia_na(1, iaaddr(addr))))
    assert addresses(reb) == [(addr, 3000, 4000)]
    reb = one(pipe, message(REBIND, 1, ia_na(1, iaaddr("2001:db8:99::1"))), iface="eth9")
    assert addresses(reb) == [("2001:db8:99::1", 0, 0)]
    assert exchange(pipe, message(REBIND, 1, ia_na(1)), iface="eth9")[0] == []


def test_release_and_nobinding():
    pipe = server()
    _, rep = sarr(pipe, 1)
    addr = addresses(rep)[0][0]
    rel = one(pipe, message(RELEASE, 1, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))
    assert status(ias(rel)[0][3]) == 0 and status(rel.options) == 0
    assert pipe.leases.backend.get(addr) is None
    assert pipe.stats.value("subnet[1].assigned-nas") == 0
    rel = one(pipe, message(RELEASE, 1, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))
    assert status(ias(rel)[0][3]) == NOBINDING and status(rel.options) == NOBINDING


def test_release_of_another_clients_lease_is_refused():
    pipe = server()
    _, rep = sarr(pipe, 1)
    addr = addresses(rep)[0][0]
    rel = one(pipe, message(RELEASE, 2, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))
    assert status(ias(rel)[0][3]) == NOBINDING
    assert pipe.leases.backend.get(addr) is not None


def test_decline_strips_the_lease_and_counts():
    pipe = server()
    _, rep = sarr(pipe, 1)
    addr = addresses(rep)[0][0]
    dec = one(pipe, message(DECLINE, 1, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))
    assert status(ias(dec)[0][3]) == 0
    lease = pipe.leases.backend.get(addr)
    assert lease.state == STATE_DECLINED and lease.duid == EMPTY_DUID
    assert lease.valid_lft == 86400 and lease.preferred_lft == 0
    assert pipe.stats.value("declined-addresses") == 1
    assert pipe.stats.value("subnet[1].declined-addresses") == 1
    _, rep2 = sarr(pipe, 1)
    assert addresses(rep2)[0][0] != addr
    dec = one(pipe, message(DECLINE, 1, ia_na(1, iaaddr("2001:db8:1::1f")),
                            server_id=SERVER_DUID))
    assert status(ias(dec)[0][3]) == NOBINDING


def test_confirm_on_link_and_not_on_link():
    pipe = server()
    rep = one(pipe, message(CONFIRM, 1, ia_na(1, iaaddr("2001:db8:1::77"))))
    assert status(rep.options) == 0
    rep = one(pipe, message(CONFIRM, 1, ia_na(1, iaaddr("2001:db8:2::77"))))
    assert status(rep.options) == NOTONLINK
    assert exchange(pipe, message(CONFIRM, 1, ia_na(1)))[0] == []


def test_information_request_options_only():
    pipe = server()
    rep = one(pipe, message(INFREQ, 1, oro(23, 24), client_id=False))
    assert rep.msg_type == REPLY and rep.options.data(23) is not None
    assert 3 not in rep.options and 1 not in rep.options
    assert exchange(pipe, message(INFREQ, 1, ia_na(1)))[0] == []


def test_server_id_checks_drop():
    pipe = server()
    other = bytes.fromhex("0002000000090102")
    assert exchange(pipe, message(REQUEST, 1, ia_na(1), server_id=other))[0] == []
    assert exchange(pipe, message(REQUEST, 1, ia_na(1)))[0] == []          # none
    assert exchange(pipe, message(SOLICIT, 1, ia_na(1), server_id=SERVER_DUID))[0] == []
    assert exchange(pipe, message(SOLICIT, 1, ia_na(1), client_id=False))[0] == []
    assert exchange(pipe, message(RENEW, 1, ia_na(1), server_id=other))[0] == []
    assert pipe.stats.value("pkt6-receive-drop") == 5


def test_unicast_rules_usemulticast():
    pipe = server()
    rep = one(pipe, message(REQUEST, 1, ia_na(1), server_id=SERVER_DUID),
              local="2001:db8:1::1")
    assert status(rep.options) == USEMULTICAST and 3 not in rep.options
    assert len(pipe.leases.backend) == 0
    assert exchange(pipe, message(SOLICIT, 1, ia_na(1)), local="2001:db8:1::1")[0] == []
    pipe = server(unicast_addresses={"2001:db8:1::1"})
    rep = one(pipe, message(REQUEST, 1, ia_na(1), server_id=SERVER_DUID), local="2001:db8:1::1")
    assert len(addresses(rep)) == 1


def test_malformed_packets_counted_and_dropped():
    pipe = server()
    out = pipe.process([incoming_bytes(b""), incoming_bytes(b"\x01\x00\x00\x01\x00\x01\x00\x09"),
                        incoming_bytes(b"\x0c\x00" + bytes(10))])
    assert out == []
    assert pipe.stats.value("pkt6-parse-failed") == 3
    assert pipe.stats.value("pkt6-receive-drop") == 3


def incoming_bytes(data):
    from tests.server6.helpers import incoming
    return incoming(data)


def test_relayed_solicit_link_address_selects_subnet_and_reply_is_wrapped():
    section = config()
    section["subnet6"].append({"id": 2, "subnet": "2001:db8:2::/64",
                               "pools": [{"pool": "2001:db8:2::100 - 2001:db8:2::1ff"}]})
    pipe = server(section)
    iface_id = Option(18, b"port-7")
    pkt = relayed(message(SOLICIT, 1, ia_na(1), oro(23)), link="2001:db8:2::1",
                  options=[iface_id, Option(65, b"\x03erp\x00"), Option(37, b"\x00\x00\x00\x09r")],
                  hops=2)
    (reply,), (out,) = exchange(pipe, pkt, src="2001:db8:ffff::1", port=547, local="2001:db8::1")
    assert isinstance(reply, Relay6) and reply.msg_type == 13
    assert out.address == "2001:db8:ffff::1" and out.port == 547
    inner_relay = reply.inner
    assert inner_relay.options.data(18) == b"port-7" and inner_relay.link_address == "2001:db8:2::1"
    adv = reply.innermost()
    assert addresses(adv)[0][0] == "2001:db8:2::100"
    assert adv.options.data(65) == b"\x03erp\x00"   # relay-supplied (default list)
    assert adv.options.data(37) is None


def test_relay_interface_id_selects_subnet_and_source_port():
    section = config()
    section["subnet6"].append({"id": 2, "subnet": "2001:db8:2::/64", "interface-id": "vlan9",
                               "pools": [{"pool": "2001:db8:2::100 - 2001:db8:2::1ff"}]})
    pipe = server(section)
    pkt = relayed(message(SOLICIT, 1, ia_na(1)), link="::",
                  options=[Option(18, b"vlan9"), Option(135, b"\x00\x00")])
    (reply,), (out,) = exchange(pipe, pkt, src="2001:db8:ffff::1", port=4547, local="")
    assert out.port == 4547 and reply.options.data(135) == b"\x00\x00"
    assert addresses(reply.innermost())[0][0] == "2001:db8:2::100"


def test_relay_client_linklayer_address_used_for_hw_reservation():
    section = config()
    section["subnet6"][0]["reservations"] = [{"hw-address": "0a:0b:0c:0d:0e:0f",
                                              "ip-addresses": ["2001:db8:1::abc"],
                                              "hostname": "hw-host"}]
    section["mac-sources"] = ["client-link-addr-option"]
    pipe = server(section)
    pkt = relayed(message(REQUEST, 1, ia_na(1), server_id=SERVER_DUID), link="2001:db8:1::1",
                  options=[Option(79, b"\x00\x01\x0a\x0b\x0c\x0d\x0e\x0f")])
    (reply,), _ = exchange(pipe, pkt, src="2001:db8:1::1", port=547, local="2001:db8:1::2")
    assert addresses(reply.innermost())[0][0] == "2001:db8:1::abc"
    lease = pipe.leases.backend.get("2001:db8:1::abc")
    assert lease.hostname == "hw-host" and lease.hwaddr_source == 8


def test_duid_reservation_address_prefix_hostname_options():
    section = config()
    section["subnet6"][0]["reservations"] = [{
        "duid": duid(9).hex(":"), "ip-addresses": ["2001:db8:1::500"],
        "prefixes": ["2001:db8:77::/48"], "hostname": "res-host",
        "option-data": [{"name": "dns-servers", "data": "2001:db8::99"}]}]
    pipe = server(section)
    rep = one(pipe, message(REQUEST, 9, ia_na(1), ia_pd(2), oro(23), server_id=SERVER_DUID))
    assert addresses(rep)[0][0] == "2001:db8:1::500"
    assert prefixes(rep)[0][:2] == ("2001:db8:77::", 48)
    assert rep.options.data(23) == bytes.fromhex("20010db8000000000000000000000099")
    assert pipe.leases.backend.get("2001:db8:1::500").hostname == "res-host"
    # Someone else hinting the reserved address does not get it.
    adv = one(pipe, message(SOLICIT, 3, ia_na(1, iaaddr("2001:db8:1::500"))))
    assert addresses(adv)[0][0] != "2001:db8:1::500"


def test_reserved_in_pool_address_skipped_by_allocator():
    section = config()
    section["subnet6"][0]["reservations"] = [{"duid": duid(9).hex(":"),
                                              "ip-addresses": ["2001:db8:1::10"]}]
    pipe = server(section)
    _, rep = sarr(pipe, 1)
    assert addresses(rep)[0][0] == "2001:db8:1::11"


def test_option_inheritance_class_subnet_pool_and_vendor_opts():
    section = config()
    section["option-data"] = [
        {"name": "dns-servers", "data": "2001:db8::1"},
        {"name": "vendor-opts", "data": "4491"},
        {"space": "vendor-4491", "name": "tftp-servers", "data": "2001:db8::69"},
        {"name": "preference", "data": "7"}]
    section["client-classes"] = [{"name": "vc", "test": "substring(option[16].hex,6,3) == 'abc'",
                                  "option-data": [{"name": "dns-servers", "data": "2001:db8::2"}]}]
    section["subnet6"][0]["option-data"] = [{"name": "domain-search", "data": "sub.example"}]
    section["subnet6"][0]["pools"][0]["option-data"] = [{"name": "domain-search",
                                                         "data": "pool.example"}]
    pipe = server(section)
    vendor_class = Option(16, struct.pack("!IH", 4491, 3) + b"abc")
    adv = one(pipe, message(SOLICIT, 1, ia_na(1), oro(23, 24, 17, 7), vendor_class))
    assert adv.options.data(23)[-1] == 2        # class beats global
    assert b"pool" in adv.options.data(24)      # pool beats subnet
    assert adv.options.data(7) == b"\x07"
    v = adv.options.data(17)
    # Kea 2.2 (checked live): without the client's own vendor-opts (17) naming the
    # vendor, the configured vendor-opts goes out with no sub-options.
    assert v == struct.pack("!I", 4491)
    adv = one(pipe, message(SOLICIT, 2, ia_na(1), oro(23)))
    assert adv.options.data(23)[-1] == 1


def test_pools_guarded_by_class():
    section = config()
    section["client-classes"] = [{"name": "gold", "test": "option[1].hex == 0x0003000102000000000a"}]
    section["subnet6"][0]["pools"] = [
        {"pool": "2001:db8:1::100/128", "client-class": "gold"},
        {"pool": "2001:db8:1::200/128"}]
    pipe = server(section)
    assert addresses(one(pipe, message(SOLICIT, 10, ia_na(1))))[0][0] == "2001:db8:1::100"
    assert addresses(one(pipe, message(SOLICIT, 11, ia_na(1))))[0][0] == "2001:db8:1::200"


def test_tee_times_rules():
    class S:
        renew_timer = rebind_timer = None
        calculate_tee_times, t1_percent, t2_percent = True, 0.5, 0.8
    assert tee_times(S, 1000) == (500, 800)
    S.renew_timer, S.rebind_timer = 900, 600
    assert tee_times(S, 1000) == (0, 600)       # T1 only when below T2
    S.calculate_tee_times, S.renew_timer, S.rebind_timer = False, None, None
    assert tee_times(S, 1000) == (0, 0)


def test_hooks_skip_drop_and_change():
    seen = []
    hooks = HooksManager()
    hooks.callouts["pkt6_receive"] = [lambda h: seen.append(h.arguments["query6"].msg_type)]

    def drop_renew(handle):
        if handle.arguments["query6"].msg_type == RENEW:
            handle.set_status(H.DROP)
    hooks.callouts["pkt6_send"] = [drop_renew]
    hooks.callouts["lease6_select"] = [
        lambda h: h.arguments["lease6"].__setattr__("hostname", "hooked")]
    committed = []
    hooks.callouts["leases6_committed"] = [
        lambda h: committed.append(len(h.arguments["leases6"]))]
    pipe = server(hooks=hooks)
    _, rep = sarr(pipe, 1)
    assert pipe.leases.backend.get(addresses(rep)[0][0]).hostname == "hooked"
    assert committed == [1]
    addr = addresses(rep)[0][0]
    assert exchange(pipe, message(RENEW, 1, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))[0] == []
    assert seen == [SOLICIT, REQUEST, RENEW]


def test_group_commit_failure_suppresses_reply():
    pipe = server()
    backend = pipe.leases.backend

    class Broken(Exception):
        pass
    from kea_tools.leases import BackendError

    def fail(*a, **k):
        raise BackendError("disk gone")
    backend._commit = fail
    replies, _ = exchange(pipe, message(REQUEST, 1, ia_na(1), server_id=SERVER_DUID),
                          message(SOLICIT, 2, ia_na(1)))
    assert [r.msg_type for r in replies] == [ADVERTISE]
    assert 0x10 not in [k & 0xff for k in pipe.leases.by_addr]
    assert pipe.stats.value("pkt6-receive-drop") == 1


def test_two_requests_in_one_burst_get_different_addresses():
    pipe = server()
    replies, _ = exchange(pipe, *(message(REQUEST, c, ia_na(1), server_id=SERVER_DUID)
                                  for c in range(1, 5)))
    got = [addresses(r)[0][0] for r in replies]
    assert len(set(got)) == 4 and len(pipe.leases.backend) == 4


def test_declined_lease_reused_after_probation_counts_reclaim():
    clock = Clock()
    section = config(**{"decline-probation-period": 100})
    section["subnet6"][0]["pools"] = [{"pool": "2001:db8:1::10/128"}]
    pipe = server(section, clock=clock)
    _, rep = sarr(pipe, 1)
    addr = addresses(rep)[0][0]
    one(pipe, message(DECLINE, 1, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))
    assert status(ias(one(pipe, message(SOLICIT, 2, ia_na(1))))[0][3]) == NOADDRS
    clock.now += 101
    _, rep = sarr(pipe, 2)
    assert addresses(rep)[0][0] == addr
    st = pipe.stats
    assert st.value("declined-addresses") == 0 and st.value("reclaimed-declined-addresses") == 1
    assert st.value("subnet[1].assigned-nas") == 1


def test_init_stats_and_orphans_from_stored_leases():
    from kea_tools.leases import open_backend
    from kea_tools.leases.model import Lease6
    backend = open_backend("memfile:", 6)
    backend.add(Lease6("2001:db8:1::11", duid(1), 1, valid_lft=100, cltt=1_700_000_000,
                       subnet_id=1))
    backend.add(Lease6("2001:db8:8:10::", duid(1), 2, type=TYPE_PD, prefix_len=60,
                       valid_lft=100, cltt=1_700_000_000, subnet_id=1))
    backend.add(Lease6("2001:db8:5::1", duid(2), 1, valid_lft=100, cltt=1_700_000_000,
                       subnet_id=1))
    pipe = server(backend=backend)
    assert pipe.stats.value("subnet[1].assigned-nas") == 2
    assert pipe.stats.value("subnet[1].assigned-pds") == 1
    assert [lease.address for lease, _ in pipe.orphan_leases()] == ["2001:db8:5::1"]


def test_statistics_names_are_keas():
    pipe = server()
    names = set(pipe.stats.names())
    for name in ("pkt6-received", "pkt6-infrequest-received", "pkt6-parse-failed",
                 "subnet[1].total-nas", "subnet[1].assigned-pds", "cumulative-assigned-pds"):
        assert name in names
    assert MCAST == "ff02::1:2"


def test_shared_network_spills_into_sibling_subnet():
    section = config()
    section.pop("subnet6")
    section["shared-networks"] = [{"name": "net", "interface": "eth0", "subnet6": [
        {"id": 1, "subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::10/128"}]},
        {"id": 2, "subnet": "2001:db8:2::/64", "pools": [{"pool": "2001:db8:2::10/128"}]}]}]
    pipe = server(section)
    got = [addresses(one(pipe, message(REQUEST, c, ia_na(1), server_id=SERVER_DUID)))
           for c in (1, 2)]
    assert [g[0][0] for g in got] == ["2001:db8:1::10", "2001:db8:2::10"]
    rep = one(pipe, message(REQUEST, 3, ia_na(1), server_id=SERVER_DUID))
    assert status(ias(rep)[0][3]) == NOADDRS
    assert pipe.stats.value("v6-allocation-fail-shared-network") == 1


def test_reclaim_expired_leases_counts_and_frees():
    from kea_tools.server.daemon import FAMILIES, Daemon
    clock = Clock()
    section = config()
    section["subnet6"][0]["pools"] = [{"pool": "2001:db8:1::10/128"}]
    pipe = server(section, clock=clock)
    _, rep = sarr(pipe, 1)
    srv = Daemon("unused.json", clock=clock)
    srv.parts = FAMILIES[6]
    srv.stats, srv.leases, srv.pipeline, srv.hooks = pipe.stats, pipe.leases, pipe, pipe.hooks
    assert srv.reclaim(remove=False) == 0
    clock.now += 4001
    assert srv.reclaim(remove=False) == 1
    lease = pipe.leases.backend.get(addresses(rep)[0][0])
    assert lease.state == 2
    st = pipe.stats
    assert st.value("reclaimed-leases") == 1 and st.value("subnet[1].assigned-nas") == 0
    _, rep2 = sarr(pipe, 2)
    assert addresses(rep2)[0][0] == "2001:db8:1::10"
    assert st.value("subnet[1].assigned-nas") == 1
