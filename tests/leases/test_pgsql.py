"""PostgreSQL back end: lost connections (as in a database restart) and schema checks."""
import psycopg2
import pytest

from kea_tools.leases import BackendError, open_backend, parse_spec
from kea_tools.leases.model import Lease4

NOW = 1_700_000_000


def lease(n):
    return Lease4(f"192.0.2.{n}", bytes([0, 0, 0, 0, 0, n]), None, 3600, NOW, 1)


def kill_connections(url):
    """Terminate every server process of the database: what a restart does to clients."""
    spec = parse_spec(url)
    with psycopg2.connect(host=spec["host"], port=spec.get("port", 5432), user=spec["user"],
                          dbname="postgres") as admin:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (spec["name"],))
            killed = cur.fetchone()[0]
    admin.close()
    return killed


def test_reads_and_writes_go_on_after_the_connection_is_lost(pg_lease_url):
    db = open_backend(pg_lease_url, 4)
    try:
        db.add(lease(1))
        assert kill_connections(pg_lease_url) >= 1
        assert db.get("192.0.2.1") == lease(1)              # read reconnects
        assert kill_connections(pg_lease_url) >= 1
        db.add(lease(2))                                    # write reconnects first
        assert len(db) == 2
    finally:
        db.close()


def test_a_write_cut_off_mid_transaction_is_reported_and_not_stored(pg_lease_url):
    db = open_backend(pg_lease_url, 4)
    try:
        db.add(lease(1))
        with pytest.raises(BackendError, match="not stored"):
            with db.batch():
                db.add(lease(2))
                db.delete("192.0.2.1")                      # sends the queued insert
                kill_connections(pg_lease_url)
                db.add(lease(3))
        assert sorted(l.address for l in db.iter_leases()) == ["192.0.2.1"]
        db.add(lease(4))
        assert sorted(l.address for l in db.iter_leases()) == ["192.0.2.1", "192.0.2.4"]
    finally:
        db.close()


def test_unreachable_server_and_missing_schema_are_one_line_errors(pg_url):
    with pytest.raises(BackendError, match="has no lease schema"):
        open_backend(pg_url, 4)
    with pytest.raises(BackendError, match="postgresql: "):
        open_backend("postgresql://postgres@127.0.0.1:1/nothing?max-reconnect-tries=1", 4)


def test_wrong_schema_version_is_refused(pg_lease_url):
    spec = parse_spec(pg_lease_url)
    with psycopg2.connect(host=spec["host"], user=spec["user"], dbname=spec["name"]) as conn:
        with conn.cursor() as cur:
            cur.execute("UPDATE schema_version SET version = 12")
    conn.close()
    with pytest.raises(BackendError, match="12.0"):
        open_backend(pg_lease_url, 4)
