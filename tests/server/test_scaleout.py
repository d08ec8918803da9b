"""Scale-out: two keactl servers on one PostgreSQL lease database, each loaded
by its own perfdhcp, never hand the same address to two clients.

Both servers run on loopback (ports 6767 and 6768, replies to perfdhcp's -L
ports via -P) because the database listens on the host's 127.0.0.1.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_program, require_root
from tests.leases.pg import HOST, USER, pg_lease_url, pg_url  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.pg]


def acks(pcap):
    out = subprocess.run(["tshark", "-n", "-r", str(pcap), "-d", "udp.port==6767,dhcp",
                          "-d", "udp.port==6768,dhcp", "-Y", "dhcp.option.dhcp == 5",
                          "-T", "fields", "-e", "dhcp.ip.your", "-e", "dhcp.hw.mac_addr"],
                         capture_output=True, text=True, timeout=120).stdout
    return [tuple(x.split(",")[0] for x in line.split("\t")) for line in out.splitlines()
            if "\t" in line]


def test_two_servers_one_postgresql_database(tmp_path, pg_lease_url):
    require_root()
    require_program("perfdhcp", "tshark")
    dbname = pg_lease_url.rsplit("/", 1)[1]
    procs = []
    pcap = tmp_path / "acks.pcap"
    cap = subprocess.Popen(["tshark", "-q", "-n", "-i", "lo", "-f",
                            "udp src port 6767 or udp src port 6768", "-w", str(pcap)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        for n, (port, reply) in enumerate(((6767, 6867), (6768, 6868))):
            conf = {"Dhcp4": {
                "interfaces-config": {"interfaces": ["lo"]},
                "lease-database": {"type": "postgresql", "name": dbname, "host": HOST,
                                   "user": USER},
                "valid-lifetime": 3600,
                "subnet4": [{"id": 1, "subnet": "127.0.0.0/8",
                             "pools": [{"pool": "127.10.0.1 - 127.10.0.255"}]}],
                "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                             "output_options": [{"output": str(tmp_path / f"srv{n}.log")}]}]}}
            path = tmp_path / f"srv{n}.json"
            path.write_text(json.dumps(conf))
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "kea_tools.server", "-c", str(path), "-p", str(port),
                 "-P", str(reply)], env=env, stderr=subprocess.PIPE, text=True))
        time.sleep(2)
        for p in procs:
            assert p.poll() is None, p.stderr.read()
        # 255 addresses, 2 x 200 clients (distinct MACs): the pool runs out, so
        # the servers must race for the last addresses.
        perfs = [subprocess.Popen(["perfdhcp", "-4", "-r", "200", "-n", "200", "-R", "200",
                                   "-b", f"mac=02:0{i}:00:00:00:00", "-l", "127.0.0.1",
                                   "-L", str(reply), "-N", str(port), "-W", "2000000",
                                   "127.0.0.1"], stdout=subprocess.PIPE, text=True)
                 for i, (port, reply) in enumerate(((6767, 6867), (6768, 6868)))]
        for p in perfs:
            p.wait(120)
        time.sleep(1)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(20)
        cap.send_signal(signal.SIGINT)
        cap.wait(20)
    seen = {}
    for address, mac in acks(pcap):
        seen.setdefault(address, set()).add(mac)
    assert len(seen) > 100, f"only {len(seen)} addresses ACKed"
    shared = {a: m for a, m in seen.items() if len(m) > 1}
    assert not shared, f"addresses ACKed to two clients: {shared}"
    import psycopg2
    conn = psycopg2.connect(host=HOST, user=USER, dbname=dbname)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT hwaddr) FROM lease4")
        rows, macs = cur.fetchone()
    conn.close()
    assert rows == macs and rows >= len(seen)
