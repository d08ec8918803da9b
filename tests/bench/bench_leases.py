"""Lease back-end benchmarks (not collected by pytest; run as a script).

    python tests/bench/bench_leases.py [--leases 1000000] [--writes 100000]
                                       [--skip-kea] [--skip-pg] [--workdir DIR]

Measures, on this machine:
- batched write throughput of memfile, sqlite and postgresql (add_many, and
  writes grouped 100 per batch() as the server does);
- loading a memfile of --leases leases, and Kea 2.2 (kea-dhcp4, no interfaces,
  lease_cmds) loading the same file: seconds from start until its control socket
  answers, and the ratio;
- the resident memory of a process holding those leases in a memfile back end;
- ``keactl leases list --limit 50`` against sqlite and postgresql holding them.
PostgreSQL uses a scratch database on 127.0.0.1:5432, dropped afterwards; every
Kea process started is stopped.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kea_tools.leases import open_backend, parse_spec  # noqa: E402
from kea_tools.leases.lfc import write_lease_file  # noqa: E402
from kea_tools.leases.model import Lease4  # noqa: E402

BASE_CLTT = 1_795_000_000


def make_leases(count, start=0):
    """Synthetic v4 leases: 10.x.y.z, one subnet per /16, half with a client-id."""
    out = []
    for i in range(start, start + count):
        mac = (0x020000000000 + i).to_bytes(6, "big")
        out.append(Lease4(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", mac,
                          b"\x01" + mac if i % 2 else None, 3600, BASE_CLTT + i % 1000,
                          1 + (i >> 16), hostname=f"host-{i}.example." if i % 3 == 0 else ""))
    return out


def write_throughput(url, count):
    db = open_backend(url, 4)
    try:
        leases = make_leases(count)
        started = time.perf_counter()
        db.add_many(leases)
        bulk = count / (time.perf_counter() - started)
        leases = make_leases(count, count)
        started = time.perf_counter()
        for i in range(0, count, 100):
            with db.batch():
                for lease in leases[i:i + 100]:
                    db.add(lease)
        grouped = count / (time.perf_counter() - started)
    finally:
        db.close()
    return bulk, grouped


def kea_load_seconds(lease_file, count, workdir):
    """Seconds until kea-dhcp4 answers on its control socket with ``lease_file`` loaded."""
    sock = os.path.join(workdir, "kea.sock")
    subnets = [{"id": sid, "subnet": f"10.{sid - 1}.0.0/16"}
               for sid in range(1, ((count - 1) >> 16) + 2)]
    conf = {"Dhcp4": {
        "interfaces-config": {"interfaces": []},
        "control-socket": {"socket-type": "unix", "socket-name": sock},
        "lease-database": {"type": "memfile", "name": str(lease_file), "lfc-interval": 0},
        "hooks-libraries": [{"library":
                             "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so"}],
        "subnet4": subnets,
        "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                     "output_options": [{"output": os.path.join(workdir, "kea.log")}]}]}}
    conf_path = os.path.join(workdir, "kea.json")
    Path(conf_path).write_text(json.dumps(conf))
    env = dict(os.environ, KEA_PIDFILE_DIR=workdir, KEA_LOCKFILE_DIR=workdir)
    from kea_tools.leases.ctrl import ControlClient, ControlError
    client = ControlClient(sock, timeout=600)
    started = time.perf_counter()
    proc = subprocess.Popen(["kea-dhcp4", "-c", conf_path], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kea-dhcp4 exited with {proc.returncode}")
            try:
                client.call("version-get")
                break
            except ControlError:
                time.sleep(0.02)
        elapsed = time.perf_counter() - started
        stats = client.call("statistic-get", {"name": "subnet[1].assigned-addresses"})
        return elapsed, stats.arguments
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from kea_tools.leases.memfile import MemfileBackend
started = time.perf_counter()
db = MemfileBackend(4, {path!r}, lfc_interval=0)
elapsed = time.perf_counter() - started
rss = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))
print(len(db), elapsed, rss // 1024)
db.close()
"""


def memfile_load(path):
    """(leases, seconds, RSS MB) of a fresh process opening the memfile back end."""
    out = subprocess.run([sys.executable, "-c", _HOLDER.format(root=str(ROOT), path=str(path))],
                         capture_output=True, text=True, check=True, timeout=600)
    count, seconds, rss = out.stdout.split()
    return int(count), float(seconds), int(rss)


def list_seconds(url):
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kea_tools", "leases", "--db", url, "list",
                           "--limit", "50"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 or proc.stdout.count("\n") < 52:
        raise RuntimeError(f"list failed: {proc.stderr.strip()}")
    return elapsed


def fill(url, count, chunk=50_000):
    db = open_backend(url, 4)
    started = time.perf_counter()
    try:
        for i in range(0, count, chunk):
            db.add_many(make_leases(min(chunk, count - i), i))
    finally:
        db.close()
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leases", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=100_000)
    parser.add_argument("--skip-kea", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="keactl-bench-")
    os.makedirs(workdir, exist_ok=True)
    results = []

    def report(name, value):
        results.append((name, value))
        print(f"{name:<55} {value}", flush=True)

    pg_db = None
    try:
        if not args.skip_pg:
            from tests.leases.pg import scratch_database, url_for
            from kea_tools.leases.pgsql import init_schema
            pg_db = scratch_database()
            pg_url = url_for(pg_db.__enter__())
            init_schema(parse_spec(pg_url))
        urls = {"memfile": f"memfile:{workdir}/w4.csv?lfc-interval=0",
                "sqlite": f"sqlite://{workdir}/w.db"}
        if pg_db:
            urls["postgresql"] = pg_url
        for kind, url in urls.items():
            bulk, grouped = write_throughput(url, args.writes)
            report(f"{kind}: add_many, leases/s", f"{bulk:,.0f}")
            report(f"{kind}: batch() of 100 adds, leases/s", f"{grouped:,.0f}")
            if kind == "postgresql":
                db = open_backend(url, 4)
                db.wipe()
                db.close()

        big = Path(workdir) / "big4.csv"
        write_lease_file(big, 4, make_leases(args.leases), fsync=False)
        count, seconds, rss = memfile_load(big)
        report(f"memfile: load {count:,} leases, s", f"{seconds:.2f}")
        report(f"memfile: RSS holding {count:,} leases, MB", rss)
        if not args.skip_kea and shutil.which("kea-dhcp4"):
            kea_dir = tempfile.mkdtemp(prefix="kea-", dir=workdir)
            kea_copy = Path(kea_dir) / "kea4.csv"
            shutil.copy(big, kea_copy)
            kea_seconds, _ = kea_load_seconds(kea_copy, args.leases, kea_dir)
            report(f"Kea 2.2 kea-dhcp4: start with {args.leases:,} leases, s",
                   f"{kea_seconds:.2f}")
            report("keactl / Kea load-time ratio", f"{seconds / kea_seconds:.2f}")

        lite = f"sqlite://{workdir}/big.db"
        report(f"sqlite: fill {args.leases:,} (add_many 50k chunks), leases/s",
               f"{fill(lite, args.leases):,.0f}")
        report("sqlite: keactl leases list --limit 50, s", f"{list_seconds(lite):.2f}")
        if pg_db:
            report(f"postgresql: fill {args.leases:,} (add_many 50k chunks), leases/s",
                   f"{fill(pg_url, args.leases):,.0f}")
            report("postgresql: keactl leases list --limit 50, s",
                   f"{list_seconds(pg_url):.2f}")
    finally:
        if pg_db:
            pg_db.__exit__(None, None, None)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
