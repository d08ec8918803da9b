"""DHCPv6 messages and relay envelopes."""
import pytest

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v6 import (
    HOP_COUNT_LIMIT, MAX_PARSE_DEPTH, Packet6, Relay6, build_options6, parse_options6,
    parse_packet6,
)

SOLICIT = Packet6(1, 0xABCDEF, OptionList([
    Option(1, bytes.fromhex("000100012a2b2c2d001122334455")),
    Option(3, bytes.fromhex("000000010000000000000000")),
    Option(8, b"\0\0"), Option(6, bytes.fromhex("00170018")),
]))


def test_client_message_round_trip():
    wire = SOLICIT.build()
    assert wire[:4] == bytes.fromhex("01abcdef")
    assert parse_packet6(wire) == SOLICIT


def test_relay_chain_round_trip_and_hop_counts():
    inner = Relay6.wrap(SOLICIT, "2001:db8::1", "fe80::1", [Option(18, b"eth0")])
    outer = Relay6.wrap(inner, "2001:db8:1::1", "fe80::2")
    assert (inner.hop_count, outer.hop_count) == (0, 1)
    back = parse_packet6(outer.build())
    assert back.relays()[1].options.data(18) == b"eth0"
    assert back.innermost() == SOLICIT
    assert back.build() == outer.build()


def test_wrap_refuses_to_exceed_hop_count_limit():
    msg = SOLICIT
    for _ in range(HOP_COUNT_LIMIT):
        msg = Relay6.wrap(msg)
    with pytest.raises(CodecError):
        Relay6.wrap(msg)


def test_parse_depth_is_bounded():
    wire = SOLICIT.build()
    for _ in range(MAX_PARSE_DEPTH + 2):
        wire = bytes((12, 0)) + bytes(32) + build_options6([Option(9, wire)])
    with pytest.raises(CodecError):
        parse_packet6(wire)


def test_error_inside_relay_message_points_into_the_outer_buffer():
    inner = SOLICIT.build()[:-1]  # option 6 truncated
    relay = bytes((12, 0)) + bytes(32) + build_options6([Option(18, b"ab"), Option(9, inner)])
    with pytest.raises(CodecError) as err:
        parse_packet6(relay)
    assert err.value.code == 6
    assert relay[err.value.offset:err.value.offset + 2] == b"\x00\x06"


@pytest.mark.parametrize("wire", [b"", b"\x01\x00", b"\x0c" + bytes(20),
                                  bytes.fromhex("01000001" "0001"),
                                  bytes.fromhex("01000001" "00010005aa")])
def test_malformed(wire):
    with pytest.raises(CodecError) as err:
        parse_packet6(wire)
    assert err.value.offset is not None


@pytest.mark.parametrize("msg", [
    Packet6(1, 1 << 24), Packet6(12, 1), Packet6(300, 1),
    Relay6(1), Relay6(12, 256), Relay6(12, 0, "zz"),
    Packet6(1, 1, OptionList([Option(70000, b"")])),
    Packet6(1, 1, OptionList([Option(1, bytes(70000))])),
])
def test_unbuildable(msg):
    with pytest.raises(CodecError):
        msg.build()


def test_options_run():
    opts = OptionList([Option(1, b"a"), Option(65535, b""), Option(2, bytes(300))])
    assert parse_options6(build_options6(opts)) == opts
