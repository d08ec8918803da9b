"""The namespace fixture itself: namespaces appear, traffic crosses the veth,
everything is gone afterwards, stale namespaces of dead owners are removed."""
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_program, require_root
from tests.e2e.netns import (NETNS_ETC, NetLab, delete_namespace, list_namespaces,
                             read_records, record_script, remove_stale_namespaces,
                             two_hosts_topology)


def test_two_hosts_ping_and_cleanup(tmp_path):
    require_root()
    require_program("ip", "busybox")
    with NetLab(tmp_path) as lab:
        hosts = two_hosts_topology(lab, client_addresses=("192.0.2.2/24", "2001:db8:1::2/64"))
        names = [ns.name for ns in lab.namespaces]
        assert all(n.startswith("kct-") for n in names)
        assert set(names) <= set(list_namespaces())
        for n in names:
            assert (NETNS_ETC / n / "resolv.conf").read_text() == ""
        assert hosts.client.ping("192.0.2.1")
        assert hosts.client.ping("2001:db8:1::1")
        assert hosts.server.ping("192.0.2.2")
        # The host's interfaces are not visible inside the namespace.
        links = hosts.client.run(["ip", "-o", "link"]).stdout
        assert [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()] == ["lo", "c0"]
        assert hosts.client.link_local("c0").startswith("fe80:")
        sleeper = hosts.server.popen(["sleep", "60"])
    assert sleeper.poll() is not None
    left = set(list_namespaces())
    assert not left & set(names)
    assert not any((NETNS_ETC / n).exists() for n in names)


def test_cleanup_after_exception(tmp_path):
    require_root()
    require_program("ip")
    names = []
    with pytest.raises(RuntimeError):
        with NetLab(tmp_path) as lab:
            ns = lab.namespace("boom")
            names.append(ns.name)
            proc = ns.popen(["sleep", "60"])
            raise RuntimeError("test failure inside the lab")
    assert names[0] not in list_namespaces()
    assert proc.poll() is not None


def test_bridge_joins_three_namespaces(tmp_path):
    require_root()
    require_program("ip", "busybox")
    with NetLab(tmp_path) as lab:
        sw = lab.namespace("sw")
        lab.bridge(sw, "br0")
        sw.add_address("br0", "198.51.100.1/24")
        hosts = []
        for i in (1, 2):
            h = lab.namespace(f"h{i}")
            lab.veth(sw, f"p{i}", h, "eth0", master="br0")
            h.add_address("eth0", f"198.51.100.{10 + i}/24")
            hosts.append(h)
        assert hosts[0].ping("198.51.100.12")
        assert hosts[1].ping("198.51.100.1")


def test_stale_namespace_of_dead_owner_is_removed():
    require_root()
    require_program("ip")
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = f"kct-{dead.pid}-abcdef-stale"
    subprocess.run(["ip", "netns", "add", stale], check=True)
    (NETNS_ETC / stale).mkdir(parents=True, exist_ok=True)
    try:
        remove_stale_namespaces()
        assert stale not in list_namespaces()
        assert not (NETNS_ETC / stale).exists()
    finally:
        delete_namespace(stale)


def test_record_script_keeps_each_call(tmp_path):
    script, log = record_script(tmp_path)
    subprocess.run([str(script), "bound"], env={"ip": "192.0.2.100", "PATH": "/usr/bin:/bin"},
                   check=True)
    subprocess.run([str(script)], env={"reason": "BOUND6", "new_ip6_address": "2001:db8:1::5",
                                       "PATH": "/usr/bin:/bin"}, check=True)
    recs = read_records(log)
    assert [r["@reason"] for r in recs] == ["bound", "BOUND6"]
    assert recs[0]["ip"] == "192.0.2.100"
    assert recs[1]["new_ip6_address"] == "2001:db8:1::5"
    assert Path(log).parent == tmp_path
