"""Server DUID: Kea's ARM examples, reuse of the stored DUID, persistence."""
import pytest

from kea_tools.errors import UserError
from kea_tools.server.duid import (DUID_EPOCH, SERVERID_FILE, DuidSpec, make_duid, server_duid,
                                   text_to_duid)

MAC = (1, bytes.fromhex("0a0b0c0d0e0f"))


def hw():
    return MAC


def test_arm_examples():
    llt = make_duid(DuidSpec.from_config({"type": "LLT", "htype": 8, "identifier": "A65DC7410F05",
                                          "time": 2518920166}))
    assert llt.hex(":") == "00:01:00:08:96:23:ab:e6:a6:5d:c7:41:0f:05"
    en = make_duid(DuidSpec.from_config({"type": "EN", "enterprise-id": 2495,
                                         "identifier": "87ABEF7A5BB545"}))
    assert en.hex(":") == "00:02:00:00:09:bf:87:ab:ef:7a:5b:b5:45"
    ll = make_duid(DuidSpec.from_config({"type": "LL", "htype": 8, "identifier": "A65DC7410F05"}))
    assert ll.hex(":") == "00:03:00:08:a6:5d:c7:41:0f:05"


def test_generated_llt_uses_interface_mac_and_duid_epoch():
    duid = make_duid(DuidSpec(), clock=lambda: DUID_EPOCH + 1000, hwaddr=hw)
    assert duid == bytes.fromhex("00010001000003e8") + MAC[1]


def test_generated_en_uses_isc_and_six_random_bytes():
    duid = make_duid(DuidSpec.from_config({"type": "EN"}))
    assert duid[:6] == bytes.fromhex("0002000009bf") and len(duid) == 12


def test_missing_parts_come_from_stored_duid_of_same_type():
    stored = bytes.fromhex("000100080000000a") + bytes.fromhex("112233445566")
    duid = make_duid(DuidSpec.from_config({"type": "LLT", "time": 99}), stored, hwaddr=hw)
    assert duid == bytes.fromhex("0001000800000063112233445566")
    stored_en = bytes.fromhex("000200000001aabbcc")
    assert make_duid(DuidSpec.from_config({"type": "EN"}), stored_en) == stored_en


def test_persisted_and_reused(tmp_path):
    first = server_duid(None, tmp_path, clock=lambda: DUID_EPOCH + 5, hwaddr=hw)
    text = (tmp_path / SERVERID_FILE).read_text()
    assert text_to_duid(text) == first and text.strip() == first.hex(":")
    again = server_duid(None, tmp_path, clock=lambda: DUID_EPOCH + 999, hwaddr=hw)
    assert again == first
    en = server_duid({"type": "EN", "enterprise-id": 7, "identifier": "0102"}, tmp_path)
    assert text_to_duid((tmp_path / SERVERID_FILE).read_text()) == en


def test_not_persisted(tmp_path):
    server_duid({"type": "LL", "persist": False}, tmp_path, hwaddr=hw)
    assert not (tmp_path / SERVERID_FILE).exists()


def test_bad_server_id():
    with pytest.raises(UserError):
        DuidSpec.from_config({"type": "UUID"})
    with pytest.raises(UserError):
        DuidSpec.from_config({"type": "EN", "identifier": "xyz"})
