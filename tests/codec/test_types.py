"""Every Kea data type: wire bytes <-> Python value <-> csv text, and errors."""
import pytest

from kea_tools.codec.errors import CodecError
from kea_tools.codec.types import Prefix6, Psid, data_types, split_csv

# type, universe, wire hex, python value, text
CASES = [
    ("boolean", 4, "01", True, "true"),
    ("boolean", 4, "00", False, "false"),
    ("int8", 4, "80", -128, "-128"),
    ("int16", 4, "fffe", -2, "-2"),
    ("int32", 4, "7fffffff", 2**31 - 1, "2147483647"),
    ("uint8", 4, "ff", 255, "255"),
    ("uint16", 4, "0102", 258, "258"),
    ("uint32", 4, "ffffffff", 2**32 - 1, "4294967295"),
    ("ipv4-address", 4, "c0000201", "192.0.2.1", "192.0.2.1"),
    ("ipv6-address", 6, "20010db8000000000000000000000001", "2001:db8::1", "2001:db8::1"),
    ("ipv6-prefix", 6, "2020010db8", Prefix6("2001:db8::", 32), "2001:db8::/32"),
    ("ipv6-prefix", 6, "29" "20010db8ff80", Prefix6("2001:db8:ff80::", 41), "2001:db8:ff80::/41"),
    ("ipv6-prefix", 6, "00", Prefix6("::", 0), "::/0"),
    ("psid", 4, "045000", Psid(5, 4), "5/4"),
    ("psid", 4, "10abcd", Psid(0xABCD, 16), "43981/16"),
    ("psid", 4, "000000", Psid(0, 0), "0/0"),
    ("string", 4, "68656c6c6f", "hello", "hello"),
    ("fqdn", 4, "076578616d706c6503636f6d00", "example.com", "example.com"),
    ("fqdn", 4, "00", ".", "."),
    ("fqdn", 4, "03612e6200", "a\\.b", "a\\.b"),
    ("tuple", 4, "03616263", "abc", "abc"),
    ("tuple", 6, "0003616263", "abc", "abc"),
    ("binary", 4, "00ff10", b"\x00\xff\x10", "00ff10"),
]


@pytest.mark.parametrize("name,universe,wire,value,text", CASES)
def test_type_round_trip(name, universe, wire, value, text):
    dtype = data_types()[name]
    raw = bytes.fromhex(wire)
    got, end = dtype.read(raw, 0, len(raw), universe)
    assert got == value and end == len(raw)
    assert dtype.write(value, universe) == raw
    assert dtype.to_text(value) == text
    assert dtype.from_text(text) == value


@pytest.mark.parametrize("name,token,value", [
    ("uint8", "0x1f", 31), ("uint8", "ff", 255), ("uint16", "+7", 7), ("int8", "-0x10", -16),
    ("boolean", "TRUE", True), ("boolean", "0", False), ("boolean", "1", True),
    ("ipv6-prefix", "2001:db8:: / 32", Prefix6("2001:db8::", 32)),
    ("ipv6-prefix", "2001:db8:ffff::/33", Prefix6("2001:db8:8000::", 33)),
    ("psid", "3 / 4", Psid(3, 4)), ("psid", "7/0", Psid(0, 0)),
    ("fqdn", "example.com.", "example.com"), ("fqdn", "a\\046b", "a\\.b"),
    ("binary", "0a 0B", b"\x0a\x0b"),
])
def test_kea_text_spellings(name, token, value):
    assert data_types()[name].from_text(token) == value


@pytest.mark.parametrize("name,token", [
    ("uint8", "256"), ("uint8", "-1"), ("int8", "128"), ("uint32", "4294967296"),
    ("uint16", "12z"), ("boolean", "yes"), ("boolean", "2"), ("ipv4-address", "1.2.3"),
    ("ipv4-address", "::1"), ("ipv6-address", "1.2.3.4"), ("ipv6-prefix", "2001:db8::"),
    ("ipv6-prefix", "2001:db8::/129"), ("psid", "16/4"), ("psid", "1/17"), ("fqdn", ""),
    ("fqdn", "a..b"), ("fqdn", "x" * 64 + ".com"), ("fqdn", ".".join(["abcdefg"] * 40)),
    ("binary", "0x01"), ("binary", "abc"), ("empty", "x"),
])
def test_bad_text(name, token):
    with pytest.raises(CodecError):
        data_types()[name].from_text(token)


@pytest.mark.parametrize("name,universe,wire", [
    ("uint16", 4, "01"), ("uint32", 4, "010203"), ("boolean", 4, "02"), ("ipv4-address", 4, "0102"),
    ("ipv6-address", 6, "00" * 15), ("ipv6-prefix", 6, "81" + "00" * 16),
    ("ipv6-prefix", 6, "30" "2001"), ("psid", 4, "11ffff"), ("psid", 4, "04ffff"),
    ("fqdn", 4, "03616263"), ("fqdn", 4, "c00c"), ("fqdn", 4, "0561"), ("tuple", 4, "05616263"),
    ("tuple", 6, "00"), ("fqdn", 4, "3f" + "61" * 63 + "3f" + "61" * 63 + "3f" + "61" * 63
                           + "3f" + "61" * 63 + "00"),
])
def test_bad_wire(name, universe, wire):
    raw = bytes.fromhex(wire)
    with pytest.raises(CodecError) as err:
        data_types()[name].read(raw, 0, len(raw), universe)
    assert err.value.offset is not None


def test_string_drops_trailing_nuls():
    raw = b"abc\0\0"
    assert data_types()["string"].read(raw, 0, len(raw), 4) == ("abc", 5)


def test_string_keeps_undecodable_bytes():
    raw = b"\xff\xfeok"
    dtype = data_types()["string"]
    value, _ = dtype.read(raw, 0, len(raw), 4)
    assert dtype.write(value, 4) == raw


def test_ipv6_prefix_ignores_bits_past_length_on_read():
    raw = bytes.fromhex("0cffff")  # /12 with the low 4 bits of the 2nd byte set
    assert data_types()["ipv6-prefix"].read(raw, 0, 3, 6)[0] == Prefix6("fff0::", 12)


@pytest.mark.parametrize("data,tokens", [
    ("a, b ,c", ["a", "b", "c"]),
    ("a\\,b", ["a,b"]),
    ("a\\\\,b", ["a\\", "b"]),
    ("a\\nb", ["a\\nb"]),
    (",,a,,", ["a"]),
    ("a, ,b", ["a", "", "b"]),
    ("", []),
    ("x\\", ["x\\"]),
])
def test_kea_tokenizer(data, tokens):
    assert split_csv(data) == tokens
