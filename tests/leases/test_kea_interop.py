"""Real Kea 2.2 and keactl share lease storage both ways: memfile CSV and PostgreSQL."""
import subprocess

from kea_tools.leases import open_backend, parse_spec
from kea_tools.leases.ctrl import RESULT_EMPTY, RESULT_UNSUPPORTED
from kea_tools.leases.jsonfmt import lease_from_json
from kea_tools.leases.model import STATE_DECLINED, TYPE_PD, Lease4, Lease6
from kea_tools.leases.pgsql import init_schema
from tests.conftest import require_program
from tests.leases.kea import kea_server

NOW = 1_790_000_000


def keactl_v4_leases():
    return [
        Lease4("192.0.2.20", bytes.fromhex("1a1b1c1d1e1f"), b"\x01\xaa\xbb", 3600, NOW, 1, 0,
               True, False, "weird,name&x.example.", 0,
               {"a": "x,y\"q", "b": [1, 2], "café": "é"}),
        Lease4("192.0.2.21", None, None, 100, NOW, 1, state=STATE_DECLINED),
        Lease4("198.51.100.7", bytes.fromhex("000102030405"), None, 0xFFFFFFFF, NOW, 2,
               hostname="infinite.example."),
        Lease4("10.1.2.3", None, b"\x01\x02\x03", 7200, NOW - 10, 3, state=2),
    ]


def kea_leases(client, family):
    response = client.check(f"lease{family}-get-all")
    return {l["ip-address"]: lease_from_json(l, family)
            for l in (response.arguments or {}).get("leases", [])}


def test_kea_loads_a_memfile_keactl_wrote_and_keactl_loads_kea_rows(tmp_path):
    path = tmp_path / "leases4.csv"
    db = open_backend(f"memfile:{path}", 4)
    mine = keactl_v4_leases()
    db.add_many(mine)
    db.add(Lease4("192.0.2.99", bytes(6), None, 60, NOW, 1))
    db.delete("192.0.2.99")                                   # a valid_lifetime 0 row
    db.update(mine[0].copy(hostname="renamed,again."))
    mine[0] = db.get("192.0.2.20")
    db.close()

    with kea_server(4, {"type": "memfile", "name": str(path), "lfc-interval": 0}) as kea:
        seen = kea_leases(kea, 4)
        assert seen == {l.address: l for l in mine}
        assert kea.call("lease4-get", {"ip-address": "192.0.2.99"}).result == RESULT_EMPTY
        assert kea.call("no-such-command").result == RESULT_UNSUPPORTED
        kea.check("lease4-add", {"ip-address": "192.0.2.30", "hw-address": "aa:bb:cc:dd:ee:ff",
                                 "subnet-id": 1, "hostname": "from,kea", "valid-lft": 500,
                                 "user-context": {"k": "ü"}})
        kea.check("lease4-del", {"ip-address": "192.0.2.21"})

    again = open_backend(f"memfile:{path}", 4)
    try:
        assert again.get("192.0.2.21") is None
        added = again.get("192.0.2.30")
        assert (added.hwaddr, added.hostname, added.valid_lft, added.user_context) == \
            (bytes.fromhex("aabbccddeeff"), "from,kea", 500, {"k": "ü"})
        assert again.get("192.0.2.20") == mine[0]
        assert len(again) == 4
    finally:
        again.close()


def test_kea6_loads_keactl_memfile(tmp_path):
    path = tmp_path / "leases6.csv"
    mine = [Lease6("2001:db8::150", b"\x00\x01\x02\x03", 7, 0, 128, 3000, 7200, NOW, 1,
                   hostname="h6", hwaddr=bytes.fromhex("0a0b0c0d0e0f"), hwtype=1,
                   hwaddr_source=4),
            Lease6("2001:db8:8:100::", b"\x00\x01\x02\x03", 8, TYPE_PD, 56, 3000, 7200, NOW, 1)]
    db = open_backend(f"memfile:{path}", 6)
    db.add_many(mine)
    db.close()
    with kea_server(6, {"type": "memfile", "name": str(path), "lfc-interval": 0}) as kea:
        seen = kea_leases(kea, 6)
        for lease in mine:
            got = seen[lease.address]
            assert (got.duid, got.iaid, got.type, got.prefix_len, got.preferred_lft,
                    got.valid_lft, got.cltt, got.hostname, got.hwaddr) == \
                (lease.duid, lease.iaid, lease.type, lease.prefix_len, lease.preferred_lft,
                 lease.valid_lft, lease.cltt, lease.hostname, lease.hwaddr)
        kea.check("lease6-add", {"ip-address": "2001:db8::77", "duid": "01:02:03:04",
                                 "iaid": 9, "subnet-id": 1})
    again = open_backend(f"memfile:{path}", 6)
    try:
        assert again.get("2001:db8::77").iaid == 9
        assert len(again) == 3
    finally:
        again.close()


def test_kea_shares_a_postgresql_database_keactl_initialised(pg_url):
    created, version = init_schema(parse_spec(pg_url))
    assert created and version == (13, 0)
    spec = parse_spec(pg_url)

    require_program("kea-admin")
    out = subprocess.run(["kea-admin", "db-version", "pgsql", "-h", spec["host"],
                          "-u", spec["user"], "-n", spec["name"]],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip().endswith("13.0"), out.stdout + out.stderr

    db = open_backend(pg_url, 4)
    mine = keactl_v4_leases()
    db.add_many(mine)
    kea_db = {"type": "postgresql", "name": spec["name"], "host": spec["host"],
              "port": spec.get("port", 5432), "user": spec["user"]}
    try:
        with kea_server(4, kea_db) as kea:
            assert kea_leases(kea, 4) == {l.address: l for l in mine}
            kea.check("lease4-add", {"ip-address": "192.0.2.40", "hw-address": "01:02:03:04:05:06",
                                     "subnet-id": 1, "valid-lft": 900, "hostname": "k.example."})
            kea.check("lease4-update", {"ip-address": "192.0.2.20",
                                        "hw-address": "1a:1b:1c:1d:1e:1f", "subnet-id": 1,
                                        "state": 1})
            page = kea.check("lease4-get-page", {"from": "start", "limit": 2}).arguments
            assert [l["ip-address"] for l in page["leases"]] == \
                [l.address for l in db.get_page(limit=2)]
        got = db.get("192.0.2.40")
        assert (got.hwaddr, got.valid_lft, got.hostname) == (bytes(range(1, 7)), 900, "k.example.")
        assert db.get("192.0.2.20").state == STATE_DECLINED
        # The statistics Kea reads at start-up agree with the leases (triggers).
        import psycopg2
        with psycopg2.connect(host=spec["host"], user=spec["user"], dbname=spec["name"]) as c:
            with c.cursor() as cur:
                cur.execute("SELECT subnet_id, state, leases FROM lease4_stat WHERE leases > 0 "
                            "ORDER BY 1, 2")
                stats = cur.fetchall()
            c.rollback()
        counted = sorted((s, st, n) for (s, _, st), n in db.counts().items() if st in (0, 1))
        assert stats == counted
    finally:
        db.close()


def test_kea6_reads_keactl_rows_in_postgresql(pg_lease_url):
    spec = parse_spec(pg_lease_url)
    db = open_backend(pg_lease_url, 6)
    lease = Lease6("2001:db8::5", b"\x00\x01\x02", 0xFFFFFFF0, 0, 128, 300, 600, NOW, 1,
                   hostname="six.example.")
    db.add(lease)
    try:
        kea_db = {"type": "postgresql", "name": spec["name"], "host": spec["host"],
                  "user": spec["user"]}
        with kea_server(6, kea_db) as kea:
            got = kea_leases(kea, 6)["2001:db8::5"]
            assert (got.iaid, got.duid, got.hostname, got.valid_lft, got.cltt) == \
                (0xFFFFFFF0, b"\x00\x01\x02", "six.example.", 600, NOW)
    finally:
        db.close()
