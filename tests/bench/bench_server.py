#!/usr/bin/env python3
"""keactl serve vs Kea 2.2 under real perfdhcp, in network namespaces.

    python tests/bench/bench_server.py [--rates 2000,5000,9000] [--duration 30]
                                       [--backend memfile|sqlite|postgresql] [--only keactl]

For each offered rate both servers (same Kea config, memfile by default) are
started in a server namespace and perfdhcp runs in a client namespace joined by
a veth; the table shows DORA/s achieved and drops for each, and their ratio.
Needs root, perfdhcp and kea-dhcp4 (Debian kea-dhcp4-server). Everything runs in
namespaces this script creates and removes.
"""
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.perfdhcp_bench import PERF_EXTRA, arguments, print_table, run_rates  # noqa: E402
from tests.e2e.netns import NetLab  # noqa: E402
# A /8: 30 s at 9,000/s needs 270,000 addresses (perfdhcp clients never repeat).
POOL = ("10.1.0.0", "10.255.255.250")


def dhcp4_config(tmp, backend):
    db = {"type": "memfile", "name": str(tmp / "leases4.csv"), "lfc-interval": 0}
    if backend == "sqlite":
        db = {"type": "sqlite", "name": str(tmp / "leases4.db")}
    elif backend == "postgresql":
        db = {"type": "postgresql", "name": os.environ.get("BENCH_PGDB", "keactl_bench"),
              "host": "127.0.0.1", "user": "postgres"}
    return {
        "interfaces-config": {"interfaces": ["s0"], "dhcp-socket-type": "udp"},
        "lease-database": db,
        "valid-lifetime": 4000,
        "subnet4": [{"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": f"{POOL[0]} - {POOL[1]}"}],
                     "option-data": [{"name": "routers", "data": "10.0.0.1"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }


def pg_bridge(lab, srv):
    """Reach the host's PostgreSQL (127.0.0.1:5432) from the server namespace's own
    loopback through a UNIX socket (socat on both sides): database traffic only,
    no host interface is touched. Creates the scratch database and its schema."""
    import subprocess
    from kea_tools.leases import parse_spec
    from kea_tools.leases.pgsql import init_schema
    db = os.environ.get("BENCH_PGDB", "keactl_bench")
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c",
                    f"DROP DATABASE IF EXISTS {db}", "-c", f"CREATE DATABASE {db}"], check=True)
    init_schema(parse_spec(f"postgresql://postgres@127.0.0.1/{db}"))
    sock = lab.tmp / "pg.sock"
    host = subprocess.Popen(["socat", f"UNIX-LISTEN:{sock},fork", "TCP:127.0.0.1:5432"])
    time.sleep(0.5)
    srv.popen(["socat", "TCP-LISTEN:5432,bind=127.0.0.1,reuseaddr,fork",
               f"UNIX-CONNECT:{sock}"], name="socat")
    time.sleep(0.5)
    return host


def start(lab, ns, which, tmp, backend):
    tmp.mkdir(parents=True, exist_ok=True)
    conf = dhcp4_config(tmp, backend)
    path = tmp / "dhcp4.json"
    path.write_text(json.dumps({"Dhcp4": conf}))
    if which == "kea":
        env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp), KEA_LOCKFILE_DIR=str(tmp))
        proc = ns.popen(["kea-dhcp4", "-c", str(path)], env=env, name="kea")
    else:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = ns.popen([sys.executable, "-m", "kea_tools.server", "-c", str(path)], env=env,
                        name="keactl")
    time.sleep(2.0 if which == "keactl" else 1.0)
    if proc.poll() is not None:
        raise SystemExit(f"{which} did not start: {proc.stderr()[-1500:]}")
    return proc


def perf(ns, rate, duration):
    return ns.run(["perfdhcp", "-4", *PERF_EXTRA, "-r", str(rate), "-p", str(duration),
                   "-R", "1000000", "-l", "10.0.0.2", "10.0.0.1"], check=False,
                  timeout=duration + 60).stdout


def main():
    args = arguments(__doc__.splitlines()[0], "2000,5000,9000")
    bridge = None
    with NetLab() as lab:
        srv, cli = lab.namespace("srv"), lab.namespace("cli")
        if args.backend == "postgresql":
            bridge = pg_bridge(lab, srv)
        lab.veth(srv, "s0", cli, "c0")
        srv.add_address("s0", "10.0.0.1/8")
        cli.add_address("c0", "10.0.0.2/8")

        def run_one(which, rate):
            proc = start(lab, srv, which, lab.tmp / f"{which}-{rate}", args.backend)
            try:
                return perf(cli, rate, args.duration)
            finally:
                proc.stop()
        rows = run_rates(args, run_one)
    if bridge is not None:
        bridge.terminate()
        bridge.wait(10)
    print_table(args, rows, "DORA", f"{args.backend}, {args.duration} s per run, "
                                    "perfdhcp 2.2 in a namespace")


if __name__ == "__main__":
    main()
