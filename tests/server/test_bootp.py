"""BOOTP through Kea's libdhcp_bootp.so, built in (ARM hooks "bootp: Support
for BOOTP Clients"): a BOOTREQUEST without option 53 is served as a DHCPREQUEST
in class BOOTP, with an infinite lease; the BOOTREPLY loses the DHCP-specific
options and is padded to 300 bytes. Without the library BOOTP is dropped and
counted. Compared with kea-dhcp4 2.2 loading the real library."""
import pytest

from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import Packet4
from kea_tools.leases.model import INFINITE_LFT
from kea_tools.server.hooks import HookError, HooksManager
from kea_tools.server.model import ClientClass4, ip_to_int
from tests.server.helpers import exchange, incoming, mac, packet, pool, server, subnet
from tests.server.test_vendor_options import base4, kea_and_keactl4, kea_order

BOOTP_SO = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_bootp.so"


def bootp_query(n, *options):
    return Packet4(xid=n, chaddr=mac(n) + bytes(10), options=OptionList(list(options)))


def bootp_server(**kw):
    return server([subnet(pools=[pool("192.0.2.10", "192.0.2.10", client_class="BOOTP"),
                                 pool("192.0.2.50", "192.0.2.59")], **kw)],
                  hooks=HooksManager(builtins={"bootp"}),
                  classes=[ClientClass4("BOOTP")])


def test_bootrequest_gets_bootreply_with_infinite_lease():
    pipe = bootp_server()
    (reply,), out = exchange(pipe, bootp_query(1, Option(12, b"bootpc")), local="192.0.2.1")
    assert reply.op == 2 and reply.msg_type is None and reply.yiaddr == "192.0.2.10"
    assert len(out[0].data) == 300
    assert not {50, 51, 53, 54, 58, 59, 61} & set(reply.options.codes())
    assert reply.options.data(1) == bytes.fromhex("ffffff00")
    lease = pipe.leases.by_addr[ip_to_int("192.0.2.10")]
    assert lease.valid_lft == INFINITE_LFT and lease.hwaddr == mac(1)
    st = pipe.stats
    assert st.value("pkt4-request-received") == 1 and st.value("pkt4-receive-drop") == 0


def test_dhcp_clients_do_not_get_the_bootp_pool():
    pipe = bootp_server()
    (offer,), _ = exchange(pipe, packet(1, mac(2)))
    assert offer.msg_type == 2 and offer.yiaddr.startswith("192.0.2.5")
    assert ip_to_int("192.0.2.10") not in pipe.leases.by_addr


def test_bootp_class_is_assigned_first():
    pipe = bootp_server()
    seen = []
    pipe.required_classes = lambda ex: seen.append(list(ex.classes))
    exchange(pipe, bootp_query(3))
    assert seen[0][:2] == ["BOOTP", "ALL"]


def test_without_the_library_bootp_is_dropped_and_counted():
    pipe = server([subnet()])
    assert pipe.process([incoming(bootp_query(4))]) == []
    assert pipe.stats.value("pkt4-receive-drop") == 1
    assert pipe.stats.value("pkt4-unknown-received") == 1


def test_library_is_dhcp4_only():
    HooksManager.from_config([{"library": BOOTP_SO}], family=4)
    with pytest.raises(HookError, match="DHCPv6"):
        HooksManager.from_config([{"library": BOOTP_SO}], family=6)


def test_same_replies_as_kea_with_libdhcp_bootp():
    conf = base4(**{
        "hooks-libraries": [{"library": BOOTP_SO}],
        "option-data": [{"name": "routers", "data": "127.0.0.1"},
                        {"name": "domain-name", "data": "example.org"}],
        "client-classes": [{"name": "DHCP", "test": "not member('BOOTP')"}],
        "subnet4": [{"subnet": "127.0.0.0/8", "id": 1, "boot-file-name": "boot.img",
                     "next-server": "127.0.0.9",
                     "pools": [{"pool": "127.1.0.10 - 127.1.0.10", "client-class": "BOOTP"},
                               {"pool": "127.2.0.10 - 127.2.0.20", "client-class": "DHCP"}]}]})

    def queries():
        return [bootp_query(1), bootp_query(2, Option(12, b"bootpc")),  # the pool is used up
                packet(1, mac(3), xid=3), bootp_query(1)]
    kea, ours = kea_and_keactl4(conf, queries)
    assert [len(k or b"") for k in kea] == [300, 300, 285, 300]
    # The second is the stripped NAK; Kea leaves the broadcast flag of a relayed
    # NAK clear where keactl sets it (RFC 2131 section 4.3.2): compare the rest.
    assert ours[1][10:12] == b"\x80\x00" and kea[1][10:12] == b"\0\0"
    ours[1] = ours[1][:10] + b"\0\0" + ours[1][12:]
    for i, (k, o) in enumerate(zip(kea, ours)):
        assert kea_order(o) == kea_order(k), i
