"""keactl serve against kea-dhcp4 2.2 with DDNS on, on loopback: the same DORAs
(options 81 and 12, reservations, renewals, a release) go to each server in
turn, playing a relay on loopback; the option 12/81 answers and the NCRs each
sends to a UDP socket standing in for kea-dhcp-ddns must be the same.  Then the
lease commands that touch DNS (lease4-del update-ddns, lease4-resend-ddns)
against the answers kea-dhcp4 2.2 with lease_cmds gave."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from tests.conftest import ROOT, require_program, require_root
from tests.server.test_ddns import ORACLE, fqdn4
from tests.server.ddns_kea import KeaDhcp4, _free_udp_port, _relay_address, relay_socket

D_S = 0x01


class KeactlDhcp4(KeaDhcp4):
    """keactl serve in KeaDhcp4's place: same config, port and relay."""

    def __init__(self, tmp, global_params, subnet_params=None, reservations=()):
        self.ncr_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ncr_sock.bind(("127.0.0.1", 0))
        self.ncr_sock.settimeout(0.05)
        self.control = os.path.join(tmp, "ctl.sock")
        config = {"Dhcp4": {
            "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
            "lease-database": {"type": "memfile", "persist": False},
            "control-socket": {"socket-type": "unix", "socket-name": self.control},
            "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}],
            "valid-lifetime": 4000,
            "dhcp-ddns": {"enable-updates": True, "server-ip": "127.0.0.1",
                          "server-port": self.ncr_sock.getsockname()[1]},
            **global_params,
            "subnet4": [{"subnet": "127.0.0.0/8", "id": 1,
                         "pools": [{"pool": "127.0.0.100 - 127.0.0.200"}],
                         "reservations": list(reservations),
                         **(subnet_params or {})}],
            "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                         "output_options": [{"output": os.path.join(tmp, "keactl.log")}]}],
        }}
        path = os.path.join(tmp, "keactl4.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        self.port, self.relay = _free_udp_port(), _relay_address()
        self.sock = relay_socket(self.relay)
        self.proc = subprocess.Popen([sys.executable, "-m", "kea_tools.server", "-c", path,
                                      "-p", str(self.port)], cwd=str(ROOT),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.xid = 0x5000

    def command(self, name, arguments):
        deadline = time.monotonic() + 10
        while not os.path.exists(self.control):
            assert time.monotonic() < deadline and self.proc.poll() is None
            time.sleep(0.05)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.control)
            s.sendall(json.dumps({"command": name, "arguments": arguments}).encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return json.loads(data)


def run_server(cls, glob, sub, resv, clients, expected=None):
    """Every client's DORA, then one client renewing and releasing; returns the
    answers' 12/81 options and the NCRs (without lease-expires-on, which follows
    each server's clock)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="keactl-ddns-e2e-") as tmp:
        server = cls(tmp, glob, sub, resv)
        try:
            def ncrs():
                want = len(expected[len(out)][-1]) if expected else 0
                got = [json.loads(x[2:]) for x in server.ncrs(want, grace=0.25)]
                for ncr in got:
                    ncr.pop("lease-expires-on")
                return got
            for i, (options, client_id) in enumerate(clients):
                offer, ack = server.exchange(bytes((2, 0, 0, 0, 0, i + 1)), options, client_id)
                out.append((ack.msg_type, ack.yiaddr,
                            [o for o in offer.options if o.code in (12, 81)],
                            [o for o in ack.options if o.code in (12, 81)], ncrs()))
            mac = bytes.fromhex("020000000042")
            for name in ("first", "first", "second"):
                _, ack = server.exchange(mac, [fqdn4(D_S, name)])
                out.append((ack.msg_type, ack.yiaddr, [], [o for o in ack.options
                                                          if o.code == 81], ncrs()))
            server.release(mac, ack.yiaddr, ack.options.data(54))
            out.append(("release", ack.yiaddr, [], [], ncrs()))
        finally:
            server.close()
    return out


@pytest.mark.parametrize("name", ["defaults", "overrides", "replace-and-reservations",
                                  "send-updates-off"])
def test_keactl_serve_answers_and_ncrs_equal_kea_dhcp4(name):
    require_root()
    require_program("kea-dhcp4")
    glob, sub, resv, clients = ORACLE[name]
    clients = [c if isinstance(c, tuple) else (c, None) for c in clients]
    kea = run_server(KeaDhcp4, glob, sub, resv, clients)
    ours = run_server(KeactlDhcp4, glob, sub, resv, clients, expected=kea)
    assert len(ours) == len(kea)
    for i, (theirs, mine) in enumerate(zip(kea, ours)):
        assert mine == theirs, (i, clients[i] if i < len(clients) else "renew/release")
    # The scenario did exercise the sender (adds, a rename, the release), except
    # where the subnet turns updates off: then neither server sends anything.
    sent = sum(len(x[-1]) for x in kea)
    assert sent == 0 if name == "send-updates-off" else sent >= 5


# Kea 2.2 with libdhcp_lease_cmds and dhcp-ddns enabled answered these (a lease
# added with hostname h.example.com. and both directions, one with no hostname,
# one with a hostname and no direction).
RESEND_AND_DEL = [
    ("lease4-resend-ddns", {"ip-address": "127.0.0.11"},
     {"result": 0, "text": "NCR generated for: 127.0.0.11, hostname: h.example.com."}, 0),
    ("lease4-resend-ddns", {"ip-address": "127.0.0.12"},
     {"result": 1, "text": "Lease for: 127.0.0.12, has no hostname, nothing to update"}, None),
    ("lease4-resend-ddns", {"ip-address": "127.0.0.13"},
     {"result": 1, "text": "Neither forward nor reverse updates enabled for lease for: "
                           "127.0.0.13"}, None),
    ("lease4-resend-ddns", {"ip-address": "127.0.0.99"},
     {"result": 3, "text": "No lease found for: 127.0.0.99"}, None),
    ("lease4-del", {"ip-address": "127.0.0.11", "update-ddns": "yes"},
     {"result": 1, "text": "'update-ddns' is not a boolean"}, None),
    ("lease4-del", {"ip-address": "127.0.0.11", "update-ddns": True},
     {"result": 0, "text": "IPv4 lease deleted."}, 1),
    ("lease4-del", {"ip-address": "127.0.0.12", "update-ddns": True},
     {"result": 0, "text": "IPv4 lease deleted."}, None),
]


def test_lease_commands_resend_and_delete_with_update_ddns():
    require_root()
    with tempfile.TemporaryDirectory(prefix="keactl-ddns-cmd-") as tmp:
        server = KeactlDhcp4(tmp, {"ddns-qualifying-suffix": "example.com"})
        try:
            for address, extra in (("127.0.0.11", {"hostname": "h.example.com.",
                                                   "fqdn-fwd": True, "fqdn-rev": True}),
                                   ("127.0.0.12", {}),
                                   ("127.0.0.13", {"hostname": "x.example.com."})):
                got = server.command("lease4-add", {"ip-address": address,
                                                    "hw-address": "02:00:00:00:00:01", **extra})
                assert got["result"] == 0, got
            for name, args, answer, change in RESEND_AND_DEL:
                assert server.command(name, args) == answer, (name, args)
                got = [json.loads(x[2:]) for x in server.ncrs(0 if change is None else 1,
                                                             grace=0.1)]
                if change is None:
                    assert got == [], (name, args)
                else:
                    (ncr,) = got
                    assert (ncr["change-type"], ncr["fqdn"], ncr["ip-address"]) == \
                        (change, "h.example.com.", "127.0.0.11")
                    assert ncr["lease-length"] == 1333
        finally:
            server.close()


def test_serve_t_checks_dhcp_ddns(tmp_path):
    """TCP is refused at its key; a bad sender/server pair is one line, exit 1."""
    for ddns, words in (({"enable-updates": True, "ncr-protocol": "TCP"},
                         "unsupported: ncr-protocol"),
                        ({"enable-updates": True, "sender-ip": "::1"}, "same family")):
        path = tmp_path / "kea.json"
        path.write_text(json.dumps({"Dhcp4": {"dhcp-ddns": ddns, "subnet4": []}}))
        proc = subprocess.run([sys.executable, "-m", "kea_tools", "serve", "-t", str(path)],
                              cwd=str(ROOT), capture_output=True, text=True)
        assert proc.returncode != 0 and words in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    path.write_text(json.dumps({"Dhcp4": {"dhcp-ddns": {"enable-updates": True},
                                          "subnet4": []}}))
    proc = subprocess.run([sys.executable, "-m", "kea_tools", "serve", "-t", str(path)],
                          cwd=str(ROOT), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

