"""What bench_server.py and bench_server6.py share: their command line, reading
perfdhcp's report, and the side-by-side table of keactl and Kea at each rate."""
import argparse
import os
import re
import signal
import sys

from tabulate import tabulate

# Extra perfdhcp arguments for every run (e.g. BENCH_PERFDHCP_ARGS="-t 5").
PERF_EXTRA = os.environ.get("BENCH_PERFDHCP_ARGS", "").split()


def arguments(description, default_rates, pd=False):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--rates", default=default_rates)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--backend", default="memfile", choices=("memfile", "sqlite", "postgresql"))
    ap.add_argument("--only", choices=("keactl", "kea"))
    if pd:
        ap.add_argument("--pd", action="store_true", help="delegate prefixes instead of addresses")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces)")
    # SIGTERM unwinds like Ctrl-C, so the namespaces and daemons are removed.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    args.rates = [int(r) for r in args.rates.split(",")]
    args.servers = [args.only] if args.only else ["keactl", "kea"]
    return args


def perfdhcp_result(out):
    """(exchanges/s achieved, % of first requests without a final answer) from
    perfdhcp's report."""
    sent = [int(x) for x in re.findall(r"sent packets: (\d+)", out)]
    recv = [int(x) for x in re.findall(r"received packets: (\d+)", out)]
    rate = re.search(r"Rate: ([\d.]+) 4-way", out)
    achieved = float(rate.group(1)) if rate else 0.0
    drops = 100.0 * (1 - recv[1] / sent[0]) if len(recv) > 1 and sent and sent[0] else 100.0
    return achieved, drops


def run_rates(args, run_one):
    """For each rate and server, ``run_one(which, rate)`` -> perfdhcp's output;
    returns the table rows (rate, achieved and drops per server, ratio)."""
    rows = []
    for rate in args.rates:
        row = [rate]
        for which in args.servers:
            out = run_one(which, rate)
            if args.verbose:
                print(out)
            achieved, drops = perfdhcp_result(out)
            row += [f"{achieved:.0f}", f"{drops:.2f}%"]
        if len(args.servers) == 2:
            row.append(f"{float(row[1]) / max(float(row[3]), 1):.2f}")
        rows.append(row)
        print(f"rate {rate}: {row[1:]}", flush=True)
    return rows


def print_table(args, rows, unit, title):
    headers = [f"offered {unit}/s"]
    for which in args.servers:
        headers += [f"{which} {unit}/s", f"{which} drops"]
    if len(args.servers) == 2:
        headers.append("keactl/kea")
    print(f"\n{title}:\n")
    print(tabulate(rows, headers, tablefmt="github"))
