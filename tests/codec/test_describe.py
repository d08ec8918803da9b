"""describe_packet: the JSON shape used by keactl decode --json and the golden tests."""
import json

from kea_tools.codec.describe import describe_packet, format_packet
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.optiondefs import OptionDefs
from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Packet6, Relay6, parse_packet6


def offer():
    pkt = Packet4(op=2, xid=77, yiaddr="192.0.2.10",
                  chaddr=bytes.fromhex("0a0b0c0d0e0f") + bytes(10), sname=b"srv".ljust(64, b"\0"))
    pkt.msg_type = 2
    pkt.options.extend([
        Option(1, bytes.fromhex("ffffff00")),
        Option(3, bytes.fromhex("c0000201c0000202")),
        Option(12, b"a,b"),
        Option(43, bytes.fromhex("0102abcd")),
        Option(81, bytes.fromhex("0500000468616c66")),
        Option(125, bytes.fromhex("0000118b0602040a000001" "0000000900")),
        Option(200, b"\x01\x02"),
        Option(19, b"\x07"),
        Option(82, bytes.fromhex("0104deadbeef" "0504c0000200")),
    ])
    return Packet4.parse(pkt.build())


def test_v4_shape():
    desc = describe_packet(offer())
    assert {k: desc[k] for k in ("family", "op", "xid", "yiaddr", "chaddr", "sname", "file",
                                 "msg-type")} == {
        "family": 4, "op": 2, "xid": 77, "yiaddr": "192.0.2.10",
        "chaddr": "0a:0b:0c:0d:0e:0f", "sname": "srv", "file": "", "msg-type": 2}
    opts = desc["options"]
    assert opts[0] == {"code": 53, "name": "dhcp-message-type", "value": "2"}
    assert opts[2] == {"code": 3, "name": "routers", "value": "192.0.2.1, 192.0.2.2"}
    assert opts[3] == {"code": 12, "name": "host-name", "value": "a\\,b"}
    assert opts[4] == {"code": 43, "name": "vendor-encapsulated-options", "value": "",
                       "options": [{"code": 1, "name": None, "value": "abcd"}]}
    assert opts[5] == {"code": 81, "name": "fqdn", "value": "5, 0, 0, half"}
    assert opts[6] == {"code": 125, "name": "vivso-suboptions", "value": "4491", "options": [
        {"code": 2, "name": "tftp-servers", "value": "10.0.0.1"}]}
    assert opts[7] == {"code": 125, "name": "vivso-suboptions", "value": "9", "options": []}
    assert opts[8] == {"code": 200, "name": None, "value": "0102"}
    assert opts[9]["code"] == 19 and opts[9]["value"] == "07" and "error" in opts[9]
    assert opts[10] == {"code": 82, "name": "dhcp-agent-options", "value": "", "options": [
        {"code": 1, "name": "circuit-id", "value": "deadbeef"},
        {"code": 5, "name": "link-selection", "value": "192.0.2.0"}]}
    json.dumps(desc)


def test_custom_definitions_name_options():
    defs = OptionDefs.standard(4).with_custom([
        {"name": "acme", "code": 43, "type": "empty", "encapsulate": "acme-space"},
        {"name": "acme-port", "code": 1, "type": "uint16", "space": "acme-space"},
        {"name": "my-opt", "code": 200, "type": "uint16"}])
    opts = describe_packet(offer(), defs)["options"]
    assert opts[4] == {"code": 43, "name": "acme", "value": "", "options": [
        {"code": 1, "name": "acme-port", "value": "43981"}]}
    assert opts[8] == {"code": 200, "name": "my-opt", "value": "258"}


def test_v6_relay_shape():
    solicit = Packet6(1, 0x123456, OptionList([
        Option(1, bytes.fromhex("00030001001122334455")),
        Option(25, bytes.fromhex("000000070000000000000000" "001a0019" "0000000000000000"
                                 "38" "20010db8000100000000000000000000")),
        Option(17, bytes.fromhex("0000118b" "00010004" "00200021")),
    ]))
    relay = Relay6.wrap(solicit, "2001:db8::1", "fe80::1", [Option(18, b"eth0")])
    desc = describe_packet(parse_packet6(relay.build()))
    assert desc["family"] == 6 and desc["msg-type"] == 12 and desc["hop-count"] == 0
    assert desc["link-address"] == "2001:db8::1" and desc["peer-address"] == "fe80::1"
    assert desc["options"][0] == {"code": 18, "name": "interface-id", "value": "65746830"}
    inner = desc["options"][1]["message"]
    assert inner["msg-type"] == 1 and inner["xid"] == 0x123456
    ia_pd = inner["options"][1]
    assert ia_pd["name"] == "ia-pd" and ia_pd["value"] == "7, 0, 0"
    assert ia_pd["options"] == [{"code": 26, "name": "iaprefix",
                                 "value": "0, 0, 56, 2001:db8:1::", "options": []}]
    assert inner["options"][2] == {"code": 17, "name": "vendor-opts", "value": "4491",
                                   "options": [{"code": 1, "name": "oro", "value": "32, 33"}]}
    text = format_packet(desc)
    assert "RELAY_FORW (12)" in text and "type=00026 iaprefix: 0, 0, 56, 2001:db8:1::" in text
