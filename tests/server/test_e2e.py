"""keactl's DHCPv4 server against real clients in network namespaces.

dhclient, udhcpc and dhcpcd get a lease with router and DNS options, renew it
and release it; a reserved MAC gets its address; relayed traffic (perfdhcp,
which always speaks as a relay) lands in the giaddr's subnet; and the lease
file, read with `keactl leases list`, holds exactly the clients' leases.
"""
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import require_program
from tests.e2e.netns import (DHCPCD_CONF, dhclient, dhclient_release, netlab, perfdhcp,  # noqa: F401
                             read_records, record_script, two_hosts)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def server_config(tmp, reservations=(), **over):
    dhcp4 = {
        "interfaces-config": {"interfaces": ["s0"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl.sock")},
        "lease-database": {"type": "memfile", "name": str(tmp / "leases4.csv"), "lfc-interval": 0},
        "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}],
        "valid-lifetime": 16, "renew-timer": 3, "rebind-timer": 12,
        "option-data": [{"name": "domain-name-servers", "data": "192.0.2.53, 192.0.2.54"},
                        {"name": "domain-name", "data": "e2e.example"}],
        "subnet4": [
            {"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.100 - 192.0.2.199"}],
             "option-data": [{"name": "routers", "data": "192.0.2.1"}],
             "reservations": list(reservations)},
            {"id": 2, "subnet": "198.51.100.0/24",
             "pools": [{"pool": "198.51.100.100 - 198.51.100.199"}],
             "option-data": [{"name": "routers", "data": "198.51.100.1"}]},
        ],
        "loggers": [{"name": "kea-dhcp4", "severity": "DEBUG",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }
    dhcp4.update(over)
    path = tmp / "keactl.json"
    path.write_text(json.dumps({"Dhcp4": dhcp4}, indent=1))
    return path


def start_server(ns, conf):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = ns.popen([sys.executable, "-m", "kea_tools.server", "-c", str(conf)], env=env,
                    name="keactl-serve")
    proc.wait_for(lambda: (conf.parent / "ctl.sock").exists(), 15, "the control socket")
    return proc


def lease_list(conf):
    from kea_tools.leases.cli import leases
    result = CliRunner().invoke(leases, ["-c", str(conf), "list", "--format", "json", "--active"])
    assert result.exit_code == 0, result.output
    return {lease["ip-address"]: lease for lease in json.loads(result.output)}


# dhcpcd keeps state under /var/lib/dhcpcd and /run/dhcpcd: bind private
# directories over both inside the mount namespace `ip netns exec` gives it.
DHCPCD_WRAPPER = """set -e
mkdir -p /run/dhcpcd
mount --bind '{db}' /var/lib/dhcpcd
mount --bind '{run}' /run/dhcpcd
exec "$@"
"""


def run_dhcpcd(ns, tmp):
    """dhcpcd in the foreground (-B), staying up to renew, releasing on exit."""
    require_program("dhcpcd")
    d = tmp / "dhcpcd-run"
    for sub in ("db", "run"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    script, log = record_script(d)
    (d / "dhcpcd.conf").write_text(DHCPCD_CONF + "release\n")
    argv = ["sh", "-c", DHCPCD_WRAPPER.format(db=d / "db", run=d / "run"), "dhcpcd", "dhcpcd",
            "-B", "-4", "-f", str(d / "dhcpcd.conf"), "-c", str(script), "c0"]
    return ns.popen(argv, name="dhcpcd"), log


def last(log, reasons):
    return [r for r in read_records(log) if r["@reason"] in reasons][-1]


def test_dhclient_udhcpc_dhcpcd_lease_renew_release(two_hosts):
    require_program("dhclient", "udhcpc", "dhcpcd")
    lab, srv, cli = two_hosts.lab, two_hosts.server, two_hosts.client
    conf = server_config(lab.tmp)
    server = start_server(srv, conf)

    # dhclient: lease with router and DNS, a renewal after T1, then a release.
    proc, log = dhclient(cli, "c0", lab.tmp)
    bound = last(log, ("BOUND",))
    addr = bound["new_ip_address"]
    assert addr.startswith("192.0.2.1")
    assert bound["new_routers"] == "192.0.2.1"
    assert bound["new_domain_name_servers"] == "192.0.2.53 192.0.2.54"
    assert bound["new_domain_name"] == "e2e.example"
    # Our recording script configures nothing: give c0 the address so that the
    # renewal can be unicast from it, as a configured client would.
    cli.add_address("c0", f"{addr}/24")
    proc.wait_for(lambda: any(r["@reason"] == "RENEW" for r in read_records(log)), 15, "RENEW")
    assert last(log, ("RENEW",))["new_ip_address"] == addr
    assert addr in lease_list(conf)
    proc.stop()
    dhclient_release(cli, "c0", lab.tmp)
    deadline = time.time() + 5
    while addr in lease_list(conf) and time.time() < deadline:
        time.sleep(0.2)
    assert addr not in lease_list(conf)
    cli.run(["ip", "addr", "flush", "dev", "c0"])

    # udhcpc (in the foreground, not -q: busybox releases only from BOUND): a
    # lease, a renewal at T1 (unicast, once c0 holds the address), and SIGUSR2
    # makes it release.
    d = lab.tmp / "udhcpc-run"
    d.mkdir()
    script, log = record_script(d)
    proc = cli.popen(["udhcpc", "-f", "-i", "c0", "-s", str(script), "-t", "5", "-T", "1",
                      "-p", str(d / "udhcpc.pid")], name="udhcpc")
    proc.wait_for(lambda: any(r["@reason"] == "bound" for r in read_records(log)), 15, "bound")
    bound = last(log, ("bound",))
    assert bound["router"] == "192.0.2.1" and bound["dns"].split() == ["192.0.2.53", "192.0.2.54"]
    assert bound["ip"] in lease_list(conf)
    cli.add_address("c0", f"{bound['ip']}/24")
    # busybox renews at half the lease time (it ignores T1), and runs its script
    # again ("renew").
    proc.wait_for(lambda: len([r for r in read_records(log) if r["@reason"] in ("bound", "renew")])
                  > 1, 25, "renew")
    assert last(log, ("bound", "renew"))["ip"] == bound["ip"]
    proc.popen.send_signal(signal.SIGUSR2)
    deadline = time.time() + 5
    while bound["ip"] in lease_list(conf) and time.time() < deadline:
        time.sleep(0.2)
    assert bound["ip"] not in lease_list(conf)
    proc.stop()
    cli.run(["ip", "addr", "flush", "dev", "c0"])

    # dhcpcd (configures c0 itself; not oneshot, so that it renews): a lease, a
    # renewal at T1, and with the "release" option a RELEASE when it stops.
    proc, log = run_dhcpcd(cli, lab.tmp)
    proc.wait_for(lambda: any(r["@reason"] in ("BOUND", "REBOOT") for r in read_records(log)),
                  20, "BOUND")
    bound = last(log, ("BOUND", "REBOOT"))
    assert bound["new_routers"] == "192.0.2.1"
    assert bound["new_domain_name_servers"] == "192.0.2.53 192.0.2.54"
    held = lease_list(conf)
    assert list(held) == [bound["new_ip_address"]]
    proc.wait_for(lambda: any(r["@reason"] == "RENEW" for r in read_records(log)), 20, "RENEW")
    assert last(log, ("RENEW",))["new_ip_address"] == bound["new_ip_address"]
    proc.stop()
    deadline = time.time() + 5
    while lease_list(conf) and time.time() < deadline:
        time.sleep(0.2)
    assert lease_list(conf) == {}
    assert server.poll() is None
    server.stop()


def test_reserved_mac_gets_reserved_address(two_hosts):
    lab, srv, cli = two_hosts.lab, two_hosts.server, two_hosts.client
    conf = server_config(lab.tmp, reservations=[
        {"hw-address": cli.mac("c0"), "ip-address": "192.0.2.42", "hostname": "reserved-host"}])
    start_server(srv, conf)
    proc, log = dhclient(cli, "c0", lab.tmp)
    bound = last(log, ("BOUND",))
    assert bound["new_ip_address"] == "192.0.2.42"
    assert lease_list(conf)["192.0.2.42"]["hostname"] == "reserved-host"
    proc.stop()


def test_relayed_traffic_lands_in_giaddr_subnet(two_hosts):
    lab, srv, cli = two_hosts.lab, two_hosts.server, two_hosts.client
    srv.add_address("s0", "198.51.100.1/24")
    cli.add_address("c0", "198.51.100.2/24")
    conf = server_config(lab.tmp)
    start_server(srv, conf)
    result = perfdhcp(cli, "198.51.100.1", local="198.51.100.2", count=5)
    assert result.returncode == 0, result.stdout
    held = lease_list(conf)
    assert len(held) == 5
    assert all(a.startswith("198.51.100.") and l["subnet-id"] == 2 for a, l in held.items())
