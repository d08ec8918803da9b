#!/usr/bin/env python3
"""keactl's DHCPv6 server vs Kea 2.2 (kea-dhcp6) under real perfdhcp -6, in namespaces.

    python tests/bench/bench_server6.py [--rates 1000,3000,5000] [--duration 30]
                                        [--backend memfile|sqlite|postgresql] [--only keactl]
                                        [--pd]

For each offered rate both servers (the same Dhcp6 config, memfile by default)
are started in a server namespace and perfdhcp -6 runs SARR exchanges from a
client namespace joined by a veth (multicast to ff02::1:2 on c0); the table
shows SARR/s achieved and drops for each, and their ratio. ``--pd`` asks for
prefixes (-e prefix-only) instead of addresses. Needs root, perfdhcp and
kea-dhcp6. Everything runs in namespaces this script creates and removes.
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


def dhcp6_config(tmp, backend):
    db = {"type": "memfile", "name": str(tmp / "leases6.csv"), "lfc-interval": 0}
    if backend == "sqlite":
        db = {"type": "sqlite", "name": str(tmp / "leases6.db")}
    elif backend == "postgresql":
        db = {"type": "postgresql", "name": os.environ.get("BENCH_PGDB", "keactl_bench6"),
              "host": "127.0.0.1", "user": "postgres"}
    return {
        "interfaces-config": {"interfaces": ["s0"]},
        "lease-database": db,
        "data-directory": str(tmp),
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "6b6561637c6c",
                      "persist": False},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"}],
        "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
                     "pools": [{"pool": "2001:db8:1::/80"}],
                     "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 33,
                                   "delegated-len": 64}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }


def start(ns, which, tmp, backend):
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "dhcp6.json"
    path.write_text(json.dumps({"Dhcp6": dhcp6_config(tmp, backend)}))
    if which == "kea":
        env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp), KEA_LOCKFILE_DIR=str(tmp))
        proc = ns.popen(["kea-dhcp6", "-c", str(path)], env=env, name="kea6")
    else:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = ns.popen([sys.executable, "-m", "kea_tools.server", "-c", str(path)],
                        env=env, name="keactl6")
    time.sleep(2.0 if which == "keactl" else 1.0)
    if proc.poll() is not None:
        raise SystemExit(f"{which} did not start: {proc.stderr()[-1500:]}")
    return proc


def perf(ns, rate, duration, pd):
    mode = ["-e", "prefix-only"] if pd else []
    return ns.run(["perfdhcp", "-6", *mode, *PERF_EXTRA, "-r", str(rate), "-p", str(duration),
                   "-R", "1000000", "-l", "c0", "all"], check=False,
                  timeout=duration + 60).stdout


def main():
    args = arguments(__doc__.splitlines()[0], "1000,3000,5000", pd=True)
    with NetLab() as lab:
        srv, cli = lab.namespace("srv"), lab.namespace("cli")
        lab.veth(srv, "s0", cli, "c0")
        srv.add_address("s0", "2001:db8:1::1/64")
        cli.link_local("c0")
        srv.link_local("s0")

        def run_one(which, rate):
            proc = start(srv, which, lab.tmp / f"{which}-{rate}", args.backend)
            try:
                return perf(cli, rate, args.duration, args.pd)
            finally:
                proc.stop()
        rows = run_rates(args, run_one)
    what = "IA_PD" if args.pd else "IA_NA"
    print_table(args, rows, "SARR", f"{args.backend}, {what}, {args.duration} s per run, "
                                    "perfdhcp 2.2 -6 in a namespace")


if __name__ == "__main__":
    main()
