"""One conformance suite, run against every back end (memfile, in-memory, sqlite, postgresql)."""
import pytest

from kea_tools.leases import DuplicateLeaseError, Lease4, Lease6, LeaseError, LeaseNotFoundError
from kea_tools.leases.model import STATE_DECLINED, STATE_EXPIRED_RECLAIMED, TYPE_NA, TYPE_PD

NOW = 1_700_000_000
MAC = bytes.fromhex("0a0b0c0d0e0f")


def v4(n, subnet=1, **kw):
    fields = dict(hwaddr=bytes([0, 1, 2, 3, 4, n % 256]), client_id=bytes([1, n % 256]),
                  valid_lft=3600, cltt=NOW, subnet_id=subnet)
    fields.update(kw)
    return Lease4(f"192.0.2.{n}", **fields)


def v6(n, subnet=1, **kw):
    fields = dict(duid=bytes([0, 1, 0, 1, n % 256]), iaid=n, preferred_lft=1800,
                  valid_lft=3600, cltt=NOW, subnet_id=subnet)
    fields.update(kw)
    return Lease6(f"2001:db8::{n:x}", **fields)


def test_v4_round_trip_keeps_every_field(open_db):
    db = open_db(4)
    lease = Lease4("192.0.2.10", MAC, b"\x01\xaa\xbb", 7200, NOW, 7, 0, True, False,
                   "weird,name&x.example.", 0, {"a": "x,y\"q", "b": [1, 2], "u": "é"})
    db.add(lease)
    got = db.get("192.0.2.10")
    assert got == lease
    assert got.expire == NOW + 7200


def test_v6_round_trip_address_and_prefix(open_db):
    db = open_db(6)
    na = Lease6("2001:db8:1::150", b"\x00\x01\x02\x03", 7, TYPE_NA, 128, 3000, 7200, NOW, 1,
                0, False, True, "h6", MAC, 1, 4, 0, {"k": 1})
    pd = Lease6("2001:db8:8:1::", b"\x00\x01\x02\x03", 8, TYPE_PD, 64, 3000, 7200, NOW, 1)
    db.add(na)
    db.add(pd)
    assert db.get("2001:db8:1::150") == na
    assert db.get("2001:0db8:0008:0001::") == pd
    assert len(db) == 2


def test_duplicate_add_is_refused_and_changes_nothing(open_db):
    db = open_db(4)
    db.add(v4(1))
    with pytest.raises(DuplicateLeaseError):
        db.add(v4(1, hostname="other"))
    assert db.get("192.0.2.1").hostname == ""
    assert len(db) == 1


def test_update_replaces_and_reindexes(open_db):
    db = open_db(4)
    db.add(v4(1))
    with pytest.raises(LeaseNotFoundError):
        db.update(v4(2))
    db.update(v4(1, hwaddr=MAC, state=STATE_DECLINED, subnet_id=2))
    assert db.get("192.0.2.1").state == STATE_DECLINED
    assert db.get_by_hwaddr(bytes([0, 1, 2, 3, 4, 1])) == []
    assert [l.address for l in db.get_by_hwaddr(MAC)] == ["192.0.2.1"]
    assert db.get_by_hwaddr(MAC, subnet_id=1) == []
    assert db.get("192.0.2.2") is None


def test_delete(open_db):
    db = open_db(4)
    db.add(v4(1))
    assert db.delete("192.0.2.1") is True
    assert db.delete("192.0.2.1") is False
    assert db.get("192.0.2.1") is None
    assert db.get_by_client_id(bytes([1, 1])) == []


def test_lookups_by_identifier(open_db):
    db = open_db(4)
    db.add_many([v4(1, subnet=1, hwaddr=MAC), v4(2, subnet=2, hwaddr=MAC),
                 v4(3, subnet=2, hostname="Printer.example.")])
    assert sorted(l.address for l in db.get_by_hwaddr(MAC)) == ["192.0.2.1", "192.0.2.2"]
    assert [l.address for l in db.get_by_hwaddr(MAC, subnet_id=2)] == ["192.0.2.2"]
    assert [l.address for l in db.get_by_client_id(bytes([1, 3]))] == ["192.0.2.3"]
    assert [l.address for l in db.get_by_client_id(bytes([1, 3]), 1)] == []
    assert [l.address for l in db.get_by_hostname("printer.EXAMPLE.")] == ["192.0.2.3"]
    assert sorted(l.address for l in db.iter_leases(2)) == ["192.0.2.2", "192.0.2.3"]


def test_v6_lookup_by_duid_iaid_type(open_db):
    db = open_db(6)
    duid = b"\x00\x03\x00\x01" + MAC
    db.add(v6(1, duid=duid, iaid=5))
    db.add(v6(2, duid=duid, iaid=6))
    db.add(Lease6("2001:db8:100::", duid, 5, TYPE_PD, 56, 100, 200, NOW, 1))
    assert len(db.get_by_duid(duid)) == 3
    assert [l.address for l in db.get_by_duid(duid, 5, TYPE_NA)] == ["2001:db8::1"]
    assert [l.address for l in db.get_by_duid(duid, 5, TYPE_PD)] == ["2001:db8:100::"]
    assert db.get_by_duid(duid, 5, TYPE_NA, subnet_id=9) == []
    big = v6(3, iaid=0xFFFFFFFE)
    db.add(big)
    assert db.get_by_duid(big.duid, 0xFFFFFFFE)[0].iaid == 0xFFFFFFFE


def test_paging_in_address_order(open_db):
    db = open_db(4)
    db.add_many([v4(n, subnet=1 + n % 2) for n in (200, 3, 20, 100, 1, 2)])
    first = db.get_page(limit=4)
    assert [l.address for l in first] == ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.20"]
    rest = db.get_page(after=first[-1].address, limit=4)
    assert [l.address for l in rest] == ["192.0.2.100", "192.0.2.200"]
    # subnet_id = 1 + n % 2: the even host numbers are in subnet 1
    assert [l.address for l in db.get_page(limit=10, subnet_id=1)] == \
        ["192.0.2.2", "192.0.2.20", "192.0.2.100", "192.0.2.200"]


def test_v6_paging_is_numeric(open_db):
    db = open_db(6)
    for n in (0x10, 0x2, 0xA, 0x100):
        db.add(v6(n))
    assert [l.address for l in db.get_page(limit=10)] == \
        ["2001:db8::2", "2001:db8::a", "2001:db8::10", "2001:db8::100"]
    assert [l.address for l in db.get_page(after="2001:db8::a", limit=1)] == ["2001:db8::10"]


def test_expired_iteration(open_db):
    db = open_db(4)
    db.add(v4(1, cltt=NOW - 7200))                    # expired an hour ago
    db.add(v4(2, cltt=NOW - 5000))                    # expired later
    db.add(v4(3, cltt=NOW))                           # still valid
    db.add(v4(4, cltt=NOW - 9000, state=STATE_EXPIRED_RECLAIMED))
    db.add(v4(5, cltt=0, valid_lft=0xFFFFFFFF))       # infinite
    assert [l.address for l in db.iter_expired(NOW)] == ["192.0.2.1", "192.0.2.2"]
    assert [l.address for l in db.iter_expired(NOW, limit=1)] == ["192.0.2.1"]
    assert db.get("192.0.2.5").valid_lft == 0xFFFFFFFF


def test_counts_and_wipe(open_db):
    db = open_db(4)
    db.add_many([v4(1, 1), v4(2, 1), v4(3, 1, state=STATE_DECLINED, hwaddr=None,
                                          client_id=None), v4(4, 2)])
    assert db.counts() == {(1, 0, 0): 2, (1, 0, 1): 1, (2, 0, 0): 1}
    assert db.wipe(1) == 3
    assert db.counts() == {(2, 0, 0): 1}
    assert db.wipe() == 1
    assert len(db) == 0


def test_v6_counts_by_type(open_db):
    db = open_db(6)
    db.add(v6(1))
    db.add(Lease6("2001:db8:100::", b"\x00\x01", 1, TYPE_PD, 56, 100, 200, NOW, 1))
    assert db.counts() == {(1, TYPE_NA, 0): 1, (1, TYPE_PD, 0): 1}


def test_add_many_is_all_or_nothing(open_db):
    db = open_db(4)
    db.add(v4(5))
    with pytest.raises(DuplicateLeaseError):
        db.add_many([v4(1), v4(2), v4(5)])
    with pytest.raises(DuplicateLeaseError):
        db.add_many([v4(7), v4(7)])
    with pytest.raises(LeaseError):
        db.add_many([v4(8), v4(9, hwaddr=None, client_id=None)])
    assert [l.address for l in db.iter_leases()] == ["192.0.2.5"]


def test_batch_commits_together_and_rolls_back_on_error(open_db):
    db = open_db(4)
    with db.batch():
        db.add(v4(1))
        db.add(v4(2))
        db.delete("192.0.2.1")
    assert [l.address for l in db.iter_leases()] == ["192.0.2.2"]
    with pytest.raises(RuntimeError):
        with db.batch():
            db.add(v4(3))
            db.update(v4(2, hostname="changed"))
            db.delete("192.0.2.2")
            raise RuntimeError("the server failed mid-burst")
    assert [l.address for l in db.iter_leases()] == ["192.0.2.2"]
    assert db.get("192.0.2.2").hostname == ""


def test_put_adds_or_replaces(open_db):
    db = open_db(4)
    db.put(v4(1))
    db.put(v4(1, hostname="again"))
    assert db.get("192.0.2.1").hostname == "again"
    assert len(db) == 1


def test_kea_write_rules(open_db):
    db4, db6 = open_db(4), open_db(6)
    with pytest.raises(LeaseError):
        db4.add(v4(1, hwaddr=None, client_id=None))      # no identifier
    db4.add(v4(2, hwaddr=None, client_id=None, state=STATE_DECLINED))
    with pytest.raises(LeaseError):
        db4.add(Lease4("192.0.2.300", MAC))
    with pytest.raises(LeaseError):
        db6.add(v6(1, duid=None))
    with pytest.raises(LeaseError):
        db6.add(Lease6("2001:db8:1::", b"\x01", 1, TYPE_PD, 64, state=STATE_DECLINED))
    assert len(db4) == 1 and len(db6) == 0


def test_leases_survive_reopen(backend_url, open_db):
    url = backend_url(4)
    from kea_tools.leases import open_backend
    db = open_backend(url, 4)
    db.add(v4(1))
    db.add(v4(2))
    db.update(v4(2, hostname="kept"))
    db.delete("192.0.2.1")
    db.close()
    again = open_db(4)
    if url == "memfile:":               # persist=false: nothing outlives the process's object
        assert len(again) == 0
        return
    assert [(l.address, l.hostname) for l in again.iter_leases()] == [("192.0.2.2", "kept")]
