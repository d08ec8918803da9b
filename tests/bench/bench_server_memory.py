"""Memory of a server holding N memfile leases: keactl serve beside kea-dhcp4.

    python tests/bench/bench_server_memory.py [--leases 1000000]

Writes a Kea 2.2 leases4 CSV with N active leases (hostnames and client-ids
included), starts each server on it (loopback, unprivileged ports, no traffic),
waits until it has loaded the file and prints its resident set size once started
(VmRSS) and at its peak during loading (VmHWM). Target for keactl: under 600 MB
at 1,000,000 leases.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def write_leases(path, count):
    now = int(time.time())
    base = (10 << 24) | (1 << 16)
    with open(path, "w") as fh:
        fh.write("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,"
                 "fqdn_rev,hostname,state,user_context\n")
        for i in range(count):
            a = base + i
            mac = ":".join(f"{b:02x}" for b in (0x52, 0x54, i >> 24 & 255, i >> 16 & 255,
                                                 i >> 8 & 255, i & 255))
            fh.write(f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255},{mac},01:{mac},"
                     f"86400,{now + 86400},1,0,0,host{i},0,\n")


def config(tmp, leases):
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": ["lo/127.0.0.1"], "dhcp-socket-type": "udp"},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctrl.sock")},
        "lease-database": {"type": "memfile", "name": str(leases), "lfc-interval": 0},
        "subnet4": [{"id": 1, "subnet": "10.0.0.0/8",
                     "pools": [{"pool": "10.1.0.0 - 10.31.255.255"}]}]}}


def assigned(sock_path):
    """subnet[1].assigned-addresses from the server's control socket (0 if not up)."""
    if not sock_path.exists():
        return 0
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(sock_path))
            sock.sendall(json.dumps({"command": "statistic-get", "arguments": {
                "name": "subnet[1].assigned-addresses"}}).encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        samples = json.loads(data)["arguments"]["subnet[1].assigned-addresses"]
        return samples[0][0] if samples else 0
    except (OSError, ValueError, KeyError):
        return 0


def status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def measure(name, argv, ready, env=None, timeout=300):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    started = time.monotonic()
    try:
        while not ready():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}")
            if time.monotonic() - started > timeout:
                raise SystemExit(f"{name} did not load in {timeout} s")
            time.sleep(0.2)
        loaded = time.monotonic() - started
        time.sleep(2)
        rss, hwm = status(proc.pid)
        return loaded, rss, hwm
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=int, default=1_000_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="keactl-mem-"))
    try:
        leases = tmp / "kea-leases4.csv"
        write_leases(leases, args.leases)
        rows = []
        for name in ("keactl", "kea-dhcp4"):
            work = tmp / name
            work.mkdir()
            copy = work / "kea-leases4.csv"
            shutil.copy(leases, copy)
            cfg = work / "kea.json"
            cfg.write_text(json.dumps(config(work, copy)))
            sock = work / "ctrl.sock"
            if name == "keactl":
                argv = [sys.executable, str(ROOT / "bin" / "keactl"), "serve", "-c", str(cfg),
                        "-p", "16767", "-P", "16768"]
                env = None
            else:
                if not shutil.which("kea-dhcp4"):
                    print("kea-dhcp4 not installed: skipped")
                    continue
                cfg.write_text(json.dumps({"Dhcp4": {**config(work, copy)["Dhcp4"], "hooks-libraries": [
                    {"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_stat_cmds.so"}]}}))
                argv = ["kea-dhcp4", "-c", str(cfg), "-p", "16769", "-P", "16770"]
                env = dict(os.environ, KEA_PIDFILE_DIR=str(work), KEA_LOCKFILE_DIR=str(work))
            loaded, rss, hwm = measure(name, argv, lambda: assigned(sock) >= args.leases, env)
            rows.append((name, args.leases, f"{loaded:.1f}", rss, hwm))
        print(f"{'server':<10} {'leases':>9} {'ready s':>8} {'RSS MB':>7} {'peak MB':>8}")
        for row in rows:
            print(f"{row[0]:<10} {row[1]:>9} {row[2]:>8} {row[3]:>7} {row[4]:>8}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
