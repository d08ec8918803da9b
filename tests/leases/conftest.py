"""Fixtures for the lease tests: every back end, opened fresh, for either family."""
import pytest

from tests.leases.pg import pg_lease_url, pg_url  # noqa: F401 (fixtures used by the tests)

BACKEND_KINDS = ["memfile", "memfile-inmemory", "sqlite", "postgresql"]


@pytest.fixture(params=BACKEND_KINDS)
def backend_url(request, tmp_path):
    """A factory: family -> URL of a fresh, empty lease database of each kind."""
    kind = request.param
    if kind == "postgresql":
        url = request.getfixturevalue("pg_lease_url")
        return lambda family: url
    if kind == "memfile-inmemory":
        return lambda family: "memfile:"
    if kind == "sqlite":
        return lambda family: f"sqlite://{tmp_path}/leases.db"
    return lambda family: f"memfile:{tmp_path}/leases{family}.csv?lfc-interval=0"


@pytest.fixture
def open_db(backend_url):
    """open_db(family) -> an open back end; all are closed after the test."""
    from kea_tools.leases import open_backend
    opened = []

    def opener(family=4):
        backend = open_backend(backend_url(family), family)
        opened.append(backend)
        return backend
    yield opener
    for backend in opened:
        backend.close()
