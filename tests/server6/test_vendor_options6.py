"""Vendor options in DHCPv6 replies (vendor-opts, option 17, RFC 8415 section
21.17), checked against kea-dhcp6 2.2 on the same configuration and relayed
queries: sub-options of a vendor-N space go out only for a query whose option
17 names vendor N, DOCSIS clients (4491) asking with their sub-option 1 (ORO),
other vendors getting their always-send sub-options; a configured vendor-opts
entry is sent as configured when the ORO asks for 17."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kea_tools.codec.option import Option
from kea_tools.codec.v6 import Relay6, parse_packet6
from tests.conftest import require_program
from tests.server6.helpers import config, message, one, oro, server

ROOT = Path(__file__).resolve().parents[2]
INFREQ = 11


def free_port():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dhcp6(tmp, option_data):
    return {
        "interfaces-config": {"interfaces": ["lo/::1"]},
        "lease-database": {"type": "memfile", "persist": False},
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102",
                      "persist": False},
        "data-directory": str(tmp),
        "option-data": option_data,
        "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                     "pools": [{"pool": "2001:db8:1::10-2001:db8:1::1f"}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }


def vendor(hexdata):
    return Option(17, bytes.fromhex(hexdata))


QUERIES = [
    message(INFREQ, 1, oro(23)),
    message(INFREQ, 1, oro(17)),
    message(INFREQ, 1, oro(23), vendor("0000118b")),
    message(INFREQ, 1, oro(23), vendor("0000118b000100020020")),   # DOCSIS ORO: 32
    message(INFREQ, 1, oro(23), vendor("0000118b0001000400200021")),
    message(INFREQ, 1, oro(23), vendor("00000009")),
]
CONFIGS = {
    "requested": [{"name": "dns-servers", "data": "2001:db8::53"},
                  {"name": "tftp-servers", "space": "vendor-4491", "data": "2001:db8::1"}],
    "always-send": [{"name": "tftp-servers", "space": "vendor-4491", "data": "2001:db8::1",
                     "always-send": True},
                    {"name": "config-file", "space": "vendor-4491", "data": "cfg"},
                    {"code": 7, "space": "vendor-9", "csv-format": False, "data": "abcd",
                     "always-send": True}],
    "vendor-opts": [{"name": "vendor-opts", "data": "4491"},
                    {"name": "tftp-servers", "space": "vendor-4491", "data": "2001:db8::1"}],
}
TFTP = "0020001020010db8000000000000000000000001"
# What kea-dhcp6 2.2 sent: option 17 of each reply (None: absent).
KEA = {
    "requested": [None, None, None, "0000118b" + TFTP, "0000118b" + TFTP, None],
    "always-send": [None, None, "0000118b" + TFTP, "0000118b" + TFTP,
                    "0000118b" + TFTP + "00210003636667", "0000000900070002abcd"],
    "vendor-opts": [None, "0000118b", None, "0000118b" + TFTP, "0000118b" + TFTP, None],
}


def talk(argv, tmp, option_data):
    path = tmp / "dhcp6.json"
    path.write_text(json.dumps({"Dhcp6": dhcp6(tmp, option_data)}))
    port = free_port()
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp), KEA_LOCKFILE_DIR=str(tmp),
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv + ["-p", str(port), "-c", str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::1", 0))
    replies = []
    try:
        for i, msg in enumerate(QUERIES):
            wire = Relay6.wrap(msg, link_address="2001:db8:1::1", peer_address="fe80::1",
                               options=[Option(135, b"\0\0")]).build()
            deadline = time.monotonic() + (20 if i == 0 else 1)
            sock.settimeout(0.2 if i == 0 else 1)
            data = None
            while time.monotonic() < deadline and proc.poll() is None:
                sock.sendto(wire, ("::1", port))
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
    assert replies[0] is not None, f"{argv[0]} did not answer: {err[-1500:]}"
    return replies


def kea_order(data):
    """Kea packs a message's options by code: compare in that order."""
    if data is None:
        return None
    inner = parse_packet6(data).inner
    return (inner.msg_type, inner.transaction_id,
            sorted(((o.code, o.data) for o in inner.options), key=lambda o: o[0]))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_vendor_opts_same_as_kea(tmp_path, name):
    require_program("kea-dhcp6")
    (tmp_path / "kea").mkdir()
    (tmp_path / "ours").mkdir()
    kea = talk(["kea-dhcp6"], tmp_path / "kea", CONFIGS[name])
    ours = talk([sys.executable, "-m", "kea_tools.server"], tmp_path / "ours", CONFIGS[name])
    for i, (k, o) in enumerate(zip(kea, ours)):
        assert kea_order(o) == kea_order(k), f"reply {i}"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_vendor_opts_pinned_to_kea(name):
    section = config()
    section["option-data"] = CONFIGS[name]
    pipe = server(section)
    for i, (query, want) in enumerate(zip(QUERIES, KEA[name])):
        reply = one(pipe, query)
        got = reply.options.data(17)
        assert (got.hex() if got is not None else None) == want, i
