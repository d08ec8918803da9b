"""Terms that read the packet: options, sub-options, relays, vendor options,
header fields and metadata, in DHCPv4 and DHCPv6."""
import pytest

from kea_tools.classify import ExpressionError, Query, compile_expression
from kea_tools.codec.v4 import Packet4
from tests.classify.packets import relayed, tlv4, tlv6, v4, v6


def value(expr, query, universe=4, **kw):
    return compile_expression(expr, universe, "string", **kw)(query)


def truth(expr, query, universe=4, **kw):
    return compile_expression(expr, universe, "bool", **kw)(query)


# --- option[...] -----------------------------------------------------------------
def test_absent_option():
    q = Query(v4())
    assert value("option[77].hex", q) == b""
    assert value("option[77].text", q) == b""
    assert truth("option[77].exists", q) is False


def test_empty_option_exists():
    q = Query(v4((80, b"")))
    assert truth("option[80].exists", q) is True
    assert value("option[80].hex", q) == b""


def test_first_option_of_a_code_is_used():
    q = Query(v6((16, b"one"), (16, b"two")))
    assert value("option[16].hex", q, 6) == b"one"


def test_long_v4_options_are_concatenated():
    raw = v4((77, b"x" * 300)).build()   # split on the wire (RFC 3396)
    q = Query(Packet4.parse(raw))
    assert value("option[77].hex", q) == b"x" * 300


def test_option_names_resolve_at_compile_time():
    q = Query(v4((12, b"myhost"), (60, b"PXEClient:Arch:00000")))
    assert value("option[host-name].hex", q) == b"myhost"
    assert truth("substring(option[vendor-class-identifier].hex, 0, 9) == 'PXEClient'", q)
    with pytest.raises(ExpressionError, match="option 'dns-servers' is not defined"):
        compile_expression("option[dns-servers].exists", 4)
    assert truth("option[dns-servers].exists", Query(v6((23, bytes(16)))), 6)


def test_custom_option_def_names():
    defs = [{"name": "my-flag", "code": 222, "type": "uint8", "space": "dhcp4"}]
    q = Query(v4((222, b"\x05")))
    assert value("option[my-flag].hex", q, option_defs=defs) == b"\x05"
    assert value("option[my-flag].text", q, option_defs=defs) == \
        b"type=222, len=001: 5 (uint8)"


def test_string_option_text_and_hex_lose_trailing_nuls():
    # Kea's OptionString trims trailing NULs and re-packs its value for .hex.
    q = Query(v4((12, b"host\x00\x00"), (61, b"id\x00")))
    assert value("option[12].text", q) == b"host"
    assert value("option[12].hex", q) == b"host"
    assert value("option[61].hex", q) == b"id\x00"   # binary: untouched


@pytest.mark.parametrize("code,data,text", [
    (61, b"\x01\x02\xab", b"type=061, len=003: 01:02:ab"),
    (250, b"\xff", b"type=250, len=001: ff"),
    (51, b"\x00\x00\x0e\x10", b"type=051, len=004: 3600 (uint32)"),
    (2, b"\xff\xff\xff\xff", b"type=002, len=004: -1 (int32)"),
    (55, b"\x01\x03\x06", b"type=055, len=003: 1(uint8) 3(uint8) 6(uint8)"),
    (3, bytes([10, 0, 0, 1, 10, 0, 0, 2]), b"type=003, len=008: 10.0.0.1 10.0.0.2"),
    (1, bytes([255, 255, 255, 0]), b"type=001, len=004: 255.255.255.0 (ipv4-address)"),
    (19, b"\x01", b"type=019, len=001: true (boolean)"),
    (51, b"\x01", b"type=051, len=001: 01"),   # malformed: the generic form
])
def test_text_of_non_string_options_v4(code, data, text):
    assert value(f"option[{code}].text", Query(v4((code, data)))) == text


def test_text_of_v6_options_uses_five_digit_header():
    q = Query(v6((1, b"\x00\x01"), (23, bytes(15) + b"\x01")))
    assert value("option[1].text", q, 6) == b"type=00001, len=00002: 00:01"
    assert value("option[23].text", q, 6) == b"type=00023, len=00016: ::1"


# --- sub-options and relay4 --------------------------------------------------------
def test_relay4_sub_options():
    rai = tlv4((1, b"eth0/1"), (2, b"\x00\x11\x22"), (1, b"dup"))
    q = Query(v4((82, rai)))
    assert value("relay4[1].hex", q) == b"eth0/1"          # first instance
    assert truth("relay4[2].exists", q) and not truth("relay4[5].exists", q)
    assert value("relay4[5].hex", q) == b""
    assert value("option[82].option[2].hex", q) == b"\x00\x11\x22"
    assert value("relay4[1].text", q) == b"type=001, len=006: 65:74:68:30:2f:31"
    assert truth("relay4[1].exists", Query(v4())) is False


def test_truncated_sub_option_keeps_the_ones_before_it():
    q = Query(v4((82, tlv4((1, b"ok")) + b"\x02\x09ab")))
    assert value("relay4[1].hex", q) == b"ok"
    assert truth("relay4[2].exists", q) is False


def test_relay4_is_dhcpv4_only():
    with pytest.raises(ExpressionError, match="relay4 can only be used in DHCPv4"):
        compile_expression("relay4[1].exists", 6)


def test_option_43_sub_options_appear_after_the_first_pass():
    q = Query(v4((43, tlv4((1, b"pxe")))))
    assert truth("option[43].option[1].exists", q) is False
    q.deferred_unpacked = True
    q2 = Query(v4((43, tlv4((1, b"pxe")))))
    q2.deferred_unpacked = True
    assert value("option[43].option[1].hex", q2) == b"pxe"


def test_v6_ia_sub_options():
    iaaddr = bytes.fromhex("20010db8" + "0" * 23 + "5") + bytes(8)
    ia_na = (1).to_bytes(4, "big") + bytes(8) + tlv6((5, iaaddr))
    q = Query(v6((3, ia_na)))
    assert value("option[3].option[5].hex", q, 6) == iaaddr
    assert truth("option[ia-na].option[13].exists", q, 6) is False


# --- vendor and vendor-class -----------------------------------------------------------
def vivso(enterprise, *subs):
    body = tlv4(*subs)
    return enterprise.to_bytes(4, "big") + bytes([len(body)]) + body


def test_vendor_v4():
    q = Query(v4((125, vivso(4491, (1, b"docsis3.0"), (2, b"\x0a\x00\x00\x01")))))
    assert truth("vendor[*].exists", q) and truth("vendor[0].exists", q)
    assert truth("vendor[4491].exists", q) and not truth("vendor[9].exists", q)
    assert value("vendor.enterprise", q) == (4491).to_bytes(4, "big")
    assert value("vendor[4491].option[1].hex", q) == b"docsis3.0"
    assert value("vendor[*].option[1].hex", q) == b"docsis3.0"
    assert value("vendor[9].option[1].hex", q) == b""
    assert truth("vendor[4491].option[3].exists", q) is False
    # vendor-4491 sub-option 2 is tftp-servers (ipv4-address array) in Kea's tables.
    assert value("vendor[4491].option[2].text", q) == b"type=002, len=004: 10.0.0.1"
    # Kea builds vendor[e].option[0] as the bare existence check.
    assert value("vendor[4491].option[0].hex", q) == b"true"
    assert value("option[125].option[1].hex", q) == b"docsis3.0"


def test_vendor_absent_or_malformed():
    for q in (Query(v4()), Query(v4((125, b"\x00\x01")))):
        assert truth("vendor[*].exists", q) is False
        assert value("vendor.enterprise", q) == b""
        assert value("vendor[*].option[1].hex", q) == b""


def test_vendor_v4_only_first_block():
    data = vivso(4491, (1, b"a")) + vivso(3561, (1, b"b"))
    q = Query(v4((125, data)))
    assert value("vendor.enterprise", q) == (4491).to_bytes(4, "big")
    assert truth("vendor[3561].exists", q) is False


def test_vendor_v6():
    q = Query(v6((17, (4491).to_bytes(4, "big") + tlv6((1026, b"\x01\x02"), (32, bytes(16))))))
    assert truth("vendor[4491].option[1026].exists", q, 6)
    assert value("vendor[4491].option[1026].hex", q, 6) == b"\x01\x02"
    assert value("vendor.enterprise", q, 6) == (4491).to_bytes(4, "big")
    assert value("vendor[4491].option[32].text", q, 6) == b"type=00032, len=00016: ::"


def test_vendor_class_v4():
    one = (4491).to_bytes(4, "big") + bytes([9]) + b"docsis3.0"
    q = Query(v4((124, one + (4491).to_bytes(4, "big") + bytes([2]) + b"xy")))
    assert truth("vendor-class[4491].exists", q) and truth("vendor-class[*].exists", q)
    assert truth("vendor-class[1].exists", q) is False
    assert value("vendor-class.enterprise", q) == (4491).to_bytes(4, "big")
    assert value("vendor-class[4491].data", q) == b"docsis3.0"
    assert value("vendor-class[4491].data[1]", q) == b"xy"
    assert value("vendor-class[4491].data[2]", q) == b""
    assert value("vendor-class[1].data", q) == b""
    # A second block with another enterprise number makes the option invalid in Kea.
    bad = one + (1).to_bytes(4, "big") + bytes([1]) + b"z"
    assert truth("vendor-class[*].exists", Query(v4((124, bad)))) is False


def test_vendor_class_v6():
    tuples = b"".join(len(t).to_bytes(2, "big") + t for t in (b"eRouter1.0", b"x"))
    q = Query(v6((16, (4491).to_bytes(4, "big") + tuples)))
    assert value("vendor-class[*].data", q, 6) == b"eRouter1.0"
    assert value("vendor-class[4491].data[1]", q, 6) == b"x"
    assert value("vendor-class.enterprise", q, 6) == (4491).to_bytes(4, "big")


# --- relay6 -------------------------------------------------------------------------
@pytest.fixture
def two_relays():
    inner = v6((1, b"\x00\x03"), msg_type=3, transaction_id=0xABCDEF)
    # The first relay listed is nearest the client; the last one nearest the server.
    pkt = relayed(inner,
                  ("2001:db8:1::1", "fe80::c", [(18, b"client-side"), (37, b"near-client")]),
                  ("2001:db8:2::1", "fe80::b", [(18, b"server-side")]))
    return Query(pkt)


@pytest.mark.parametrize("expr,expected", [
    ("relay6[0].option[18].hex", b"server-side"),
    ("relay6[1].option[18].hex", b"client-side"),
    ("relay6[-1].option[18].hex", b"client-side"),
    ("relay6[-2].option[18].hex", b"server-side"),
    ("relay6[2].option[18].hex", b""),
    ("relay6[-3].option[18].hex", b""),
    ("relay6[0].option[37].hex", b""),
    ("relay6[1].option[37].hex", b"near-client"),
    ("relay6[0].linkaddr", bytes.fromhex("20010db8000200000000000000000001")),
    ("relay6[-1].peeraddr", bytes.fromhex("fe80000000000000000000000000000c")),
    ("relay6[5].peeraddr", b""),
    ("relay6[-5].linkaddr", b""),
    ("pkt6.msgtype", (3).to_bytes(4, "big")),
    ("pkt6.transid", (0xABCDEF).to_bytes(4, "big")),
    ("option[1].hex", b"\x00\x03"),        # options come from the client's message
])
def test_relay6(two_relays, expr, expected):
    assert value(expr, two_relays, 6) == expected


def test_relay6_does_not_expose_the_relay_message_option(two_relays):
    assert truth("relay6[0].option[9].exists", two_relays, 6) is False
    assert truth("relay6[0].option[18].exists", two_relays, 6) is True


def test_relay6_on_a_direct_message():
    q = Query(v6())
    assert value("relay6[0].peeraddr", q, 6) == b""
    assert truth("relay6[-1].option[18].exists", q, 6) is False


# --- header fields and metadata ----------------------------------------------------------
def test_pkt4_fields():
    q = Query(v4(hlen=3, htype=6, xid=0xDEADBEEF, giaddr="10.0.0.254"))
    assert value("pkt4.mac", q) == b"\x01\x02\x03"
    assert value("pkt4.hlen", q) == (3).to_bytes(4, "big")
    assert value("pkt4.transid", q) == bytes.fromhex("deadbeef")
    assert value("pkt4.giaddr", q) == bytes([10, 0, 0, 254])
    assert value("pkt4.ciaddr", q) == bytes(4)


def test_pkt4_msgtype_without_option_53_is_zero():
    pkt = v4()
    pkt.options.remove_code(53)
    assert value("pkt4.msgtype", Query(pkt)) == bytes(4)


def test_pkt_metadata_defaults_and_kea_length():
    q = Query(v4((61, b"abc")))
    assert value("pkt.iface", q) == b""
    assert value("pkt.src", q) == bytes(4) and value("pkt.dst", q) == bytes(4)
    # Kea's Pkt4::len(): 236-byte header plus each option's 2-byte header and data.
    assert value("pkt.len", q) == (236 + 3 + 5).to_bytes(4, "big")
    q6 = Query(v6((1, b"ab")), src="fe80::1", dst="ff02::1:2", iface="veth0")
    assert value("pkt.src", q6, 6) == bytes.fromhex("fe80" + "0" * 27 + "1")
    assert value("pkt.dst", q6, 6) == bytes.fromhex("ff02" + "0" * 20 + "00010002")
    assert value("pkt.len", q6, 6) == (4 + 6).to_bytes(4, "big")
    assert value("pkt.iface", q6, 6) == b"veth0"


def test_pkt4_and_pkt6_are_universe_specific():
    with pytest.raises(ExpressionError, match="pkt4 can only be used in DHCPv4"):
        compile_expression("pkt4.mac == ''", 6)
    with pytest.raises(ExpressionError, match="pkt6 can only be used in DHCPv6"):
        compile_expression("pkt6.msgtype == 1", 4)
