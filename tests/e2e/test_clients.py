"""The client helpers against Kea 2.2: each real client gets a lease inside a
namespace, reports it through our record script, and the host is untouched."""
from pathlib import Path

import pytest

from tests.conftest import require_program, require_root
from tests.e2e.netns import (NetLab, dhclient, dhcpcd, kea, perfdhcp, read_records,
                             udhcpc)

KEA4 = {
    "interfaces-config": {"interfaces": ["br0"], "dhcp-socket-type": "raw"},
    "valid-lifetime": 3600,
    "option-data": [{"name": "domain-name-servers", "data": "192.0.2.53"},
                    {"name": "domain-name", "data": "example.org"}],
    "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                 "pools": [{"pool": "192.0.2.100 - 192.0.2.199"}],
                 "option-data": [{"name": "routers", "data": "192.0.2.1"}]},
                {"id": 2, "subnet": "198.51.100.0/24",
                 "pools": [{"pool": "198.51.100.100 - 198.51.100.199"}]}],
}
KEA6 = {
    "interfaces-config": {"interfaces": ["br0/2001:db8:1::1"]},
    "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"}],
    "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "br0",
                 "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
                 "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 48,
                               "delegated-len": 56}]}],
}
HOST_FILES = ("/etc/resolv.conf", "/etc/hostname")


@pytest.fixture(scope="module")
def kea_lab(tmp_path_factory):
    """Kea 4 and 6 on a bridge in one namespace; tests attach client namespaces."""
    require_root()
    require_program("ip", "kea-dhcp4", "kea-dhcp6")
    before = {p: Path(p).read_bytes() for p in HOST_FILES if Path(p).exists()}
    with NetLab(tmp_path_factory.mktemp("kea-lab")) as lab:
        srv = lab.namespace("srv")
        lab.bridge(srv, "br0")
        srv.add_address("br0", "192.0.2.1/24")
        srv.add_address("br0", "2001:db8:1::1/64")
        kea(srv, 4, KEA4, lab.tmp)
        kea(srv, 6, KEA6, lab.tmp)
        lab.ports = 0
        yield lab, srv
    after = {p: Path(p).read_bytes() for p in HOST_FILES if Path(p).exists()}
    assert after == before, "a DHCP client changed a host file"


def attach(lab, srv, role):
    lab.ports += 1
    ns = lab.namespace(f"{role}{lab.ports}")
    lab.veth(srv, f"p{lab.ports}", ns, "eth0", master="br0")
    return ns


def last(log, reasons):
    recs = [r for r in read_records(log) if r["@reason"] in reasons]
    assert recs, read_records(log)
    return recs[-1]


def test_dhclient4(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "dhc")
    proc, log = dhclient(ns, "eth0", lab.tmp, family=4)
    rec = last(log, ("BOUND",))
    assert rec["new_ip_address"].startswith("192.0.2.1")
    assert rec["new_routers"] == "192.0.2.1"
    assert rec["new_domain_name_servers"] == "192.0.2.53"
    # The record script configures nothing.
    assert ns.addresses("eth0") == []
    proc.stop()


def test_udhcpc(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "udh")
    proc, log = udhcpc(ns, "eth0", lab.tmp, request=("domain",))
    assert proc.returncode == 0, proc.stderr
    rec = last(log, ("bound",))
    assert rec["ip"].startswith("192.0.2.1")
    assert rec["router"] == "192.0.2.1"
    assert rec["domain"] == "example.org"


def test_dhcpcd4(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "dcd")
    proc, log = dhcpcd(ns, "eth0", lab.tmp, family=4)
    assert proc.wait(10) == 0
    rec = last(log, ("BOUND",))
    assert rec["new_ip_address"].startswith("192.0.2.1")
    # dhcpcd configures the address itself - inside the namespace only.
    assert f"{rec['new_ip_address']}/24" in ns.addresses("eth0")


def test_perfdhcp4(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "pf")
    ns.add_address("eth0", "192.0.2.5/24")
    proc = perfdhcp(ns, "192.0.2.1", family=4, local="192.0.2.5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("received packets: 1") == 2


def test_dhclient6_address_and_prefix(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "dh")
    proc, log = dhclient(ns, "eth0", lab.tmp, family=6)
    assert last(log, ("BOUND6",))["new_ip6_address"].startswith("2001:db8:1::1")
    proc.stop()
    proc, log = dhclient(ns, "eth0", lab.tmp, family=6, prefix_delegation=True)
    assert last(log, ("BOUND6",))["new_ip6_prefix"].endswith("/56")
    proc.stop()


def test_dhcpcd6(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "dcd")
    proc, log = dhcpcd(ns, "eth0", lab.tmp, family=6)
    assert proc.wait(10) == 0
    assert read_records(log)[-1]["@reason"] == "BOUND6"


def test_perfdhcp6_multicast(kea_lab):
    lab, srv = kea_lab
    ns = attach(lab, srv, "pf")
    ns.link_local("eth0")
    proc = perfdhcp(ns, "all", family=6, local="eth0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("received packets: 1") == 2
