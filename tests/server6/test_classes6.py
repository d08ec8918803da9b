"""Client classification in the DHCPv6 server: Kea configs through the real
pipeline (kea_tools.classify.Classifier), with injected sockets."""
import struct

from kea_tools.codec.option import Option

from tests.server.helpers import LogLines
from tests.server6.helpers import (SOLICIT, addresses, config, duid, exchange, ia_na, message,
                                   one, oro, relayed, server)


def vendor_class(*texts, enterprise=4491):
    """Option 16 (RFC 8415 section 21.16): enterprise number, length-prefixed data."""
    return Option(16, struct.pack("!I", enterprise)
                  + b"".join(struct.pack("!H", len(t)) + t for t in texts))


def classes_of(pipe, client, *options, **kw):
    seen = []
    real = pipe.finish

    def spy(ex, resp):
        out = real(ex, resp)
        seen.append(list(ex.classes))
        return out
    pipe.finish = spy
    try:
        exchange(pipe, message(SOLICIT, client, ia_na(1), *options), **kw)
    finally:
        del pipe.finish
    return seen[0] if seen else None


def dns(reply):
    data = reply.options.data(23)
    return None if data is None else data[-1]


def dns_od(last):
    return [{"name": "dns-servers", "data": f"2001:db8::{last}"}]


def test_test_expression_all_and_vendor_class_first_tuple():
    pipe = server(config(**{"client-classes": [
        {"name": "acme", "test": "vendor-class[4491].data[0] == 'acme'"}]}))
    assert classes_of(pipe, 1, vendor_class(b"acme", b"other")) == [
        "ALL", "VENDOR_CLASS_acme", "acme", "UNKNOWN"]
    assert classes_of(pipe, 2) == ["ALL", "UNKNOWN"]


def test_vendor_class_docsis_and_erouter_special_cases():
    pipe = server(config())
    assert classes_of(pipe, 1, vendor_class(b"xyz", b"docsis3.0"))[1] == \
        "VENDOR_CLASS_docsis3.0"
    assert classes_of(pipe, 2, vendor_class(b"eRouter1.0"))[1] == "VENDOR_CLASS_eRouter1.0"


def test_known_unknown_and_host_classes_before_known_dependent_tests():
    sec = config(**{"client-classes": [
        {"name": "vip"},
        {"name": "reserved", "test": "member('KNOWN') and member('vip')",
         "option-data": dns_od(7)},
        {"name": "guests", "test": "member('UNKNOWN')", "option-data": dns_od(9)}]})
    sec["subnet6"][0]["reservations"] = [{"duid": duid(5).hex(":"), "hostname": "h5",
                                          "client-classes": ["vip"]}]
    pipe = server(sec)
    assert classes_of(pipe, 5) == ["ALL", "KNOWN", "vip", "reserved"]
    assert classes_of(pipe, 6) == ["ALL", "UNKNOWN", "guests"]
    assert dns(one(pipe, message(SOLICIT, 5, ia_na(1), oro(23)))) == 7
    assert dns(one(pipe, message(SOLICIT, 6, ia_na(1), oro(23)))) == 9


def test_drop_class_is_dropped_and_counted():
    pipe = server(config(**{"client-classes": [
        {"name": "DROP", "test": "vendor-class[4491].data[0] == 'bad'"}]}))
    replies, _ = exchange(pipe, message(SOLICIT, 1, ia_na(1), vendor_class(b"bad")))
    assert replies == [] and pipe.stats.value("pkt6-receive-drop") == 1
    assert len(exchange(pipe, message(SOLICIT, 2, ia_na(1)))[0]) == 1
    assert pipe.stats.value("pkt6-receive-drop") == 1


def test_only_if_required_at_subnet_and_pool():
    sec = config(**{"client-classes": [
        {"name": "sub", "test": "member('ALL')", "only-if-required": True,
         "option-data": dns_od(2) + [{"name": "sntp-servers", "data": "2001:db8::123"}]},
        {"name": "pool", "test": "member('ALL')", "only-if-required": True,
         "option-data": dns_od(3) + [{"name": "nis-domain-name", "data": "pool.example"}]},
        {"name": "never", "test": "member('ALL')", "only-if-required": True,
         "option-data": [{"name": "nisp-domain-name", "data": "never.example"}]}]})
    sec["option-data"] = []
    sub = sec["subnet6"][0]
    sub["require-client-classes"] = ["sub"]
    sub["pools"][0]["require-client-classes"] = ["pool"]
    pipe = server(sec)
    assert classes_of(pipe, 1) == ["ALL", "UNKNOWN", "sub", "pool"]
    adv = one(pipe, message(SOLICIT, 2, ia_na(1), oro(23, 31, 29, 30)))
    assert dns(adv) == 2                               # the subnet's class came first
    assert adv.options.data(29) is not None and adv.options.data(31) is not None
    assert adv.options.data(30) is None


def test_option_precedence_class_below_subnet_pool_reservation():
    sec = config(**{"option-data": dns_od(1),
                    "client-classes": [{"name": "c", "test": "member('ALL')",
                                        "option-data": dns_od(2)}]})
    assert dns(one(server(sec), message(SOLICIT, 1, ia_na(1), oro(23)))) == 2
    sub = sec["subnet6"][0]
    for key, value in (("subnet", 3), ("pool", 4), ("reservation", 5)):
        if key == "subnet":
            sub["option-data"] = dns_od(3)
        elif key == "pool":
            sub["pools"][0]["option-data"] = dns_od(4)
        else:
            sub["reservations"] = [{"duid": duid(1).hex(":"), "option-data": dns_od(5)}]
        assert dns(one(server(sec), message(SOLICIT, 1, ia_na(1), oro(23)))) == value, key


def test_class_guarded_pool_subnet_and_shared_network():
    sec = config(**{"client-classes": [
        {"name": "gold", "test": "vendor-class[4491].data[0] == 'gold'"},
        {"name": "lab", "test": "vendor-class[4491].data[0] == 'lab'"}]})
    sub = sec["subnet6"][0]
    sub["pools"] = [{"pool": "2001:db8:1::100/128", "client-class": "gold"},
                    {"pool": "2001:db8:1::200/128"}]
    pipe = server(sec)
    gold = one(pipe, message(SOLICIT, 1, ia_na(1), vendor_class(b"gold")))
    plain = one(pipe, message(SOLICIT, 2, ia_na(1)))
    assert addresses(gold)[0][0] == "2001:db8:1::100"
    assert addresses(plain)[0][0] == "2001:db8:1::200"

    sec = config(**{"client-classes": sec["client-classes"]})
    sec["subnet6"][0]["client-class"] = "gold"
    sec["shared-networks"] = [{"name": "lab", "client-class": "lab", "subnet6": [
        {"id": 2, "subnet": "2001:db8:2::/64", "pools": [{"pool": "2001:db8:2::10/128"}]}]}]
    pipe = server(sec)
    assert addresses(one(pipe, message(SOLICIT, 1, ia_na(1), vendor_class(b"gold"))))[0][0] \
        == "2001:db8:1::10"
    relay = relayed(message(SOLICIT, 2, ia_na(1), vendor_class(b"lab")), link="2001:db8:2::1")
    reply = one(pipe, relay, src="2001:db8:2::1", local="2001:db8:1::1")
    assert addresses(reply.innermost())[0][0] == "2001:db8:2::10"
    relay = relayed(message(SOLICIT, 3, ia_na(1)), link="2001:db8:2::1")
    reply = one(pipe, relay, src="2001:db8:2::1", local="2001:db8:1::1")
    assert addresses(reply.innermost()) == []          # NoAddrsAvail: not in class lab


def test_relay_terms_see_the_envelope():
    sec = config(**{"client-classes": [
        {"name": "via-relay", "test": "relay6[0].linkaddr == 2001:db8:1::1",
         "option-data": dns_od(8)}]})
    pipe = server(sec)
    relay = relayed(message(SOLICIT, 1, ia_na(1), oro(23)), link="2001:db8:1::1")
    reply = one(pipe, relay, src="2001:db8:1::1", local="2001:db8:1::2")
    assert dns(reply.innermost()) == 8
    assert dns(one(pipe, message(SOLICIT, 2, ia_na(1), oro(23)))) == 0x53


def test_class_membership_in_debug_log():
    pipe = server(config(**{"client-classes": [
        {"name": "acme", "test": "vendor-class[4491].exists"}]}))
    with LogLines(pipe.log) as lines:
        pipe.debug = True
        exchange(pipe, message(SOLICIT, 1, ia_na(1), vendor_class(b"acme")))
    lines = [line for line in lines if "CLASS_ASSIGNED" in line]
    assert lines[0].startswith("DHCP6_CLASS_ASSIGNED duid=[00:03:00:01:02:00:00:00:00:01], ")
    assert lines[0].endswith("client packet has been assigned to the following class(es): "
                             "ALL, VENDOR_CLASS_acme, acme")
    assert lines[1].endswith("class(es): ALL, VENDOR_CLASS_acme, acme, UNKNOWN")


def test_only_if_required_at_shared_network_comes_first():
    """require-client-classes of the shared network, then subnet, then pool."""
    sec = config(**{"client-classes": [
        {"name": "net", "test": "member('ALL')", "only-if-required": True,
         "option-data": dns_od(6)},
        {"name": "sub", "test": "member('ALL')", "only-if-required": True,
         "option-data": dns_od(2)}]})
    sec["option-data"] = []
    sub = sec.pop("subnet6")[0]
    sub["require-client-classes"] = ["sub"]
    sec["shared-networks"] = [{"name": "lan", "require-client-classes": ["net"],
                               "subnet6": [sub]}]
    pipe = server(sec)
    assert classes_of(pipe, 1) == ["ALL", "UNKNOWN", "net", "sub"]
    assert dns(one(pipe, message(SOLICIT, 2, ia_na(1), oro(23)))) == 6


def test_never_send_silences_requested_and_always_send_options():
    sec = config(**{"option-data": [
        {"name": "dns-servers", "data": "2001:db8::1", "always-send": True, "never-send": True},
        {"name": "domain-search", "data": "example.org"}]})
    sec["subnet6"][0]["option-data"] = [{"name": "domain-search", "never-send": True}]
    adv = one(server(sec), message(SOLICIT, 1, ia_na(1), oro(23, 24)))
    assert adv.options.data(23) is None and adv.options.data(24) is None
