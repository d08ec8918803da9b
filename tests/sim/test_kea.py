"""keactl perf against real servers in namespaces the tests create: Kea 2.2
(kea-dhcp4 / kea-dhcp6) and keactl's own server (``python -m kea_tools.server``).
Relay mode on loopback and over a veth, client mode (broadcast / multicast) over a
veth.

Servers come from a table of targets that all take the same Kea JSON. The
servers run on port 67 / 547 without -P; perf runs without root's capabilities
too, so it sends from an unprivileged port and RFC 8357's relay source port
option brings the replies back to it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_program
from tests.e2e.netns import kea, two_hosts_topology
from tests.sim.test_cli import unprivileged

ROOT = Path(__file__).resolve().parents[2]
MT = {"enable-multi-threading": True, "thread-pool-size": 2, "packet-queue-size": 256}


# Per-lease INFO messages would cost Kea more than the traffic: keep those quiet;
# kea() waits for DHCPx_STARTED, an INFO message of the main logger.
def loggers(family):
    return [{"name": f"kea-dhcp{family}", "severity": "INFO",
             "output_options": [{"output": "stdout"}]},
            {"name": f"kea-dhcp{family}.leases", "severity": "WARN",
             "output_options": [{"output": "stdout"}]}]


def keactl_serve(ns, family, config, tmp, args=(), prefix=()):
    """keactl's own server (``python -m kea_tools.server``: the daemon without the
    CLI around it), given the same Kea JSON as kea()."""
    d = Path(tmp) / f"keactl-serve{family}"
    d.mkdir(parents=True, exist_ok=True)
    log = d / "server.log"
    conf = dict(config, loggers=[{"name": f"kea-dhcp{family}", "severity": "INFO",
                                  "output_options": [{"output": str(log)}]}])
    conf.setdefault("lease-database", {"type": "memfile", "persist": False})
    path = d / "keactl.json"
    path.write_text(json.dumps({f"Dhcp{family}": conf}, indent=1))
    proc = ns.popen([*prefix, sys.executable, "-m", "kea_tools.server", "-c", path, *args],
                    env=dict(os.environ, PYTHONPATH=str(ROOT)), name="keactl-serve")
    proc.wait_for(lambda: log.exists() and f"DHCP{family}_STARTED" in log.read_text(), 15,
                  f"DHCP{family}_STARTED")
    return proc


# Servers by family; each takes (namespace, family, Kea JSON "DhcpN" dict, tmp dir).
TARGETS = {4: {"kea": kea, "keactl-serve": keactl_serve},
           6: {"kea": kea, "keactl-serve": keactl_serve}}


@pytest.fixture(params=sorted(TARGETS[4]))
def target4(request):
    return TARGETS[4][request.param]


@pytest.fixture(params=sorted(TARGETS[6]))
def target6(request):
    return TARGETS[6][request.param]


def perf(ns, *args, timeout=60, prefix=()):
    proc = ns.run([*prefix, sys.executable, ROOT / "bin" / "keactl", "perf", "--json", *args],
                  check=False, timeout=timeout)
    assert proc.returncode in (0, 3), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def assert_clean(report, *names, sent=None):
    assert list(report["exchanges"]) == list(names)
    for name in names:
        ex = report["exchanges"][name]
        if sent is not None and name == names[0]:
            assert ex["sent"] == sent
        assert ex["sent"] > 0
        if ex["received"] is None:  # DHCPv4 RELEASE: no answer exists
            assert ex["drops"] == 0
            continue
        assert (ex["received"], ex["drops"], ex["orphans"], ex["naks"], ex["rejected"],
                ex["mismatched"], ex["non-unique"]) == (ex["sent"], 0, 0, 0, 0, 0, 0), (name, ex)


def config4_loopback():
    return {"interfaces-config": {"interfaces": ["lo/127.0.0.1"], "dhcp-socket-type": "udp"},
            "multi-threading": MT, "valid-lifetime": 4000, "loggers": loggers(4),
            "subnet4": [{"id": 1, "subnet": "10.0.0.0/8",
                         "pools": [{"pool": "10.0.0.10 - 10.255.255.250"}],
                         "relay": {"ip-addresses": ["127.0.0.2"]}}]}


def config6_loopback():
    return {"interfaces-config": {"interfaces": ["lo/2001:db8:1::1"]},
            "multi-threading": MT, "preferred-lifetime": 3000, "valid-lifetime": 4000,
            "loggers": loggers(6),
            "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                         "pools": [{"pool": "2001:db8:1::1:0 - 2001:db8:1::ffff:ffff"}],
                         "pd-pools": [{"prefix": "2001:db8:100::", "prefix-len": 40,
                                       "delegated-len": 64}]}]}


def test_v4_relay_on_loopback(netlab, target4):
    # Both servers bind just lo/127.0.0.1:67, leaving 127.0.0.2:67 to us.
    ns = netlab.namespace("perf4")
    target4(ns, 4, config4_loopback(), netlab.tmp)
    code, report = perf(ns, "-l", "127.0.0.2", "-r", 1000, "-p", 2, "-R", 100000,
                        "127.0.0.1")
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", sent=2000)
    assert report["completed"] == 2000 and 950 < report["rate"] < 1050
    # Repeated clients get their own address back: no address is held twice.
    code, report = perf(ns, "-l", "127.0.0.2", "-r", 500, "-n", 300, "-R", 50,
                        "--identities", "faker", "-s", 9, "-f", 50, "-F", 20, "127.0.0.1")
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", "REQUEST-ACK (renewal)", "RELEASE")


def test_v6_relay_on_loopback(netlab, target6):
    # Both servers bind just [2001:db8:1::1]:547, leaving [2001:db8:1::2]:547 to us.
    ns = netlab.namespace("perf6")
    ns.add_address("lo", "2001:db8:1::1/64")
    ns.add_address("lo", "2001:db8:1::2/64")
    target6(ns, 6, config6_loopback(), netlab.tmp)
    code, report = perf(ns, "-6", "-l", "2001:db8:1::2", "-r", 1000, "-p", 1.5,
                        "-R", 100000, "-e", "address-and-prefix", "-f", 100, "-F", 100,
                        "2001:db8:1::1")
    assert code == 0
    assert_clean(report, "SOLICIT-ADVERTISE", "REQUEST-REPLY", "RENEW-REPLY",
                 "RELEASE-REPLY", sent=1500)


def test_v4_relay_over_veth(netlab, target4):
    lab = two_hosts_topology(netlab, client_addresses=("192.0.2.2/24",))
    target4(lab.server, 4, {"interfaces-config": {"interfaces": ["s0"]}, "valid-lifetime": 4000,
                            "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                                         "pools": [{"pool": "192.0.2.10 - 192.0.2.250"}]}]},
            netlab.tmp)
    code, report = perf(lab.client, "-l", "192.0.2.2", "-r", 500, "-n", 200, "-R", 200,
                        "--identities", "faker", "-s", 2, "192.0.2.1")
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", sent=200)
    # The same 200 clients again: each gets its own address back, none is shared.
    code, report = perf(lab.client, "-l", "192.0.2.2", "-r", 500, "-n", 200, "-R", 200,
                        "--identities", "faker", "-s", 2, "192.0.2.1")
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", sent=200)


def test_v4_client_mode_broadcast_over_veth(netlab, target4):
    lab = two_hosts_topology(netlab)
    target4(lab.server, 4, {"interfaces-config": {"interfaces": ["s0"]}, "multi-threading": MT,
                           "loggers": loggers(4), "valid-lifetime": 4000,
                           "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                                        "pools": [{"pool": "192.0.2.10 - 192.0.2.250"}]}]},
           netlab.tmp)
    code, report = perf(lab.client, "-l", "c0", "-r", 400, "-n", 200, "-R", 200,
                        "--identities", "faker", "-s", 4)
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", sent=200)


def test_v6_client_mode_multicast_over_veth(netlab, target6):
    lab = two_hosts_topology(netlab)
    lab.client.link_local("c0")
    subnet = {"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0", "rapid-commit": True,
              "pools": [{"pool": "2001:db8:1::1:0 - 2001:db8:1::ffff:ffff"}],
              "pd-pools": [{"prefix": "2001:db8:100::", "prefix-len": 40, "delegated-len": 64}]}
    target6(lab.server, 6, {"interfaces-config": {"interfaces": ["s0"]}, "multi-threading": MT,
                           "loggers": loggers(6), "preferred-lifetime": 3000,
                           "valid-lifetime": 4000, "subnet6": [subnet]}, netlab.tmp)
    code, report = perf(lab.client, "-6", "-l", "c0", "-r", 400, "-n", 200, "-R", 1000,
                        "-e", "address-and-prefix")
    assert code == 0
    assert_clean(report, "SOLICIT-ADVERTISE", "REQUEST-REPLY", sent=200)
    # Rapid Commit: Kea answers the Solicit with a Reply, the exchange ends there.
    code, report = perf(lab.client, "-6", "-l", "c0", "-r", 400, "-n", 100, "-R", 1000,
                        "-c", "-b", "mac=02:00:00:00:10:00")
    assert code == 0
    sa, rr = report["exchanges"]["SOLICIT-ADVERTISE"], report["exchanges"]["REQUEST-REPLY"]
    assert (sa["sent"], sa["received"], rr["sent"], report["completed"]) == (100, 100, 0, 100)


def test_perfdhcp_and_keactl_perf_agree(netlab):
    require_program("perfdhcp")
    ns = netlab.namespace("cmp4")
    ns.add_address("lo", "127.0.0.2/8")  # perfdhcp binds only to configured addresses
    kea(ns, 4, config4_loopback(), netlab.tmp)
    proc = ns.run(["perfdhcp", "-4", "-l", "127.0.0.2", "-r", 500, "-p", 1, "-R", 100000,
                   "-W", 500000, "127.0.0.1"], check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Rate: " in proc.stdout
    code, report = perf(ns, "-l", "127.0.0.2", "-r", 500, "-p", 1, "-R", 100000,
                        "-b", "mac=02:00:00:aa:00:00", "127.0.0.1")
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", sent=500)


# --- without root: an unprivileged port and RFC 8357 ---------------------------------

def test_v4_relay_on_loopback_without_root(netlab, target4):
    # The server binds port 67 and is started without -P; perf, without root's
    # capabilities, sends from an ephemeral port with option 82 sub-option 19.
    ns = netlab.namespace("unpriv4")
    target4(ns, 4, config4_loopback(), netlab.tmp)
    user = unprivileged()
    code, report = perf(ns, "-l", "127.0.0.2", "-r", 500, "-n", 300, "-R", 1000,
                        "-f", 50, "-F", 20, "127.0.0.1", prefix=user)
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", "REQUEST-ACK (renewal)", "RELEASE",
                 sent=300)
    # Without the sub-option the replies go to port 67, where nobody listens.
    code, report = perf(ns, "-l", "127.0.0.2", "-r", 200, "-n", 10, "-d", 0.3,
                        "--no-relay-port", "127.0.0.1", prefix=user)
    assert code == 3
    assert report["exchanges"]["DISCOVER-OFFER"]["drops"] == 10


def test_v6_relay_on_loopback_without_root(netlab, target6):
    ns = netlab.namespace("unpriv6")
    ns.add_address("lo", "2001:db8:1::1/64")
    ns.add_address("lo", "2001:db8:1::2/64")
    target6(ns, 6, config6_loopback(), netlab.tmp)
    user = unprivileged()
    code, report = perf(ns, "-6", "-l", "2001:db8:1::2", "-r", 500, "-n", 300, "-R", 1000,
                        "-e", "address-and-prefix", "-f", 50, "-F", 20, "2001:db8:1::1",
                        prefix=user)
    assert code == 0
    assert_clean(report, "SOLICIT-ADVERTISE", "REQUEST-REPLY", "RENEW-REPLY", "RELEASE-REPLY",
                 sent=300)
    code, report = perf(ns, "-6", "-l", "2001:db8:1::2", "-r", 200, "-n", 10, "-d", 0.3,
                        "--no-relay-port", "2001:db8:1::1", prefix=user)
    assert code == 3
    assert report["exchanges"]["SOLICIT-ADVERTISE"]["drops"] == 10


def test_quickstart_without_root(netlab, tmp_path):
    """README's first commands, server and perf both without root's capabilities:
    keactl serve -c examples/quickstart.json -p 6767 / keactl perf ... 127.0.0.1:6767."""
    ns = netlab.namespace("quick")
    # A copy, so the leases and control socket it names land in tmp_path.
    conf = tmp_path / "quickstart.json"
    conf.write_text((ROOT / "examples" / "quickstart.json").read_text())
    (tmp_path / "quickstart").mkdir()
    user = unprivileged()
    proc = ns.popen([*user, sys.executable, ROOT / "bin" / "keactl", "serve", "-c", conf,
                     "-p", 6767], name="quickstart")
    proc.wait_for(lambda: "DHCP4_STARTED" in proc.stderr(), 15, "DHCP4_STARTED")
    code, report = perf(ns, "-r", 200, "-R", 1000, "-p", 1, "127.0.0.1:6767", prefix=user)
    assert code == 0
    assert_clean(report, "DISCOVER-OFFER", "REQUEST-ACK", sent=200)


def test_quickstart6_without_root(netlab, tmp_path):
    """examples/quickstart6.json, server and perf both unprivileged:
    keactl serve -c examples/quickstart6.json -p 6547 / keactl perf -6 ... [::1]:6547."""
    require_program("kea-dhcp6")
    ns = netlab.namespace("quick6")
    conf = tmp_path / "quickstart6.json"
    conf.write_text((ROOT / "examples" / "quickstart6.json").read_text())
    (tmp_path / "quickstart6").mkdir()
    assert kea_accepts_file(6, conf)
    user = unprivileged()
    proc = ns.popen([*user, sys.executable, ROOT / "bin" / "keactl", "serve", "-c", conf,
                     "-p", 6547], name="quickstart6")
    proc.wait_for(lambda: "DHCP6_STARTED" in proc.stderr(), 15, "DHCP6_STARTED")
    code, report = perf(ns, "-6", "-r", 100, "-R", 1000, "-p", 1, "-e", "address-and-prefix",
                        "[::1]:6547", prefix=user)
    assert code == 0
    assert_clean(report, "SOLICIT-ADVERTISE", "REQUEST-REPLY", sent=100)


def kea_accepts_file(family, path):
    """kea-dhcpN -t on a file (the example must stay a valid Kea config)."""
    return subprocess.run([f"kea-dhcp{family}", "-t", str(path)], capture_output=True,
                          timeout=60).returncode == 0
