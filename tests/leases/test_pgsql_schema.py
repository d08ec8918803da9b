"""`keactl db init` creates what `kea-admin db-init pgsql` creates (Kea 2.2, schema 13.0).

Two scratch databases, one initialised by kea-admin and one by keactl, are
compared through the catalogs; then Kea's own tools and servers are pointed at
the keactl one.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import psycopg2
import pytest

from kea_tools.leases import parse_spec
from kea_tools.leases.pgsql import init_schema
from tests.conftest import require, require_program
from tests.leases.pg import pg_available, scratch_database, url_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What keactl has beyond Kea's script, on purpose (see pgsql_schema's docstring).
KEACTL_INDEXES = {"lease6_by_inet_address"}
KEACTL_FUNCTION_PREFIX = "keactl_"
# Kea's lease statistics triggers are per row; keactl's are per statement.
STATEMENT_TRIGGERS = {f"lease{v}_{e}" for v in (4, 6) for e in ("ains", "aupd", "adel")}


GOLD_LEASES = "SELECT leases FROM lease4_stat_by_client_class WHERE client_class = 'gold'"


def _connect(dbname):
    spec = parse_spec(url_for(dbname))
    conn = psycopg2.connect(host=spec["host"], port=spec.get("port", 5432), user=spec["user"],
                            dbname=dbname)
    conn.autocommit = True
    return conn


def _kea_admin(command, dbname, *extra):
    spec = parse_spec(url_for(dbname))
    return subprocess.run(["kea-admin", command, "pgsql", "-h", spec["host"],
                           "-P", str(spec.get("port", 5432)), "-u", spec["user"],
                           "-n", dbname, *extra],
                          capture_output=True, text=True, timeout=60)


def _keactl(*args):
    return subprocess.run([os.path.join(ROOT, "bin", "keactl"), *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def _default(text):
    """Column defaults that mean "no default" compare equal."""
    if text is None or text.upper().startswith("NULL"):
        return None
    # '128'::smallint and 128 are the same default.
    return re.sub(r"^'(-?\d+)'::\w+$", r"\1", text)


def snapshot(dbname):
    """The parts of a database's catalog that make up Kea's schema."""
    q = {
        "tables": "SELECT table_name FROM information_schema.tables "
                  "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        "views": "SELECT table_name FROM information_schema.views WHERE table_schema = 'public'",
        "sequences": "SELECT sequence_name FROM information_schema.sequences "
                     "WHERE sequence_schema = 'public'",
        "columns": "SELECT table_name, column_name, data_type, character_maximum_length, "
                   "is_nullable, column_default FROM information_schema.columns "
                   "WHERE table_schema = 'public'",
        "keys": "SELECT conrelid::regclass::text, contype, "
                "array_to_string(array(SELECT attname FROM unnest(conkey) AS k(n) JOIN "
                "pg_attribute ON attrelid = conrelid AND attnum = k.n), ',') "
                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                "AND contype IN ('p', 'u')",
        "foreign": "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) "
                   "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                   "AND contype = 'f'",
        "indexes": "SELECT indexname, tablename, indexdef FROM pg_indexes "
                   "WHERE schemaname = 'public'",
        "functions": "SELECT proname, pg_get_function_identity_arguments(oid), "
                     "pg_get_function_result(oid) FROM pg_proc "
                     "WHERE pronamespace = 'public'::regnamespace",
        "triggers": "SELECT t.tgname, t.tgrelid::regclass::text, p.proname, "
                    "pg_get_triggerdef(t.oid) FROM pg_trigger AS t "
                    "JOIN pg_proc AS p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal",
    }
    conn = _connect(dbname)
    try:
        with conn.cursor() as cur:
            got = {}
            for key, sql in q.items():
                cur.execute(sql)
                got[key] = cur.fetchall()
            rows = {}
            for (table,) in got["tables"]:
                cur.execute("SELECT column_name FROM information_schema.columns WHERE "
                            "table_name = %s AND data_type NOT LIKE 'timestamp%%' "
                            "ORDER BY column_name", (table,))
                cols = ", ".join(f'"{c}"' for (c,) in cur.fetchall())
                cur.execute(f'SELECT {cols} FROM "{table}"')
                rows[table] = sorted(map(repr, cur.fetchall()))
    finally:
        conn.close()
    out = {
        "tables": {t for (t,) in got["tables"]},
        "views": {v for (v,) in got["views"]},
        "sequences": {s for (s,) in got["sequences"]},
        "columns": {(t, c): (ty, ln, nul, _default(d)) for t, c, ty, ln, nul, d in got["columns"]},
        "keys": {tuple(k) for k in got["keys"]},
        "foreign": {},
        "indexes": {n: (t, d.replace(f" {n} ", " ")) for n, t, d in got["indexes"]},
        "functions": {(n.lower(), args): result for n, args, result in got["functions"]},
        "triggers": {n: (t, f, d.replace(f"TRIGGER {n} ", "TRIGGER ").replace("public.", ""))
                     for n, t, f, d in got["triggers"]},
        "rows": rows,
    }
    # A foreign key is its columns and target; Kea's upgrades left a few twice
    # over (with and without ON DELETE CASCADE): keep every action seen.
    for table, definition in got["foreign"]:
        target, _, actions = definition.partition(")")[2].partition(")")
        key = (table, definition.partition(")")[0] + ")" + target + ")")
        out["foreign"].setdefault(key, set()).add(actions.strip())
    return out


@pytest.fixture(scope="module")
def databases():
    """(kea-admin database, keactl database), both initialised, dropped afterwards."""
    require_program("kea-admin", "psql")
    require(pg_available(), "needs PostgreSQL on 127.0.0.1:5432")
    with scratch_database() as kea_db, scratch_database() as keactl_db:
        out = _kea_admin("db-init", kea_db)
        assert out.returncode == 0, out.stdout + out.stderr
        created, version = init_schema(parse_spec(url_for(keactl_db)))
        assert created and version == (13, 0)
        yield kea_db, keactl_db


@pytest.fixture(scope="module")
def snapshots(databases):
    kea_db, keactl_db = databases
    return snapshot(kea_db), snapshot(keactl_db)


@pytest.mark.parametrize("part", ["tables", "views", "sequences", "columns", "keys", "rows"])
def test_same_catalog_part(snapshots, part):
    kea, mine = snapshots
    if part == "rows":
        # Only lookup tables (and the "all" server) hold rows in a new database.
        def filled(rows):
            return {t: r for t, r in rows.items() if r}
        assert filled(kea[part]) == filled(mine[part])
        assert any(kea["rows"].values())
        return
    assert kea[part] == mine[part]


def test_same_foreign_keys(snapshots):
    kea, mine = snapshots
    assert kea["foreign"].keys() == mine["foreign"].keys()
    for key, actions in mine["foreign"].items():
        # Where Kea has two keys on one column, the cascading one decides.
        assert actions <= kea["foreign"][key], key


def test_same_indexes(snapshots):
    kea, mine = snapshots
    mine_indexes = {n: d for n, d in mine["indexes"].items() if n not in KEACTL_INDEXES}
    assert kea["indexes"] == mine_indexes


def test_same_functions_by_name_and_signature(snapshots):
    kea, mine = snapshots
    ours = {k: v for k, v in mine["functions"].items()
            if not k[0].startswith(KEACTL_FUNCTION_PREFIX)}
    assert set(kea["functions"]) == set(ours)
    # Result types matter where Kea's tools read them (lease dumps, limits).
    assert kea["functions"] == ours


def test_same_triggers(snapshots):
    kea, mine = snapshots
    assert kea["triggers"].keys() == mine["triggers"].keys()
    for name, (table, function, definition) in kea["triggers"].items():
        got = mine["triggers"][name]
        assert got[:2] == (table, function), name
        if name in STATEMENT_TRIGGERS:
            assert "FOR EACH STATEMENT" in got[2] and "AFTER" in got[2], got
        else:
            assert got[2] == definition


def test_kea_admin_reads_version_and_dumps_uploads_recounts(databases, tmp_path):
    _, keactl_db = databases
    out = _kea_admin("db-version", keactl_db)
    assert out.returncode == 0 and out.stdout.strip().endswith("13.0"), out.stdout + out.stderr
    conn = _connect(keactl_db)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, "
                        "subnet_id, fqdn_fwd, fqdn_rev, hostname, state, user_context) VALUES "
                        "(3221225994, '\\x0a0b0c0d0e0f', NULL, 3600, to_timestamp(1800000000), "
                        "1, true, false, 'a,b.example.', 0, "
                        "'{\"ISC\": {\"client-classes\": [\"gold\"]}}')")
        dump = tmp_path / "dump4.csv"
        out = _kea_admin("lease-dump", keactl_db, "-4", "-o", str(dump), "-y")
        assert out.returncode == 0, out.stdout + out.stderr
        lines = dump.read_text().splitlines()
        assert lines[0].startswith("address,hwaddr,client_id,valid_lifetime,expire")
        assert lines[1].startswith("192.0.2.10,0a:0b:0c:0d:0e:0f,,3600,1800000000,1,1,0,"
                                   "a&#x2cb.example.,0,")
        with conn.cursor() as cur:
            cur.execute("DELETE FROM lease4")
            cur.execute(GOLD_LEASES)
            assert cur.fetchone() == (0,)
        out = _kea_admin("lease-upload", keactl_db, "-4", "-i", str(dump), "-y")
        assert out.returncode == 0, out.stdout + out.stderr
        with conn.cursor() as cur:
            cur.execute("SELECT address, hwaddr, hostname, fqdn_fwd, fqdn_rev FROM lease4")
            rows = [(a, bytes(hw), h, f, r) for a, hw, h, f, r in cur.fetchall()]
            assert rows == [(3221225994, bytes.fromhex("0a0b0c0d0e0f"), "a,b.example.",
                             True, False)]
            cur.execute(GOLD_LEASES)
            assert cur.fetchone() == (1,)
            # stats-recount rebuilds the counters Kea reads from the leases.
            cur.execute("UPDATE lease4_stat SET leases = 42")
        out = _kea_admin("stats-recount", keactl_db)
        assert out.returncode == 0, out.stdout + out.stderr
        with conn.cursor() as cur:
            cur.execute("SELECT subnet_id, state, leases FROM lease4_stat WHERE leases > 0")
            assert cur.fetchall() == [(1, 0, 1)]
            cur.execute("DELETE FROM lease4")
    finally:
        conn.close()


def lease_statistics_story(dbname):
    """The statistics tables after a mix of lease writes (and Kea's per-row helpers)."""
    conn = _connect(dbname)
    conn.autocommit = False
    gold = '{"ISC": {"client-classes": ["gold", "all"]}}'
    silver = '{"ISC": {"client-classes": ["silver", "all"]}}'
    try:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO lease4 (address, subnet_id, state, user_context) "
                            "VALUES (%s, %s, %s, %s)",
                            [(n, 1 + n % 3, n % 4 // 2, gold if n % 2 else silver)
                             for n in range(1, 41)])
            cur.execute("INSERT INTO lease4 (address, subnet_id, state, user_context) "
                        "SELECT n, 9, n %% 3, %s FROM generate_series(100, 130) AS n", (gold,))
            cur.execute("UPDATE lease4 SET state = 1 WHERE address % 5 = 0")
            cur.execute("UPDATE lease4 SET subnet_id = 2, user_context = %s "
                        "WHERE address BETWEEN 10 AND 20", (silver,))
            cur.execute("DELETE FROM lease4 WHERE address % 7 = 0")
            cur.execute("INSERT INTO lease6 (address, subnet_id, lease_type, state, user_context) "
                        "SELECT '2001:db8::' || n, n %% 2, (n %% 2) * 2, n %% 3, %s "
                        "FROM generate_series(1, 30) AS n", (gold,))
            cur.execute("UPDATE lease6 SET lease_type = 0, user_context = '' "
                        "WHERE subnet_id = 1 AND state = 0")
            cur.execute("DELETE FROM lease6 WHERE state = 2")
            cur.execute("SELECT lease4_AINS_lease4_stat(0, 50), "
                        "lease6_AINS_lease6_stat(1, 50, 2::SMALLINT), "
                        "lease4_AUPD_lease4_stat_by_client_class(0, %s, 0, %s)", (gold, silver))
            got = []
            for table in ("lease4_stat", "lease6_stat", "lease4_stat_by_client_class",
                          "lease6_stat_by_client_class"):
                cur.execute(f"SELECT * FROM {table} WHERE leases > 0")
                got.append(sorted(cur.fetchall()))
            return got
    finally:
        conn.rollback()
        conn.close()


def test_statement_level_statistics_agree_with_keas_row_triggers(databases):
    kea_db, keactl_db = databases
    mine = lease_statistics_story(keactl_db)
    assert all(mine)
    assert mine == lease_statistics_story(kea_db)


def test_db_init_leaves_a_kea_initialised_database_alone(databases):
    kea_db, _ = databases
    before = snapshot(kea_db)
    out = _keactl("db", "init", url_for(kea_db))
    assert out.returncode == 0, out.stderr
    assert "already has" in out.stdout and "13.0" in out.stdout
    assert snapshot(kea_db) == before


def config_backend_story(dbname):
    """What the config-backend triggers and functions do to a short story of edits."""
    seen = []
    conn = _connect(dbname)
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            def look(sql, *args):
                cur.execute(sql, args)
                seen.append(cur.fetchall())
            cur.execute("SELECT createAuditRevisionDHCP4(now(), 'all', 'story', false)")
            cur.execute("INSERT INTO dhcp4_subnet (subnet_id, subnet_prefix) "
                        "VALUES (7, '192.0.2.0/24')")
            cur.execute("INSERT INTO dhcp4_pool (start_address, end_address, subnet_id) "
                        "VALUES ('192.0.2.10', '192.0.2.20', 7) RETURNING id")
            pool = cur.fetchone()[0]
            cur.execute("INSERT INTO dhcp4_options (code, formatted_value, space, scope_id, "
                        "pool_id) VALUES (6, '192.0.2.1', 'dhcp4', 5, %s)", (pool,))
            cur.execute("INSERT INTO dhcp4_options (code, formatted_value, space, scope_id) "
                        "VALUES (15, 'example.org', 'dhcp4', 0)")
            cur.execute("INSERT INTO dhcp4_global_parameter (name, value, parameter_type) "
                        "VALUES ('valid-lifetime', '3600', 0)")
            cur.execute("INSERT INTO dhcp4_shared_network (name) VALUES ('net')")
            cur.execute("UPDATE dhcp4_subnet SET shared_network_name = 'net'")
            cur.execute("DELETE FROM dhcp4_shared_network")
            look("SELECT shared_network_name FROM dhcp4_subnet")
            # Kea's hook deletes a subnet in a cascade revision (its options'
            # audit would otherwise touch the subnet being deleted).
            cur.execute("SELECT createAuditRevisionDHCP4(now(), 'all', 'cascade', true)")
            cur.execute("DELETE FROM dhcp4_subnet WHERE subnet_id = 7")
            look("SELECT count(*) FROM dhcp4_pool UNION ALL SELECT count(*) FROM dhcp4_options")
            look("SELECT a.object_type, m.modification_type, r.log_message FROM dhcp4_audit AS a "
                 "JOIN modification AS m ON m.id = a.modification_type "
                 "JOIN dhcp4_audit_revision AS r ON r.id = a.revision_id ORDER BY a.id")
            # Client classes: kept in creation order, or after follow_class_name.
            cur.execute("INSERT INTO dhcp4_client_class (name) VALUES ('a'), ('b')")
            cur.execute("INSERT INTO dhcp4_client_class (name, follow_class_name, "
                        "depend_on_known_directly) VALUES ('c', 'a', true)")
            look("SELECT c.name FROM dhcp4_client_class_order AS o "
                 "JOIN dhcp4_client_class AS c ON c.id = o.class_id ORDER BY o.order_index")
            cur.execute("INSERT INTO dhcp4_client_class_dependency SELECT b.id, c.id "
                        "FROM dhcp4_client_class AS b, dhcp4_client_class AS c "
                        "WHERE b.name = 'b' AND c.name = 'c'")
            look("SELECT c.name, o.depend_on_known_indirectly FROM dhcp4_client_class_order AS o "
                 "JOIN dhcp4_client_class AS c ON c.id = o.class_id ORDER BY o.order_index")
            for sql in ("INSERT INTO dhcp4_client_class_dependency SELECT c.id, b.id "
                        "FROM dhcp4_client_class AS b, dhcp4_client_class AS c "
                        "WHERE b.name = 'b' AND c.name = 'c'",
                        "UPDATE dhcp4_client_class SET follow_class_name = 'b' WHERE name = 'c'",
                        "INSERT INTO dhcp4_client_class (name, follow_class_name) "
                        "VALUES ('d', 'nothing')"):
                cur.execute("SAVEPOINT s")
                try:
                    cur.execute(sql)
                    seen.append("accepted")
                except psycopg2.Error as err:
                    seen.append(err.pgcode)
                cur.execute("ROLLBACK TO SAVEPOINT s")
    finally:
        conn.rollback()
        conn.close()
    return seen


def test_config_backend_triggers_behave_as_keas(databases):
    kea_db, keactl_db = databases
    mine = config_backend_story(keactl_db)
    assert mine[1] == [(0,), (1,)]     # the subnet took its pool and options; the global stays
    assert ("dhcp4_subnet", "delete", "cascade") in mine[2]
    assert mine[3] == [("a",), ("c",), ("b",)]
    assert mine[5:] == ["2F000"] * 3   # refused: depends on a later class, breaks order, no class
    assert mine == config_backend_story(kea_db)


SERVER_PORT = 10067     # an unprivileged port on loopback: no real DHCP traffic anywhere
RESERVED_MAC = bytes.fromhex("0a0b0c0d0e0f")


def _discover_via_relay(timeout=5.0):
    """A relayed DISCOVER to the server on 127.0.0.1; the OFFER (Packet4) or None.

    Option 82.19 (RFC 8357 relay source port) makes Kea answer our own port.
    """
    import socket

    from kea_tools.codec.option import Option, OptionList
    from kea_tools.codec.v4 import Packet4
    query = Packet4(op=1, hops=1, xid=0x4B454131, giaddr="127.0.0.1",
                    chaddr=RESERVED_MAC + bytes(10),
                    options=OptionList([Option(53, b"\x01"), Option(55, bytes([1, 3, 15])),
                                        Option(82, bytes([19, 0]))]))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.sendto(query.build(), ("127.0.0.1", SERVER_PORT))
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            answer = Packet4.parse(data)
            if answer.xid == query.xid:
                return answer
    return None


def _run_kea4(config, workdir, timeout=20.0, exchange=None):
    """Start kea-dhcp4 on ``config``; (started, exchange() result, log), then stop it."""
    log = os.path.join(workdir, "kea.log")
    config["Dhcp4"]["loggers"] = [{"name": "kea-dhcp4", "output_options": [{"output": log}],
                                   "severity": "DEBUG", "debuglevel": 50}]
    path = os.path.join(workdir, "kea.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(config, fh)
    env = dict(os.environ, KEA_PIDFILE_DIR=workdir, KEA_LOCKFILE_DIR=workdir)
    proc = subprocess.Popen(["kea-dhcp4", "-p", str(SERVER_PORT), "-c", path], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)

    def read_log():
        if not os.path.exists(log):
            return ""
        with open(log, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if "DHCP4_STARTED" in read_log():
                break
            time.sleep(0.1)
        started = proc.poll() is None and "DHCP4_STARTED" in read_log()
        result = exchange() if started and exchange else None
        return started, result, read_log()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_kea_dhcp4_serves_a_reservation_from_the_keactl_database(databases):
    require_program("kea-dhcp4")
    _, keactl_db = databases
    spec = parse_spec(url_for(keactl_db))
    conn = _connect(keactl_db)
    try:
        with conn.cursor() as cur:
            # A reservation stored the way Kea's host back end stores one:
            # hw-address -> 127.0.0.77 in subnet 1, with a host-specific option 15.
            cur.execute("INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, "
                        "dhcp4_subnet_id, ipv4_address, hostname) VALUES "
                        "(%s, 0, 1, %s, 'reserved.example.') RETURNING host_id",
                        (RESERVED_MAC, (127 << 24) + 77))
            host = cur.fetchone()[0]
            cur.execute("INSERT INTO dhcp4_options (code, formatted_value, space, scope_id, "
                        "host_id) VALUES (15, 'example.org', 'dhcp4', 3, %s)", (host,))
        db = {"type": "postgresql", "name": keactl_db, "host": spec["host"],
              "port": spec.get("port", 5432), "user": spec["user"]}
        config = {"Dhcp4": {
            "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
            "lease-database": db, "hosts-database": db,
            "subnet4": [{"id": 1, "subnet": "127.0.0.0/8",
                         "pools": [{"pool": "127.0.0.10-127.0.0.50"}]}],
        }}
        workdir = tempfile.mkdtemp(prefix="keactl-kea-")
        try:
            started, offer, log = _run_kea4(config, workdir, exchange=_discover_via_relay)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        assert started, log[-2000:]
        assert "DHCPSRV_PGSQL_HOST_DB" in log and " ERROR " not in log, log[-2000:]
        assert offer is not None, log[-2000:]
        assert offer.msg_type == 2 and offer.yiaddr == "127.0.0.77"
        assert offer.options.data(15).rstrip(b"\x00") == b"example.org"
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM hosts")
            cur.execute("DELETE FROM lease4")
        conn.close()
