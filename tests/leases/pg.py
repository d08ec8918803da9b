"""A reusable PostgreSQL fixture: scratch databases on the real server, dropped afterwards.

Use from any test package::

    from tests.leases.pg import pg_url, pg_lease_url  # noqa: F401 (fixtures)

    def test_something(pg_url): ...            # an empty scratch database
    def test_leases(pg_lease_url): ...         # one with Kea 2.2's lease schema

The server is 127.0.0.1:5432, user postgres, trust auth (override with
KEACTL_PG_HOST / KEACTL_PG_PORT / KEACTL_PG_USER).  Each test gets its own
database named ``keactl_test_<pid>_<n>``; it is dropped when the test ends
(connections still open to it are terminated first).  Without a reachable
server the tests skip (and fail under KEACTL_REQUIRE_E2E=1).
"""
import itertools
import os
from contextlib import contextmanager

import pytest

from tests.conftest import require

HOST = os.environ.get("KEACTL_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("KEACTL_PG_PORT", "5432"))
USER = os.environ.get("KEACTL_PG_USER", "postgres")
_counter = itertools.count()


def _admin():
    import psycopg2
    conn = psycopg2.connect(host=HOST, port=PORT, user=USER, dbname="postgres",
                            connect_timeout=3)
    conn.autocommit = True
    return conn


def pg_available():
    """True when the PostgreSQL server answers."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return False
    try:
        _admin().close()
    except Exception:  # any failure to reach the server means "not available"
        return False
    return True


def url_for(dbname):
    return f"postgresql://{USER}@{HOST}:{PORT}/{dbname}"


@contextmanager
def scratch_database():
    """Create an empty database, yield its name, drop it afterwards."""
    name = f"keactl_test_{os.getpid()}_{next(_counter)}"
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()


@pytest.fixture
def pg_url():
    """URL of an empty scratch database (dropped after the test)."""
    require(pg_available(), f"needs PostgreSQL on {HOST}:{PORT} (user {USER})")
    with scratch_database() as name:
        yield url_for(name)


@pytest.fixture
def pg_lease_url(pg_url):
    """URL of a scratch database holding Kea 2.2's lease schema (keactl db init)."""
    from kea_tools.leases import parse_spec
    from kea_tools.leases.pgsql import init_schema
    init_schema(parse_spec(pg_url))
    return pg_url
