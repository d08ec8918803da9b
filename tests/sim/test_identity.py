"""Client identities: perfdhcp-style sequential ones and faker-drawn ones."""
import pytest

from kea_tools.sim.identity import (DUID_LL, DUID_LLT, VENDOR_PROFILES, FakerIdentities,
                                    SequentialIdentities, parse_duid, parse_mac)


def test_sequential_like_perfdhcp():
    ids = SequentialIdentities(start_time=946684800 + 1000)
    assert [ids[k].mac.hex(":") for k in range(3)] == [
        "00:0c:01:02:03:04", "00:0c:01:02:03:05", "00:0c:01:02:03:06"]
    # DUID-LLT, hw type 1, time since 2000, and the client's MAC as the tail
    assert ids[2].duid == bytes.fromhex("00010001000003e8") + ids[2].mac
    assert ids[0].hostname == "" and ids[0].vendor_class == b""


def test_sequential_base_duid_tail_is_the_mac():
    ids = SequentialIdentities(base_mac=bytes.fromhex("020000000001"),
                               base_duid=bytes.fromhex("000300010a0b0c0d0e0f"))
    assert ids[1].duid == bytes.fromhex("00030001") + bytes.fromhex("020000000002")


def test_faker_is_reproducible_and_realistic():
    a, b = FakerIdentities(seed=5, start_time=1700000000), FakerIdentities(seed=5,
                                                                          start_time=1700000000)
    first = [a[k] for k in range(200)]
    assert first == [b[k] for k in range(200)]
    assert first != [FakerIdentities(seed=6, start_time=1700000000)[k] for k in range(200)]
    ouis = {o: p for p in VENDOR_PROFILES for o in p.ouis}
    assert len({c.mac for c in first}) == 200
    for c in first:
        profile = ouis[int.from_bytes(c.mac[:3], "big")]
        assert c.hostname.split("-")[-1] in profile.devices
        assert c.vendor_class.decode() in profile.vendor_classes
        duid_type = int.from_bytes(c.duid[:2], "big")
        assert duid_type == profile.duid_type
        if duid_type in (DUID_LLT, DUID_LL):
            assert c.duid.endswith(c.mac)
    assert len({c.hostname for c in first}) > 100


def test_vendor_table_is_sane():
    ouis = [o for p in VENDOR_PROFILES for o in p.ouis]
    assert len(ouis) == len(set(ouis))
    # Vendor OUIs are universally administered unicast (bits 0 and 1 of octet 1 clear).
    assert all((o >> 16) & 0x03 == 0 for o in ouis)


@pytest.mark.parametrize("text", ["00:0c:01:02:03:04", "00::0c::01::02::03::04",
                                  "00-0C-01-02-03-04", "000c01020304"])
def test_parse_mac(text):
    assert parse_mac(text) == bytes.fromhex("000c01020304")


@pytest.mark.parametrize("text", ["00:0c:01:02:03", "00:0c:01:02:03:04:05", "zz:0c:01:02:03:04"])
def test_parse_mac_rejects(text):
    with pytest.raises(ValueError):
        parse_mac(text)


def test_parse_duid():
    assert parse_duid("00:01:00:01:02:03") == bytes.fromhex("000100010203")
    for bad in ("0001000102", "000", "00" * 65):
        with pytest.raises(ValueError):
            parse_duid(bad)
