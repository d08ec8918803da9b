"""keactl's DHCPv6 server against real clients in network namespaces.

The server (``python -m kea_tools.server``) runs in the server namespace on
s0 (multicast ff02::1:2 and unicast); dhclient -6 (IA_NA, and -P for IA_PD) and
dhcpcd obtain a lease with DNS options, renew it (short lifetimes) and release
it; perfdhcp -6 runs SARR exchanges; Kea's own lease6-get-all through the
control socket shows what the clients hold.
"""
import json
import socket
import sys
import time

import pytest

from tests.conftest import require_program
from tests.e2e.netns import (_DHCPCD_WRAPPER, DHCPCD_CONF, dhclient,  # noqa: F401
                             dhclient_release, netlab, perfdhcp, read_records, record_script,
                             two_hosts)

pytestmark = pytest.mark.e2e


def server_config(tmp, **over):
    dhcp6 = {
        "interfaces-config": {"interfaces": ["s0"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl6.sock")},
        "lease-database": {"type": "memfile", "name": str(tmp / "leases6.csv"),
                           "lfc-interval": 0},
        "data-directory": str(tmp),
        "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}],
        "preferred-lifetime": 6, "valid-lifetime": 12, "renew-timer": 2, "rebind-timer": 4,
        "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"},
                        {"name": "domain-search", "data": "e2e.example"}],
        "subnet6": [{
            "id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
            "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
            "pd-pools": [{"prefix": "2001:db8:80::", "prefix-len": 48, "delegated-len": 56}],
        }],
        "loggers": [{"name": "kea-dhcp6", "severity": "INFO"}],
    }
    dhcp6.update(over)
    path = tmp / "keactl6.json"
    path.write_text(json.dumps({"Dhcp6": dhcp6}, indent=2))
    return path


def start_server(ns, conf, extra=()):
    proc = ns.popen([sys.executable, "-m", "kea_tools.server", "-c", conf, *extra],
                    name="keactl6")
    proc.wait_for(lambda: "DHCP6_STARTED" in proc.stderr(), 20, "DHCP6_STARTED")
    return proc


def command(ns, path, name, arguments=None):
    """Send a control command from inside the namespace's filesystem view (same host)."""
    request = {"command": name}
    if arguments is not None:
        request["arguments"] = arguments
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(json.dumps(request).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def held(tmp):
    r = command(None, tmp / "ctl6.sock", "lease6-get-all")
    return {(x["type"], x["ip-address"]) for x in r.get("arguments", {}).get("leases", [])}


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_dhclient6_obtains_renews_and_releases_address(two_hosts):
    lab = two_hosts.lab
    tmp = lab.tmp
    srv = start_server(two_hosts.server, server_config(tmp))
    proc, log = dhclient(two_hosts.client, "c0", tmp, family=6)
    bound = [r for r in read_records(log) if r["@reason"] == "BOUND6"][-1]
    address = bound["new_ip6_address"]
    assert address.startswith("2001:db8:1::1")
    assert "2001:db8:1::53" in bound.get("new_dhcp6_name_servers", "")
    assert "e2e.example" in bound.get("new_dhcp6_domain_search", "")
    assert ("IA_NA", address) in held(tmp)
    proc.wait_for(lambda: any(r["@reason"] in ("RENEW6", "REBIND6") for r in read_records(log)),
                  15, "a RENEW6")
    proc.stop()
    dhclient_release(two_hosts.client, "c0", tmp, family=6)
    wait_until(lambda: ("IA_NA", address) not in held(tmp), 5, "the release")
    stats = command(None, tmp / "ctl6.sock", "statistic-get-all")["arguments"]
    assert stats["pkt6-renew-received"][0][0] >= 1
    assert stats["pkt6-release-received"][0][0] == 1
    srv.stop()
    assert srv.poll() is not None


def test_dhclient6_prefix_delegation(two_hosts):
    lab = two_hosts.lab
    tmp = lab.tmp
    start_server(two_hosts.server, server_config(tmp))
    proc, log = dhclient(two_hosts.client, "c0", tmp, family=6, prefix_delegation=True)
    bound = [r for r in read_records(log) if r["@reason"] == "BOUND6"][-1]
    prefix = bound["new_ip6_prefix"]
    assert prefix.startswith("2001:db8:80:") and prefix.endswith("/56")
    assert ("IA_PD", prefix.split("/")[0]) in held(tmp)
    proc.wait_for(lambda: any(r["@reason"] in ("RENEW6", "REBIND6") for r in read_records(log)),
                  15, "a RENEW6 of the prefix")
    proc.stop()
    dhclient_release(two_hosts.client, "c0", tmp, family=6, prefix_delegation=True)
    wait_until(lambda: not held(tmp), 5, "the prefix release")


def dhcpcd6_daemon(ns, ifname, tmp, tag="dhcpcd6"):
    """dhcpcd -6 kept running (no -1, so it renews), with the e2e helper's private
    state directories, config and record script; returns (run(argv), Process, log)."""
    require_program("dhcpcd")
    d = tmp / tag
    for sub in ("db", "run"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    script, log = record_script(d)
    (d / "dhcpcd.conf").write_text(DHCPCD_CONF + f"noipv6rs\nipv6only\ninterface {ifname}\n"
                                   "  ia_na 1\n")
    ns.link_local(ifname)
    wrapper = ["sh", "-c", _DHCPCD_WRAPPER.format(db=d / "db", run=d / "run"), "dhcpcd",
               "dhcpcd"]
    common = ["-6", "-f", d / "dhcpcd.conf", "-c", script]
    proc = ns.popen([*wrapper, "-B", *common, "-t", 30, ifname], name=tag)

    def control(*flags):
        return ns.run([*wrapper, *flags, *common, ifname], check=False, timeout=20)
    return control, proc, log


def test_dhcpcd6_obtains_renews_and_releases_address(two_hosts):
    lab = two_hosts.lab
    tmp = lab.tmp
    start_server(two_hosts.server, server_config(tmp))
    control, proc, log = dhcpcd6_daemon(two_hosts.client, "c0", tmp)
    proc.wait_for(lambda: any(r["@reason"] == "BOUND6" for r in read_records(log)), 30,
                  "a lease (BOUND6)")
    bound = [r for r in read_records(log) if r["@reason"] == "BOUND6"][-1]
    address = bound.get("new_dhcp6_ia_na1_ia_addr1") or ""
    assert address.startswith("2001:db8:1::1"), bound
    assert "2001:db8:1::53" in bound.get("new_dhcp6_name_servers", "")
    assert ("IA_NA", address) in held(tmp)
    proc.wait_for(lambda: any(r["@reason"] in ("RENEW6", "REBIND6") for r in read_records(log)),
                  20, "a RENEW6")
    control("-k")
    wait_until(lambda: ("IA_NA", address) not in held(tmp), 10, "the release")


def test_perfdhcp6_sarr(two_hosts):
    require_program("perfdhcp")
    lab = two_hosts.lab
    tmp = lab.tmp
    start_server(two_hosts.server, server_config(tmp))
    two_hosts.client.link_local("c0")
    proc = perfdhcp(two_hosts.client, "all", family=6, local="c0", count=20,
                    extra=["-e", "address-only"])
    wait_until(lambda: len(held(tmp)) >= 20, 5, "20 leases")
    stats = command(None, tmp / "ctl6.sock", "statistic-get-all")["arguments"]
    assert stats["pkt6-reply-sent"][0][0] >= 20, proc.stdout


HOSTILE = r'''
import os, random, socket, struct, sys
random.seed(int(sys.argv[2]))
idx = socket.if_nametoindex(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
def opt(c, d): return struct.pack("!HH", c, len(d)) + d
good = bytes([1, 0, 0, 1]) + opt(1, bytes.fromhex("00030001020000000001")) + opt(3, bytes(12)) + opt(8, b"\0\0")
relay = bytes([12, 0]) + bytes(32) + opt(9, good)
for i in range(int(sys.argv[3])):
    kind = i % 4
    if kind == 0:
        data = os.urandom(random.randint(0, 300))
    elif kind == 1:
        b = bytearray(good if i % 8 < 4 else relay)
        for _ in range(random.randint(1, 6)):
            b[random.randrange(len(b))] = random.randrange(256)
        data = bytes(b[:random.randint(1, len(b))])
    elif kind == 2:
        data = bytes([12, 0]) + bytes(32) + opt(9, bytes([12, 0]) + bytes(32)) * 3
    else:
        data = bytes([random.choice([1, 3, 5, 6, 8, 9, 11, 12, 13, 99])]) + os.urandom(3) + \
            opt(random.randrange(1, 80), os.urandom(random.randint(0, 40)))
    s.sendto(data, ("ff02::1:2", 547, 0, idx))
'''


def test_hostile_packets_counted_and_server_keeps_serving(two_hosts):
    lab = two_hosts.lab
    tmp = lab.tmp
    srv = start_server(two_hosts.server, server_config(tmp))
    two_hosts.client.link_local("c0")
    script = tmp / "hostile.py"
    script.write_text(HOSTILE)
    two_hosts.client.run([sys.executable, script, "c0", 7, 20000], timeout=120)
    time.sleep(1.0)
    assert srv.poll() is None
    stats = command(None, tmp / "ctl6.sock", "statistic-get-all")["arguments"]
    assert stats["pkt6-received"][0][0] >= 15000
    assert stats["pkt6-parse-failed"][0][0] > 1000
    assert stats["pkt6-receive-drop"][0][0] > 1000
    proc, log = dhclient(two_hosts.client, "c0", tmp, family=6)
    assert [r for r in read_records(log) if r["@reason"] == "BOUND6"]
    assert "Traceback" not in srv.stderr()


def test_leases_survive_restart(two_hosts):
    lab = two_hosts.lab
    tmp = lab.tmp
    conf = server_config(tmp, **{"preferred-lifetime": 3000, "valid-lifetime": 4000,
                                 "renew-timer": 1000, "rebind-timer": 2000})
    srv = start_server(two_hosts.server, conf)
    two_hosts.client.link_local("c0")
    perfdhcp(two_hosts.client, "all", family=6, local="c0", count=30)
    wait_until(lambda: len(held(tmp)) >= 30, 5, "30 leases")
    before = command(None, tmp / "ctl6.sock", "lease6-get-all")["arguments"]["leases"]
    srv.stop(sig=9)
    srv = start_server(two_hosts.server, conf)
    after = command(None, tmp / "ctl6.sock", "lease6-get-all")["arguments"]["leases"]
    assert {(x["ip-address"], x["duid"]) for x in before} == \
        {(x["ip-address"], x["duid"]) for x in after}
    stats = command(None, tmp / "ctl6.sock", "statistic-get", {"name": "subnet[1].assigned-nas"})
    assert stats["arguments"]["subnet[1].assigned-nas"][0][0] == len(after)
    # The server DUID persisted in the data directory is the one used after restart.
    duid_file = (tmp / "kea-dhcp6-serverid").read_text().strip()
    assert duid_file and srv.poll() is None


def test_perfdhcp6_relayed_to_unicast_address(two_hosts):
    """perfdhcp -A 1 speaks as a relay from port 547 to the server's global address."""
    require_program("perfdhcp")
    lab = two_hosts.lab
    tmp = lab.tmp
    two_hosts.client.add_address("c0", "2001:db8:1::2/64")
    start_server(two_hosts.server, server_config(tmp))
    perfdhcp(two_hosts.client, two_hosts.server6, family=6, local="c0", count=10,
             extra=["-A", "1"])
    wait_until(lambda: len(held(tmp)) >= 10, 5, "10 relayed leases")
    stats = command(None, tmp / "ctl6.sock", "statistic-get-all")["arguments"]
    assert stats["pkt6-reply-sent"][0][0] >= 10
