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
import argparse
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tabulate import tabulate  # noqa: E402

from tests.e2e.netns import NetLab  # noqa: E402

PERF_EXTRA = os.environ.get("BENCH_PERFDHCP_ARGS", "").split()


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
    out = ns.run(["perfdhcp", "-6", *mode, *PERF_EXTRA, "-r", str(rate), "-p", str(duration),
                  "-R", "1000000", "-l", "c0", "all"], check=False, timeout=duration + 60).stdout
    sent = [int(x) for x in re.findall(r"sent packets: (\d+)", out)]
    recv = [int(x) for x in re.findall(r"received packets: (\d+)", out)]
    rate_m = re.search(r"Rate: ([\d.]+) 4-way", out)
    achieved = float(rate_m.group(1)) if rate_m else 0.0
    drops = 100.0 * (1 - (recv[1] / sent[0])) if len(recv) > 1 and sent and sent[0] else 100.0
    return achieved, drops, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="1000,3000,5000")
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--backend", default="memfile", choices=("memfile", "sqlite", "postgresql"))
    ap.add_argument("--only", choices=("keactl", "kea"))
    ap.add_argument("--pd", action="store_true", help="delegate prefixes instead of addresses")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    rates = [int(r) for r in args.rates.split(",")]
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    servers = [args.only] if args.only else ["keactl", "kea"]
    rows = []
    with NetLab() as lab:
        srv, cli = lab.namespace("srv"), lab.namespace("cli")
        lab.veth(srv, "s0", cli, "c0")
        srv.add_address("s0", "2001:db8:1::1/64")
        cli.link_local("c0")
        srv.link_local("s0")
        for rate in rates:
            row = [rate]
            for which in servers:
                tmp = lab.tmp / f"{which}-{rate}"
                proc = start(srv, which, tmp, args.backend)
                achieved, drops, out = perf(cli, rate, args.duration, args.pd)
                proc.stop()
                if args.verbose:
                    print(out)
                row += [f"{achieved:.0f}", f"{drops:.2f}%"]
            if len(servers) == 2:
                row.append(f"{float(row[1]) / max(float(row[3]), 1):.2f}")
            rows.append(row)
            print(f"rate {rate}: {row[1:]}", flush=True)
    headers = ["offered SARR/s"]
    for which in servers:
        headers += [f"{which} SARR/s", f"{which} drops"]
    if len(servers) == 2:
        headers.append("keactl/kea")
    what = "IA_PD" if args.pd else "IA_NA"
    print(f"\n{args.backend}, {what}, {args.duration} s per run, perfdhcp 2.2 -6 in a namespace:\n")
    print(tabulate(rows, headers, tablefmt="github"))


if __name__ == "__main__":
    main()
