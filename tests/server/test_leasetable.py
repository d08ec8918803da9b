"""LeaseTable: staged writes, group commit, and losing a race for an address."""
import pytest

from kea_tools.leases import DuplicateLeaseError, open_backend
from kea_tools.leases.model import Lease4
from kea_tools.server.interfaces import InterfaceError, select_interfaces
from kea_tools.server.leasetable import CONFLICT, STORAGE, LeaseTable
from kea_tools.server.model import ip_to_int
from tests.server.helpers import mac


def lease(address, n, t=1_700_000_000):
    return Lease4(address, mac(n), None, 3600, t, 1)


def test_conflict_found_only_at_commit_fails_just_that_request():
    """A SQL back end reports a unique violation when the batch is written: the
    table retries request by request, so only the loser fails."""
    backend = open_backend("memfile:", 4)
    other = open_backend("memfile:", 4)
    table = LeaseTable(backend)
    real_commit = backend._commit
    state = {"first": True}

    def commit_like_sql():
        if state["first"]:
            state["first"] = False
            backend._rollback()
            raise DuplicateLeaseError("a lease for this address exists")
        real_commit()
    backend._commit = commit_like_sql
    other.add(lease("192.0.2.11", 99))
    backend.get = lambda address: other.get(address) or type(backend).get(backend, address)
    table.stage_put(lease("192.0.2.10", 1), tag=0)
    table.stage_put(lease("192.0.2.11", 2), tag=1)
    # Request 1 loses: simulate its add failing on retry too.
    real_add = backend.add

    def add(l):
        if l.address == "192.0.2.11":
            raise DuplicateLeaseError("taken")
        real_add(l)
    backend.add = add
    failed = table.commit()
    assert failed == {1: CONFLICT}
    assert table.get(ip_to_int("192.0.2.10")).hwaddr == mac(1)
    assert table.get(ip_to_int("192.0.2.11")).hwaddr == mac(99)  # the database's view


def test_storage_failure_undoes_everything():
    from kea_tools.leases import BackendError
    backend = open_backend("memfile:", 4)
    table = LeaseTable(backend)
    table.stage_put(lease("192.0.2.10", 1), tag=0)
    backend._commit = lambda: (_ for _ in ()).throw(BackendError("disk"))
    assert table.commit() == {0: STORAGE}
    assert table.get(ip_to_int("192.0.2.10")) is None and len(table) == 0


def test_indexes_and_client_lease_rules():
    backend = open_backend("memfile:", 4)
    backend.add(Lease4("192.0.2.10", mac(1), b"\x01cid", 3600, 1, 1))
    backend.add(Lease4("192.0.2.11", mac(2), None, 3600, 1, 1))
    table = LeaseTable(backend)
    assert table.client_lease(b"\x01cid", mac(7), {1}).address == "192.0.2.10"
    assert table.client_lease(b"\x01other", mac(1), {1}) is None  # chaddr lease, other client-id
    assert table.client_lease(b"\x01x", mac(2), {1}).address == "192.0.2.11"  # no stored cid
    assert table.client_lease(None, mac(2), {2}) is None
    assert [l.address for l in table.pop_expired(10_000, 10)] == ["192.0.2.10", "192.0.2.11"]


def test_interface_selection():
    available = {"lo": ["127.0.0.1"], "eth0": ["192.0.2.1", "192.0.2.2"], "eth1": []}
    assert [(s.name, s.addresses) for s in select_interfaces(["*"], available)] == \
        [("eth0", ["192.0.2.1", "192.0.2.2"])]
    assert [(s.name, s.addresses) for s in select_interfaces(["eth0/192.0.2.2"], available)] == \
        [("eth0", ["192.0.2.2"])]
    with pytest.raises(InterfaceError, match="no interface 'eth9'"):
        select_interfaces(["eth9"], available)
    with pytest.raises(InterfaceError, match="has no address"):
        select_interfaces(["eth0/10.0.0.1"], available)


def test_expiry_index_stays_bounded_under_renewals():
    table = LeaseTable(open_backend("memfile:", 4))
    for t in range(30000):
        table.stage_put(lease("192.0.2.10", 1, t=t))
    table.commit()
    assert table._expiry_entries < 10010
    assert sum(len(addrs) for addrs in table._expiry.values()) == table._expiry_entries
    assert [l.cltt for l in table.pop_expired(10**9, 10)] == [29999]
    assert table.pop_expired(10**9, 10) == [] and table._expiry_entries == 0


def test_pop_expired_respects_limit_and_time_within_a_bucket():
    table = LeaseTable(open_backend("memfile:", 4))
    for i in range(5):
        table.stage_put(Lease4(f"192.0.2.{20 + i}", mac(i), None, 100, 1000 + i, 1))
    table.commit()  # expires 1100..1104, one bucket or two
    assert [l.address for l in table.pop_expired(1103, 10)] == ["192.0.2.20", "192.0.2.21",
                                                                "192.0.2.22"]
    assert [l.address for l in table.pop_expired(2000, 1)] == ["192.0.2.23"]
    assert [l.address for l in table.pop_expired(2000, 10)] == ["192.0.2.24"]
