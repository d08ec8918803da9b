"""Benchmarks for keactl migrate (run as a script; not collected by pytest).

    python tests/bench/bench_migrate.py [--leases N] [--hosts N] [--subnets N]

1. dhcpd.conf with 500 subnets and 20,000 hosts -> Kea JSON (target < 5 s).
2. a dhcpd.leases journal of 1,000,000 lease entries -> memfile (target < 60 s)
   and the same file parsed by the isc-dhcp-leases library (target: >= 3x faster;
   skipped when the library is not installed).
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def make_conf(path, subnets=500, hosts=20000):
    out = ["default-lease-time 3600;", "max-lease-time 7200;", "authoritative;",
           "option domain-name-servers 10.0.0.1, 10.0.0.2;"]
    for i in range(subnets):
        a, b = divmod(i, 256)
        out.append(f"subnet 10.{a}.{b}.0 netmask 255.255.255.0 {{\n  option routers 10.{a}.{b}.1;\n"
                   f"  pool {{ range 10.{a}.{b}.10 10.{a}.{b}.200; }}\n}}")
    for h in range(hosts):
        s = h % subnets
        a, b = divmod(s, 256)
        mac = ":".join(f"{(h >> (8 * k)) & 255:02x}" for k in range(6))
        out.append(f"host h{h} {{ hardware ethernet {mac}; "
                   f"fixed-address 10.{a}.{b}.{201 + (h // subnets) % 50}; }}")
    Path(path).write_text("\n".join(out) + "\n")


def make_leases(path, count=1_000_000):
    """A dhcpd.leases journal in ISC 4.4's writer layout (server/db.c): ``count``
    distinct addresses, 240 per /24 subnet, 10% of them free."""
    with open(path, "w") as fh:
        fh.write("# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
                 "# This lease file was written by isc-dhcp-4.4.3-P1\n\n"
                 "# authoring-byte-order entry is generated, DO NOT DELETE\n"
                 "authoring-byte-order little-endian;\n\n")
        for i in range(count):
            s, host = divmod(i, 240)
            a, b = divmod(s, 256)
            mac = ":".join(f"{(i >> (8 * k)) & 255:02x}" for k in range(6))
            state = "active" if i % 10 else "free"
            fh.write(f"lease 10.{a}.{b}.{10 + host} {{\n  starts 4 2026/11/26 10:{i % 60:02d}:00;\n"
                     f"  ends 6 2099/11/28 10:{i % 60:02d}:00;\n  cltt 4 2026/11/26 10:{i % 60:02d}:00;\n"
                     f"  binding state {state};\n  next binding state free;\n  rewind binding state free;\n"
                     f"  hardware ethernet {mac};\n  uid \"\\001{mac[:2]}\";\n"
                     f"  client-hostname \"host{i}\";\n}}\n")


def bench_conf(tmp, subnets, hosts):
    from kea_tools.migrate.convert import Converter
    from kea_tools.migrate.emit import render
    conf = os.path.join(tmp, "big.conf")
    make_conf(conf, subnets, hosts)
    t = time.perf_counter()
    cpu = time.process_time()
    result = Converter(4).convert_file(conf)
    text = render(result.doc)
    took = time.perf_counter() - t
    print(f"migrate dhcpd.conf ({subnets} subnets, {hosts} hosts): {took:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU "
          f"({len(text) // 1024} KiB out, {len(result.issues)} issues) target < 5 s")
    return took


def bench_leases(tmp, count):
    from kea_tools.leases import open_backend
    from kea_tools.migrate.convert import Converter
    from kea_tools.migrate.emit import plain
    from kea_tools.migrate.leases_import import import_isc_leases
    conf = os.path.join(tmp, "leases.conf")
    make_conf(conf, subnets=(count + 239) // 240, hosts=0)
    leases = os.path.join(tmp, "dhcpd.leases")
    make_leases(leases, count)
    config = plain(Converter(4).convert_file(conf).doc)
    csv = os.path.join(tmp, "kea-leases4.csv")
    t = time.perf_counter()
    cpu = time.process_time()
    backend = open_backend(f"memfile:{csv}", 4, append_only=True)
    summary = import_isc_leases(leases, backend, config=config)
    backend.close()
    ours = time.perf_counter() - t
    print(f"import {count} lease entries into memfile: {ours:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU ({summary.imported} imported) target < 60 s")
    t = time.perf_counter()
    _fam, parsed, _info = __import__("kea_tools.migrate.leases_import", fromlist=["x"]).parse_leases(
        open(leases, encoding="latin-1").read())
    parse_only = time.perf_counter() - t
    print(f"  parse only (keactl): {parse_only:.2f} s")
    try:
        from isc_dhcp_leases import IscDhcpLeases
    except ImportError:
        print("isc-dhcp-leases not installed: comparison skipped (pip install isc_dhcp_leases)")
        return ours, None
    t = time.perf_counter()
    theirs_n = len(IscDhcpLeases(leases).get())
    theirs = time.perf_counter() - t
    print(f"isc-dhcp-leases parses the same file: {theirs:.2f} s ({theirs_n} leases); "
          f"keactl full import is {theirs / ours:.1f}x faster (target >= 3x)")
    return ours, theirs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leases", type=int, default=1_000_000)
    ap.add_argument("--subnets", type=int, default=500)
    ap.add_argument("--hosts", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_conf(tmp, args.subnets, args.hosts)
        bench_leases(tmp, args.leases)


if __name__ == "__main__":
    main()
