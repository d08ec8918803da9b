"""Capture golden DHCP packets from real peers; writes tests/codec/golden/*.jsonl.

Run by hand, as root, on a Debian host with kea-dhcp4/kea-dhcp6 2.2, isc-dhcp-client,
busybox udhcpc, dhcpcd, perfdhcp, tshark and scapy installed:

    cd /work/main && sudo python -m tests.codec.golden.capture [--out DIR] [--keep]

What it does: builds a lab of network namespaces (tests/e2e/netns.py) - a server
namespace with a bridge (192.0.2.1/24, 2001:db8:1::1/64), a relay namespace that
also owns 198.51.100.1 and 2001:db8:2::1, and one fresh client namespace per peer -
starts Kea 2.2 (v4 and v6, configured below to answer with many option kinds),
runs each peer while tshark captures on the bridge, and for every captured DHCP
packet writes one JSON line: the UDP payload as hex, a one-line summary and
tshark's PDML dissection of it in compact form (see dissect.py), so the
test needs no tshark to compare field by field. Nothing touches host interfaces;
every namespace and process is removed at the end (--keep leaves the pcaps).

Peers: dhclient -4 (DORA + RELEASE), udhcpc, dhcpcd -4, dhclient -6 (SARR +
RELEASE), dhclient -6 -P (prefix delegation), dhcpcd -6, perfdhcp -4 (on-link and
relay-shaped from another subnet), perfdhcp -6 (multicast, relayed -A 1,
IA_NA+IA_PD where no pd-pool exists -> NoPrefixAvail), and packets crafted with
scapy where no client can produce them (relay agent information (82) that Kea
echoes, an INIT-REBOOT REQUEST that Kea NAKs, a RELAY-FORW with interface-id,
remote-id and a DOCSIS vendor-opts ORO).
"""
import argparse
import json
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

from tests.codec.golden.dissect import pdml_dissections
from tests.e2e.netns import (NetLab, dhclient, dhclient_release, dhcpcd, kea, perfdhcp,
                             read_records, tshark_capture, udhcpc)

HERE = Path(__file__).resolve().parent

KEA4 = {
    "interfaces-config": {"interfaces": ["br0"], "dhcp-socket-type": "raw"},
    "authoritative": True,
    "valid-lifetime": 3600,
    "renew-timer": 900,
    "rebind-timer": 1800,
    "option-def": [
        {"name": "kct-tftp-name", "code": 1, "space": "vendor-encapsulated-options-space",
         "type": "string"},
        {"name": "kct-boot", "code": 2, "space": "vendor-encapsulated-options-space",
         "type": "record", "record-types": "ipv4-address, uint16"},
    ],
    "option-data": [
        {"name": "domain-name-servers", "data": "192.0.2.53, 192.0.2.54"},
        {"name": "domain-name", "data": "example.org"},
        {"name": "domain-search", "data": "example.org, lab.example.org"},
        {"name": "ntp-servers", "data": "192.0.2.123"},
        {"name": "time-offset", "data": "3600"},
        {"name": "interface-mtu", "data": "1500"},
        # classless-static-route has no definition in Kea 2.2: raw RFC 3442 bytes,
        # 198.51.100.0/24 via 192.0.2.1 and the default route via 192.0.2.1.
        {"code": 121, "csv-format": False, "data": "18C63364C000020100C0000201",
         "always-send": True},
        {"name": "vendor-encapsulated-options", "always-send": True},
        {"name": "kct-tftp-name", "space": "vendor-encapsulated-options-space",
         "data": "tftp.example.org", "always-send": True},
        {"name": "kct-boot", "space": "vendor-encapsulated-options-space",
         "data": "192.0.2.69, 8080", "always-send": True},
        {"name": "vivso-suboptions", "data": "4491", "always-send": True},
        {"name": "tftp-servers", "space": "vendor-4491", "data": "192.0.2.69",
         "always-send": True},
    ],
    "subnet4": [
        {"id": 1, "subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.100 - 192.0.2.199"}],
         "option-data": [{"name": "routers", "data": "192.0.2.1"},
                         {"name": "broadcast-address", "data": "192.0.2.255"}]},
        {"id": 2, "subnet": "198.51.100.0/24",
         "pools": [{"pool": "198.51.100.100 - 198.51.100.199"}],
         "option-data": [{"name": "routers", "data": "198.51.100.1"}]},
    ],
}

KEA6 = {
    # "br0/address" also opens a unicast socket: relayed traffic arrives unicast.
    "interfaces-config": {"interfaces": ["br0/2001:db8:1::1"]},
    "preferred-lifetime": 3000,
    "valid-lifetime": 4000,
    "renew-timer": 1000,
    "rebind-timer": 2000,
    "option-data": [
        {"name": "dns-servers", "data": "2001:db8:1::53, 2001:db8:1::54"},
        {"name": "domain-search", "data": "example.org, lab.example.org"},
        {"name": "sntp-servers", "data": "2001:db8:1::123"},
        {"name": "vendor-opts", "data": "4491", "always-send": True},
        {"name": "tftp-servers", "space": "vendor-4491", "data": "2001:db8:1::69",
         "always-send": True},
        {"name": "config-file", "space": "vendor-4491", "data": "cm.cfg", "always-send": True},
    ],
    "subnet6": [
        {"id": 1, "subnet": "2001:db8:1::/64", "interface": "br0",
         "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
         "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 48, "delegated-len": 56}]},
        # No pd-pool here: a Solicit for IA_PD gets status NoPrefixAvail.
        {"id": 2, "subnet": "2001:db8:2::/64",
         "pools": [{"pool": "2001:db8:2::100 - 2001:db8:2::1ff"}]},
    ],
}

def _find(fields, name):
    for f in fields:
        if f[0] == name:
            return f
        hit = _find(f[4], name)
        if hit:
            return hit
    return None


def summary(peer, payload, info, fields):
    """One line: peer, tshark's Info column, and what is notable in the packet."""
    notes = []
    if payload[0] in (1, 2) and len(payload) >= 240:  # BOOTP
        codes = [payload[f[2]] for f in fields if f[0] == "dhcp.option.type"]
        giaddr = socket.inet_ntoa(payload[24:28])
        if giaddr != "0.0.0.0":
            notes.append(f"giaddr {giaddr} hops {payload[3]}")
        if payload[10] & 0x80:
            notes.append("broadcast flag")
        notes.append("options " + ",".join(str(c) for c in codes if c != 255))
    else:
        codes = [int(f[4][0][1]) for f in fields if f[0] == "dhcpv6.option.type_str"]
        if payload[0] in (12, 13):
            notes.append(f"hop-count {payload[1]}")
        notes.append("options " + ",".join(map(str, codes)))
        status = _find(fields, "dhcpv6.status_code")
        if status:
            notes.append(f"status {status[1]}")
    return f"{peer}: {' '.join(info.split())}; {'; '.join(notes)}"


# --- crafted packets (run inside the relay namespace) ------------------------------------

def craft4():
    """DISCOVER/REQUEST relayed from 198.51.100.1 with option 82 (Kea echoes it), then
    an INIT-REBOOT REQUEST for an address outside the subnet (Kea NAKs it)."""
    from scapy.layers.dhcp import BOOTP, DHCP
    mac = bytes.fromhex("020000c0ffee")
    rai = (b"\x01\x06eth0/7" + b"\x02\x08" + bytes.fromhex("0011223344556677"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("198.51.100.1", 67))
    sock.settimeout(3)

    def exchange(xid, opts, ciaddr="0.0.0.0"):
        pkt = BOOTP(op=1, htype=1, hlen=6, hops=1, xid=xid, giaddr="198.51.100.1",
                    ciaddr=ciaddr, chaddr=mac + bytes(10)) / DHCP(options=opts)
        sock.sendto(bytes(pkt), ("192.0.2.1", 67))
        return sock.recvfrom(1500)[0]

    offer = exchange(0x0c0ffee1, [("message-type", "discover"), ("client_id", b"\x01" + mac),
                                  ("hostname", b"crafted"), ("param_req_list", [1, 3, 6, 15, 43, 125]),
                                  ("relay_agent_information", rai), "end"])
    yiaddr = socket.inet_ntoa(offer[16:20])
    exchange(0x0c0ffee1, [("message-type", "request"), ("client_id", b"\x01" + mac),
                          ("requested_addr", yiaddr), ("server_id", "192.0.2.1"),
                          ("param_req_list", [1, 3, 6, 15, 43, 125]),
                          ("relay_agent_information", rai), "end"])
    exchange(0x0c0ffee2, [("message-type", "request"), ("client_id", b"\x01" + mac),
                          ("requested_addr", "203.0.113.9"), ("relay_agent_information", rai),
                          "end"])


def craft6():
    """A RELAY-FORW from 2001:db8:2::1 with interface-id, remote-id and subscriber-id
    around a Solicit that asks for DOCSIS vendor sub-options (vendor-opts ORO)."""
    from scapy.layers.dhcp6 import (DHCP6_RelayForward, DHCP6_Solicit, DHCP6OptClientId,
                                    DHCP6OptElapsedTime, DHCP6OptIA_NA, DHCP6OptIfaceId,
                                    DHCP6OptOptReq, DHCP6OptRelayMsg, DHCP6OptRemoteID,
                                    DHCP6OptSubscriberID, DHCP6OptVendorSpecificInfo,
                                    DHCP6OptVendorClass, DUID_LL, VENDOR_SPECIFIC_OPTION,
                                    VENDOR_CLASS_DATA)
    vso = VENDOR_SPECIFIC_OPTION(optcode=1, optdata=b"\x00\x20\x00\x21")  # ORO: 32, 33
    solicit = (DHCP6_Solicit(trid=0x00c0de)
               / DHCP6OptClientId(duid=DUID_LL(lladdr="02:00:00:c0:de:01"))
               / DHCP6OptElapsedTime(elapsedtime=0)
               / DHCP6OptIA_NA(iaid=7, T1=0, T2=0)
               / DHCP6OptOptReq(reqopts=[23, 24, 17])
               / DHCP6OptVendorClass(enterprisenum=4491, vcdata=[VENDOR_CLASS_DATA(data=b"docsis3.0")])
               / DHCP6OptVendorSpecificInfo(enterprisenum=4491, vso=[vso]))
    relay = (DHCP6_RelayForward(hopcount=0, linkaddr="2001:db8:2::1",
                                peeraddr="fe80::c0de:1")
             / DHCP6OptIfaceId(ifaceid=b"ge-0/0/7")
             / DHCP6OptRemoteID(enterprisenum=3561, remoteid=b"\x00\x11\x22\x33")
             / DHCP6OptSubscriberID(subscriberid=b"sub-42")
             / DHCP6OptRelayMsg(message=solicit))
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("2001:db8:2::1", 547))
    sock.settimeout(3)
    sock.sendto(bytes(relay), ("2001:db8:1::1", 547))
    sock.recvfrom(2000)


# --- the lab ------------------------------------------------------------------------------

class GoldenLab:
    def __init__(self, lab):
        self.lab = lab
        self.srv = lab.namespace("srv")
        lab.bridge(self.srv, "br0")
        self.srv.add_address("br0", "192.0.2.1/24")
        self.srv.add_address("br0", "2001:db8:1::1/64")
        self.ports = 0
        self.relay = self.client("relay")
        self.relay.add_address("eth0", "192.0.2.2/24")
        self.relay.add_address("eth0", "2001:db8:1::2/64")
        # The relay's own addresses in the relayed subnets (giaddr / link-address),
        # on eth0: perfdhcp sends through the interface that owns its -l address.
        self.relay.add_address("eth0", "198.51.100.1/32")
        self.relay.add_address("eth0", "2001:db8:2::1/128")
        self.relay.add_route("2001:db8:1::/48", "2001:db8:1::1")
        self.srv.add_route("198.51.100.0/24", "192.0.2.2")
        self.srv.add_route("2001:db8:2::/64", "2001:db8:1::2")

    def client(self, role):
        """A fresh namespace (fresh MAC) with eth0 on the server's bridge."""
        self.ports += 1
        ns = self.lab.namespace(f"{role}-{self.ports}")
        self.lab.veth(self.srv, f"p{self.ports}", ns, "eth0", master="br0")
        return ns

    def capture(self, peer, action, pcaps):
        pcap = pcaps / f"{peer}.pcapng"
        cap = tshark_capture(self.srv, "br0", pcap)
        try:
            action()
            time.sleep(0.5)  # let the last answer cross the bridge
        finally:
            cap.stop(signal.SIGINT, grace=10)
        return pcap


def peers(g):
    """(peer name, action, packets expected) in capture order; each action runs
    one client in a fresh namespace."""
    tmp = g.lab.tmp

    def dhclient4():
        ns = g.client("dhclient4")
        proc, log = dhclient(ns, "eth0", tmp, family=4)
        proc.stop()
        # Our script configures nothing; DHCPRELEASE is unicast from the leased
        # address, so put it on the interface first.
        bound = read_records(log)[-1]
        ns.add_address("eth0", f"{bound['new_ip_address']}/24")
        dhclient_release(ns, "eth0", tmp, family=4)

    def dhclient6():
        ns = g.client("dhclient6")
        proc, _ = dhclient(ns, "eth0", tmp, family=6)
        proc.stop()
        dhclient_release(ns, "eth0", tmp, family=6)

    def dhclient6_pd():
        ns = g.client("dhclient6pd")
        proc, _ = dhclient(ns, "eth0", tmp, family=6, prefix_delegation=True)
        proc.stop()

    def udhcpc4():
        ns = g.client("udhcpc")
        proc, _ = udhcpc(ns, "eth0", tmp, request=("staticroutes", "ntpsrv", "search"),
                         extra=("-x", "hostname:kct-udhcpc"))
        assert proc.returncode == 0, proc.stderr

    def dhcpcd4():
        proc, _ = dhcpcd(g.client("dhcpcd4"), "eth0", tmp, family=4)
        proc.wait(10)

    def dhcpcd6():
        proc, _ = dhcpcd(g.client("dhcpcd6"), "eth0", tmp, family=6)
        proc.wait(10)

    def perfdhcp4():
        ns = g.client("perf4")
        ns.add_address("eth0", "192.0.2.5/24")
        perfdhcp(ns, "192.0.2.1", family=4, local="192.0.2.5")

    def perfdhcp4_relay():
        perfdhcp(g.relay, "192.0.2.1", family=4, local="198.51.100.1",
                 extra=("-b", "mac=00:0c:01:02:03:10"))

    def perfdhcp6():
        ns = g.client("perf6")
        ns.link_local("eth0")
        perfdhcp(ns, "all", family=6, local="eth0")

    def perfdhcp6_relay():
        perfdhcp(g.relay, "2001:db8:1::1", family=6, local="2001:db8:2::1",
                 extra=("-A", "1"))
        perfdhcp(g.relay, "2001:db8:1::1", family=6, local="2001:db8:2::1",
                 extra=("-A", "1", "-e", "address-and-prefix", "-b", "mac=00:0c:01:02:03:20"))

    def crafted4():
        g.relay.run([sys.executable, "-m", "tests.codec.golden.capture", "--craft", "4"],
                    cwd=str(HERE.parents[2]))

    def crafted6():
        g.relay.run([sys.executable, "-m", "tests.codec.golden.capture", "--craft", "6"],
                    cwd=str(HERE.parents[2]))

    return [("dhclient4", dhclient4, 5), ("udhcpc", udhcpc4, 4), ("dhcpcd4", dhcpcd4, 4),
            ("perfdhcp4", perfdhcp4, 4), ("perfdhcp4-relay", perfdhcp4_relay, 4),
            ("kea4-rai", crafted4, 6),
            ("dhclient6", dhclient6, 6), ("dhclient6-pd", dhclient6_pd, 4),
            ("dhcpcd6", dhcpcd6, 4), ("perfdhcp6", perfdhcp6, 4),
            ("perfdhcp6-relay", perfdhcp6_relay, 6), ("kea6-relay", crafted6, 2)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--keep", action="store_true", help="keep the pcaps in OUT/pcap")
    ap.add_argument("--only", action="append", help="capture only these peers")
    ap.add_argument("--craft", choices=("4", "6"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.craft:
        (craft4 if args.craft == "4" else craft6)()
        return 0
    with NetLab() as lab:
        g = GoldenLab(lab)
        kea(g.srv, 4, KEA4, lab.tmp)
        kea(g.srv, 6, KEA6, lab.tmp)
        pcaps = lab.tmp / "pcap"
        pcaps.mkdir()
        total = 0
        for peer, action, expected in peers(g):
            if args.only and peer not in args.only:
                continue
            # A capture now and then misses the first exchange of a run; try again.
            for _attempt in range(3):
                packets = pdml_dissections(g.capture(peer, action, pcaps))
                if len(packets) >= expected:
                    break
                print(f"{peer}: {len(packets)} packets, expected {expected}; again")
            else:
                raise SystemExit(f"{peer}: capture incomplete")
            with open(args.out / f"{peer}.jsonl", "w") as fh:
                for n, (payload, info, fields) in enumerate(packets, 1):
                    fh.write(json.dumps({
                        "peer": peer, "n": n, "family": 6 if fields[0][0].startswith("dhcpv6") else 4,
                        "summary": summary(peer, payload, info, fields),
                        "hex": payload.hex(), "tshark": fields}, separators=(",", ":")) + "\n")
            print(f"{peer}: {len(packets)} packets")
            total += len(packets)
        if args.keep:
            shutil.copytree(pcaps, args.out / "pcap", dirs_exist_ok=True)
        print(f"total: {total} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
