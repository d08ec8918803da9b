"""The validated model: defaults, inheritance, ids, pools, reservations, options."""
import json

import pytest

from kea_tools.config import ConfigError, build, load_file
from kea_tools.config.model import Triplet
from kea_tools.errors import SourceError


def load(tmp_path, obj_or_text):
    path = tmp_path / "kea.json"
    path.write_text(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text,
                                                                                indent=1))
    return load_file(str(path))


def v4(**section):
    return {"Dhcp4": section}


def error_of(tmp_path, cfg):
    with pytest.raises(SourceError) as err:
        load(tmp_path, cfg)
    return err.value


def test_defaults_of_kea_2_2(tmp_path):
    r = load(tmp_path, v4(subnet4=[{"subnet": "192.0.2.0/24"}]))
    cfg, p = r.config, r.config.subnets[0].params
    assert r.family == 4
    assert p.valid_lifetime == Triplet(7200, 7200, 7200)
    assert (p.renew_timer, p.rebind_timer, p.calculate_tee_times) == (None, None, False)
    assert (p.t1_percent, p.t2_percent) == (0.5, 0.875)
    assert (p.match_client_id, p.authoritative, p.next_server) == (True, False, "0.0.0.0")
    assert (p.reservations_global, p.reservations_in_subnet, p.reservations_out_of_pool) == (
        False, True, False)
    assert cfg.decline_probation_period == 86400
    assert cfg.host_reservation_identifiers == ("hw-address", "duid", "circuit-id", "client-id")
    assert cfg.lease_database.type == "memfile" and cfg.lease_database.persist is True
    assert cfg.expired_leases_processing.hold_reclaimed_time == 3600
    assert cfg.echo_client_id is True and cfg.control_socket is None
    r6 = load(tmp_path, {"Dhcp6": {"subnet6": [{"subnet": "2001:db8::/64"}]}})
    p6 = r6.config.subnets[0].params
    assert r6.family == 6
    assert p6.preferred_lifetime == Triplet(3600, 3600, 3600)
    assert (p6.calculate_tee_times, p6.t1_percent, p6.t2_percent, p6.rapid_commit) == (
        True, 0.5, 0.8, False)
    assert r6.config.host_reservation_identifiers == ("hw-address", "duid")


def test_inheritance_global_shared_network_subnet(tmp_path):
    r = load(tmp_path, v4(
        **{"valid-lifetime": 1000, "renew-timer": 100, "next-server": "10.0.0.9",
           "shared-networks": [{"name": "net", "valid-lifetime": 2000, "rebind-timer": 900,
                                "relay": {"ip-addresses": ["10.9.9.9"]},
                                "subnet4": [{"subnet": "10.1.0.0/24", "renew-timer": 300},
                                            {"subnet": "10.2.0.0/24",
                                             "relay": {"ip-address": "10.8.8.8"}}]}],
           "subnet4": [{"subnet": "10.3.0.0/24", "max-valid-lifetime": 5000}]}))
    s1, s2, s3 = r.config.subnets
    assert s1.params.valid_lifetime == Triplet(2000, 2000, 2000)
    assert (s1.params.renew_timer, s1.params.rebind_timer) == (300, 900)
    assert s1.params.relay_addresses == ("10.9.9.9",)
    assert s2.params.renew_timer == 100 and s2.params.relay_addresses == ("10.8.8.8",)
    assert s1.shared_network is s2.shared_network and s1.shared_network.name == "net"
    # Per-key inheritance, as Kea 2.2 derives global values into subnets.
    assert s3.params.valid_lifetime == Triplet(1000, 1000, 5000)
    assert s3.params.next_server == "10.0.0.9" and s3.shared_network is None


def test_auto_subnet_ids_as_kea_2_2(tmp_path):
    r = load(tmp_path, v4(**{
        "subnet4": [{"subnet": "10.0.0.0/24"}, {"id": 7, "subnet": "10.0.1.0/24"},
                    {"subnet": "10.0.2.0/24"}],
        "shared-networks": [{"name": "n", "subnet4": [{"subnet": "10.1.0.0/24"}]}]}))
    ids = {s.prefix: s.id for s in r.config.subnets}
    # Shared-network subnets are numbered first, explicit ids do not move the counter.
    assert ids == {"10.1.0.0/24": 1, "10.0.0.0/24": 2, "10.0.1.0/24": 7, "10.0.2.0/24": 3}
    assert [s.id for s in r.config.subnets] == [1, 2, 3, 7]
    assert r.config.subnet_by_id[7].prefix == "10.0.1.0/24"


def test_auto_id_clashing_with_explicit_id(tmp_path):
    err = error_of(tmp_path, '{"Dhcp4": {"subnet4": [{"subnet": "10.0.0.0/24"},\n'
                             '  {"id": 1, "subnet": "10.0.1.0/24"}]}}')
    assert (err.line, err.col) == (2, 10)
    assert "ID of the new IPv4 subnet '1' is already in use" in err.message


def test_pools_in_both_forms(tmp_path):
    r = load(tmp_path, v4(subnet4=[{"subnet": "10.0.0.0/24", "pools": [
        {"pool": " 10.0.0.10 -  10.0.0.20 ", "client-class": "x"}, {"pool": "10.0.0.128/25"}]}]))
    a, b = r.config.subnets[0].pools
    assert (a.start, a.end, a.size, a.client_class) == (0x0A00000A, 0x0A000014, 11, "x")
    assert (b.start, b.end) == (0x0A000080, 0x0A0000FF)
    assert 0x0A000080 in b and 0x0A000014 not in b
    assert 0x0A0000FF in r.config.subnets[0]


def test_pd_pools_and_v6_reservations(tmp_path):
    r = load(tmp_path, {"Dhcp6": {"subnet6": [{
        "subnet": "2001:db8:1::/64",
        "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
        "pd-pools": [{"prefix": "3000:1::", "prefix-len": 48, "delegated-len": 64,
                      "excluded-prefix": "3000:1::", "excluded-prefix-len": 72}],
        "reservations": [{"duid": "01:02:03:04", "ip-addresses": ["2001:db8:1::5"],
                          "prefixes": ["3000:2::/56"], "hostname": "h"}]}]}})
    s = r.config.subnets[0]
    assert s.pools[0].size == 256
    pd = s.pd_pools[0]
    assert (pd.prefix_len, pd.delegated_len, pd.excluded_prefix_len, pd.size) == (48, 64, 72, 65536)
    res = s.reservations[0]
    assert res.identifier == b"\x01\x02\x03\x04" and res.subnet_id == s.id
    assert res.ip_addresses == ("2001:db8:1::5",) and res.prefixes == (("3000:2::", 56),)


@pytest.mark.parametrize("text, expected", [
    ("aa:bb:cc:dd:ee:ff", bytes.fromhex("aabbccddeeff")),
    ("a:b:c:d:e:f", bytes.fromhex("0a0b0c0d0e0f")),
    ("aa bb cc dd ee ff", bytes.fromhex("aabbccddeeff")),
    ("0xaabbccddeeff", bytes.fromhex("aabbccddeeff")),
    ("abbccddeeff", bytes.fromhex("0abbccddeeff")),
])
def test_host_identifier_forms(tmp_path, text, expected):
    r = load(tmp_path, v4(reservations=[{"hw-address": text, "hostname": "h"}]))
    assert r.config.reservations[0].identifier == expected
    assert r.config.reservations[0].subnet_id == 0


def test_quoted_text_identifier(tmp_path):
    r = load(tmp_path, v4(reservations=[{"flex-id": "'rack-7'", "hostname": "h"}]))
    assert r.config.reservations[0].identifier == b"rack-7"


def test_reservation_modes_and_the_deprecated_spelling(tmp_path):
    r = load(tmp_path, v4(**{"reservation-mode": "out-of-pool", "subnet4": [
        {"subnet": "10.0.0.0/24"},
        {"subnet": "10.0.1.0/24", "reservations-global": True, "reservations-in-subnet": False}]}))
    a, b = r.config.subnets
    assert (a.params.reservations_in_subnet, a.params.reservations_out_of_pool) == (True, True)
    assert (b.params.reservations_global, b.params.reservations_in_subnet,
            b.params.reservations_out_of_pool) == (True, False, True)
    assert any("reservation-mode: deprecated" in w for w in r.warnings)


def test_option_data_is_encoded(tmp_path):
    r = load(tmp_path, v4(**{
        "option-def": [{"name": "my-opt", "code": 222, "type": "record",
                        "record-types": "uint8, uint16"}],
        "option-data": [{"name": "routers", "data": "10.0.0.1, 10.0.0.2"},
                        {"code": 222, "data": "1, 0x0203", "always-send": True},
                        {"code": 250, "data": "0a:0b", "csv-format": False}]}))
    routers, mine, raw = r.config.option_data
    assert (routers.code, routers.payload) == (3, bytes([10, 0, 0, 1, 10, 0, 0, 2]))
    assert (mine.name, mine.payload, mine.always_send) == ("my-opt", b"\x01\x02\x03", True)
    assert (raw.code, raw.payload, raw.name) == (250, b"\x0a\x0b", None)


def test_client_classes(tmp_path):
    r = load(tmp_path, v4(**{"client-classes": [
        {"name": "a", "test": "substring(option[60].hex, 0, 4) == 'MSFT'",
         "next-server": "10.0.0.1", "valid-lifetime": 300,
         "option-def": [{"name": "site", "code": 224, "type": "string"}],
         "option-data": [{"name": "site", "data": "x"}]},
        {"name": "b", "test": "member('a') and not member('KNOWN')", "only-if-required": True}]}))
    a, b = r.config.client_classes
    assert a.valid_lifetime == Triplet(300, 300, 300) and a.next_server == "10.0.0.1"
    assert a.option_data[0].payload == b"x" and b.only_if_required


@pytest.mark.parametrize("section, line_col, words", [
    ('"subnet4": [{"subnet": "10.0.0.0/24",\n "bogus": 1}]', (2, 2),
     'got unexpected keyword "bogus" in subnet4 map (Dhcp4.subnet4[0].bogus)'),
    ('"hosts-database": {"type": "postgresql"}', (1, 12), "unsupported: hosts-database"),
    ('"dhcp-ddns": {"ncr-protocol": "TCP"}', (1, 26), "unsupported: ncr-protocol"),
    ('"lease-database": {"type": "mysql", "name": "kea"}', (1, 31), "unsupported: type"),
    ('"valid-lifetime": "100"', (1, 30), "unexpected string, expecting integer"),
    ('"t1-percent": 1', (1, 26), "unexpected integer, expecting floating point"),
    ('"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.1.1 - 10.0.1.9"}]}]',
     (1, 69), "does not match the prefix of a subnet"),
    ('"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.1 - 10.0.0.9"},\n'
     ' {"pool": "10.0.0.5/32"}]}]', (2, 11), "overlaps with an existing pool"),
    ('"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [\n'
     '{"hw-address": "01:02:03:04:05:06", "ip-address": "10.0.0.5"},\n'
     '{"client-id": "01:02", "ip-address": "10.0.0.5"}]}]', (3, 38),
     "There's already a reservation for this address"),
    ('"option-data": [{"name": "routers", "data": "10.0.0"}]', (1, 56),
     "option data does not match option definition (space: dhcp4, code: 3)"),
    ('"option-data": [{"name": "no-such"}]', (1, 28), "definition for the option 'dhcp4.no-such'"),
    ('"option-def": [{"name": "x", "code": 3, "type": "string"}]', (1, 49),
     "unable to override definition of option '3'"),
    ('"min-valid-lifetime": 100, "max-valid-lifetime": 200', (1, 34),
     "the value of (default) valid-lifetime (7200) is not between"),
    ('"client-classes": [{"name": "c", "test": "member(\'nope\')"}]', (1, 53),
     "expression: [member('nope')] error"),
])
def test_errors_name_file_line_col_and_path(tmp_path, section, line_col, words):
    err = error_of(tmp_path, '{"Dhcp4": {' + section + '}}')
    assert err.file == str(tmp_path / "kea.json")
    assert (err.line, err.col) == line_col, err
    assert words in err.message


def test_other_daemons_are_ignored_with_a_warning(tmp_path):
    r = load(tmp_path, {"Control-agent": {}, "Dhcp6": {}, "Dhcp4": {}, "Logging": {}})
    assert r.family == 6
    assert sum("ignored" in w for w in r.warnings) == 3
    err = error_of(tmp_path, '{"DhcpDdns": {}}')
    assert "no Dhcp4 or Dhcp6 object" in err.message


def test_build_for_control_commands_raises_config_error_with_path():
    cfg = build({"subnet4": [{"subnet": "10.0.0.0/24"}]}, 4)
    assert cfg.subnets[0].id == 1
    with pytest.raises(ConfigError) as err:
        build({"subnet4": [{"subnet": "10.0.0.0/40"}]}, 4)
    assert err.value.path == ("Dhcp4", "subnet4", 0, "subnet")
    assert str(err.value).startswith("Dhcp4.subnet4[0].subnet: Invalid prefix length")


def test_raw_config_is_kept(tmp_path):
    r = load(tmp_path, v4(**{"valid-lifetime": 10}))
    assert r.config.raw == {"Dhcp4": {"valid-lifetime": 10}}


def test_deprecated_dhcp_ddns_name_keys_move_to_globals_unless_set(tmp_path):
    """Kea 2.2 still reads qualifying-suffix & co. inside dhcp-ddns and moves them to
    the global ddns-* keys, unless those are set (SrvConfig::moveDdnsParams)."""
    r = load(tmp_path, v4(**{
        "dhcp-ddns": {"qualifying-suffix": "example.org", "replace-client-name": "always",
                      "hostname-char-set": "[^a-z]"},
        "ddns-replace-client-name": "never",
        "subnet4": [{"subnet": "192.0.2.0/24"}]}))
    ddns = r.config.subnets[0].params.ddns
    assert ddns["ddns-qualifying-suffix"] == "example.org"
    assert ddns["ddns-replace-client-name"] == "never"
    assert ddns["hostname-char-set"] == "[^a-z]"
