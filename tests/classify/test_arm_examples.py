"""Every example of the Kea 2.2 ARM's classification chapter (arm/classify.rst),
evaluated. Where the ARM's "example value" is not what Kea computes, the test
follows Kea and says why."""
import pytest

from kea_tools.classify import Classifier, ExpressionError, Query, compile_expression
from tests.classify.packets import relayed, tlv4, v4, v6


def value(expr, query, universe=4):
    return compile_expression(expr, universe, "string")(query)


def truth(expr, query, universe=4):
    return compile_expression(expr, universe, "bool")(query)


@pytest.fixture
def q4():
    vivso = (4491).to_bytes(4, "big") + bytes([11]) + tlv4((1, b"docsis3.0"))
    vivco = (4491).to_bytes(4, "big") + bytes([9]) + b"docsis3.0"
    pkt = v4((61, b"foobar"), (60, b"docsis3.0"), (123, b"\x01\x02"),
             (82, tlv4((123, b"ckt"), (1, b"circuit"))), (125, vivso), (124, vivco),
             ciaddr="192.0.2.1", giaddr="192.0.2.1", yiaddr="192.0.2.1", siaddr="192.0.2.1",
             htype=6)
    return Query(pkt, iface="eth0", src="10.1.2.3", dst="10.1.2.3", length=513)


# --- "List of classification values" ------------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    ("'example'", b"example"),
    ("0x5a7d", b"Z}"),
    ("10.0.0.1", bytes.fromhex("0a000001")),
    # The ARM shows '123', but its own note says integers are 4-byte values.
    ("123", bytes.fromhex("0000007b")),
    ("option[123].hex", b"\x01\x02"),
    ("relay4[123].hex", b"ckt"),
    ("pkt.iface", b"eth0"),
    ("pkt.src", bytes([10, 1, 2, 3])),
    ("pkt.dst", bytes([10, 1, 2, 3])),
    ("pkt.len", (513).to_bytes(4, "big")),
    ("pkt4.mac", bytes.fromhex("010203040506")),
    ("pkt4.hlen", (6).to_bytes(4, "big")),
    ("pkt4.htype", (6).to_bytes(4, "big")),
    ("pkt4.ciaddr", bytes([192, 0, 2, 1])),
    ("pkt4.giaddr", bytes([192, 0, 2, 1])),
    ("pkt4.yiaddr", bytes([192, 0, 2, 1])),
    ("pkt4.siaddr", bytes([192, 0, 2, 1])),
    ("pkt4.msgtype", (1).to_bytes(4, "big")),
    ("pkt4.transid", (12345).to_bytes(4, "big")),
    ("vendor.enterprise", (4491).to_bytes(4, "big")),
    ("vendor[4491].option[1].hex", b"docsis3.0"),
    ("vendor-class.enterprise", (4491).to_bytes(4, "big")),
    ("vendor-class[4491].data", b"docsis3.0"),
    # Only one tuple is present: data[3] is out of range, hence empty.
    ("vendor-class[4491].data[3]", b""),
])
def test_classification_values_v4(q4, expr, expected):
    assert value(expr, q4) == expected


@pytest.mark.parametrize("expr", [
    "option[123].exists", "vendor[*].exists", "vendor[4491].exists",
    "vendor[4491].option[1].exists", "vendor-class[*].exists", "vendor-class[4491].exists",
    "member('ALL')",
])
def test_classification_booleans_v4(expr):
    vivso = (4491).to_bytes(4, "big") + bytes([11]) + tlv4((1, b"docsis3.0"))
    vivco = (4491).to_bytes(4, "big") + bytes([9]) + b"docsis3.0"
    q = Query(v4((123, b""), (125, vivso), (124, vivco)))
    q.add_class("ALL")
    assert truth(expr, q) is True


def test_sub_option_examples():
    # option[12].option[34]: option 12 (host-name) encapsulates nothing in Kea,
    # so its "sub-option 34" never exists; option 82 does carry sub-options.
    q = Query(v4((12, tlv4((34, b"x"))), (82, tlv4((34, b"y")))))
    assert value("option[12].option[34].hex", q) == b""
    assert truth("option[12].option[34].exists", q) is False
    assert value("option[82].option[34].hex", q) == b"y"
    assert truth("option[82].option[34].exists", q) is True


def test_member_foobar():
    q = Query(v4())
    assert truth("member('foobar')", q) is False
    q.add_class("foobar")
    assert truth("member('foobar')", q) is True


def test_known_and_unknown_shorthands_do_not_exist_in_kea_2_2():
    for expr in ("known", "unknown"):
        with pytest.raises(ExpressionError, match="Invalid character"):
            compile_expression(expr)
    q = Query(v4())
    q.add_class("KNOWN")
    assert truth("member('KNOWN')", q) and not truth("not member('KNOWN')", q)


def test_relay6_values():
    inner = v6((1, b"\x00\x01"), msg_type=1, transaction_id=12345)
    pkt = relayed(inner, ("2001:db8::1", "2001:db8::1", [(37, b"remote")]))
    q = Query(pkt, iface="eth0")
    assert value("relay6[0].option[37].hex", q, 6) == b"remote"
    assert value("relay6[0].peeraddr", q, 6) == bytes.fromhex("20010db8" + "0" * 23 + "1")
    assert value("relay6[0].linkaddr", q, 6) == bytes.fromhex("20010db8" + "0" * 23 + "1")
    assert value("pkt6.msgtype", q, 6) == (1).to_bytes(4, "big")
    assert value("pkt6.transid", q, 6) == (12345).to_bytes(4, "big")
    assert truth("pkt6.msgtype == 1", q, 6)


# --- "List of classification expressions" ------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    ("'foo' == 'bar'", False),
    ("not ('foo' == 'bar')", True),
    ("('foo' == 'bar') and ('bar' == 'foo')", False),
    ("('foo' == 'bar') or ('bar' == 'foo')", False),
])
def test_boolean_table(expr, expected):
    assert truth(expr, Query(v4())) is expected


@pytest.mark.parametrize("expr,expected", [
    ("substring('foobar',0,3)", b"foo"),
    ("concat('foo','bar')", b"foobar"),
    ("'foo' + 'bar'", b"foobar"),
    ("ifelse('foo' == 'bar','us','them')", b"them"),
    ("hexstring('foo', '-')", b"66-6f-6f"),
    ("split('foo.bar', '.', 2)", b"bar"),
    ("addrtotext (192.10.0.1)", b"192.10.0.1"),
    ("addrtotext (2003:db8::)", b"2003:db8::"),
    ("uint32totext (4294967295)", b"4294967295"),
])
def test_expression_tables(expr, expected):
    assert value(expr, Query(v4())) == expected


def test_conversion_examples_with_negative_or_short_literals():
    # int8totext(-1) etc.: Kea 2.2 rejects negative integer literals ...
    for expr in ("int8totext (-1)", "int16totext (-1)", "int32totext (-1)"):
        with pytest.raises(ExpressionError, match=r"Invalid value in -1"):
            compile_expression(expr, kind="string")
    # ... and 255 / 65535 are 4-byte values, the wrong size for uint8/uint16:
    # Kea's evaluation fails (the class would not match).
    from kea_tools.classify import EvalError
    for expr in ("uint8totext (255)", "uint16totext (65535)"):
        with pytest.raises(EvalError):
            value(expr, Query(v4()))
    # With the right sizes they give the ARM's values.
    assert value("int8totext(0xff)", Query(v4())) == b"-1"
    assert value("int16totext(0xffff)", Query(v4())) == b"-1"
    assert value("int32totext(0xffffffff)", Query(v4())) == b"-1"
    assert value("uint8totext(0xff)", Query(v4())) == b"255"
    assert value("uint16totext(0xffff)", Query(v4())) == b"65535"


def test_logical_operator_grouping():
    # "A and B or C" means "(A and B) or C".
    for a in (True, False):
        for b in (True, False):
            for c in (True, False):
                lit = {True: "'x' == 'x'", False: "'x' == 'y'"}
                got = truth(f"{lit[a]} and {lit[b]} or {lit[c]}", Query(v4()))
                assert got == ((a and b) or c)
                got = truth(f"{lit[a]} and ({lit[b]} or {lit[c]})", Query(v4()))
                assert got == (a and (b or c))


@pytest.mark.parametrize("expr", [
    "substring('foobar', 0, 6) == 'foobar'",
    "substring('foobar', 3, 3) == 'bar'",
    "substring('foobar', 3, all) == 'bar'",
    "substring('foobar', 1, 4) == 'ooba'",
    "substring('foobar', -5, 4) == 'ooba'",
    "substring('foobar', -1, -3) == 'oba'",
    "substring('foobar', 4, -2) == 'ob'",
    "substring('foobar', 10, 2) == ''",
    "concat('foo', 'bar') == 'foobar'",
    "'abc' + 'def' + 'ghi' + 'jkl' + '...' == 'abcdefghijkl...'",
    "concat(concat(concat(concat('abc', 'def'), 'ghi'), 'jkl'), '...') == 'abcdefghijkl...'",
    "concat('abc', concat('def', concat('ghi', concat('jkl', '...')))) == 'abcdefghijkl...'",
    "'abcdefghijkl...' == 'abcdefghijkl...'",
    "split ('one.two..four', '.', 1) == 'one'",
    "split ('one.two..four', '.', 2) == 'two'",
    "split ('one.two..four', '.', 3) == ''",
    "split ('one.two..four', '.', 4) == 'four'",
    "split ('one.two..four', '.', 5) == ''",
])
def test_chapter_examples_hold(expr):
    assert truth(expr, Query(v4())) is True


def test_ifelse_and_hexstring_examples():
    q = Query(v4((230, b"\x0a\x0b")))
    assert value("ifelse(option[230].exists, option[230].hex, 'none')", q) == b"\x0a\x0b"
    assert value("ifelse(option[230].exists, option[230].hex, 'none')", Query(v4())) == b"none"
    assert value("hexstring(pkt4.mac, ':')", q) == b"01:02:03:04:05:06"


def test_client_foo_class_from_the_configuring_classes_section():
    clf = Classifier([{
        "name": "Client_foo",
        "test": "substring(option[61].hex,0,3) == 'foo'",
        "option-data": [{"name": "domain-name-servers", "code": 6, "space": "dhcp4",
                         "csv-format": True, "data": "192.0.2.1, 192.0.2.2"}],
    }])
    q = Query(v4((61, b"foobar")))
    assert clf.classify(q) is False
    assert list(q.classes) == ["ALL", "Client_foo"]
    assert clf.classes_in_order(q)[0].option_data[0]["data"] == "192.0.2.1, 192.0.2.2"
    other = Query(v4((61, b"barfoo")))
    clf.classify(other)
    assert "Client_foo" not in other.classes


def test_client_enterprise_class_v6():
    clf = Classifier([{"name": "Client_enterprise",
                       "test": "substring(option[1].hex,0,6) == 0x0002AABBCCDD"}], universe=6)
    q = Query(v6((1, bytes.fromhex("0002AABBCCDD0001"))))
    clf.classify(q)
    assert "Client_enterprise" in q.classes
    q = Query(v6((1, bytes.fromhex("0001AABBCCDD0001"))))
    clf.classify(q)
    assert "Client_enterprise" not in q.classes


def test_built_in_vendor_class():
    q = Query(v4((60, b"docsis3.0")))
    Classifier([]).classify(q)
    assert list(q.classes) == ["ALL", "VENDOR_CLASS_docsis3.0"]
