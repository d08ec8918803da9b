"""The v6 server process on loopback (no namespaces, no root): a relayed SOLICIT /
REQUEST from a test socket on a high port (RFC 8357 relay-source-port brings the
RELAY-REPL back to it), lease6 commands and statistics over the control socket,
a clean shutdown."""
import json
import socket
import subprocess
import sys
import time

from kea_tools.codec.option import Option
from kea_tools.codec.v6 import Relay6, parse_packet6
from tests.server6.helpers import (REQUEST, SOLICIT, addresses, ia_na, ia_pd, iaaddr, iaprefix,
                                   message, prefixes)


def control(path, name, arguments=None):
    request = {"command": name}
    if arguments is not None:
        request["arguments"] = arguments
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(json.dumps(request).encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data)


def free_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def test_server_process_on_loopback(tmp_path):
    port = free_port()
    conf = {"Dhcp6": {
        "interfaces-config": {"interfaces": ["lo"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp_path / "ctl.sock")},
        "lease-database": {"type": "memfile", "name": str(tmp_path / "leases6.csv"),
                           "lfc-interval": 0},
        "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}],
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102"},
        "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                     "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
                     "pd-pools": [{"prefix": "2001:db8:80::", "prefix-len": 48,
                                   "delegated-len": 56}]}],
    }}
    path = tmp_path / "dhcp6.json"
    path.write_text(json.dumps(conf))
    proc = subprocess.Popen([sys.executable, "-m", "kea_tools.server", "-c", str(path),
                             "-p", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not (tmp_path / "ctl.sock").exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        duid = bytes.fromhex("0002000009bf0102")
        assert (tmp_path / "kea-dhcp6-serverid").read_text().strip() == duid.hex(":")
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
            s.settimeout(5)
            relay_opts = [Option(18, b"lo-test"), Option(135, b"\x00\x00")]

            def ask(msg):
                s.sendto(Relay6.wrap(msg, link_address="2001:db8:1::1", peer_address="fe80::1",
                                     options=relay_opts).build(), ("::1", port))
                reply = parse_packet6(s.recv(65536))
                assert reply.msg_type == 13 and reply.options.data(18) == b"lo-test"
                return reply.inner
            adv = ask(message(SOLICIT, 1, ia_na(1), ia_pd(2)))
            assert adv.options.data(2) == duid
            addr, (pfx, plen) = addresses(adv)[0][0], prefixes(adv)[0][:2]
            rep = ask(message(REQUEST, 1, ia_na(1, iaaddr(addr)), ia_pd(2, iaprefix(pfx, plen)),
                              server_id=duid))
            assert addresses(rep)[0][0] == addr == "2001:db8:1::100"
            assert prefixes(rep)[0][:2] == ("2001:db8:80::", 56)
        sock = tmp_path / "ctl.sock"
        leases = control(sock, "lease6-get-all")["arguments"]["leases"]
        assert {(x["type"], x["ip-address"]) for x in leases} == {
            ("IA_NA", "2001:db8:1::100"), ("IA_PD", "2001:db8:80::")}
        stats = control(sock, "statistic-get-all")["arguments"]
        assert stats["pkt6-solicit-received"][0][0] == 1
        assert stats["subnet[1].assigned-pds"][0][0] == 1
        names = control(sock, "list-commands")["arguments"]
        assert "lease6-get-by-duid" in names and "statistic-get" in names
        assert control(sock, "shutdown")["text"] == "Shutting down."
        assert proc.wait(10) == 0
        rows = (tmp_path / "leases6.csv").read_text().splitlines()
        assert len(rows) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
