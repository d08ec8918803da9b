"""`keactl leases` and `keactl db`, run as a user runs them (a subprocess per command)."""
import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from kea_tools.leases import open_backend
from kea_tools.leases.cli import detect_format
from kea_tools.leases.csvfmt import HEADER
from kea_tools.leases.shell import LeaseShell
from tests.conftest import ROOT
from tests.leases.kea import kea_server

KEA_JSON_KEYS4 = {"ip-address", "hw-address", "subnet-id", "cltt", "valid-lft", "fqdn-fwd",
                  "fqdn-rev", "hostname", "state"}


def keactl(*args, stdin=None, check=None):
    proc = subprocess.run([sys.executable, "-m", "kea_tools", *map(str, args)], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=60)
    if check is True:
        assert proc.returncode == 0, proc.stderr
    return proc


def one_line_error(proc):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture
def kea_conf(tmp_path):
    """A Kea config with two subnets and an sqlite lease database."""
    conf = tmp_path / "kea.json"
    conf.write_text("""// comments are Kea's
{ "Dhcp4": {
    "lease-database": { "type": "sqlite", "name": "leases.db" },
    "subnet4": [
      { "id": 1, "subnet": "192.0.2.0/24", "pools": [ { "pool": "192.0.2.10 - 192.0.2.19" } ] },
      { "id": 2, "subnet": "198.51.100.0/24", "pools": [ { "pool": "198.51.100.0/28" } ] } ] } }
""")
    return conf


def dump(conf):
    return keactl("leases", "-c", conf, "list", "--format", "csv", check=True).stdout


def test_add_list_show_update_del_with_config(kea_conf):
    c = ["leases", "-c", kea_conf]
    keactl(*c, "add", "192.0.2.10", "--hw-address", "00:11:22:33:44:55", "--hostname", "a,b",
           check=True)                                    # subnet selected from the config
    keactl(*c, "add", "198.51.100.3", "--client-id", "01:02:03", "--state", "declined",
           "--valid-lft", "60", check=True)
    keactl(*c, "add", "192.0.2.11", "--hw-address", "00:11:22:33:44:56", "--subnet-id", "1",
           "--user-context", '{"note": "x"}', check=True)
    out = json.loads(keactl(*c, "list", "--format", "json", check=True).stdout)
    assert [l["ip-address"] for l in out] == ["192.0.2.10", "192.0.2.11", "198.51.100.3"]
    assert KEA_JSON_KEYS4 <= set(out[0]) and out[0]["subnet-id"] == 1
    assert out[2]["client-id"] == "01:02:03" and out[2]["state"] == 1
    assert out[1]["user-context"] == {"note": "x"}

    table = keactl(*c, "list", "--subnet", "1", check=True).stdout
    assert "192.0.2.10" in table and "198.51.100.3" not in table
    assert json.loads(keactl(*c, "list", "--state", "declined", "--format", "json").stdout)[0][
        "ip-address"] == "198.51.100.3"
    assert [l["ip-address"] for l in json.loads(keactl(
        *c, "list", "--limit", "1", "--page", "2", "--format", "json").stdout)] == ["192.0.2.11"]
    assert json.loads(keactl(*c, "list", "--hw-address", "00:11:22:33:44:55", "--format",
                             "json").stdout)[0]["hostname"] == "a,b"
    assert len(json.loads(keactl(*c, "list", "--pool", "192.0.2.11-192.0.2.19", "--format",
                                 "json").stdout)) == 1
    csv_out = keactl(*c, "list", "--format", "csv", check=True).stdout
    assert csv_out.splitlines()[0] == HEADER[4] and "a&#x2cb" in csv_out

    keactl(*c, "update", "192.0.2.10", "--hostname", "renamed", check=True)
    shown = json.loads(keactl(*c, "show", "192.0.2.10", "--format", "json", check=True).stdout)
    assert (shown["hostname"], shown["hw-address"]) == ("renamed", "00:11:22:33:44:55")
    assert "renamed" in keactl(*c, "show", "192.0.2.10", check=True).stdout

    keactl(*c, "del", "192.0.2.10", check=True)
    assert "192.0.2.10" not in dump(kea_conf)
    assert "1 lease(s)" in keactl(*c, "wipe", "--subnet", "2", check=True).stdout
    assert [l["ip-address"] for l in json.loads(keactl(*c, "list", "--format", "json").stdout)] \
        == ["192.0.2.11"]


def test_bad_input_is_one_line_nonzero_and_stores_nothing(kea_conf, tmp_path):
    c = ["leases", "-c", kea_conf]
    keactl(*c, "add", "192.0.2.10", "--hw-address", "00:11:22:33:44:55", check=True)
    before = dump(kea_conf)
    cases = [
        (["add", "192.0.2.300", "--hw-address", "00:01"], "malformed IPv4 address"),
        (["add", "192.0.2.12", "--hw-address", "00:01", "--subnet-id", "9"], "unknown subnet-id 9"),
        (["add", "203.0.113.1", "--hw-address", "00:01"], "no configured subnet"),
        (["add", "192.0.2.10", "--hw-address", "00:01"], "exists"),
        (["add", "192.0.2.12", "--hw-address", "xyz"], "malformed hex"),
        (["add", "192.0.2.12"], "hw-address or a client-id"),
        (["add", "192.0.2.12", "--hw-address", "00:01", "--state", "weird"], "unknown state"),
        (["update", "192.0.2.99", "--hostname", "x"], "no lease for 192.0.2.99"),
        (["del", "192.0.2.10", "192.0.2.77"], "no lease for 192.0.2.77"),
        (["wipe", "--subnet", "7"], "unknown subnet-id 7"),
        (["show", "10.0.0.1"], "no lease"),
    ]
    for args, words in cases:
        assert words in one_line_error(keactl(*c, *args)), args
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(HEADER[4] + "\n192.0.2.50,00:01:02:03:04:05,,100,200,1,0,0,,0,\n"
                       "192.0.2.51,00:01:02:03:04:06,,100,200,1,0,0,,zz,\n")
    assert one_line_error(keactl(*c, "import", bad_csv)).startswith(f"{bad_csv}:3:")
    dup = tmp_path / "dup.json"
    dup.write_text('[\n {"ip-address": "192.0.2.60", "hw-address": "00:01", "subnet-id": 1},\n'
                   ' {"ip-address": "192.0.2.10", "hw-address": "00:02", "subnet-id": 1}\n]\n')
    assert "exists" in one_line_error(keactl(*c, "import", dup))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[\n {"ip-address": "192.0.2.61", "hw-address": "00:01", "subnet-id": 1},'
                        '\n  {"ip-address": "192.0.2.x", "hw-address": "00:02"}\n]\n')
    assert one_line_error(keactl(*c, "import", bad_json)).startswith(f"{bad_json}:3:3:")
    assert one_line_error(keactl("leases", "--db", "nosuch://x", "list"))
    assert dump(kea_conf) == before


def test_import_kea_csv_and_json_and_export_round_trip(tmp_path):
    kea_csv = tmp_path / "kea-leases4.csv"
    kea_csv.write_text(
        HEADER[4] + "\n"
        "192.0.2.20,1a:1b:1c:1d:1e:1f,01:aa:bb,3600,1795815160,1,1,0,weird&#x2cname.,0,"
        "{ \"a\": \"x&#x2cy\" }\n"
        "192.0.2.21,00:01:02:03:04:05,,100,1700000000,1,0,0,,1,\n"
        "192.0.2.22,00:01:02:03:04:07,,100,1700000000,1,0,0,,0,\n"
        "192.0.2.22,00:01:02:03:04:07,,0,1700000000,1,0,0,,0,\n")
    db = f"sqlite://{tmp_path}/a.db"
    assert "imported 2 lease(s)" in keactl("leases", "--db", db, "import", kea_csv,
                                           check=True).stdout
    reply = tmp_path / "reply.json"      # what lease4-get-all answers
    reply.write_text(json.dumps({"result": 0, "text": "1 IPv4 lease(s) found.", "arguments": {
        "leases": [{"ip-address": "10.0.0.9", "hw-address": "00:00:00:00:00:09", "subnet-id": 3,
                    "cltt": 1700000000, "valid-lft": 600, "fqdn-fwd": False,
                    "fqdn-rev": False, "hostname": "", "state": 0}]}}))
    keactl("leases", "--db", db, "import", reply, check=True)
    for fmt in ("csv", "json", "sqlite"):
        out = tmp_path / f"export.{fmt}"
        keactl("leases", "--db", db, "export", "--format", fmt, "-o", out, check=True)
        target = f"sqlite://{tmp_path}/from-{fmt}.db"
        source = out if fmt != "sqlite" else None
        if source is None:
            target = f"sqlite://{out}"
        else:
            keactl("leases", "--db", target, "import", source, check=True)
        got = json.loads(keactl("leases", "--db", target, "list", "--format", "json").stdout)
        assert [l["ip-address"] for l in got] == ["10.0.0.9", "192.0.2.20", "192.0.2.21"], fmt
        assert got[1]["hostname"] == "weird,name." and got[1]["user-context"] == {"a": "x,y"}
    rows = list(csv.reader(io.StringIO((tmp_path / "export.csv").read_text())))
    assert ",".join(rows[0]) == HEADER[4] and len(rows) == 4
    assert "exists" in one_line_error(keactl("leases", "--db", db, "export", "-o",
                                             tmp_path / "export.csv"))


def test_import_detects_isc_lease_files(tmp_path):
    isc = tmp_path / "dhcpd.leases"
    isc.write_text("# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
                   "authoring-byte-order little-endian;\n\n"
                   "lease 192.0.2.33 {\n  starts 4 2030/01/02 03:04:05;\n"
                   "  ends 5 2030/01/03 03:04:05;\n  binding state active;\n"
                   "  hardware ethernet 00:11:22:33:44:55;\n}\n")
    assert detect_format(isc) == "isc"
    kea_csv = tmp_path / "l.csv"
    kea_csv.write_text(HEADER[6] + "\n")
    assert detect_format(kea_csv) == "kea-csv6"
    proc = keactl("leases", "--db", f"sqlite://{tmp_path}/i.db", "import", isc)
    try:
        import kea_tools.migrate.leases_import  # noqa: F401 (is the importer there?)
    except ImportError:
        assert "importer" in one_line_error(proc)
        return
    assert proc.returncode == 0, proc.stderr
    got = json.loads(keactl("leases", "--db", f"sqlite://{tmp_path}/i.db", "list", "--format",
                            "json").stdout)
    assert [l["hw-address"] for l in got] == ["00:11:22:33:44:55"]


def test_stats_per_subnet(kea_conf):
    c = ["leases", "-c", kea_conf]
    for n in (10, 11, 12):
        keactl(*c, "add", f"192.0.2.{n}", "--hw-address", f"00:00:00:00:00:{n}", check=True)
    keactl(*c, "update", "192.0.2.12", "--state", "declined", check=True)
    stats = json.loads(keactl(*c, "stats", "--format", "json", check=True).stdout)
    assert stats == [
        {"subnet-id": 1, "total": 10, "assigned": 2, "declined": 1, "free": 7,
         "utilisation": 30.0},
        {"subnet-id": 2, "total": 16, "assigned": 0, "declined": 0, "free": 16,
         "utilisation": 0.0}]
    assert "30.00%" in keactl(*c, "stats", check=True).stdout


def test_v6_list(tmp_path):
    db = f"memfile:{tmp_path}/l6.csv"
    keactl("leases", "-6", "--db", db, "add", "2001:db8::5", "--duid", "00:01:02", "--iaid", "7",
           "--subnet-id", "1", check=True)
    keactl("leases", "-6", "--db", db, "add", "2001:db8:8:100::", "--duid", "00:01:02",
           "--iaid", "8", "--type", "IA_PD", "--prefix-len", "56", "--subnet-id", "1", check=True)
    got = json.loads(keactl("leases", "-6", "--db", db, "list", "--format", "json").stdout)
    assert [(l["ip-address"], l["type"], l["iaid"]) for l in got] == \
        [("2001:db8::5", "IA_NA", 7), ("2001:db8:8:100::", "IA_PD", 8)]
    assert {"duid", "iaid", "type", "preferred-lft", "valid-lft"} <= set(got[0])
    assert got[1]["prefix-len"] == 56
    assert "2001:db8:8:100::/56" in keactl("leases", "-6", "--db", db, "list").stdout


def test_shell_reads_verbs_from_stdin(tmp_path):
    db = f"sqlite://{tmp_path}/s.db"
    script = ("add 192.0.2.1 --hw-address 00:01:02:03:04:05 --subnet-id 1\n"
              "# a comment line\n\n"
              "list --format json\n"
              "bogus\n"
              "show 192.0.2.1 --format json\n"
              "quit\n")
    proc = keactl("leases", "--db", db, "shell", stdin=script)
    assert proc.returncode == 1                       # one line failed
    assert "unknown verb 'bogus'" in proc.stderr
    assert proc.stdout.count('"ip-address": "192.0.2.1"') == 2
    proc = keactl("leases", "--db", db, "shell", stdin="list\n")
    assert proc.returncode == 0 and "192.0.2.1" in proc.stdout


def test_shell_completion_tables():
    from click import Context

    from kea_tools.leases.cli import leases
    ctx = Context(leases, obj=None)
    shell = LeaseShell(ctx, stdin=io.StringIO(""), stdout=io.StringIO())
    assert shell.completenames("li") == ["list "]
    assert "wipe " in shell.completenames("")
    assert shell.completedefault("--hw", "list --hw", 5, 9) == ["--hw-address "]
    assert "--format " in shell.completedefault("--f", "export --f", 7, 10)


def test_shell_tab_completion_and_history_on_a_terminal(tmp_path):
    history = tmp_path / "history"
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.environ["TERM"] = "dumb"
        os.execv(sys.executable, [sys.executable, "-m", "kea_tools", "leases", "--db",
                                  f"sqlite://{tmp_path}/t.db", "shell", "--history",
                                  str(history)])
    output = b""

    def read_until(token, timeout=15):
        nonlocal output
        deadline = time.monotonic() + timeout
        while token not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    output += os.read(fd, 4096)
                except OSError:
                    break
        return token in output

    try:
        assert read_until(b"keactl leases> ")
        os.write(fd, b"st\t")
        assert read_until(b"stats ")                 # completed by readline
        os.write(fd, b"\n")
        assert read_until(b"subnet-id")
        os.write(fd, b"quit\n")
        read_until(b"\x00", timeout=3)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "stats" in history.read_text()


def test_socket_source_and_no_writes_behind_a_servers_back(tmp_path):
    path = tmp_path / "leases4.csv"
    seed = open_backend(f"memfile:{path}", 4)
    from kea_tools.leases.model import Lease4
    seed.add(Lease4("192.0.2.20", bytes.fromhex("000102030405"), None, 3600,
                    int(time.time()), 1))
    seed.close()
    with kea_server(4, {"type": "memfile", "name": str(path), "lfc-interval": 0}) as kea:
        s = ["leases", "--socket", kea.path]
        assert "192.0.2.20" in keactl(*s, "list", check=True).stdout
        keactl(*s, "add", "192.0.2.21", "--hw-address", "00:01:02:03:04:06", "--subnet-id", "1",
               check=True)
        assert "unknown subnet-id 9" in one_line_error(
            keactl(*s, "add", "192.0.2.22", "--hw-address", "00:01", "--subnet-id", "9"))
        stats = json.loads(keactl(*s, "stats", "--format", "json", check=True).stdout)
        assert stats[0]["assigned"] == 2 and stats[0]["total"] == 241
        # Kea holds the memfile open: a direct write is refused ...
        err = one_line_error(keactl("leases", "--db", f"memfile:{path}", "del", "192.0.2.20"))
        assert "in use by process" in err and "--socket" in err
        # ... and a config naming the control socket writes through it.
        conf = tmp_path / "kea.json"
        conf.write_text(json.dumps({"Dhcp4": {
            "lease-database": {"type": "memfile", "name": str(path)},
            "control-socket": {"socket-type": "unix", "socket-name": kea.path},
            "subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}]}}))
        keactl("leases", "-c", conf, "del", "192.0.2.20", check=True)
        got = kea.check("lease4-get-all").arguments["leases"]
        assert [l["ip-address"] for l in got] == ["192.0.2.21"]
        keactl(*s, "wipe", "--all", check=True)
        assert kea.call("lease4-get-all").result == 3


def test_db_init_and_version(pg_url, tmp_path):
    assert "created" in keactl("db", "init", pg_url, check=True).stdout
    assert "already has" in keactl("db", "init", pg_url, check=True).stdout
    assert keactl("db", "version", pg_url, check=True).stdout.strip() == "13.0"
    lite = f"sqlite://{tmp_path}/x.db"
    keactl("db", "init", lite, check=True)
    assert keactl("db", "version", lite, check=True).stdout.strip() == "1.0"
    mem = tmp_path / "l6.csv"
    keactl("db", "init", "-6", f"memfile:{mem}", check=True)
    assert mem.read_text() == HEADER[6] + "\n"
    assert keactl("db", "version", f"memfile:{mem}", check=True).stdout.strip() == "4.0"
    assert "no lease schema" in one_line_error(
        keactl("leases", "--db", pg_url.rsplit("/", 1)[0] + "/postgres", "list"))


def test_postgresql_list_through_the_shell(pg_lease_url):
    keactl("leases", "--db", pg_lease_url, "add", "192.0.2.9", "--hw-address", "00:00:00:00:00:09",
           "--subnet-id", "4", check=True)
    got = json.loads(keactl("leases", "--db", pg_lease_url, "list", "--subnet", "4", "--format",
                            "json", check=True).stdout)
    assert [l["ip-address"] for l in got] == ["192.0.2.9"]
