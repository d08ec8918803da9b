"""memfile specifics: Kea's CSV dialect, the LFC file set, crash safety, schema changes."""
import os
import signal
import subprocess
import sys
import time

import pytest

from kea_tools.errors import SourceError
from kea_tools.leases import BackendError, open_backend
from kea_tools.leases.csvfmt import HEADER, escape, kea_json, read_rows, unescape
from kea_tools.leases.lfc import replay, run_lfc, write_lease_file
from kea_tools.leases.memfile import MemfileBackend, file_users
from kea_tools.leases.model import Lease4, Lease6
from tests.conftest import ROOT, require_program

H4 = HEADER[4] + "\n"
# Rows as kea-dhcp4 2.2 wrote them (Kea reference digest, section 1.4).
ROW_A = ("192.0.2.20,1a:1b:1c:1d:1e:1f,01:aa:bb,3600,1795815160,1,1,0,"
         "weird&#x2cname&#x26x.example.,0,"
         "{ \"a\": \"x&#x2cy\\\"q\"&#x2c \"b\": [ 1&#x2c 2 ] }\n")
ROW_B = "192.0.2.21,00:01:02:03:04:05,,100,1700000000,1,0,0,,1,\n"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def loaded(path, family=4):
    db = MemfileBackend(family, str(path), lfc_interval=0, readonly=True)
    return {l.address: l for l in db.iter_leases()}


def test_reads_kea_rows_with_escapes():
    lease_rows = list(read_rows_from_text(H4 + ROW_A + ROW_B))
    a = lease_rows[0]
    assert a.hostname == "weird,name&x.example."
    assert a.user_context == {"a": "x,y\"q", "b": [1, 2]}
    assert (a.hwaddr, a.client_id, a.cltt) == (bytes.fromhex("1a1b1c1d1e1f"), b"\x01\xaa\xbb",
                                               1795815160 - 3600)
    assert lease_rows[1].state == 1


def read_rows_from_text(text, family=4):
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        fh.write(text)
    try:
        return [lease for _, lease in read_rows(fh.name, family, strict=True)]
    finally:
        os.unlink(fh.name)


def test_writes_kea_escaping_and_json_style():
    assert escape("a,b&c") == "a&#x2cb&#x26c"
    assert unescape("a&#x2Cb&#x26c&#xzz") == "a,b&c&#xzz"
    assert kea_json({"b": [1, 2.0], "a": "é\n"}) == '{ "a": "\\u00c3\\u00a9\\n", "b": [ 1, 2.0 ] }'


def test_kea_file_set_order_last_row_wins_and_zero_lifetime_deletes(tmp_path):
    base = tmp_path / "l4.csv"
    write(tmp_path / "l4.csv.2", H4 + ROW_A + ROW_B)
    write(tmp_path / "l4.csv.1", H4 + ROW_B.replace(",100,1700000000,", ",0,1700000000,"))
    readded = ROW_B.replace(",1,\n", ",0,\n").replace("00:01:02:03:04:05", "00:01:02:03:04:06")
    write(base, H4 + readded)
    leases = loaded(base)
    assert leases["192.0.2.21"].hwaddr == bytes.fromhex("000102030406")   # re-added in base
    assert leases["192.0.2.21"].state == 0
    # .completed replaces .2 and .1 entirely.
    write(tmp_path / "l4.csv.completed", H4 + ROW_B)
    assert sorted(loaded(base)) == ["192.0.2.21"]


def test_newer_schema_pool_id_and_older_schema_are_read_then_rewritten(tmp_path):
    newer = tmp_path / "new.csv"
    write(newer, H4.rstrip("\n") + ",pool_id\n" + ROW_B.rstrip("\n") + ",7\n")
    older = tmp_path / "old.csv"
    write(older, ",".join(HEADER[4].split(",")[:9]) + "\n" +
          "10.0.0.1,00:01:02:03:04:05,,100,1700000000,1,0,0,host\n")
    assert loaded(newer)["192.0.2.21"].pool_id == 7
    assert loaded(older)["10.0.0.1"].state == 0
    for path in (newer, older):
        db = MemfileBackend(4, str(path), lfc_interval=0)   # rewrites, as Kea does
        db.wait_lfc()
        db.close()
        assert (path.parent / (path.name + ".2")).read_text().splitlines()[0] == HEADER[4]
        assert path.read_text() == H4
        assert len(loaded(path)) == 1


def test_bad_header_is_a_one_line_source_error(tmp_path):
    bad = write(tmp_path / "bad.csv", "address,hwaddr,oops,valid_lifetime,expire,subnet_id,"
                                      "fqdn_fwd,fqdn_rev,hostname\n")
    with pytest.raises(SourceError) as err:
        loaded(bad)
    assert str(err.value).startswith(f"{bad}:1:")


def test_corrupt_rows_are_skipped_and_counted_or_fatal(tmp_path):
    path = write(tmp_path / "l.csv", H4 + ROW_A + "192.0.2.300,00:01,,1,1,1,0,0,,0,\n" +
                 "192.0.2.5,,,100,200,1,0,0,,0,\n" + ROW_B)
    db = MemfileBackend(4, str(path), lfc_interval=0, readonly=True)
    assert sorted(l.address for l in db.iter_leases()) == ["192.0.2.20", "192.0.2.21"]
    assert [(e.line, "bad lease row" in e.message) for e in db.load_errors] == \
        [(3, True), (4, True)]
    with pytest.raises(SourceError):
        MemfileBackend(4, str(path), lfc_interval=0, readonly=True, max_row_errors=1)
    with pytest.raises(SourceError) as err:
        list(read_rows(path, 4, strict=True))
    assert err.value.line == 3


def test_persist_false_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = open_backend({"type": "memfile", "persist": False}, 4)
    db.add(Lease4("192.0.2.1", b"\x01" * 6))
    db.close()
    assert list(tmp_path.iterdir()) == []


def make_leases(n, start=0):
    return [Lease4(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
                   (i + 1).to_bytes(6, "big"), None, 3600, 1_700_000_000, 1)
            for i in range(start, start + n)]


def test_lfc_compacts_and_kea_lfc_agrees(tmp_path):
    base = tmp_path / "l4.csv"
    db = MemfileBackend(4, str(base), lfc_interval=0)
    db.add_many(make_leases(50))
    for lease in make_leases(20):
        db.update(lease.copy(hostname="renewed"))
    for lease in make_leases(10, 40):
        db.delete(lease.address)
    expected = {l.address: l for l in db.iter_leases()}
    assert db.start_lfc(wait=True)
    db.add(make_leases(1, 100)[0])
    expected.update({l.address: l for l in make_leases(1, 100)})
    db.close()
    assert sorted(os.listdir(tmp_path)) == ["l4.csv", "l4.csv.2"]
    assert len((tmp_path / "l4.csv.2").read_text().splitlines()) == 41   # one row each
    assert loaded(base) == expected

    # Kea's own kea-lfc on the same input yields the same leases.
    require_program("kea-lfc")
    kea = tmp_path / "kea"
    kea.mkdir()
    (kea / "l4.csv.1").write_text((tmp_path / "l4.csv.2").read_text() +
                                  base.read_text().split("\n", 1)[1])
    subprocess.run(["kea-lfc", "-4", "-c", "ignored", "-p", f"{kea}/l4.csv.pid",
                    "-x", f"{kea}/l4.csv.2", "-i", f"{kea}/l4.csv.1",
                    "-o", f"{kea}/l4.csv.output", "-f", f"{kea}/l4.csv.completed"],
                   check=True, timeout=60)
    assert loaded(kea / "l4.csv") == expected


def test_every_intermediate_lfc_file_state_loads_the_same_leases(tmp_path):
    leases = make_leases(30)
    older = {l.address: l for l in leases[:20]}
    newer = {l.address: l.copy(hostname="new") for l in leases[10:]}
    want = {**older, **newer}
    states = {
        "moved aside": {".2": older, ".1": newer},
        "output half written": {".2": older, ".1": newer, ".output": None},
        "completed": {".2": older, ".1": newer, ".completed": want},
        ".2 removed": {".1": newer, ".completed": want},
        "both removed": {".completed": want},
        "done": {".2": want},
    }
    for name, files in states.items():
        d = tmp_path / name.replace(" ", "_")
        d.mkdir()
        for suffix, content in files.items():
            if content is None:
                (d / f"l.csv{suffix}").write_text(H4 + "10.0.0.1,00:0")   # torn write
            else:
                write_lease_file(d / f"l.csv{suffix}", 4, content.values(), fsync=False)
        assert loaded(d / "l.csv") == want, name
        # ... and the next cleanup finishes the job from there.
        assert run_lfc(str(d / "l.csv"), 4) == 0
        assert sorted(p.name for p in d.iterdir()) == ["l.csv.2"], name
        assert replay([d / "l.csv.2"], 4) == want, name


def test_killing_the_cleanup_at_any_moment_loses_nothing(tmp_path):
    base = tmp_path / "l4.csv"
    db = MemfileBackend(4, str(base), lfc_interval=0)
    db.add_many(make_leases(20000))
    db.update(make_leases(1)[0].copy(hostname="latest"))
    want = {l.address: l for l in db.iter_leases()}
    db.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    states = set()
    for delay in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0):
        if not os.path.exists(f"{base}.1") and not os.path.exists(f"{base}.completed"):
            os.rename(base, f"{base}.1")          # the server's half: move the live file aside
            base.write_text(H4)
        proc = subprocess.Popen([sys.executable, "-m", "kea_tools.leases.lfc", "-4", str(base)],
                                env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        states.add(tuple(sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".pid")))
        assert loaded(base) == want, delay
    assert len(states) >= 2          # the kills landed at different steps


def test_lfc_interval_triggers_cleanup_on_write(tmp_path):
    base = tmp_path / "l4.csv"
    db = MemfileBackend(4, str(base), lfc_interval=1)
    db.add(make_leases(1)[0])
    db._last_lfc -= 2                 # pretend the interval has passed
    db.add(make_leases(1, 1)[0])
    db.wait_lfc()
    assert os.path.exists(f"{base}.2")
    db.close()
    assert len(loaded(base)) == 2


def test_write_failure_is_reported_and_undone(tmp_path):
    db = MemfileBackend(4, str(tmp_path / "l.csv"), lfc_interval=0)
    db.add(make_leases(1)[0])
    db._fh.close()                    # the storage goes away under us
    with pytest.raises(BackendError):
        db.add(make_leases(1, 1)[0])
    assert len(db) == 1
    db._fh = None


def test_file_users_finds_a_process_holding_the_file(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text(H4)
    holder = subprocess.Popen([sys.executable, "-c",
                               f"f = open({str(path)!r}, 'a'); import time; time.sleep(30)"])
    try:
        deadline = time.monotonic() + 5
        while holder.pid not in file_users(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert holder.pid in file_users(path)
    finally:
        holder.kill()
        holder.wait()


def test_v6_declined_lease_gets_kea_empty_duid(tmp_path):
    db = MemfileBackend(6, str(tmp_path / "l6.csv"), lfc_interval=0)
    db.add(Lease6("2001:db8::1", None, 1, state=1, valid_lft=10, cltt=5))
    db.close()
    assert (tmp_path / "l6.csv").read_text().splitlines()[1].startswith("2001:db8::1,00,10,15,")


def test_take_leases_hands_memory_to_the_owner_and_keeps_journaling(tmp_path):
    """The server's lease table keeps every lease itself: after take_leases() the
    memfile holds none in memory, but every write still lands in the file."""
    from kea_tools.leases import open_backend
    from kea_tools.leases.model import Lease4
    path = tmp_path / "leases4.csv"
    backend = open_backend(f"memfile:{path}", 4)
    backend.add(Lease4("192.0.2.1", b"\x01" * 6, None, 3600, 1_700_000_000, 1))
    backend.add(Lease4("192.0.2.2", b"\x02" * 6, None, 3600, 1_700_000_000, 1))
    taken = backend.take_leases()
    assert sorted(lease.address for lease in taken) == ["192.0.2.1", "192.0.2.2"]
    assert list(backend.iter_leases()) == []
    with backend.batch():
        backend.put(taken[0].copy(hostname="renewed"))
        backend.delete(taken[1])
        backend.add(Lease4("192.0.2.3", b"\x03" * 6, None, 3600, 1_700_000_000, 1))
    with pytest.raises(BackendError, match="owned by a server"):
        backend.delete("192.0.2.1")
    backend.close()
    reread = {lease.address: lease for lease in open_backend(f"memfile:{path}", 4).iter_leases()}
    assert sorted(reread) == ["192.0.2.1", "192.0.2.3"]
    assert reread["192.0.2.1"].hostname == "renewed"


def test_take_leases_keeps_a_memory_only_database():
    """persist=false: memory is the only storage, so handing the leases to an owner
    must not empty it."""
    from kea_tools.leases import open_backend
    from kea_tools.leases.model import Lease4
    backend = open_backend("memfile:", 4)
    backend.add(Lease4("192.0.2.1", b"\x01" * 6, None, 3600, 1_700_000_000, 1))
    assert [lease.address for lease in backend.take_leases()] == ["192.0.2.1"]
    assert backend.get("192.0.2.1") is not None
    backend.delete("192.0.2.1")
    assert backend.get("192.0.2.1") is None
