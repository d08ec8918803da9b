"""Client classification in the DHCPv4 server: Kea configs through the real
pipeline (kea_tools.classify.Classifier), with injected sockets."""

from kea_tools.codec.option import Option
from kea_tools.codec.v4 import Packet4
from kea_tools.config import build
from kea_tools.leases import open_backend
from kea_tools.server.configmap import build_model
from kea_tools.server.leasetable import LeaseTable
from kea_tools.server.pipeline4 import Pipeline4
from kea_tools.server.stats import Statistics

from tests.e2e.netns import netlab, two_hosts  # noqa: F401  (fixtures)
from tests.server.helpers import SERVER, Clock, LogLines, exchange, incoming, mac, packet

PHONE = Option(60, b"phone\0\0")  # dhcpcd-style trailing NULs


def section(**over):
    out = {
        "interfaces-config": {"interfaces": ["eth0"]},
        "valid-lifetime": 4000,
        "option-data": [{"name": "domain-name-servers", "data": "192.0.2.53"}],
        "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0",
                     "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}],
    }
    out.update(over)
    return out


def server(sec):
    model = build_model(build(sec, 4))
    clock = Clock()
    pipe = Pipeline4(model, LeaseTable(open_backend("memfile:", 4)), Statistics(clock=clock),
                     clock=clock, server_addresses=lambda i: (SERVER,), our_addresses={SERVER})
    pipe.init_stats()
    return pipe


def offer(pipe, hw, **kw):
    replies, _ = exchange(pipe, packet(1, hw, **kw))
    return replies[0] if replies else None


def classes_of(pipe, hw, **kw):
    """The classes the pipeline assigned to one DISCOVER."""
    seen = []
    real = pipe.make_lease_reply

    def spy(ex, msg_type, result):
        out = real(ex, msg_type, result)
        seen.append(list(ex.classes))
        return out
    pipe.make_lease_reply = spy
    try:
        exchange(pipe, packet(1, hw, **kw))
    finally:
        del pipe.make_lease_reply
    return seen[0] if seen else None


def test_test_expression_and_builtin_all_vendor_unknown():
    pipe = server(section(**{"client-classes": [
        {"name": "phones", "test": "substring(option[60].hex,0,5) == 'phone'"}]}))
    assert classes_of(pipe, mac(1), options=[PHONE]) == [
        "ALL", "VENDOR_CLASS_phone", "phones", "UNKNOWN"]
    assert classes_of(pipe, mac(2)) == ["ALL", "UNKNOWN"]


def test_vendor_class_trims_trailing_nuls_and_guards_a_pool():
    sec = section(**{"client-classes": [{"name": "VENDOR_CLASS_phone",
                                         "option-data": [{"name": "tftp-server-name",
                                                          "data": "tftp.phone"}]}]})
    sec["subnet4"][0]["pools"] = [
        {"pool": "192.0.2.100 - 192.0.2.100", "client-class": "VENDOR_CLASS_phone"},
        {"pool": "192.0.2.10 - 192.0.2.10"}]
    pipe = server(sec)
    o = offer(pipe, mac(1), options=[PHONE], prl=bytes([66, 6]))
    assert o.yiaddr == "192.0.2.100" and o.options.data(66) == b"tftp.phone"
    o = offer(pipe, mac(2), prl=bytes([66, 6]))
    assert o.yiaddr == "192.0.2.10" and o.options.data(66) is None


def test_known_unknown_with_and_without_reservation_and_order():
    """KNOWN-dependent classes are evaluated after the host lookup and see it."""
    sec = section(**{"client-classes": [
        {"name": "early", "test": "member('ALL')"},
        {"name": "reserved", "test": "member('KNOWN')",
         "option-data": [{"name": "domain-name", "data": "known.example"}]},
        {"name": "guests", "test": "member('UNKNOWN')"},
        {"name": "needs-reserved", "test": "member('reserved')"}]})
    sec["subnet4"][0]["reservations"] = [{"hw-address": mac(7).hex(":"),
                                          "client-classes": ["vip"]}]
    sec["client-classes"].insert(0, {"name": "vip"})
    pipe = server(sec)
    assert classes_of(pipe, mac(7)) == ["ALL", "early", "KNOWN", "vip", "reserved",
                                        "needs-reserved"]
    assert classes_of(pipe, mac(8)) == ["ALL", "early", "UNKNOWN", "guests"]
    assert offer(pipe, mac(7), prl=bytes([15])).options.data(15) == b"known.example"
    assert offer(pipe, mac(9), prl=bytes([15])).options.data(15) is None


def test_drop_class_is_dropped_and_counted():
    pipe = server(section(**{"client-classes": [
        {"name": "DROP", "test": "substring(option[60].hex,0,3) == 'bad'"}]}))
    assert offer(pipe, mac(1), options=[Option(60, b"bad-device")]) is None
    assert pipe.stats.value("pkt4-receive-drop") == 1
    assert offer(pipe, mac(2)) is not None
    assert pipe.stats.value("pkt4-receive-drop") == 1


def test_drop_after_host_lookup():
    sec = section(**{"client-classes": [{"name": "DROP", "test": "member('UNKNOWN')"}]})
    sec["subnet4"][0]["reservations"] = [{"hw-address": mac(5).hex(":"), "hostname": "h5"}]
    pipe = server(sec)
    assert offer(pipe, mac(5)) is not None
    assert offer(pipe, mac(6)) is None
    assert pipe.stats.value("pkt4-receive-drop") == 1


def test_bootp_request_without_message_type_is_dropped():
    """Without the bootp hook library Kea drops a BOOTREQUEST that has no DHCP
    message type (the BOOTP class needs libdhcp_bootp.so)."""
    pipe = server(section())
    pkt = Packet4(chaddr=mac(1) + bytes(10))
    assert pipe.process([incoming(pkt)]) == []
    assert pipe.stats.value("pkt4-receive-drop") == 1


def test_only_if_required_at_pool_subnet_and_shared_network():
    sec = section(**{"client-classes": [
        {"name": "net", "test": "member('ALL')", "only-if-required": True,
         "option-data": [{"name": "domain-name", "data": "net.example"}]},
        {"name": "sub", "test": "member('ALL')", "only-if-required": True,
         "option-data": [{"name": "domain-name", "data": "sub.example"},
                         {"name": "tftp-server-name", "data": "sub-tftp"}]},
        {"name": "pool", "test": "member('ALL')", "only-if-required": True,
         "option-data": [{"name": "boot-file-name", "data": "pool.bin"}]},
        {"name": "never", "test": "member('ALL')", "only-if-required": True,
         "option-data": [{"name": "ntp-servers", "data": "192.0.2.123"}]},
        {"name": "no-test", "only-if-required": True,
         "option-data": [{"name": "time-servers", "data": "192.0.2.37"}]}]})
    sub = sec.pop("subnet4")[0]
    sub["require-client-classes"] = ["sub", "no-test"]
    sub["pools"] = [{"pool": "192.0.2.10 - 192.0.2.20", "require-client-classes": ["pool"]}]
    sec["shared-networks"] = [{"name": "lan", "require-client-classes": ["net"],
                               "subnet4": [sub]}]
    pipe = server(sec)
    assert classes_of(pipe, mac(1)) == ["ALL", "UNKNOWN", "net", "sub", "pool"]
    o = offer(pipe, mac(2), prl=bytes([15, 66, 67, 42, 4]))
    # The first class assigned (the shared network's required one) wins.
    assert o.options.data(15) == b"net.example"
    assert o.options.data(66) == b"sub-tftp" and o.options.data(67) == b"pool.bin"
    assert o.options.data(42) is None  # never required
    assert o.options.data(4) is None   # Kea 2.2: a required class without a test is not added


def test_option_precedence_global_class_network_subnet_pool_reservation():
    """ARM: host reservation > pool > subnet > shared network > class > global."""
    def od(v):
        return [{"name": "domain-name", "data": v}]
    sec = section(**{"option-data": od("global"),
                     "client-classes": [{"name": "c1", "test": "member('ALL')",
                                         "option-data": od("class1") + [
                                             {"name": "tftp-server-name", "data": "c1"}]},
                                        {"name": "c2", "test": "member('ALL')",
                                         "option-data": od("class2") + [
                                             {"name": "tftp-server-name", "data": "c2"},
                                             {"name": "boot-file-name", "data": "c2.bin"}]}]})
    sub = sec.pop("subnet4")[0]
    sec["shared-networks"] = [{"name": "lan", "subnet4": [sub]}]
    pipe = server(sec)
    prl = bytes([15, 66, 67])
    o = offer(pipe, mac(1), prl=prl)
    assert (o.options.data(15), o.options.data(66), o.options.data(67)) == \
        (b"class1", b"c1", b"c2.bin")
    for level, value in (("net", b"network"), ("sub", b"subnet"), ("pool", b"pool"),
                         ("res", b"reservation")):
        if level == "net":
            sec["shared-networks"][0]["option-data"] = od("network")
        elif level == "sub":
            sub["option-data"] = od("subnet")
        elif level == "pool":
            sub["pools"][0]["option-data"] = od("pool")
        else:
            sub["reservations"] = [{"hw-address": mac(1).hex(":"), "option-data": od("reservation")}]
        o = offer(server(sec), mac(1), prl=prl)
        assert o.options.data(15) == value, level
        assert o.options.data(66) == b"c1"


def test_fixed_fields_first_class_wins_reservation_overrides():
    sec = section(**{"client-classes": [
        {"name": "a", "test": "member('ALL')", "next-server": "192.0.2.5"},
        {"name": "b", "test": "member('ALL')", "next-server": "192.0.2.6",
         "server-hostname": "tftp-b", "boot-file-name": "b.efi"},
        {"name": "c", "test": "member('ALL')", "boot-file-name": "c.efi"}]})
    sec["subnet4"][0]["next-server"] = "192.0.2.250"
    sec["subnet4"][0]["boot-file-name"] = "subnet.efi"
    sec["subnet4"][0]["reservations"] = [{"hw-address": mac(9).hex(":"),
                                          "boot-file-name": "host.efi"}]
    pipe = server(sec)
    o = offer(pipe, mac(1))
    assert o.siaddr == "192.0.2.5"
    assert o.sname.rstrip(b"\0") == b"tftp-b" and o.file.rstrip(b"\0") == b"b.efi"
    o = offer(pipe, mac(9))
    assert o.siaddr == "192.0.2.5" and o.file.rstrip(b"\0") == b"host.efi"


def test_class_guarded_subnet_and_shared_network():
    sec = section(**{"client-classes": [
        {"name": "phones", "test": "substring(option[60].hex,0,5) == 'phone'"},
        {"name": "cams", "test": "substring(option[60].hex,0,3) == 'cam'"}]})
    sec["subnet4"] = [
        {"id": 1, "subnet": "192.0.2.0/24", "interface": "eth0", "client-class": "phones",
         "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}]
    sec["shared-networks"] = [{"name": "cams", "interface": "eth0", "client-class": "cams",
                               "subnet4": [{"id": 2, "subnet": "198.51.100.0/24",
                                            "pools": [{"pool": "198.51.100.10 - "
                                                       "198.51.100.20"}]}]}]
    pipe = server(sec)
    assert offer(pipe, mac(1), options=[PHONE]).yiaddr == "192.0.2.10"
    assert offer(pipe, mac(2), options=[Option(60, b"cam")]).yiaddr == "198.51.100.10"
    assert offer(pipe, mac(3)) is None
    assert offer(pipe, mac(4), options=[Option(60, b"printer")]) is None


def test_class_guarded_pool_by_known_class_sees_reservation():
    sec = section(**{"client-classes": [{"name": "staff", "test": "member('KNOWN')"}]})
    sec["subnet4"][0]["pools"] = [{"pool": "192.0.2.50 - 192.0.2.50", "client-class": "staff"},
                                  {"pool": "192.0.2.60 - 192.0.2.60"}]
    sec["subnet4"][0]["reservations"] = [{"hw-address": mac(1).hex(":"), "hostname": "h1"}]
    pipe = server(sec)
    assert offer(pipe, mac(1)).yiaddr == "192.0.2.50"
    assert offer(pipe, mac(2)).yiaddr == "192.0.2.60"


def test_option_43_suboptions_visible_after_early_pass():
    """Kea unpacks option 43 after the first classification pass, so a class
    depending on KNOWN may test its sub-options."""
    sec = section(**{
        "option-def": [{"name": "pxe", "code": 1, "space": "vendor-encapsulated-options-space",
                        "type": "string"}],
        "client-classes": [
            {"name": "early43", "test": "option[43].option[1].exists"},
            {"name": "late43", "test": "option[43].option[1].exists and member('UNKNOWN')"}]})
    pipe = server(sec)
    got = classes_of(pipe, mac(1), options=[Option(43, b"\x01\x03abc")])
    assert "late43" in got and "early43" not in got


def test_class_membership_in_debug_log():
    pipe = server(section(**{"client-classes": [
        {"name": "phones", "test": "substring(option[60].hex,0,5) == 'phone'"}]}))
    with LogLines(pipe.log) as lines:
        pipe.debug = True
        offer(pipe, mac(1), options=[PHONE])
    lines = [line for line in lines if "CLASS_ASSIGNED" in line]
    assert lines[0] == ("DHCP4_CLASS_ASSIGNED [hwtype=1 02:00:00:00:00:01], tid=0x1234, "
                        "DHCPDISCOVER: client packet has been assigned to the following "
                        "class(es): ALL, VENDOR_CLASS_phone, phones")
    assert lines[1].endswith("class(es): ALL, VENDOR_CLASS_phone, phones, UNKNOWN")


def test_expression_sees_interface_and_addresses():
    pipe = server(section(**{"client-classes": [
        {"name": "on-eth0", "test": "pkt.iface == 'eth0' and pkt4.giaddr == 0.0.0.0",
         "option-data": [{"name": "domain-name", "data": "eth0.example"}]}]}))
    assert offer(pipe, mac(1), prl=bytes([15])).options.data(15) == b"eth0.example"
    replies, _ = exchange(pipe, packet(1, mac(2), prl=bytes([15])), iface="eth1")
    assert replies[0].options.data(15) is None


# --- end to end: real clients in network namespaces ---------------------------------

def test_e2e_vendor_class_lands_in_guarded_pool_with_class_option(two_hosts):
    """dhclient sending vendor-class-identifier "phone-x" gets an address from the
    phones pool and the class's domain-name; udhcpc without it the open pool."""
    from tests.conftest import require_program
    from tests.e2e.netns import DHCLIENT_CONF, dhclient, read_records, udhcpc
    from tests.server.test_e2e import server_config, start_server
    require_program("dhclient", "udhcpc")
    lab, srv, cli = two_hosts.lab, two_hosts.server, two_hosts.client
    conf = server_config(lab.tmp, **{
        "client-classes": [{"name": "phones",
                            "test": "substring(option[vendor-class-identifier].hex,0,5)"
                                    " == 'phone'",
                            "option-data": [{"name": "domain-name",
                                             "data": "phones.example"}]}],
        "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                     "pools": [{"pool": "192.0.2.50 - 192.0.2.59", "client-class": "phones"},
                               {"pool": "192.0.2.100 - 192.0.2.199"}],
                     "option-data": [{"name": "routers", "data": "192.0.2.1"}]}]})
    server = start_server(srv, conf)
    proc, log = dhclient(cli, "c0", lab.tmp,
                         conf=DHCLIENT_CONF + 'send vendor-class-identifier "phone-x";\n')
    bound = [r for r in read_records(log) if r["@reason"] == "BOUND"][-1]
    proc.stop()
    assert bound["new_ip_address"].startswith("192.0.2.5")
    assert bound["new_domain_name"] == "phones.example"
    done, log = udhcpc(cli, "c0", lab.tmp, request=("domain",))
    got = [r for r in read_records(log) if r["@reason"] == "bound"][-1]
    assert got["ip"].startswith("192.0.2.1") and got["domain"] == "e2e.example"
    text = (lab.tmp / "server.log").read_text()
    assert "client packet has been assigned to the following class(es): ALL, " \
           "VENDOR_CLASS_phone-x, phones" in text
    assert server.poll() is None
    server.stop()
