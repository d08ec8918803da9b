"""dhcpd.leases / dhcpd6.leases import (dhcpd.leases(5)) into Kea lease back ends."""
import calendar
import subprocess
import sys

import pytest

from kea_tools.leases import open_backend
from kea_tools.migrate.leases_import import (_parse_blocks, _finish, decode_id, import_isc_leases,
                                             parse_leases)
from tests.conftest import ROOT

NOW = 1795700000  # 2026-11-26, between the starts and ends below

LEASES4 = r"""# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1

# authoring-byte-order entry is generated, DO NOT DELETE
authoring-byte-order little-endian;

lease 10.0.0.10 {
  starts 4 2026/11/26 10:00:00;
  ends 6 2026/11/28 10:00:00;
  cltt 4 2026/11/26 10:00:00;
  binding state active;
  next binding state free;
  rewind binding state free;
  hardware ethernet 00:11:22:33:44:55;
  uid "\001\000\021\"3DU";
  set ddns-fwd-name = "host1.example.com";
  set ddns-rev-name = "10.0.0.10.in-addr.arpa.";
  client-hostname "host1";
}
lease 10.0.0.11 {
  starts epoch 1795600000; # Tue Nov 24 22:13:20 2026
  ends never;
  binding state active;
  hardware ethernet 0:a:b:c:d:e;
  uid 01:00:0a:0b:0c:0d:0e;
}
lease 10.0.0.12 {
  starts 1 2020/01/01 00:00:00;
  ends 1 2020/01/02 00:00:00;
  binding state free;
  hardware ethernet 00:00:00:00:00:12;
}
lease 10.0.0.13 {
  starts 4 2026/11/26 00:00:00;
  ends 6 2026/11/28 00:00:00;
  binding state abandoned;
  hardware ethernet 00:00:00:00:00:13;
}
lease 10.0.0.10 {
  starts 4 2026/11/26 11:00:00;
  ends 6 2026/11/28 11:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:66;
}
lease 192.168.99.1 {
  starts 4 2026/11/26 11:00:00;
  ends 6 2026/11/28 11:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:77;
}
host gone {
  dynamic;
  deleted;
}
"""

LEASES6 = r"""authoring-byte-order little-endian;
server-duid "\000\001\000\001)\017\253\315\000\014)\372\216\312";

ia-na "\001\000\000\000\000\001\000\001\036\263\246\204\010\000'\217\032+" {
  cltt 4 2026/11/26 10:00:00;
  iaaddr 2001:db8:1::100 {
    binding state active;
    preferred-life 3000;
    max-life 4000;
    ends 6 2026/11/28 10:00:00;
    set ddns-fwd-name = "h6.example.com";
  }
}
ia-pd 0a:00:00:00:00:03:00:01:00:0c:29:fa:8e:ca {
  cltt 4 2026/11/26 10:00:00;
  iaprefix 2001:db8:8::/56 {
    binding state active;
    preferred-life 3000;
    max-life 4000;
    ends never;
  }
}
ia-na "\002\000\000\000\000\001\000\001\036\263\246\204\010\000'\217\032+" {
  cltt 4 2026/11/26 10:00:00;
  iaaddr 2001:db8:1::100 {
    binding state released;
    preferred-life 3000;
    max-life 4000;
    ends 6 2026/11/28 10:00:00;
  }
}
"""

CONFIG4 = {"Dhcp4": {"subnet4": [{"id": 7, "subnet": "10.0.0.0/24"}]}}
CONFIG6 = {"Dhcp6": {"subnet6": [{"id": 3, "subnet": "2001:db8:1::/64"},
                                  {"id": 4, "subnet": "2001:db8:8::/48"}]}}


@pytest.fixture
def lease_file(tmp_path):
    def make(text, name="dhcpd.leases"):
        path = tmp_path / name
        path.write_text(text)
        return path
    return make


def test_identifier_encodings():
    assert decode_id(r'"\001\274\365\254\376\321}"') == bytes.fromhex("01bcf5acfed17d")
    assert decode_id(r'"\001lq\331!Uq"') == bytes.fromhex("016c71d9215571")
    assert decode_id("1:0:a:ff") == bytes([1, 0, 10, 255])


def test_journal_later_block_replaces_the_whole_lease():
    _fam, leases, info = parse_leases(LEASES4)
    lease = _finish(_as_lease(leases["10.0.0.10"]))
    assert lease.hwaddr == bytes.fromhex("001122334466")
    assert lease.uid is None and lease.hostname == "" and not lease.fwd
    assert info["deleted_hosts"] == ["gone"]


def _as_lease(value):
    from kea_tools.migrate.leases_import import _from_fast
    return _from_fast(value) if isinstance(value, tuple) else value


def test_fast_and_careful_readers_agree():
    for text in (LEASES4, LEASES6, LEASES4.replace("\n  ", " ")):
        fast = parse_leases(text)
        careful = _parse_blocks(text)
        a = {k: _finish(_as_lease(v)) for k, v in fast[1].items()}
        b = {k: _finish(_as_lease(v)) for k, v in careful[1].items()}
        assert a == b


def test_import_v4_into_memfile(lease_file, tmp_path):
    csv = tmp_path / "kea-leases4.csv"
    backend = open_backend(f"memfile:{csv}", 4, append_only=True)
    summary = import_isc_leases(lease_file(LEASES4), backend, config=CONFIG4, now=NOW)
    backend.close()
    assert summary.imported == 3 and summary.skipped_history == 1
    assert summary.outside == ["192.168.99.1"]
    stored = {lease.address: lease for lease in open_backend(f"memfile:{csv}", 4).iter_leases()}
    assert set(stored) == {"10.0.0.10", "10.0.0.11", "10.0.0.13"}
    a = stored["10.0.0.10"]
    ends = calendar.timegm((2026, 11, 28, 11, 0, 0))
    assert (a.subnet_id, a.valid_lft, a.expire) == (7, 2 * 86400, ends)
    assert stored["10.0.0.11"].valid_lft == 0xFFFFFFFF
    assert stored["10.0.0.11"].client_id == bytes.fromhex("01000a0b0c0d0e")
    declined = stored["10.0.0.13"]
    assert declined.state == 1 and declined.hwaddr is None


def test_first_block_fields(lease_file, tmp_path):
    text = LEASES4.split("lease 10.0.0.11")[0]
    backend = open_backend("memfile:", 4)
    import_isc_leases(lease_file(text), backend, config=CONFIG4, now=NOW)
    lease = backend.get("10.0.0.10")
    assert lease.client_id == b'\x01\x00\x11"3DU'
    assert (lease.hostname, lease.fqdn_fwd, lease.fqdn_rev) == ("host1", True, True)


def test_all_states_and_dry_run(lease_file):
    path = lease_file(LEASES4)
    summary = import_isc_leases(path, None, config=CONFIG4, all_states=True, dry_run=True, now=NOW)
    assert summary.imported == 4 and summary.dry_run
    assert ("would import", 4) in summary.rows()


def test_inferred_subnets_without_config(lease_file):
    summary = import_isc_leases(lease_file(LEASES4), None, dry_run=True, now=NOW)
    assert summary.inferred_subnets and summary.per_subnet == {1: 3, 2: 1}


def test_import_v6(lease_file):
    backend = open_backend("memfile:", 6)
    summary = import_isc_leases(lease_file(LEASES6, "dhcpd6.leases"), backend, config=CONFIG6, now=NOW)
    assert summary.family == 6 and summary.imported == 2
    na = backend.get("2001:db8:1::100")
    assert (na.iaid, na.type, na.preferred_lft, na.valid_lft, na.subnet_id) == (1, 0, 3000, 4000, 3)
    assert na.duid == bytes.fromhex("000100011eb3a68408 00278f1a2b".replace(" ", ""))
    assert na.hostname == "h6.example.com"
    pd = backend.get("2001:db8:8::")
    assert (pd.type, pd.prefix_len, pd.iaid, pd.subnet_id) == (2, 56, 10, 4)


def test_sqlite_backend(lease_file, tmp_path):
    url = f"sqlite:///{tmp_path}/leases.db"
    backend = open_backend(url, 4)
    import_isc_leases(lease_file(LEASES4), backend, config=CONFIG4, now=NOW)
    backend.close()
    assert len(list(open_backend(url, 4).iter_leases())) == 3


def test_corrupt_statement_is_reported_not_fatal(lease_file):
    text = LEASES4.replace("host gone {", "garbage here;\nhost gone {")
    summary = import_isc_leases(lease_file(text), None, config=CONFIG4, dry_run=True, now=NOW)
    line = text.splitlines().index("garbage here;") + 1
    assert summary.imported == 3 and summary.corrupt == [(line, "garbage here;")]


def test_cli_import_and_summary(lease_file, tmp_path):
    csv = tmp_path / "out.csv"
    kea = tmp_path / "kea.json"
    kea.write_text('{ "Dhcp4": { // migrated\n "subnet4": [ { "id": 7, "subnet": "10.0.0.0/24" } ] } }\n')
    proc = subprocess.run([sys.executable, "-m", "kea_tools", "migrate", "leases", lease_file(LEASES4),
                           "-c", kea, "-o", csv], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "imported" in proc.stdout and "192.168.99.1: outside every subnet" in proc.stderr
    assert csv.read_text().startswith("address,hwaddr,client_id,valid_lifetime,expire,subnet_id")


