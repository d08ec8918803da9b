"""Vendor options in DHCPv4 replies: option 43 in a vendor space (global and
class-defined option-def 43), a custom space encapsulated by a private option,
and vendor-N spaces in option 125 (V-I Vendor-Specific Information, RFC 3925),
checked against kea-dhcp4 2.2 on the same configuration and queries.

``kea_and_keactl4`` runs both servers on loopback (UDP sockets on lo, a high
server port; the queries are relayed with RFC 8357's relay-port sub-option so
each server answers the sending socket) and is shared by the overload and
BOOTP tests. Kea packs reply options as 53, then by code, then 82
(LibDHCP::packOptions4); keactl keeps the client's PRL order, so replies are
compared in Kea's order: the same header bytes and the same options, byte for
byte. The in-process tests pin the payloads Kea sent (captured with this file's
live tests) so they also run where Kea is not installed.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from kea_tools.codec.option import Option
from kea_tools.codec.v4 import Packet4
from kea_tools.config import load_file
from kea_tools.leases import open_backend
from kea_tools.server.configmap import build_model
from kea_tools.server.leasetable import LeaseTable
from kea_tools.server.pipeline4 import Pipeline4
from kea_tools.server.stats import Statistics
from tests.conftest import require_program, require_root
from tests.server.helpers import SERVER, Clock, exchange, mac, packet

ROOT = Path(__file__).resolve().parents[2]
RELAY_PORT = Option(82, bytes.fromhex("1300"))  # RFC 8357: answer the relay's source port
HEADER = 240  # fixed fields and the magic cookie


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def base4(**over):
    dhcp4 = {
        "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
        "lease-database": {"type": "memfile", "persist": False},
        "valid-lifetime": 4000,
        "subnet4": [{"subnet": "127.0.0.0/8", "id": 1,
                     "pools": [{"pool": "127.1.0.10 - 127.1.0.200"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "ERROR",
                     "output_options": [{"output": "stderr"}]}],
    }
    dhcp4.update(over)
    return dhcp4


def relayed(pkt):
    pkt.giaddr, pkt.hops = "127.0.0.1", 1
    if 82 not in pkt.options:
        pkt.options.append(RELAY_PORT)
    return pkt


def _talk(argv, dhcp4, packets, tmp):
    path = os.path.join(tmp, "dhcp4.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"Dhcp4": dhcp4}, fh)
    port = free_port()
    env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp, PYTHONPATH=str(ROOT))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    proc = subprocess.Popen(argv + ["-c", path, "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    replies = []
    try:
        for i, pkt in enumerate(packets):
            wire = relayed(pkt).build() if isinstance(pkt, Packet4) else pkt
            data = None
            # The first query is repeated until the server is up; later ones
            # get one try (some are meant to go unanswered).
            deadline = time.monotonic() + (20 if i == 0 else 1)
            sock.settimeout(0.2 if i == 0 else 1)
            while time.monotonic() < deadline and proc.poll() is None:
                sock.sendto(wire, ("127.0.0.1", port))
                try:
                    data = sock.recv(65536)
                    break
                except socket.timeout:
                    if i:
                        break
            replies.append(data)
    finally:
        sock.close()
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert replies and replies[0] is not None, f"{argv[0]} did not answer: {err[-1500:]}"
    return replies


def kea_and_keactl4(dhcp4, make_packets):
    """The replies of kea-dhcp4 and of keactl to the same queries (fresh
    packets from ``make_packets()`` for each server)."""
    require_root()
    require_program("kea-dhcp4")
    with tempfile.TemporaryDirectory(prefix="keactl-kea-") as a, \
            tempfile.TemporaryDirectory(prefix="keactl-ours-") as b:
        kea = _talk(["kea-dhcp4"], dhcp4, make_packets(), a)
        ours = _talk([sys.executable, "-m", "kea_tools.server"], dhcp4, make_packets(), b)
    return kea, ours


def kea_order(data):
    """A reply as (header bytes, [(code, payload)] in Kea's packing order)."""
    if data is None:
        return None
    pkt = Packet4.parse(data)
    opts = [(o.code, o.data) for o in pkt.options]
    first = [o for o in opts if o[0] == 53]
    last = [o for o in opts if o[0] == 82]
    rest = sorted((o for o in opts if o[0] not in (53, 82)), key=lambda o: o[0])
    return data[:HEADER], first + rest + last


def assert_same_replies(kea, ours):
    assert len(kea) == len(ours)
    for i, (k, o) in enumerate(zip(kea, ours)):
        assert kea_order(o) == kea_order(k), f"reply {i}"


# --- the configurations (ARM dhcp4-srv "DHCPv4 Vendor-Specific Options",
# "Nested DHCPv4 Options", the class-defined option 43 example) -----------------
GLOBAL_VENDOR = {
    "option-def": [
        {"name": "foo", "code": 1, "space": "vendor-encapsulated-options-space",
         "type": "record", "record-types": "ipv4-address, uint16, string"},
        {"name": "subopt1", "code": 1, "space": "isc", "type": "ipv4-address"},
        {"name": "subopt2", "code": 2, "space": "isc", "type": "string"},
        {"name": "container", "code": 222, "space": "dhcp4", "type": "uint16",
         "encapsulate": "isc"}],
    "option-data": [
        {"name": "foo", "space": "vendor-encapsulated-options-space",
         "data": "192.0.2.3, 123, Hello World"},
        {"name": "vendor-encapsulated-options"},
        # listed out of code order: Kea packs sub-options by code
        {"name": "subopt2", "space": "isc", "data": "Hello world"},
        {"name": "subopt1", "space": "isc", "data": "192.0.2.3"},
        {"name": "container", "data": "123"},
        {"name": "tftp-servers", "space": "vendor-4491", "data": "10.1.1.1"},
        {"code": 2, "space": "vendor-9", "csv-format": False, "data": "abcd",
         "always-send": True}],
}


def global_vendor_queries():
    return [
        packet(1, mac(1), xid=1, prl=bytes([1, 3])),                      # nothing vendor
        packet(1, mac(2), xid=2, prl=bytes([1, 3, 43, 222])),             # 43 and 222
        packet(1, mac(3), xid=3, prl=bytes([1, 125])),                   # PRL 125 alone
        packet(1, mac(4), xid=4, options=[Option(125, bytes.fromhex("0000118b03010102"))]),
        packet(1, mac(5), xid=5, options=[Option(125, bytes.fromhex("0000118b0401020304"))]),
        packet(1, mac(6), xid=6, options=[Option(125, bytes.fromhex("0000118b00"))]),
        packet(1, mac(7), xid=7, options=[Option(125, bytes.fromhex("0000000900"))]),
    ]


CLASS_VENDOR = {
    "option-def": [
        {"name": "cookie", "code": 1, "type": "string", "space": "APC"},
        {"name": "mtftp-ip", "code": 1, "type": "ipv4-address", "space": "PXE"},
        {"name": "tftp", "code": 2, "space": "vendor-25167", "type": "string"}],
    "client-classes": [
        {"name": "APC", "test": "option[vendor-class-identifier].text == 'APC'",
         "option-def": [{"name": "vendor-encapsulated-options", "code": 43, "type": "empty",
                         "encapsulate": "APC"}],
         "option-data": [{"name": "cookie", "space": "APC", "data": "1APC"},
                         {"name": "vendor-encapsulated-options"}]},
        {"name": "PXE", "test": "option[vendor-class-identifier].text == 'PXE'",
         "option-def": [{"name": "vendor-encapsulated-options", "code": 43, "type": "empty",
                         "encapsulate": "PXE"}],
         "option-data": [{"name": "mtftp-ip", "space": "PXE", "data": "0.0.0.0"},
                         {"name": "vendor-encapsulated-options"}]},
        {"name": "cpe_genexis", "test": "substring(option[60].hex,0,7) == 'HMC1000'",
         "option-data": [{"name": "vivso-suboptions", "data": "25167"},
                         {"name": "tftp", "space": "vendor-25167", "always-send": True,
                          "data": "tftp://192.0.2.1/genexis/HMC1000.v1.3.0-R.img"}]}],
}


def class_vendor_queries():
    return [
        packet(1, mac(1), xid=1, prl=bytes([1, 3, 43]), options=[Option(60, b"APC")]),
        packet(1, mac(2), xid=2, prl=bytes([1, 3, 43]), options=[Option(60, b"PXE")]),
        packet(1, mac(3), xid=3, prl=bytes([1, 3]), options=[Option(60, b"APC")]),
        packet(1, mac(4), xid=4, prl=bytes([1, 3, 125]), options=[Option(60, b"HMC1000")]),
        packet(1, mac(5), xid=5, prl=bytes([1, 3]), options=[Option(60, b"HMC1000")]),
        packet(1, mac(6), xid=6, prl=bytes([1, 3]),
               options=[Option(125, bytes.fromhex("0000624f00"))]),
    ]


# What kea-dhcp4 2.2 sent (live tests above capture it): reply index -> {code: payload}
# of the vendor options; None: the option is absent.
KEA_GLOBAL = [
    {43: None, 222: None, 125: None},
    {43: "0111c0000203007b48656c6c6f20576f726c64",
     222: "007b0104c0000203020b48656c6c6f20776f726c64", 125: None},
    {43: None, 125: None},
    {125: "0000118b0602040a010101"},
    {125: None},
    {125: None},
    {125: "00000009040202abcd"},
]
KEA_CLASS = [
    {43: "010431415043"},
    {43: "010400000000"},
    {43: None},
    {125: "0000624f2f022d746674703a2f2f3139322e302e322e312f67656e657869732f484d4331303030"
          "2e76312e332e302d522e696d67"},
    {125: None},
    {125: None},
]


@pytest.mark.parametrize("section, queries", [(GLOBAL_VENDOR, global_vendor_queries),
                                              (CLASS_VENDOR, class_vendor_queries)],
                         ids=["global", "class"])
def test_vendor_options_same_as_kea(section, queries):
    kea, ours = kea_and_keactl4(base4(**section), queries)
    assert_same_replies(kea, ours)


def pipeline_for(tmp_path, section):
    path = tmp_path / "kea.json"
    path.write_text(json.dumps({"Dhcp4": base4(**section)}))
    model = build_model(load_file(path).config)
    clock = Clock()
    return Pipeline4(model, LeaseTable(open_backend("memfile:", 4)), Statistics(clock=clock),
                     clock=clock, server_addresses=lambda i: (SERVER,), our_addresses={SERVER})


@pytest.mark.parametrize("section, queries, expected", [
    (GLOBAL_VENDOR, global_vendor_queries, KEA_GLOBAL),
    (CLASS_VENDOR, class_vendor_queries, KEA_CLASS)], ids=["global", "class"])
def test_vendor_payloads_pinned_to_kea(tmp_path, section, queries, expected):
    pipe = pipeline_for(tmp_path, section)
    for i, (query, want) in enumerate(zip(queries(), expected)):
        (reply,), _ = exchange(pipe, relayed(query))
        for code, payload in want.items():
            got = reply.options.data(code)
            assert (got.hex() if got is not None else None) == payload, (i, code)


def test_configured_vivso_does_not_take_in_vendor_space_options(tmp_path):
    """A vivso-suboptions entry is sent as configured; vendor-4491 options join it
    only when asked for (Kea 2.2 does not encapsulate them at configuration)."""
    pipe = pipeline_for(tmp_path, {"option-data": [
        {"name": "vivso-suboptions", "data": "4491"},
        {"name": "tftp-servers", "space": "vendor-4491", "data": "10.1.1.1"}]})
    (reply,), _ = exchange(pipe, relayed(packet(1, mac(1), prl=bytes([1, 125]))))
    assert reply.options.data(125) == bytes.fromhex("0000118b00")
    (reply,), _ = exchange(pipe, relayed(packet(1, mac(2), prl=bytes([1, 125]), options=[
        Option(125, bytes.fromhex("0000118b03010102"))])))
    assert reply.options.data(125) == bytes.fromhex("0000118b0602040a010101")
