"""Option overload in DHCPv4 replies (RFC 2132 sections 9.3 and 9.10): a reply
larger than the client's maximum message size (option 57 minus 28 bytes of IP
and UDP headers; 576 when the client sends none) spills its options into file,
then sname, unless those carry boot fields.

Kea 2.2 ignores option 57 and sends such replies whole (measured: a 1005-byte
OFFER to a client whose option 57 says 576); keactl follows the RFC here, so
the comparison with Kea checks the same options reach the client, not the same
packing.
"""
import json

from kea_tools.codec.option import Option
from kea_tools.codec.v4 import Packet4
from kea_tools.config import load_file
from kea_tools.leases import open_backend
from kea_tools.server.interfaces import Incoming
from kea_tools.server.configmap import build_model
from kea_tools.server.leasetable import LeaseTable
from kea_tools.server.pipeline4 import Pipeline4
from kea_tools.server.stats import Statistics
from tests.server.helpers import SERVER, Clock, mac, packet
from tests.server.test_vendor_options import base4, kea_and_keactl4, kea_order, relayed



def addresses(n):
    return ",".join(f"10.0.0.{i + 1}" for i in range(n))


# About 440 bytes of options: more than a 576-byte message holds in its options
# field, less than options + file + sname do.
BIG = {"option-data": [{"name": "ntp-servers", "data": addresses(40)},
                       {"name": "nis-servers", "data": addresses(40)},
                       {"name": "netbios-name-servers", "data": addresses(20)},
                       {"name": "domain-name", "data": "example.org"}]}
PRL = bytes([1, 41, 42, 44, 15])


def mms(size):
    return Option(57, size.to_bytes(2, "big"))


def pipeline(tmp_path, **over):
    section = base4(**{**BIG, **over})
    path = tmp_path / "kea.json"
    path.write_text(json.dumps({"Dhcp4": section}))
    clock = Clock()
    return Pipeline4(build_model(load_file(path).config), LeaseTable(open_backend("memfile:", 4)),
                     Statistics(clock=clock), clock=clock,
                     server_addresses=lambda i: (SERVER,), our_addresses={SERVER})


def offer(pipe, n, options=()):
    out = pipe.process([relayed_incoming(packet(1, mac(n), xid=n, prl=PRL,
                                                options=list(options)))])
    assert len(out) == 1
    return out[0].data


def relayed_incoming(pkt):
    return Incoming(relayed(pkt).build(), "127.0.0.1", 67, "lo", "127.0.0.1")


def payloads(data):
    pkt = Packet4.parse(data)
    return {o.code: o.data for o in pkt.options if o.code != 52}


def test_default_576_spills_into_file_and_sname(tmp_path):
    pipe = pipeline(tmp_path)
    whole = offer(pipe, 1, [mms(1500)])
    assert len(whole) > 576 and 52 not in Packet4.parse(whole).options
    for n, options in ((2, ()), (3, [mms(576)]), (4, [mms(300)])):  # < 576 means 576
        data = offer(pipe, n, options)
        assert len(data) <= 576 - 28
        pkt = Packet4.parse(data)
        assert pkt.options.data(52) == b"\x03"            # file and sname both used
        assert payloads(data) == payloads(whole)           # nothing lost (RFC 3396)
        assert Packet4.parse(data).options.codes()[0] == 53


def test_boot_file_name_keeps_file_and_only_sname_is_used(tmp_path):
    pipe = pipeline(tmp_path, **{"boot-file-name": "pxelinux.0",
                                 "option-data": BIG["option-data"][:2]})
    whole = offer(pipe, 1, [mms(1500)])
    assert len(whole) > 576 - 28
    data = offer(pipe, 2, [mms(576)])
    assert len(data) <= 576 - 28
    pkt = Packet4.parse(data)
    assert pkt.file.rstrip(b"\0") == b"pxelinux.0"
    assert pkt.options.data(52) == b"\x02"                 # sname only
    assert payloads(data) == payloads(whole)


def test_too_big_even_overloaded_goes_out_whole(tmp_path):
    pipe = pipeline(tmp_path, **{"boot-file-name": "f", "server-hostname": "s"})
    data = offer(pipe, 1)
    assert len(data) > 576 and 52 not in Packet4.parse(data).options


def test_same_options_as_kea_reach_the_client():
    def queries():
        return [packet(1, mac(n), xid=n, prl=PRL, options=opts)
                for n, opts in ((1, [mms(1500)]), (2, [mms(576)]), (3, []))]
    kea, ours = kea_and_keactl4(base4(**BIG), queries)
    assert kea_order(ours[0]) == kea_order(kea[0])         # fits: byte for byte
    for k, o in zip(kea[1:], ours[1:]):
        assert len(k) > 576 and len(o) <= 548
        assert payloads(o) == payloads(k)
        assert o[:44] == k[:44]                             # op .. chaddr
