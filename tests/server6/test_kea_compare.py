"""Byte-for-byte against kea-dhcp6 2.2 on loopback: the same relayed conversation
(SARR with IA_NA + IA_PD, RENEW with a foreign address, RENEW and REBIND without
a binding, CONFIRM on and off link, RELEASE of another's and of one's own lease,
DECLINE, INFORMATION-REQUEST) gets identical replies from both servers."""
import json
import os
import socket
import subprocess
import sys
import time

from kea_tools.codec.option import Option
from kea_tools.codec.v6 import Relay6, parse_packet6
from tests.conftest import require_program
from tests.server6.helpers import (CONFIRM, DECLINE, INFREQ, REBIND, RELEASE, RENEW, REQUEST,
                                   SOLICIT, addresses, ia_na, ia_pd, iaaddr, iaprefix, message,
                                   oro, prefixes)
from tests.server6.test_server6_loopback import free_port

DUID = bytes.fromhex("0002000009bf0102")


def dhcp6(tmp):
    return {
        "interfaces-config": {"interfaces": ["lo/::1"]},
        "lease-database": {"type": "memfile", "persist": False},
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102",
                      "persist": False},
        "data-directory": str(tmp),
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"},
                        {"name": "domain-search", "data": "example.org"}],
        "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                     "pools": [{"pool": "2001:db8:1::10-2001:db8:1::1f"}],
                     "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 56,
                                   "delegated-len": 60}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }


def conversation(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    s.settimeout(1)
    replies = []

    def ask(msg):
        relay = Relay6.wrap(msg, link_address="2001:db8:1::1", peer_address="fe80::1",
                            options=[Option(18, b"eth7"), Option(135, b"\0\0")])
        s.sendto(relay.build(), ("::1", port))
        try:
            data = s.recv(65536)
        except socket.timeout:
            replies.append(None)
            return None
        replies.append(data)
        return parse_packet6(data).inner
    try:
        adv = ask(message(SOLICIT, 1, ia_na(1), ia_pd(2), oro(23, 24)))
        a, p = addresses(adv)[0][0], prefixes(adv)[0][:2]
        ask(message(REQUEST, 1, ia_na(1, iaaddr(a)), ia_pd(2, iaprefix(*p)), oro(23),
                    server_id=DUID))
        ask(message(RENEW, 1, ia_na(1, iaaddr(a), iaaddr("2001:db8:1::1e")), server_id=DUID))
        ask(message(RENEW, 5, ia_na(1, iaaddr("2001:db8:1::1d")), server_id=DUID))
        ask(message(REBIND, 6, ia_na(1, iaaddr("2001:db8:99::1"))))
        ask(message(CONFIRM, 1, ia_na(1, iaaddr(a))))
        ask(message(CONFIRM, 1, ia_na(1, iaaddr("2001:db8:99::1"))))
        ask(message(CONFIRM, 1, ia_na(1)))
        ask(message(RELEASE, 7, ia_na(1, iaaddr(a)), server_id=DUID))
        ask(message(RELEASE, 1, ia_na(1, iaaddr(a)), ia_pd(2, iaprefix(*p)), server_id=DUID))
        rep = ask(message(REQUEST, 3, ia_na(1), server_id=DUID))
        ask(message(DECLINE, 3, ia_na(1, iaaddr(addresses(rep)[0][0])), server_id=DUID))
        ask(message(DECLINE, 3, ia_na(1, iaaddr("2001:db8:1::1c")), server_id=DUID))
        ask(message(INFREQ, 3, oro(23, 24), client_id=False))
        ask(message(REQUEST, 4, ia_na(9), ia_pd(9), server_id=b"\x00\x02wrong"))
    finally:
        s.close()
    return replies


def run_server(argv, tmp, ready):
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp), KEA_LOCKFILE_DIR=str(tmp))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{argv[0]} did not start: {proc.stderr.read()[-1500:]}")
        time.sleep(0.1)
    return proc


def serve_and_talk(argv, tmp, port):
    def ready():
        # The server is listening once a probe can no longer bind its port.
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("::1", port))
            except OSError:
                return True
            return False
    proc = run_server(argv, tmp, ready)
    try:
        return conversation(port)
    finally:
        proc.terminate()
        proc.wait(10)


def test_replies_identical_to_kea(tmp_path):
    require_program("kea-dhcp6")
    kea_dir, our_dir = tmp_path / "kea", tmp_path / "keactl"
    for d in (kea_dir, our_dir):
        d.mkdir()
        (d / "dhcp6.json").write_text(json.dumps({"Dhcp6": dhcp6(d)}))
    port = free_port()
    kea = serve_and_talk(["kea-dhcp6", "-p", str(port), "-c", str(kea_dir / "dhcp6.json")],
                         kea_dir, port)
    port = free_port()
    ours = serve_and_talk([sys.executable, "-m", "kea_tools.server", "-p", str(port),
                           "-c", str(our_dir / "dhcp6.json")], our_dir, port)
    assert kea[0] is not None and len(kea) == len(ours) == 15
    for i, (k, o) in enumerate(zip(kea, ours)):
        assert (k.hex() if k else None) == (o.hex() if o else None), f"exchange {i}"
