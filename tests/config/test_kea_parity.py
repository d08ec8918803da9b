"""Parity with Kea: what ``kea-dhcp4 -t`` / ``kea-dhcp6 -t`` reject, keactl rejects.

Each case is the body of a Dhcp4/Dhcp6 map.  The test runs Kea itself on it (so
the expectation is checked against the real thing, not remembered) and then
keactl's loader.  Interface names and hook library paths are avoided: Kea checks
those against the running system.
"""
import subprocess

import pytest

from kea_tools.config import load_file
from kea_tools.errors import SourceError
from tests.conftest import require_program

REJECTED = [
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.10 - 10.0.0.20"},{"pool": "10.0.0.15 - 10.0.0.30"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.30 - 10.0.0.20"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24"},{"subnet": "10.0.0.0/24"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/33"}]'),
    (4, '"subnet4": [{"id": 1, "subnet": "10.0.0.0/24"},{"id": 1, "subnet": "10.0.1.0/24"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24"},{"id": 1, "subnet": "10.0.1.0/24"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.1.1"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.1"},{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.2"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.1"},{"hw-address": "aa:bb:cc:dd:ee:fe", "ip-address": "10.0.0.1"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "duid": "01:02:03", "ip-address": "10.0.0.1"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"ip-address": "10.0.0.1"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "zz:bb", "ip-address": "10.0.0.1"}]}]'),
    (4, '"valid-lifetime": 100, "min-valid-lifetime": 200'),
    (4, '"min-valid-lifetime": 100, "max-valid-lifetime": 200'),
    (4, '"option-data": [{"name": "no-such-option", "data": "1"}]'),
    (4, '"option-data": [{"name": "routers", "data": "1.2.3"}]'),
    (4, '"option-data": [{"code": 250, "data": "01"}]'),
    (4, '"option-def": [{"name": "routers", "code": 3, "type": "string"}]'),
    (4, '"option-def": [{"name": "foo", "code": 222, "type": "string"},{"name": "foo", "code": 223, "type": "string"}]'),
    (4, '"option-def": [{"name": "foo", "code": 222, "type": "strung"}]'),
    (4, '"shared-networks": [{"name": "a"},{"name": "a"}]'),
    (4, '"shared-networks": [{"name": ""}]'),
    (4, '"client-classes": [{"name": "a"},{"name": "a"}]'),
    (4, '"client-classes": [{"name": "a", "test": "pkt4.mac =="}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "id": 4294967295}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "relay": {"ip-address": "10.0.0.1", "ip-addresses": ["10.0.0.2"]}}]'),
    (4, '"reservation-mode": "all", "reservations-global": true'),
    (4, '"reservation-mode": "bogus"'),
    (4, '"valid-lifetime": 1.5'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "t1-percent": 1.5, "calculate-tee-times": true}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "t1-percent": 0.9, "t2-percent": 0.5, "calculate-tee-times": true}]'),
    (4, '"t1-percent": 0.9, "t2-percent": 0.5, "calculate-tee-times": true, "subnet4": [{"subnet": "10.0.0.0/24"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "renew-timer": 100, "rebind-timer": 50}]'),
    (4, '"renew-timer": 100, "rebind-timer": 50, "subnet4": [{"subnet": "10.0.0.0/24"}]'),
    (4, '"renew-timer": 100, "subnet4": [{"subnet": "10.0.0.0/24", "rebind-timer": 50}]'),
    (4, '"shared-networks": [{"name": "a", "renew-timer": 100, "rebind-timer": 50}]'),
    (4, '"min-valid-lifetime": 100, "max-valid-lifetime": 200, "subnet4": [{"subnet": "10.0.0.0/24", "valid-lifetime": 150}]'),
    (4, '"valid-lifetime": 300, "subnet4": [{"subnet": "10.0.0.0/24", "max-valid-lifetime": 150}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "id": -1}]'),
    (4, '"reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.1"},{"hw-address": "aa:bb:cc:dd:ee:fe", "ip-address": "10.0.0.1"}]'),
    (4, '"reservations": [{"hw-address": "aabbccddeeff"},{"client-id": "\'text\'"}, {"hw-address": "a:b:c:d:e:f"}, {"hw-address": "aa bb cc dd ee 01"}, {"hw-address": "0xaabbccddee02"}]'),
    (4, '"reservations": [{"hw-address": "aa-bb-cc-dd-ee-fe"}]'),
    (4, '"option-data": [{"name": "routers", "code": 4, "data": "1.2.3.4"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.10-10.0.0.20"}, {"pool": "10.0.0.21"}]}]'),
    (4, '"lease-database": {"type": "bogus"}'),
    (4, '"lease-database": {"type": "memfile", "foo": 1}'),
    (4, '"host-reservation-identifiers": ["hw-address", "bogus"]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.0/33"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "relay": {"ip-addresses": ["bogus"]}}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "next-server": "bogus"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "bogus"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "next-server": "bogus"}]}]'),
    (4, '"subnet4": [{"subnet": "bogus/24"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0"}]'),
    (4, '"subnet4": [{"pools": []}]'),
    (4, '"shared-networks": [{"name": "x", "subnet4": [{"subnet": "10.0.0.0/24"}]}], "subnet4": [{"id": 1, "subnet": "10.0.1.0/24"}]'),
    (4, '"subnet4": [{"id": 1, "subnet": "10.0.1.0/24"}], "shared-networks": [{"name": "x", "subnet4": [{"subnet": "10.0.0.0/24"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "bogus": 1}]'),
    (4, '"valid-lifetime": "100"'),
    (4, '"authoritative": 1'),
    (4, '"client-classes": [{"name": "a", "test": "member(\'b\')"}, {"name": "b"}]'),
    (4, '"option-def": [{"name": "foo", "code": 222, "type": "record", "record-types": "uint8"}]'),
    (4, '"option-def": [{"name": "foo", "code": 222, "type": "string", "array": true}]'),
    (4, '"option-def": [{"name": "foo", "code": 255, "type": "string"}]'),
    (4, '"option-data": [{"name": "domain-name-servers", "data": "10.0.0.1", "space": "dhcp6"}]'),
    (4, '"option-data": [{"data": "10.0.0.1"}]'),
    (4, '"expired-leases-processing": {"max-reclaim-time": 5, "foo": 1}'),
    (4, '"interfaces-config": {"interfaces": [], "dhcp-socket-type": "tcp"}'),
    (4, '"sanity-checks": {"lease-checks": "maybe"}'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "pd-pools": [{"prefix": "3000::", "prefix-len": 64, "delegated-len": 48}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "pd-pools": [{"prefix": "3000::", "prefix-len": 48, "delegated-len": 64, "excluded-prefix": "3001::", "excluded-prefix-len": 72}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "pd-pools": [{"prefix": "3000::", "prefix-len": 48, "delegated-len": 64},{"prefix": "3000::", "prefix-len": 56, "delegated-len": 64}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "reservations": [{"duid": "01:02:03:04", "ip-addresses": ["2001:db9::1"]}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "reservations": [{"duid": "01:02:03:04", "prefixes": ["3000::/200"]}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "reservations": [{"duid": "01:02:03:04", "ip-addresses": ["2001:db8::1"]}, {"duid": "01:02:03:05", "ip-addresses": ["2001:db8::1"]}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "interface-id": "foo", "interface": "lo"}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/129"}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.1"}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "reservations": [{"client-id": "01:02"}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "min-preferred-lifetime": 5000}]'),
    (6, '"option-data": [{"name": "dns-servers", "data": "2001:db8::1, bogus"}]'),
    (6, '"option-data": [{"name": "routers", "data": "10.0.0.1"}]'),
    (6, '"server-id": {"type": "XYZ"}'),
    (6, '"mac-sources": ["duid", "bogus"]'),
    (6, '"authoritative": true'),
    (6, '"reservations": [{"duid": "01:02:03:04", "prefixes": ["3000::/64"]}, {"duid": "01:02:03:05", "prefixes": ["3000::/64"]}]'),
]

ACCEPTED = [
    (4, '"subnet4": [{"subnet": "0.0.0.0/0", "pools": [{"pool": "10.0.0.1 - 10.0.0.9"}]}]'),
    (6, '"subnet6": [{"subnet": "::/0", "pools": [{"pool": "2001:db8::1 - 2001:db8::9"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24"},{"subnet": "10.0.0.0/16"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.5/24"}]'),
    (4, '"renew-timer": 100, "rebind-timer": 50'),
    (4, '"option-data": [{"code": 250, "data": "01", "csv-format": false}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.0/25"}, {"pool": "10.0.0.128/25"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "id": 0}]'),
    (4, '"t1-percent": 0.9, "t2-percent": 0.5'),
    (4, '"t1-percent": 1.5'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "t1-percent": 0.9, "t2-percent": 0.5}]'),
    (4, '"shared-networks": [{"name": "a", "t1-percent": 1.5}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.0.0.0"}]}]'),
    (4, '"option-data": [{"name": "domain-name", "data": "a,b"}, {"name": "routers", "data": "1.2.3.4"}, {"name": "routers", "data": "1.2.3.5"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.10-10.0.0.10"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.5/30"}]}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "pools": [{"pool": " 10.0.0.5 -  10.0.0.7 "}]}]'),
    (4, '"client-classes": [{"name": "b"}, {"name": "a", "test": "member(\'b\') and member(\'KNOWN\')"}]'),
    (4, '"subnet4": [{"subnet": "10.0.0.0/24", "client-class": "foo", "require-client-classes": ["bar"]}]'),
    (4, '"multi-threading": {"enable-multi-threading": true, "thread-pool-size": 4}'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "pools": [{"pool": "2001:db8::/64"}], "pd-pools": [{"prefix": "3000::", "prefix-len": 48, "delegated-len": 64}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "pd-pools": [{"prefix": "3000::", "prefix-len": 48, "delegated-len": 64, "excluded-prefix": "3000::", "excluded-prefix-len": 72}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "reservations": [{"duid": "01", "ip-addresses": ["2001:db8::1"]}]}]'),
    (6, '"preferred-lifetime": 9000'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "pools": [{"pool": "2001:db8::1 - 2001:db8::ff"}]}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "rapid-commit": true, "interface-id": "eth0-relay"}]'),
    (6, '"subnet6": [{"subnet": "2001:db8::/64", "preferred-lifetime": 5000, "valid-lifetime": 4000}]'),
]


def write(tmp_path, family, body):
    path = tmp_path / "case.json"
    path.write_text('{"Dhcp%d": {%s}}' % (family, body))
    return path


def kea_accepts(family, path):
    require_program(f"kea-dhcp{family}")
    done = subprocess.run([f"kea-dhcp{family}", "-t", str(path)], capture_output=True,
                          timeout=30)
    return done.returncode == 0


@pytest.mark.parametrize("family, body", REJECTED)
def test_kea_rejects_and_so_does_keactl(tmp_path, family, body):
    path = write(tmp_path, family, body)
    assert not kea_accepts(family, path), "Kea accepts this case: move it to ACCEPTED"
    with pytest.raises(SourceError) as err:
        load_file(str(path))
    assert err.value.line == 1 and err.value.col >= 1


# What keactl accepts on purpose although Kea 2.2 does not: newer Kea keys the
# server needs and keactl's own extensions (documented in keactl-serve(8)).
KEACTL_EXTENSIONS = [
    (4, '"option-data": [{"name": "routers", "data": "10.0.0.1", "never-send": true}]'),
    (6, '"option-data": [{"name": "dns-servers", "never-send": true}]'),
    (4, '"lease-database": {"type": "sqlite", "name": "leases4.db"}'),
]


@pytest.mark.parametrize("family, body", KEACTL_EXTENSIONS)
def test_keactl_extensions_kea_2_2_lacks(tmp_path, family, body):
    path = write(tmp_path, family, body)
    assert not kea_accepts(family, path), "Kea 2.2 accepts this: not an extension"
    load_file(str(path))


@pytest.mark.parametrize("family, body", ACCEPTED)
def test_kea_accepts_and_so_does_keactl(tmp_path, family, body):
    path = write(tmp_path, family, body)
    assert kea_accepts(family, path), "Kea rejects this case: move it to REJECTED"
    load_file(str(path))
