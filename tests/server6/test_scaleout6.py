"""Scale-out: two DHCPv6 servers on one PostgreSQL lease database, each loaded
by its own perfdhcp -6 (IA_NA and IA_PD), never lease the same address or
prefix to two DUIDs.

Each server has its own pair of namespaces (server, client) joined by a veth;
both reach PostgreSQL through its UNIX socket directory, which the namespaces
share with the host's file system. The pools are smaller than the two client
populations together, so the servers must race for the last addresses and
prefixes; tshark on each server link records every REPLY.
"""
import json
import signal
import time

import pytest

from tests.conftest import require_program
from tests.e2e.netns import netlab, tshark_capture  # noqa: F401  (fixture)
from tests.leases.pg import HOST, USER, pg_lease_url, pg_url  # noqa: F401  (fixtures)
from tests.server6.test_durability6 import PG_SOCKET_DIR, replied_on_wire, start

pytestmark = [pytest.mark.e2e, pytest.mark.pg]

CLIENTS = 200  # per perfdhcp; 2 x 200 clients for 255 addresses and 256 prefixes


def config(tmp, dbname):
    path = tmp / "scale6.json"
    path.write_text(json.dumps({"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl6.sock")},
        "lease-database": {"type": "postgresql", "name": dbname, "host": PG_SOCKET_DIR,
                           "user": USER},
        "data-directory": str(tmp),
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{
            "id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
            "pools": [{"pool": "2001:db8:1::1:1 - 2001:db8:1::1:ff"}],
            "pd-pools": [{"prefix": "2001:db8:100::", "prefix-len": 48, "delegated-len": 56}],
        }],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": str(tmp / "server6.log")}]}],
    }}, indent=1))
    return path


def test_two_v6_servers_one_postgresql_database(netlab, pg_lease_url):  # noqa: F811
    require_program("perfdhcp", "tshark")
    dbname = pg_lease_url.rsplit("/", 1)[1]
    sites = []
    for n in range(2):
        srv, cli = netlab.namespace(f"srv{n}"), netlab.namespace(f"cli{n}")
        netlab.veth(srv, "s0", cli, "c0")
        srv.add_address("s0", "2001:db8:1::1/64")
        tmp = netlab.tmp / f"site{n}"
        tmp.mkdir()
        server = start(srv, config(tmp, dbname), tmp)
        cap = tshark_capture(srv, "s0", tmp / "replies.pcap", capture_filter="udp src port 547")
        cli.link_local("c0")
        sites.append((srv, cli, tmp, server, cap))
    # Distinct base MACs: perfdhcp writes client k's MAC into the DUID's last
    # six bytes, so the two populations never share a DUID.
    perfs = [cli.popen(["perfdhcp", "-6", "-r", str(CLIENTS), "-p", "3", "-R", str(CLIENTS),
                        "-e", "address-and-prefix", "-b", f"mac=02:0{n}:00:00:00:00",
                        "-l", "c0", "all"], name=f"perfdhcp6-{n}")
             for n, (_, cli, _, _, _) in enumerate(sites)]
    for perf in perfs:
        perf.wait(60)
    time.sleep(0.5)
    seen = {}
    for srv, cli, tmp, server, cap in sites:
        assert server.poll() is None, server.stderr()[-2000:]
        server.stop()
        cap.stop(signal.SIGINT)
        for key, holder in replied_on_wire(tmp / "replies.pcap").items():
            seen.setdefault(key, set()).add(holder)
    for kind, pool_size in (("IA_NA", 255), ("IA_PD", 256)):
        handed = [k for k in seen if k[0] == kind]
        # Most of the pool went out, so the two servers did compete for it.
        assert len(handed) > pool_size * 0.9, f"only {len(handed)} {kind} in REPLYs"
    shared = {k: v for k, v in seen.items() if len(v) > 1}
    assert not shared, f"leased to two clients: {list(shared.items())[:3]}"
    import psycopg2
    conn = psycopg2.connect(host=HOST, user=USER, dbname=dbname)
    with conn.cursor() as cur:
        cur.execute("SELECT lease_type, count(*), count(DISTINCT (duid, iaid)) FROM lease6 "
                    "GROUP BY lease_type ORDER BY lease_type")
        rows = cur.fetchall()
        cur.execute("SELECT address, duid FROM lease6")
        stored = {(addr, bytes(d).hex()) for addr, d in cur.fetchall()}
    conn.close()
    # One lease per client and IA type, and every replied lease is the stored one.
    assert all(total == clients for _, total, clients in rows), rows
    assert sum(total for _, total, _ in rows) >= len(seen)
    missing = [(k, v) for k, v in seen.items()
               if (k[1], next(iter(v))[0]) not in stored]
    assert not missing, f"replied but not stored as replied: {missing[:3]}"
