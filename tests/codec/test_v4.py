"""DHCPv4 packets: header, options, RFC 3396 long options, option overload."""
import pytest

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import HEADER_LEN, MAGIC_COOKIE, Packet4

MAC = bytes.fromhex("001122334455")


def discover(**kw):
    pkt = Packet4(xid=0x1234, chaddr=MAC + bytes(10), **kw)
    pkt.msg_type = 1
    return pkt


def test_header_fields_round_trip():
    pkt = Packet4(op=2, htype=1, hlen=6, hops=3, xid=0xDEADBEEF, secs=9, flags=0x8000,
                  ciaddr="1.2.3.4", yiaddr="5.6.7.8", siaddr="9.10.11.12", giaddr="13.14.15.16",
                  chaddr=MAC + bytes(10), sname=b"srv".ljust(64, b"\0"),
                  file=b"boot".ljust(128, b"\0"))
    pkt.msg_type = 5
    wire = pkt.build()
    assert wire[:4] == bytes((2, 1, 6, 3)) and wire[HEADER_LEN:HEADER_LEN + 4] == MAGIC_COOKIE
    back = Packet4.parse(wire)
    assert back == pkt and back.mac == MAC and back.broadcast and back.msg_type == 5


def test_bootp_without_vendor_area():
    pkt = Packet4.parse(bytes(HEADER_LEN))
    assert pkt.msg_type is None and not pkt.options
    assert pkt.build()[:HEADER_LEN] == bytes(HEADER_LEN)


def test_padding_and_pad_options_kept_exactly():
    pkt = discover()
    wire = pkt.build()[:-1] + b"\0\0" + bytes((255,)) + bytes(40)  # PADs before End, padding after
    back = Packet4.parse(wire)
    assert back.padding == bytes(40) and back.options.codes() == [53]
    assert Packet4.parse(back.build()).options == back.options


def test_long_options_concatenate_and_split():
    data = bytes(range(256)) * 2
    wire = bytes(discover().build()[:-1]) + bytes((43, 255)) + data[:255] + bytes((43, 255)) \
        + data[255:510] + bytes((43, 2)) + data[510:] + b"\xff"
    pkt = Packet4.parse(wire)
    assert pkt.options.data(43) == data
    assert pkt.build() == wire


def test_relay_agent_information_goes_last():
    pkt = discover()
    pkt.options.append(Option(82, b"\x01\x01x"))
    pkt.options.append(Option(61, b"\x01" + MAC))
    wire = pkt.build()
    assert wire[-6:] == bytes((82, 3, 1, 1, ord("x"), 255))


def test_overload_in_received_packets():
    base = bytearray(discover().build())
    base[108:108 + 6] = bytes((12, 3)) + b"abc" + b"\xff"    # file: host-name
    base[44:44 + 7] = bytes((15, 4)) + b"ex.o" + b"\xff"     # sname: domain-name
    wire = bytes(base[:-1]) + bytes((52, 1, 3, 12, 2)) + b"de" + b"\xff"
    pkt = Packet4.parse(wire)
    assert pkt.options.data(12) == b"deabc"  # options field first, then file (RFC 3396)
    assert pkt.options.data(15) == b"ex.o"
    assert pkt.build() == wire


@pytest.mark.parametrize("max_size", [576, 600, 700])
def test_overload_on_build(max_size):
    pkt = discover()
    pkt.options.append(Option(55, bytes(range(1, 60))))
    for code in range(60, 66):
        pkt.options.append(Option(code, bytes((code,)) * 30))
    pkt.options.append(Option(43, bytes(range(200))))
    pkt.options.append(Option(82, b"\x01\x02ab"))
    wire = pkt.build(max_size=max_size)
    assert len(wire) <= max_size
    back = Packet4.parse(wire)
    assert back.options.data(52)[0] in (1, 3)
    assert [o for o in back.options if o.code != 52] == list(pkt.options)
    assert back.options.codes()[:2] == [53, 52]
    assert wire[-7:] == b"\x52\x04\x01\x02ab\xff"
    assert back.build() == wire


def test_build_fits_without_overload_and_drops_padding_that_does_not_fit():
    pkt = discover()
    pkt.padding = bytes(100)
    assert len(pkt.build(max_size=300)) == 300
    assert 52 not in Packet4.parse(pkt.build(max_size=300)).options


def test_overload_keeps_a_used_file_field():
    pkt = discover(file=b"pxelinux.0".ljust(128, b"\0"))
    for code in range(60, 71):
        pkt.options.append(Option(code, bytes(30)))
    wire = pkt.build(max_size=576)
    back = Packet4.parse(wire)
    assert back.options.data(52) == b"\x02" and back.file == pkt.file
    assert [o for o in back.options if o.code != 52] == list(pkt.options)


def test_overload_that_cannot_fit_raises():
    pkt = discover()
    pkt.options.append(Option(43, bytes(2000)))
    with pytest.raises(CodecError):
        pkt.build(max_size=576)


@pytest.mark.parametrize("wire,offset", [
    (bytes(100), 100),
    (bytes(HEADER_LEN) + b"\x63\x82\x53\x64", HEADER_LEN),
    (bytes(HEADER_LEN) + MAGIC_COOKIE + b"\x35", HEADER_LEN + 4),
    (bytes(HEADER_LEN) + MAGIC_COOKIE + b"\x35\x05\x01", HEADER_LEN + 4),
    (bytes(HEADER_LEN) + MAGIC_COOKIE + b"\x34\x01\x07\xff", HEADER_LEN + 4),
])
def test_malformed_packets(wire, offset):
    with pytest.raises(CodecError) as err:
        Packet4.parse(wire)
    assert err.value.offset == offset


@pytest.mark.parametrize("change", [
    {"ciaddr": "1.2.3"}, {"xid": 2**32}, {"secs": -1}, {"op": 256},
])
def test_unbuildable_packets_raise_codec_error(change):
    pkt = discover()
    for key, value in change.items():
        setattr(pkt, key, value)
    with pytest.raises(CodecError):
        pkt.build()


def test_option_code_out_of_range_raises_codec_error():
    pkt = discover()
    pkt.options.append(Option(300, b"x"))
    with pytest.raises(CodecError):
        pkt.build()


def test_option_list_view():
    opts = OptionList([Option(1, b"a"), Option(2, b"b"), Option(1, b"c")])
    assert 1 in opts and 3 not in opts and opts.data(1) == b"a"
    assert [o.data for o in opts.get_all(1)] == [b"a", b"c"]
    opts.set(1, b"z")
    assert opts == [Option(1, b"z"), Option(2, b"b")]
    opts.remove_code(2)
    assert opts.codes() == [1]
