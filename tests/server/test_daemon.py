"""The daemon as a process on loopback: sockets, control channel, reload, signals."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kea_tools.codec.v4 import Packet4
from tests.server.helpers import mac, packet

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).parent / "data" / "kea22-control-responses.txt"
LEASE_CMDS = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(tmp, **over):
    dhcp4 = {
        "interfaces-config": {"interfaces": ["lo"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl.sock")},
        "lease-database": {"type": "memfile", "name": str(tmp / "leases4.csv"), "lfc-interval": 0},
        "hooks-libraries": [{"library": LEASE_CMDS}],
        "valid-lifetime": 4000,
        "subnet4": [{"subnet": "127.0.0.0/8", "id": 1,
                     "pools": [{"pool": "127.1.0.10 - 127.1.0.200"}],
                     "option-data": [{"name": "routers", "data": "127.0.0.1"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "DEBUG",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }
    dhcp4.update(over)
    return {"Dhcp4": dhcp4}


class Server:
    def __init__(self, tmp, conf):
        self.tmp = tmp
        self.path = tmp / "kea.json"
        self.path.write_text(json.dumps(conf))
        self.port, self.reply_port = free_port(), free_port()
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.bind(("127.0.0.1", self.reply_port))
        self.client.settimeout(2)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kea_tools.server", "-c", str(self.path), "-p", str(self.port),
             "-P", str(self.reply_port)], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while not (tmp / "ctl.sock").exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise AssertionError(f"server did not start: {self.proc.stderr.read()}")
            time.sleep(0.05)

    def command(self, name, arguments=None, raw=False):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.tmp / "ctl.sock"))
        req = {"command": name}
        if arguments is not None:
            req["arguments"] = arguments
        s.sendall(json.dumps(req).encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        return data.decode() if raw else json.loads(data)

    def exchange(self, pkt):
        pkt.giaddr = "127.0.0.1"
        pkt.hops = 1
        self.client.sendto(pkt.build(), ("127.0.0.1", self.port))
        try:
            return Packet4.parse(self.client.recv(4096))
        except socket.timeout:
            return None

    def dora(self, hw):
        offer = self.exchange(packet(1, hw))
        return self.exchange(packet(3, hw, requested=offer.yiaddr,
                                    server_id=socket.inet_ntoa(offer.options.data(54))))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.client.close()


@pytest.fixture
def srv(tmp_path):
    s = Server(tmp_path, config(tmp_path))
    yield s
    s.stop()


def kea_reference():
    """command line -> Kea 2.2's exact response text."""
    lines = REFERENCE.read_text().splitlines()
    out = {}
    for i in range(0, len(lines) - 1, 2):
        out.setdefault(lines[i], lines[i + 1][3:])  # the first answer (fresh server)
    return out


@pytest.mark.parametrize("request_line", [
    '{"command": "statistic-get", "arguments": {"name": "nope"}}',
    '{"command": "statistic-reset", "arguments": {"name": "nope"}}',
    '{"command": "statistic-remove", "arguments": {"name": "nope"}}',
    '{"command": "bogus"}',
    '{"command": "lease4-get", "arguments": {"ip-address": "127.1.0.11"}}',
    '{"command": "lease4-get-by-hw-address", "arguments": {"hw-address": "aa:bb:cc:dd:ee:00"}}',
    '{"command": "lease4-get-by-client-id", "arguments": {"client-id": "01:02"}}',
    '{"command": "lease4-get-by-hostname", "arguments": {"hostname": "x"}}',
    '{"command": "lease4-update", "arguments": {"ip-address": "127.1.0.12", "hw-address": "aa:bb:cc:dd:ee:01"}}',
    '{"command": "lease4-add", "arguments": {"ip-address": "10.1.0.11", "hw-address": "aa:bb:cc:dd:ee:ff"}}',
    '{"command": "lease4-wipe", "arguments": {"subnet-id": 1}}',
    '{"command": "lease4-get-all", "arguments": {"subnets": [1]}}',
    '{"command": "leases-reclaim", "arguments": {"remove": true}}',
    '{"command": "leases-reclaim"}',
    '{"command": "statistic-reset-all"}',
])
def test_answers_exactly_like_kea(srv, request_line):
    req = json.loads(request_line)
    assert srv.command(req["command"], req.get("arguments"), raw=True) == kea_reference()[request_line]


def test_lease_commands_round_trip(srv):
    add = srv.command("lease4-add", {"ip-address": "127.1.0.11", "hw-address": "aa:bb:cc:dd:ee:ff"})
    assert add == {"result": 0, "text": "Lease for address 127.1.0.11, subnet-id 1 added."}
    assert srv.command("lease4-add", {"ip-address": "127.1.0.11", "hw-address": "aa:bb:cc:dd:ee:ff"}) \
        == {"result": 1, "text": "IPv4 lease already exists."}
    got = srv.command("lease4-get", {"ip-address": "127.1.0.11"})
    assert got["result"] == 0 and got["text"] == "IPv4 lease found."
    assert set(got["arguments"]) == {"cltt", "fqdn-fwd", "fqdn-rev", "hostname", "hw-address",
                                     "ip-address", "state", "subnet-id", "valid-lft"}
    assert got["arguments"]["valid-lft"] == 4000
    page = srv.command("lease4-get-page", {"from": "start", "limit": 5})
    assert page["arguments"]["count"] == 1 and page["text"] == "1 IPv4 lease(s) found."
    assert srv.command("lease4-update", {"ip-address": "127.1.0.11", "hw-address": "aa:bb:cc:dd:ee:01",
                                         "hostname": "h1"})["text"] == "IPv4 lease updated."
    assert srv.command("lease4-get-by-hostname", {"hostname": "H1"})["result"] == 0
    assert srv.command("lease4-del", {"ip-address": "127.1.0.11"}) == {"result": 0, "text": "IPv4 lease deleted."}
    assert srv.command("lease4-del", {"ip-address": "127.1.0.11"}) == {"result": 3, "text": "IPv4 lease not found."}
    # A leased address is not handed out by DHCP.
    srv.command("lease4-add", {"ip-address": "127.1.0.10", "hw-address": "aa:bb:cc:dd:ee:ff"})
    ack = srv.dora(mac(1))
    assert ack.msg_type == 5 and ack.yiaddr == "127.1.0.11"


def test_list_commands_is_kea_22_minus_unimplemented(srv):
    ours = set(srv.command("list-commands")["arguments"])
    kea = set(json.loads(kea_reference()['{"command": "list-commands"}'])["arguments"])
    # kea-dhcp4 lists lease_cmds' v6 commands too; they are refused here, as the
    # v4 ones are by a DHCPv6 server.
    assert kea - ours == {"config-backend-pull", "libreload"}
    assert ours <= kea
    assert srv.command("lease6-get", {"ip-address": "2001:db8::1"}) == {
        "result": 1, "text": "'lease6-get' is a DHCPv6 command; this is a DHCPv4 server"}


def test_dora_over_udp_and_statistics(srv):
    ack = srv.dora(mac(1))
    assert ack.msg_type == 5 and ack.yiaddr == "127.1.0.10"
    assert ack.options.data(3) == socket.inet_aton("127.0.0.1")
    stats = srv.command("statistic-get-all")["arguments"]
    assert stats["pkt4-ack-sent"][0][0] == 1
    assert stats["subnet[1].assigned-addresses"][0][0] == 1
    assert stats["subnet[1].total-addresses"][0][0] == 191
    assert "127.1.0.10," + mac(1).hex(":") in (srv.tmp / "leases4.csv").read_text()


def test_bad_reload_keeps_old_config_good_reload_keeps_leases(srv):
    ack = srv.dora(mac(1))
    srv.path.write_text('{"Dhcp4": {"subnet4": [ }')
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert srv.proc.poll() is None
    assert srv.command("config-reload")["result"] == 1
    assert srv.dora(mac(2)).msg_type == 5
    new = config(srv.tmp, **{"valid-lifetime": 900})
    srv.path.write_text(json.dumps(new))
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    ack3 = srv.dora(mac(3))
    assert int.from_bytes(ack3.options.data(51), "big") == 900
    assert srv.command("lease4-get", {"ip-address": ack.yiaddr})["result"] == 0
    # The same client renews its old lease after the reload.
    assert srv.dora(mac(1)).yiaddr == ack.yiaddr


def test_config_test_set_and_get(srv):
    bad = srv.command("config-test", {"Dhcp4": {"bogus": 1}})
    assert bad["result"] == 1 and "bogus" in bad["text"]
    good = config(srv.tmp, **{"valid-lifetime": 700})
    assert srv.command("config-test", good)["result"] == 0
    assert srv.command("config-set", good) == {"result": 0, "text": "Configuration successful."}
    assert srv.command("config-get")["arguments"]["Dhcp4"]["valid-lifetime"] == 700
    out = srv.tmp / "written.json"
    w = srv.command("config-write", {"filename": str(out)})
    assert w["result"] == 0 and json.loads(out.read_text())["Dhcp4"]["valid-lifetime"] == 700


def test_unsupported_so_hook_refused(srv):
    conf = config(srv.tmp, **{"hooks-libraries": [{"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so"}]})
    r = srv.command("config-set", conf)
    assert r["result"] == 1 and "does not support" in r["text"]
    assert srv.dora(mac(1)).msg_type == 5


def test_reclaim_expired_leases(srv):
    conf = config(srv.tmp, **{"valid-lifetime": 1, "expired-leases-processing": {
        "reclaim-timer-wait-time": 0, "flush-reclaimed-timer-wait-time": 0}})
    assert srv.command("config-set", conf)["result"] == 0
    ack = srv.dora(mac(1))
    time.sleep(2.1)
    assert srv.command("leases-reclaim", {"remove": True})["result"] == 0
    assert srv.command("lease4-get", {"ip-address": ack.yiaddr})["result"] == 3
    stats = srv.command("statistic-get", {"name": "reclaimed-leases"})["arguments"]
    assert stats["reclaimed-leases"][0][0] == 1


def test_shutdown_command_exit_value(srv):
    assert srv.command("shutdown", {"exit-value": 3}) == {"result": 0, "text": "Shutting down."}
    assert srv.proc.wait(10) == 3


def test_garbage_counted_server_keeps_serving(srv):
    for junk in (b"", b"\x01", b"\x00" * 300, os.urandom(600)):
        srv.client.sendto(junk, ("127.0.0.1", srv.port))
    assert srv.dora(mac(1)).msg_type == 5
    got = srv.command("statistic-get", {"name": "pkt4-parse-failed"})["arguments"]
    assert got["pkt4-parse-failed"][0][0] >= 3


def test_sqlite_lease_database_survives_restart(tmp_path):
    import sqlite3
    conf = config(tmp_path, **{"lease-database": {"type": "sqlite", "name": "leases4.db"}})
    s = Server(tmp_path, conf)
    try:
        acks = [s.dora(mac(n)) for n in (1, 2, 3)]
        assert [a.msg_type for a in acks] == [5, 5, 5]
        assert s.command("lease4-get", {"ip-address": acks[1].yiaddr})["result"] == 0
    finally:
        s.stop()
    with sqlite3.connect(tmp_path / "leases4.db") as db:
        assert db.execute("SELECT count(*) FROM lease4").fetchone()[0] == 3
    s = Server(tmp_path, conf)
    try:
        stats = s.command("statistic-get", {"name": "subnet[1].assigned-addresses"})
        assert stats["arguments"]["subnet[1].assigned-addresses"][0][0] == 3
        assert s.dora(mac(2)).yiaddr == acks[1].yiaddr
        assert s.dora(mac(4)).yiaddr not in {a.yiaddr for a in acks}
    finally:
        s.stop()
