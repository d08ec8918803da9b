"""The v6 pipeline over each lease back end: SARR, RENEW, PD, DECLINE and RELEASE
reach storage in Kea's lease6 form and come back after a restart."""

from kea_tools.leases import open_backend
from kea_tools.leases.model import STATE_DECLINED, TYPE_PD
from tests.leases.pg import pg_lease_url, pg_url  # noqa: F401  (fixtures)
from tests.server6.helpers import (DECLINE, RELEASE, RENEW, REQUEST, SERVER_DUID, addresses,
                                   ia_na, ia_pd, iaaddr, message, one, prefixes, server)


def exercise(url):
    backend = open_backend(url, 6)
    pipe = server(backend=backend)
    rep = one(pipe, message(REQUEST, 1, ia_na(1), ia_pd(2), server_id=SERVER_DUID))
    addr = addresses(rep)[0][0]
    prefix = prefixes(rep)[0][0]
    one(pipe, message(RENEW, 1, ia_na(1, iaaddr(addr)), server_id=SERVER_DUID))
    rep2 = one(pipe, message(REQUEST, 2, ia_na(1), server_id=SERVER_DUID))
    addr2 = addresses(rep2)[0][0]
    one(pipe, message(DECLINE, 2, ia_na(1, iaaddr(addr2)), server_id=SERVER_DUID))
    rep3 = one(pipe, message(REQUEST, 3, ia_na(1), server_id=SERVER_DUID))
    addr3 = addresses(rep3)[0][0]
    one(pipe, message(RELEASE, 3, ia_na(1, iaaddr(addr3)), server_id=SERVER_DUID))
    backend.close()
    again = open_backend(url, 6)
    try:
        assert again.get(addr).iaid == 1
        pd = again.get(prefix)
        assert pd.type == TYPE_PD and pd.prefix_len == 60 and pd.iaid == 2
        assert again.get(addr2).state == STATE_DECLINED
        assert again.get(addr3) is None
        assert len(again) == 3
        pipe = server(backend=again)
        assert pipe.stats.value("subnet[1].assigned-nas") == 2
        assert pipe.stats.value("subnet[1].assigned-pds") == 1
        assert pipe.stats.value("declined-addresses") == 1
    finally:
        again.close()


def test_memfile(tmp_path):
    exercise(f"memfile:{tmp_path / 'leases6.csv'}?lfc-interval=0")
    text = (tmp_path / "leases6.csv").read_text().splitlines()
    assert text[0].startswith("address,duid,valid_lifetime,expire,subnet_id,pref_lifetime")


def test_sqlite(tmp_path):
    exercise(f"sqlite:///{tmp_path / 'leases6.db'}")


def test_postgresql(pg_lease_url):  # noqa: F811
    exercise(pg_lease_url)
