"""The definition registry, custom option-def layering, the odd options and
Kea's option-data text form."""
import json

import pytest

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.optiondefs import (
    DATA_FILE, ClientFqdn, DefinitionError, OptionDefs, Route, VendorBlock, decode_hex_data,
    encapsulate, encode_option_data, suboptions,
)
from kea_tools.codec.types import Prefix6, Psid

STD = OptionDefs.standard()


def enc(space, data, **kw):
    return encode_option_data(STD, space, data, **kw)


def test_every_standard_definition_is_loaded_and_found():
    rows = json.loads(DATA_FILE.read_text())["options"]
    assert len(rows) == 256
    for row in rows:
        defn = STD.get(row["space"], row["code"], universe=row["universe"])
        assert defn is not None and defn.name == row["name"] and defn.type == row["type"]
        assert STD.by_name(row["space"], row["name"], universe=row["universe"]) == defn


def test_registry_is_built_once_and_lazily():
    assert OptionDefs.standard() is OptionDefs.standard()
    assert OptionDefs.standard(4).get("dhcp6", 3) is None
    assert OptionDefs.standard(6).by_name("vendor-4491", "oro").type == "uint16"
    assert OptionDefs.standard(4).by_name("vendor-4491", "oro").type == "uint8"
    with pytest.raises(CodecError):
        STD.get("vendor-4491", 1)  # both universes have that space


def test_kea_2_2_only_view_drops_later_definitions():
    old = OptionDefs.standard(kea_2_2_only=True)
    assert old.get("dhcp4", 121) is None and old.get("dhcp-agent-options-space", 1) is None
    assert STD.get("dhcp4", 121).name == "classless-static-route"


def test_custom_definitions_layer_without_touching_the_standard_registry():
    custom = STD.with_custom([
        {"name": "my-routes", "code": 121, "type": "binary"},          # post-2.2 code
        {"name": "classless-static-route", "code": 249, "type": "binary"},  # post-2.2 name
        {"name": "vendor-encapsulated-options", "code": 43, "type": "empty",
         "encapsulate": "acme"},
        {"name": "acme-server", "code": 1, "type": "ipv4-address", "space": "acme"},
    ], universe=4)
    assert custom.get("dhcp4", 121).name == "my-routes"
    assert custom.by_name("dhcp4", "classless-static-route").code == 249
    assert custom.get("dhcp4", 43).encapsulate == "acme"
    assert custom.by_name("acme", "acme-server").code == 1
    assert STD.get("dhcp4", 121).name == "classless-static-route"
    assert STD.get("dhcp4", 43).encapsulate == "vendor-encapsulated-options-space"
    assert STD.get("acme", 1, universe=4) is None


@pytest.mark.parametrize("entry", [
    {"name": "routers2", "code": 3, "type": "uint8"},                  # standard in 2.2
    {"name": "x", "code": 0, "type": "uint8"},
    {"name": "x", "code": 255, "type": "uint8"},
    {"name": "bad name", "code": 200, "type": "uint8"},
    {"name": "x", "code": 200, "type": "float"},
    {"name": "x", "code": 200, "type": "record", "record-types": "uint8"},
    {"name": "x", "code": 200, "type": "record", "record-types": "string, uint8"},
    {"name": "x", "code": 200, "type": "record", "record-types": "uint8, record"},
    {"name": "x", "code": 200, "type": "record", "array": True, "record-types": "uint8, binary"},
    {"name": "x", "code": 200, "type": "string", "array": True},
    {"name": "x", "code": 200, "type": "uint8", "record-types": "uint8, uint8"},
    {"name": "x", "code": 200, "type": "uint8", "encapsulate": "dhcp4", "space": "dhcp4"},
    {"name": "x", "code": 200, "type": "uint8", "spaces": "dhcp4"},
    {"code": 200, "type": "uint8"},
])
def test_definitions_kea_rejects(entry):
    with pytest.raises(DefinitionError):
        STD.with_custom([entry], universe=4)


def test_vendor_spaces_may_define_codes_0_and_255():
    custom = STD.with_custom([
        {"name": "vendor-encapsulated-options", "code": 43, "type": "empty", "encapsulate": "v"},
        {"name": "zero", "code": 0, "type": "uint8", "space": "v"}], universe=4)
    space, opts = suboptions(custom, custom.get("dhcp4", 43), bytes.fromhex("000105ff00"))
    assert opts == [Option(0, b"\x05"), Option(255, b"")]
    with pytest.raises(DefinitionError):
        STD.with_custom([{"name": "x", "code": 1, "type": "uint8", "space": "v"}])


def test_duplicate_custom_definitions_are_rejected():
    with pytest.raises(DefinitionError):
        STD.with_custom([{"name": "a", "code": 200, "type": "uint8"},
                         {"name": "b", "code": 200, "type": "uint8"}], universe=4)


def test_custom_v6_definitions():
    custom = OptionDefs.standard(6).with_custom(
        [{"name": "big", "code": 40000, "type": "tuple", "array": True}])
    defn = custom.get("dhcp6", 40000)
    assert defn.universe == 6
    assert defn.from_text("ab, c") == bytes.fromhex("00026162" "000163")


# --- option-data ---------------------------------------------------------------
@pytest.mark.parametrize("space,kw,data,wire", [
    ("dhcp4", {"name": "routers"}, "192.0.2.1,192.0.2.2", "c0000201c0000202"),
    ("dhcp4", {"code": 3}, "192.0.2.1", "c0000201"),
    ("dhcp4", {"name": "domain-name-servers", "code": 6}, "10.0.0.1", "0a000001"),
    ("dhcp4", {"name": "host-name"}, "first, ignored", "6669727374"),
    ("dhcp4", {"name": "domain-search"}, "a.com, b.org",
     "016103636f6d00" "0162036f726700"),
    ("dhcp4", {"name": "dhcp-parameter-request-list"}, "1, 3, 0x06", "010306"),
    ("dhcp4", {"name": "classless-static-route"},
     "10.0.0.0/8 - 10.1.1.1, 0.0.0.0/0 - 10.0.0.1", "080a0a010101" "000a000001"),
    ("dhcp4", {"name": "classless-static-route"}, "192.168.1.0/25 - 1.1.1.1",
     "19c0a80100" "01010101"),
    ("dhcp4", {"name": "fqdn"}, "1, 255, 255, host.example", "01ffff04686f7374076578616d706c6500"),
    ("dhcp4", {"name": "vivso-suboptions"}, "4491", "0000118b00"),
    ("dhcp4", {"name": "vivco-suboptions"}, "4491, 0568656c6c6f", "0000118b0568656c6c6f"),
    ("dhcp4", {"name": "dhcp-agent-options"}, "", ""),
    ("dhcp4", {"name": "v4-sztp-redirect"}, "https://a, https://b",
     "0968747470733a2f2f61" "0968747470733a2f2f62"),
    ("dhcp4", {"name": "status-code"}, "1, no\\, really", "016e6f2c207265616c6c79"),
    ("dhcp-agent-options-space", {"name": "link-selection"}, "10.1.2.0", "0a010200"),
    ("dhcp6", {"name": "ia-na"}, "1, 3600, 7200", "0000000100000e1000001c20"),
    ("dhcp6", {"name": "iaaddr"}, "2001:db8::1, 100, 200",
     "20010db8000000000000000000000001" "00000064000000c8"),
    ("dhcp6", {"name": "iaprefix"}, "100, 200, 56, 2001:db8:1::",
     "00000064000000c838" "20010db8000100000000000000000000"),
    ("dhcp6", {"name": "status-code"}, "2, No addresses", "00024e6f20616464726573736573"),
    ("dhcp6", {"name": "vendor-opts"}, "4491", "0000118b"),
    ("dhcp6", {"name": "vendor-class"}, "4491, 00026869", "0000118b00026869"),
    ("dhcp6", {"name": "client-fqdn"}, "1, host.example.", "0104686f7374076578616d706c6500"),
    ("dhcp6", {"name": "bootfile-param"}, "root=/dev/sda, quiet",
     "000d726f6f743d2f6465762f736461" "00057175696574"),
    ("dhcp6", {"name": "pd-exclude"}, "2001:db8:0:ff00::/56", "3820010db80000ff"),
    ("s46-cont-mape-options", {"name": "s46-rule"}, "1, 0, 24, 192.0.2.0, 2001:db8::/32",
     "010018c0000200" "2020010db8"),
    ("s46-rule-options", {"name": "s46-portparams"}, "0, 5/4", "00045000"),
    ("dhcp6", {"name": "rapid-commit"}, "", ""),
    ("dhcp6", {"name": "lq-query"}, "1, 2001:db8::1", "01" "20010db8000000000000000000000001"),
    ("dhcp4", {"name": "routers", "csv_format": False}, "c0:00:02:01", "c0000201"),
    ("dhcp4", {"code": 250, "csv_format": False}, "0x123", "0123"),
    ("dhcp4", {"code": 250, "csv_format": False}, "'a,b c'", "612c622063"),
    ("dhcp4", {"code": 250, "csv_format": False}, "a b  ".strip(), "0a0b"),
    ("dhcp4", {"code": 250, "csv_format": False}, "", ""),
    ("dhcp4", {"name": "host-name", "csv_format": False}, "6162630000", "616263"),
])
def test_option_data(space, kw, data, wire):
    universe = 4 if space in ("dhcp4", "dhcp-agent-options-space") else 6
    universe = 6 if space.startswith("s46") else universe
    kw = dict(kw)
    csv = kw.pop("csv_format", True)
    assert encode_option_data(STD, space, data, csv_format=csv, universe=universe,
                              **kw).hex() == wire


@pytest.mark.parametrize("space,kw,data", [
    ("dhcp4", {}, "1"),                                              # no name or code
    ("dhcp4", {"name": "no-such-option"}, "1"),
    ("dhcp4", {"name": "routers", "code": 6}, "10.0.0.1"),           # disagree
    ("dhcp4", {"code": 0, "csv_format": False}, "00"),
    ("dhcp4", {"code": 255, "csv_format": False}, "00"),
    ("dhcp4", {"code": 250}, "1"),                                   # csv without definition
    ("dhcp4", {"name": "subnet-mask"}, ""),
    ("dhcp4", {"name": "subnet-mask", "csv_format": False}, "ffffff"),
    ("dhcp4", {"name": "subnet-mask", "csv_format": False}, "ffffff0000"),
    ("dhcp4", {"name": "dhcp-agent-options"}, "01"),
    ("dhcp4", {"name": "fqdn"}, "1, 0, 0"),
    ("dhcp4", {"name": "classless-static-route"}, "10.0.0.0/8 10.1.1.1"),
    ("dhcp4", {"name": "classless-static-route"}, "10.0.0.0/33 - 10.1.1.1"),
    ("dhcp4", {"name": "v4-dnr"}, "1, x"),
    ("dhcp4", {"name": "host-name", "csv_format": False}, "0000"),
    ("dhcp4", {"code": 250, "csv_format": False}, "0x1g"),
    ("dhcp4", {"code": 250, "csv_format": False}, ":01"),
    ("dhcp4", {"code": 250, "csv_format": False}, "012 3"),
    ("dhcp6", {"name": "ia-na"}, "1, 2"),
    ("dhcp6", {"code": 70000, "csv_format": False}, "00"),
])
def test_option_data_errors(space, kw, data):
    kw = dict(kw)
    csv = kw.pop("csv_format", True)
    with pytest.raises(CodecError) as err:
        encode_option_data(STD, space, data, csv_format=csv, **kw)
    assert str(err.value)


def test_errors_name_the_option():
    with pytest.raises(CodecError) as err:
        enc("dhcp4", "1.2.3", name="routers")
    assert err.value.code == 3 and "routers" in str(err.value)


def test_hex_data_forms():
    assert decode_hex_data("0a:b:0C") == b"\x0a\x0b\x0c"
    assert decode_hex_data("0a 0b") == b"\x0a\x0b"
    assert decode_hex_data("abc") == b"\x0a\xbc"
    assert decode_hex_data("0xabc") == b"\x0a\xbc"
    assert decode_hex_data(" 'x y' ") == b"x y"
    for bad in ("0X01", "01:", "a b:c", "0a  0b", "'"):
        with pytest.raises(CodecError):
            decode_hex_data(bad)


# --- typed values and text of the odd options ----------------------------------------
@pytest.mark.parametrize("space,code,universe,wire,value,text", [
    ("dhcp4", 81, 4, "050000046d79687300", ClientFqdn(5, "myhs", True), "5, 0, 0, myhs"),
    ("dhcp4", 81, 4, "0500000468616c66", ClientFqdn(5, "half", False), "5, 0, 0, half"),
    ("dhcp4", 81, 4, "01ffff686f73742e", ClientFqdn(1, "host", True, 255, 255),
     "1, 255, 255, host"),
    ("dhcp4", 81, 4, "000000", ClientFqdn(0, "", False), "0, 0, 0, "),
    ("dhcp6", 39, 6, "0104686f737400", ClientFqdn(1, "host", True), "1, host"),
    ("dhcp6", 39, 6, "0004686f7374", ClientFqdn(0, "host", False), "0, host"),
    ("dhcp4", 121, 4, "18c0a801" "0a000001" "00" "0a000002",
     [Route("192.168.1.0", 24, "10.0.0.1"), Route("0.0.0.0", 0, "10.0.0.2")],
     "192.168.1.0/24 - 10.0.0.1, 0.0.0.0/0 - 10.0.0.2"),
    ("dhcp4", 125, 4, "0000118b" "06" "02040a000001" "00000009" "00",
     [VendorBlock(4491, OptionList([Option(2, b"\x0a\0\0\x01")])), VendorBlock(9)], "4491"),
    ("dhcp6", 17, 6, "0000118b" "00200004" "0a000001",
     VendorBlock(4491, OptionList([Option(32, b"\x0a\0\0\x01")])), "4491"),
    ("dhcp6", 3, 6, "0000000100000e1000001c20", [1, 3600, 7200], "1, 3600, 7200"),
    ("dhcp6", 13, 6, "0000", [0, ""], "0, "),
    ("dhcp6", 26, 6, "00000064000000c838" "20010db8000100000000000000000000",
     [100, 200, 56, "2001:db8:1::"], "100, 200, 56, 2001:db8:1::"),
    ("dhcp6", 67, 6, "3820010db80000ff", Prefix6("2001:db8:0:ff00::", 56),
     "2001:db8:0:ff00::/56"),
    ("dhcp4", 78, 4, "01" "0a000001" "0a000002", [True, ["10.0.0.1", "10.0.0.2"]],
     "true, 10.0.0.1, 10.0.0.2"),
    ("dhcp4", 159, 4, "06045000", [6, Psid(5, 4)], "6, 5/4"),
    ("dhcp4", 12, 4, "612c5c62", "a,\\b", "a\\,\\\\b"),
])
def test_typed_values(space, code, universe, wire, value, text):
    defn = STD.get(space, code, universe=universe)
    raw = bytes.fromhex(wire)
    assert defn.decode(raw) == value
    assert defn.encode(value) == raw
    assert defn.to_text(raw) == text


def test_text_round_trips_through_kea_tokenizer():
    for space, name, text in [("dhcp4", "host-name", "a\\,\\\\b"),
                              ("dhcp4", "slp-service-scope", "true, x\\,y"),
                              ("dhcp4", "domain-search", "a.b, c\\.d, e\\,f")]:
        defn = STD.by_name(space, name)
        payload = defn.from_text(text)
        assert defn.from_text(defn.to_text(payload)) == payload


@pytest.mark.parametrize("space,code,universe,wire", [
    ("dhcp4", 81, 4, "05"), ("dhcp4", 81, 4, "050000c00c"), ("dhcp6", 39, 6, ""),
    ("dhcp4", 121, 4, ""), ("dhcp4", 121, 4, "210a000001"), ("dhcp4", 121, 4, "180a0000"),
    ("dhcp4", 125, 4, "0000118b"), ("dhcp4", 125, 4, "0000118b05010100"),
    ("dhcp4", 125, 4, "0000118b020105"), ("dhcp6", 17, 6, "0000"),
    ("dhcp6", 17, 6, "0000118b000100"), ("dhcp4", 12, 4, "0000"), ("dhcp4", 1, 4, "ffffff"),
    ("dhcp4", 1, 4, "ffffff0000"), ("dhcp4", 3, 4, "0a00000102"), ("dhcp6", 3, 6, "00"),
    ("dhcp4", 78, 4, "01"), ("dhcp4", 19, 4, "05"),
])
def test_malformed_payloads_raise_codec_error(space, code, universe, wire):
    defn = STD.get(space, code, universe=universe)
    with pytest.raises(CodecError) as err:
        defn.decode(bytes.fromhex(wire))
        suboptions(STD, defn, bytes.fromhex(wire))
    assert err.value.code == code


def test_suboptions_of_encapsulating_options():
    rai = STD.get("dhcp4", 82)
    assert suboptions(STD, rai, bytes.fromhex("0102abcd" "00" "0504c0000201" "ff" "0000")) == \
        ("dhcp-agent-options-space", [Option(1, b"\xab\xcd"), Option(5, b"\xc0\0\2\1")])
    ia = STD.get("dhcp6", 25)
    payload = bytes.fromhex("000000010000000a00000014" "001a0019" "00000064000000c838"
                            "20010db8000100000000000000000000")
    space, opts = suboptions(STD, ia, payload)
    assert space == "dhcp6" and opts.codes() == [26]
    assert suboptions(STD, STD.get("dhcp4", 3), bytes(4)) is None
    vivso = STD.get("dhcp4", 125)
    assert suboptions(STD, vivso, bytes.fromhex("0000118b03020100"))[0] == "vendor-4491"


def test_encapsulate_builds_what_suboptions_reads():
    ia = STD.get("dhcp6", 3)
    inner = OptionList([Option(13, b"\x00\x00ok")])
    payload = encapsulate(ia, ia.from_text("7, 10, 20"), inner)
    assert ia.decode(payload) == [7, 10, 20]
    assert suboptions(STD, ia, payload) == ("dhcp6", inner)
    vivso = STD.get("dhcp4", 125)
    payload = encapsulate(vivso, vivso.from_text("4491")[:4], [Option(2, bytes(4))])
    assert payload.hex() == "0000118b" "06" "020400000000"
