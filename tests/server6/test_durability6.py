"""Durability of the DHCPv6 server: kill -9 while perfdhcp -6 runs at 2,000/s.

tshark in the server namespace records every REPLY that left the server; after
the kill and a restart on the same lease database, every address and prefix
such a REPLY carried (IA_NA and IA_PD, perfdhcp ``-e address-and-prefix``) is
still leased to the same DUID and IAID. Group commit promises exactly that: a
reply never leaves before its lease is on storage. Both the memfile (Kea's
leases6 CSV, whose last line the kill may cut short) and PostgreSQL back ends.

The server namespace reaches PostgreSQL through its UNIX socket directory:
UNIX sockets live in the file system, which ``ip netns exec`` shares with the
host, so no host interface carries anything.
"""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_program
from tests.e2e.netns import netlab, tshark_capture, two_hosts  # noqa: F401
from tests.leases.pg import USER, pg_lease_url, pg_url  # noqa: F401  (fixtures)
from tests.server6.test_e2e6 import command

ROOT = Path(__file__).resolve().parents[2]
PG_SOCKET_DIR = "/var/run/postgresql"
REPLY = 7

pytestmark = pytest.mark.e2e


def load_config(tmp, lease_database):
    """Long lifetimes (nothing expires during the test), pools far larger than
    the ~6,000 clients perfdhcp makes in 3 s, and no per-packet logging."""
    path = tmp / "durable6.json"
    path.write_text(json.dumps({"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl6.sock")},
        "lease-database": lease_database,
        "data-directory": str(tmp),
        "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}],
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "renew-timer": 1000, "rebind-timer": 2000,
        "subnet6": [{
            "id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
            "pools": [{"pool": "2001:db8:1::1:0 - 2001:db8:1::ffff:ffff"}],
            "pd-pools": [{"prefix": "2001:db8:100::", "prefix-len": 40, "delegated-len": 64}],
        }],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": str(tmp / "server6.log")}]}],
    }}, indent=1))
    return path


def start(ns, conf, tmp):
    """Start the server; returns once its control socket answers."""
    sock = tmp / "ctl6.sock"
    sock.unlink(missing_ok=True)  # a killed server leaves it behind
    proc = ns.popen([sys.executable, "-m", "kea_tools.server", "-c", conf], name="keactl6")

    def answering():
        try:
            return command(None, sock, "version-get")["result"] == 0
        except OSError:
            return False
    proc.wait_for(answering, 30, "the control socket")
    return proc


def replied_on_wire(pcap):
    """{(lease type, address or prefix): (DUID hex, IAID)} from every REPLY in
    ``pcap``, decoded by tshark (not by our codec).

    tshark lists the fields of one packet in wire order; the option-type list
    tells which DUID is the client's (option 1) and which IAID belongs to which
    IA (3 or 25), and every IAADDR / IAPREFIX follows its IA.
    """
    out = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-Y", f"dhcpv6.msgtype == {REPLY}", "-T", "fields",
         "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=;",
         "-e", "dhcpv6.option.type", "-e", "dhcpv6.duid.bytes", "-e", "dhcpv6.iaid",
         "-e", "dhcpv6.iaaddr.ip", "-e", "dhcpv6.iaprefix.pref_addr",
         "-e", "dhcpv6.iaprefix.pref_len"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    replied = {}
    for line in out.splitlines():
        types, duids, iaids, addrs, prefixes, plens = (
            [x for x in f.split(";") if x] for f in line.split("\t"))
        duids, iaids, addrs = iter(duids), iter(iaids), iter(addrs)
        prefixes, plens = iter(prefixes), iter(plens)
        client, iaid, pending = None, None, []
        for code in map(int, types):
            if code in (1, 2):
                duid = next(duids).replace(":", "")
                client = duid if code == 1 else client
            elif code in (3, 25):
                iaid = int(next(iaids).replace(":", ""), 16)  # shown as hex bytes
            elif code == 5:
                pending.append(("IA_NA", next(addrs), iaid))
            elif code == 26:
                next(plens)
                pending.append(("IA_PD", next(prefixes), iaid))
        for kind, address, ia in pending:
            replied[(kind, address)] = (client, ia)
    return replied


def kill_under_load(two_hosts, lease_database):
    """Run perfdhcp -6 at 2,000 SARR/s, kill -9 the server after 3 s, restart it;
    returns (what REPLYs carried, what the restarted server holds)."""
    require_program("perfdhcp", "tshark")
    lab, srv, cli = two_hosts.lab, two_hosts.server, two_hosts.client
    tmp = lab.tmp
    conf = load_config(tmp, lease_database)
    server = start(srv, conf, tmp)
    pcap = tmp / "replies.pcap"
    cap = tshark_capture(srv, "s0", pcap, capture_filter="udp src port 547")
    cli.link_local("c0")
    perf = cli.popen(["perfdhcp", "-6", "-r", "2000", "-R", "1000000", "-p", "30",
                      "-e", "address-and-prefix", "-l", "c0", "all"], name="perfdhcp6")
    time.sleep(3)
    server.popen.send_signal(signal.SIGKILL)
    server.wait(10)
    time.sleep(0.5)
    perf.stop(signal.SIGINT)
    cap.stop(signal.SIGINT)
    replied = replied_on_wire(pcap)
    start(srv, conf, tmp)
    leases = command(None, tmp / "ctl6.sock", "lease6-get-all")["arguments"]["leases"]
    held = {(x["type"], x["ip-address"]): (x["duid"].replace(":", ""), x["iaid"])
            for x in leases}
    return replied, held


def check(replied, held):
    kinds = {kind for kind, _ in replied}
    assert len(replied) > 4000 and kinds == {"IA_NA", "IA_PD"}, \
        f"only {len(replied)} leases in REPLYs ({kinds})"
    lost = {k: v for k, v in replied.items() if held.get(k) != v}
    assert not lost, (f"{len(lost)} of {len(replied)} replied leases lost or changed, e.g. "
                      f"{[(k, v, held.get(k)) for k, v in list(lost.items())[:3]]}")


def test_kill_9_under_load_memfile(two_hosts):
    tmp = two_hosts.lab.tmp
    replied, held = kill_under_load(two_hosts, {
        "type": "memfile", "name": str(tmp / "leases6.csv"), "lfc-interval": 0})
    check(replied, held)


@pytest.mark.pg
def test_kill_9_under_load_postgresql(two_hosts, pg_lease_url):  # noqa: F811
    dbname = pg_lease_url.rsplit("/", 1)[1]
    replied, held = kill_under_load(two_hosts, {
        "type": "postgresql", "name": dbname, "host": PG_SOCKET_DIR, "user": USER})
    check(replied, held)
