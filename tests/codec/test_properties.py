"""Property tests: everything that builds parses back equal; nothing but
CodecError escapes the parsers, whatever the bytes."""
import socket

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from kea_tools.codec.describe import describe_packet
from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.optiondefs import OptionDef, OptionDefs, suboptions
from kea_tools.codec.types import Prefix6, Psid, data_types, labels_text
from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Packet6, Relay6, parse_packet6

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

ipv4 = st.binary(min_size=4, max_size=4).map(socket.inet_ntoa)
ipv6 = st.binary(min_size=16, max_size=16).map(lambda b: socket.inet_ntop(socket.AF_INET6, b))


@st.composite
def prefixes(draw):
    length = draw(st.integers(0, 128))
    raw = int.from_bytes(draw(st.binary(min_size=16, max_size=16)), "big")
    raw &= ((1 << 128) - 1) ^ ((1 << (128 - length)) - 1)
    return Prefix6(socket.inet_ntop(socket.AF_INET6, raw.to_bytes(16, "big")), length)


@st.composite
def psids(draw):
    length = draw(st.integers(0, 16))
    return Psid(draw(st.integers(0, (1 << length) - 1)) if length else 0, length)


label = st.binary(min_size=1, max_size=63)
fqdns = st.lists(label, min_size=0, max_size=4).map(labels_text)
text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
# What survives Kea's text form: no blank at either end, no trailing NUL.
clean_text = text.filter(lambda s: s == s.strip(" \b\f\n\r\t") and not s.endswith("\0"))

VALUES = {
    "boolean": st.booleans(),
    "int8": st.integers(-128, 127), "int16": st.integers(-2**15, 2**15 - 1),
    "int32": st.integers(-2**31, 2**31 - 1), "uint8": st.integers(0, 255),
    "uint16": st.integers(0, 2**16 - 1), "uint32": st.integers(0, 2**32 - 1),
    "ipv4-address": ipv4, "ipv6-address": ipv6, "ipv6-prefix": prefixes(), "psid": psids(),
    "string": clean_text, "fqdn": fqdns, "tuple": clean_text.filter(lambda s: len(s) < 60),
    # Kea's csv text cannot say "empty binary" (it refuses empty data); the wire
    # form of empty binaries is covered by the unit tests.
    "binary": st.binary(min_size=1, max_size=40),
}


@SETTINGS
@given(st.data())
def test_every_type_round_trips(data):
    name = data.draw(st.sampled_from(sorted(VALUES)))
    universe = data.draw(st.sampled_from((4, 6)))
    value = data.draw(VALUES[name])
    dtype = data_types()[name]
    wire = dtype.write(value, universe)
    assert dtype.read(wire, 0, len(wire), universe) == (value, len(wire))
    assert dtype.from_text(dtype.to_text(value)) == value


@st.composite
def defs_and_values(draw):
    """A random definition (scalar, array or record) and a value for it."""
    universe = draw(st.sampled_from((4, 6)))
    fixed = [t for t in VALUES if t not in ("string", "binary")]
    kind = draw(st.sampled_from(("scalar", "array", "record")))
    if kind == "scalar":
        dtype = draw(st.sampled_from(sorted(VALUES)))
        defn = OptionDef("x", 200, "x", dtype, universe=universe)
        return defn, draw(VALUES[dtype])
    if kind == "array":
        dtype = draw(st.sampled_from(sorted(fixed)))
        defn = OptionDef("x", 200, "x", dtype, array=True, universe=universe)
        return defn, draw(st.lists(VALUES[dtype], max_size=5))
    fields = draw(st.lists(st.sampled_from(sorted(fixed)), min_size=1, max_size=4))
    array = draw(st.booleans())
    if not array:
        fields.append(draw(st.sampled_from(sorted(VALUES))))
    defn = OptionDef("x", 200, "x", "record", array=array, record_types=tuple(fields),
                     universe=universe)
    values = [draw(VALUES[f]) for f in fields]
    if array:
        values[-1] = draw(st.lists(VALUES[fields[-1]], min_size=1, max_size=4))
    return defn, values


@SETTINGS
@given(defs_and_values())
def test_records_and_arrays_round_trip(pair):
    defn, value = pair
    wire = defn.encode(value)
    assert defn.decode(wire) == value
    assert defn.from_text(defn.value_to_text(value)) == wire


STD = OptionDefs.standard()
STD_DEFS = sorted(STD, key=lambda d: (d.universe, d.space, d.code))


@SETTINGS
@given(st.sampled_from(STD_DEFS), st.binary(max_size=80))
def test_typed_decode_of_any_bytes_raises_only_codec_error(defn, payload):
    try:
        value = defn.decode(payload)
        suboptions(STD, defn, payload)
    except CodecError as err:
        assert err.code == defn.code
        return
    # Whatever decoded re-encodes to bytes that decode to the same value.
    if not defn.suboption_space:
        assert defn.decode(defn.encode(value)) == value


codes4 = st.integers(1, 254).filter(lambda c: c not in (52, 53))
options4 = st.dictionaries(codes4, st.binary(max_size=600), max_size=8).map(
    lambda d: OptionList(Option(c, v) for c, v in d.items()))


@st.composite
def packets4(draw):
    pkt = Packet4(
        op=draw(st.sampled_from((1, 2))), htype=1, hlen=draw(st.integers(0, 16)),
        hops=draw(st.integers(0, 255)), xid=draw(st.integers(0, 2**32 - 1)),
        secs=draw(st.integers(0, 2**16 - 1)), flags=draw(st.integers(0, 2**16 - 1)),
        ciaddr=draw(ipv4), yiaddr=draw(ipv4), siaddr=draw(ipv4), giaddr=draw(ipv4),
        chaddr=draw(st.binary(min_size=16, max_size=16)),
        sname=draw(st.binary(max_size=63)).ljust(64, b"\0"),
        file=draw(st.binary(max_size=127)).ljust(128, b"\0"))
    pkt.options = OptionList([Option(53, bytes((draw(st.integers(1, 8)),)))])
    opts = draw(options4)
    # RAI is written last: generate it last so the order survives.
    pkt.options.extend(o for o in opts if o.code != 82)
    pkt.options.extend(o for o in opts if o.code == 82)
    return pkt


@SETTINGS
@given(packets4())
def test_packet4_round_trip(pkt):
    wire = pkt.build()
    assert Packet4.parse(wire) == pkt
    describe_packet(Packet4.parse(wire))


@SETTINGS
@given(packets4(), st.integers(300, 1500))
def test_packet4_overload_round_trip(pkt, max_size):
    pkt.sname, pkt.file = bytes(64), bytes(128)
    try:
        wire = pkt.build(max_size=max_size)
    except CodecError:
        assume(False)
    assert len(wire) <= max_size
    back = Packet4.parse(wire)
    assert [o for o in back.options if o.code != 52] == list(pkt.options)
    assert back.build() == wire


codes6 = st.integers(0, 65535).filter(lambda c: c != 9)
options6 = st.lists(st.builds(Option, codes6, st.binary(max_size=50)), max_size=6).map(OptionList)


def messages6():
    client = st.builds(Packet6, st.integers(1, 255).filter(lambda t: t not in (12, 13)),
                       st.integers(0, 2**24 - 1), options6)
    return st.recursive(client, lambda inner: st.builds(
        Relay6, st.sampled_from((12, 13)), st.integers(0, 255), ipv6, ipv6, options6, inner),
        max_leaves=4)


@SETTINGS
@given(messages6())
def test_packet6_round_trip(msg):
    wire = msg.build()
    back = parse_packet6(wire)
    assert back.build() == wire
    if isinstance(msg, Relay6):
        assert back.innermost() == msg.innermost()
    else:
        assert back == msg
    describe_packet(back)


def _parse_any(wire):
    for parse in (Packet4.parse, parse_packet6):
        try:
            pkt = parse(wire)
        except CodecError:
            continue
        describe_packet(pkt)  # typed decoding of whatever parsed must not raise either


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_parse_or_raise_codec_error(wire):
    _parse_any(wire)


@SETTINGS
@given(packets4(), st.data())
def test_mutated_packets4_parse_or_raise_codec_error(pkt, data):
    wire = bytearray(pkt.build())
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(236, len(wire) - 1))
        wire[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(wire)))
    _parse_any(bytes(wire[:cut]))
    _parse_any(bytes(wire))


@SETTINGS
@given(messages6(), st.data())
def test_mutated_packets6_parse_or_raise_codec_error(msg, data):
    wire = bytearray(msg.build())
    if wire:
        for _ in range(data.draw(st.integers(1, 4))):
            pos = data.draw(st.integers(0, len(wire) - 1))
            wire[pos] = data.draw(st.integers(0, 255))
    _parse_any(bytes(wire[:data.draw(st.integers(0, len(wire)))]))
