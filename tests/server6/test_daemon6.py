"""``keactl serve -c`` with a Dhcp6 configuration, on loopback (no root): the one
daemon reconfigures a v6 server as it does a v4 one. SIGHUP, config-reload and
config-set with a bad configuration are refused with a message while the old one
keeps serving; a good one takes effect and keeps every lease."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kea_tools.codec.option import Option
from kea_tools.codec.v6 import Relay6, parse_packet6
from tests.server6.helpers import REQUEST, SOLICIT, addresses, ia_na, iaaddr, message
from tests.server6.test_server6_loopback import control, free_port

ROOT = Path(__file__).resolve().parents[2]


def section(tmp, **over):
    dhcp6 = {
        "interfaces-config": {"interfaces": ["lo"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl.sock")},
        "lease-database": {"type": "memfile", "name": str(tmp / "leases6.csv"),
                           "lfc-interval": 0},
        "hooks-libraries": [{"library": "libdhcp_lease_cmds.so"}],
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102"},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                     "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                     "output_options": [{"output": str(tmp / "server.log")}]}],
    }
    dhcp6.update(over)
    return {"Dhcp6": dhcp6}


class Server6:
    DUID = bytes.fromhex("0002000009bf0102")

    def __init__(self, tmp, conf):
        import socket
        self.tmp, self.sock = tmp, tmp / "ctl.sock"
        self.path = tmp / "dhcp6.json"
        self.path.write_text(json.dumps(conf))
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bin" / "keactl"), "serve",
                                      "-c", str(self.path), "-p", str(self.port)],
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not self.sock.exists():
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        self.client = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.client.bind(("::1", 0))
        self.client.settimeout(3)

    def command(self, name, arguments=None):
        return control(self.sock, name, arguments)

    def ask(self, msg):
        relay = Relay6.wrap(msg, link_address="2001:db8:1::1", peer_address="fe80::1",
                            options=[Option(135, b"\x00\x00")])
        self.client.sendto(relay.build(), ("::1", self.port))
        return parse_packet6(self.client.recv(65536)).inner

    def sarr(self, client):
        adv = self.ask(message(SOLICIT, client, ia_na(1)))
        addr = addresses(adv)[0][0]
        return self.ask(message(REQUEST, client, ia_na(1, iaaddr(addr)), server_id=self.DUID))

    def stop(self):
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def valid_lft(reply):
    return addresses(reply)[0][2]


def test_v6_reconfiguration_refuses_bad_keeps_leases(tmp_path):
    srv = Server6(tmp_path, section(tmp_path))
    try:
        first = srv.sarr(1)
        addr = addresses(first)[0][0]
        assert addr == "2001:db8:1::100" and valid_lft(first) == 4000
        # A file that does not parse: SIGHUP and config-reload are refused, and
        # the server keeps serving the old configuration.
        srv.path.write_text('{"Dhcp6": {"subnet6": [ }')
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert srv.proc.poll() is None
        bad = srv.command("config-reload")
        assert bad["result"] == 1 and bad["text"].startswith("Config reload failed: ")
        assert valid_lft(srv.sarr(2)) == 4000
        # config-set: a semantic error, and the other family, are refused too.
        bad = srv.command("config-set", section(tmp_path, **{"valid-lifetime": "x"}))
        assert bad["result"] == 1 and "valid-lifetime" in bad["text"]
        other = srv.command("config-set", {"Dhcp4": {}})
        assert other["result"] == 1 and "runs Dhcp6" in other["text"]
        assert srv.command("config-test", section(tmp_path))["result"] == 0
        # A good configuration through config-set: new lifetimes, old leases kept.
        good = section(tmp_path, **{"valid-lifetime": 5000})
        assert srv.command("config-set", good) == {"result": 0,
                                                   "text": "Configuration successful."}
        assert srv.command("config-get")["arguments"]["Dhcp6"]["valid-lifetime"] == 5000
        got = srv.command("lease6-get", {"ip-address": addr})
        assert got["result"] == 0 and got["arguments"]["valid-lft"] == 4000
        renewed = srv.sarr(1)
        assert addresses(renewed)[0][0] == addr and valid_lft(renewed) == 5000
        # And SIGHUP with a good file.
        srv.path.write_text(json.dumps(section(tmp_path, **{"valid-lifetime": 6000})))
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert valid_lft(srv.sarr(3)) == 6000
        leases = srv.command("lease6-get-all")["arguments"]["leases"]
        assert len(leases) == 3
        assert srv.command("lease4-get", {"ip-address": "10.0.0.1"}) == {
            "result": 1, "text": "'lease4-get' is a DHCPv4 command; this is a DHCPv6 server"}
        stats = srv.command("statistic-get", {"name": "subnet[1].assigned-nas"})["arguments"]
        assert stats["subnet[1].assigned-nas"][0][0] == 3
        log = (tmp_path / "server.log").read_text()
        assert "DHCP6_DYNRECONF_FAIL" in log and "DHCP6_DYNRECONF_SUCCESS" in log
    finally:
        assert srv.stop() == 0
    assert not (tmp_path / "ctl.sock").exists()


def test_serve_errors_are_one_line(tmp_path):
    keactl = [sys.executable, str(ROOT / "bin" / "keactl"), "serve"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    missing = subprocess.run([*keactl, "-c", str(tmp_path / "none.json")], capture_output=True,
                             text=True, timeout=30, env=env)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().endswith("configuration file not found")
    path = tmp_path / "dhcp6.json"
    path.write_text(json.dumps(section(tmp_path, **{"interfaces-config": {
        "interfaces": ["nosuch0"]}})))
    bad = subprocess.run([*keactl, "-c", str(path), "-p", str(free_port())],
                         capture_output=True, text=True, timeout=30, env=env)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "no interface 'nosuch0'" in bad.stderr.strip().splitlines()[-1]
