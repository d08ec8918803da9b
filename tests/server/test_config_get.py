"""config-get and config-write answer the running configuration in Kea 2.2's
form (defaults filled in, subnet ids assigned, pools and identifiers in Kea's
spelling, inherited lifetimes and timers copied into shared networks and
subnets): compared with what kea-dhcp4 / kea-dhcp6 2.2 answer for the same file.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require_program

ROOT = Path(__file__).resolve().parents[2]
LEASE_CMDS = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so"


def dhcp4(tmp):
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl.sock")},
        "lease-database": {"type": "memfile", "persist": False, "lfc-interval": 3600},
        "renew-timer": 1000, "rebind-timer": 2000, "min-valid-lifetime": 100,
        "max-valid-lifetime": 9000, "match-client-id": False, "authoritative": True,
        "next-server": "192.0.2.9", "boot-file-name": "pxe.0",
        "reservations": [{"hw-address": "01:02:03:04:05:06", "hostname": "g"}],
        "option-def": [{"name": "foo", "code": 222, "type": "uint16"}],
        "option-data": [{"name": "foo", "data": "7"},
                        {"code": 42, "data": "10.0.0.1", "always-send": True},
                        {"name": "tftp-servers", "space": "vendor-4491", "data": "10.1.1.1"}],
        "hooks-libraries": [{"library": LEASE_CMDS, "parameters": {"a": 1}}],
        "client-classes": [{"name": "c1", "only-if-required": True, "valid-lifetime": 500},
                           {"name": "c2", "test": "member('c1')", "next-server": "10.1.1.1"}],
        "shared-networks": [{"name": "net1", "valid-lifetime": 600, "interface": "lo",
                             "subnet4": [{"subnet": "192.0.3.0/24",
                                          "pools": [{"pool": "192.0.3.0 - 192.0.3.15"}]}]}],
        "subnet4": [{"subnet": "192.0.2.0/24", "valid-lifetime": 800, "renew-timer": 300,
                     "pools": [{"pool": "192.0.2.10-192.0.2.20", "client-class": "c2",
                                "require-client-classes": ["c1"]}],
                     "relay": {"ip-addresses": ["192.0.2.254"]}, "user-context": {"x": 1},
                     "reservations": [{"hw-address": "AA:BB:CC:DD:EE:FF",
                                       "ip-address": "192.0.2.100"},
                                      {"circuit-id": "'port7'", "hostname": "p7"}]},
                    {"id": 9, "subnet": "10.0.0.0/8"}],
        "loggers": [{"name": "kea-dhcp4", "severity": "WARN", "debuglevel": 9,
                     "output_options": [{"output": str(tmp / "log.txt"), "maxsize": 2048000,
                                         "maxver": 3}, {"output": "stderr"}]}],
    }}


def minimal4(tmp):
    return {"Dhcp4": {
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl.sock")},
        "lease-database": {"type": "memfile", "persist": False},
        "subnet4": [{"subnet": "127.0.0.0/8", "pools": [{"pool": "127.1.0.1 - 127.1.0.1"}]}]}}


def dhcp6(tmp):
    return {"Dhcp6": {
        "interfaces-config": {"interfaces": ["lo"]},
        "control-socket": {"socket-type": "unix", "socket-name": str(tmp / "ctl.sock")},
        "lease-database": {"type": "memfile", "persist": False},
        "server-id": {"type": "EN", "enterprise-id": 2495, "identifier": "0102",
                      "persist": False},
        "renew-timer": 1000, "rebind-timer": 2000, "preferred-lifetime": 3000,
        "option-data": [{"name": "dns-servers", "data": "2001:db8::53"}],
        "client-classes": [{"name": "c1", "test": "member('ALL')"}],
        "shared-networks": [{"name": "net1", "subnet6": [
            {"subnet": "2001:db8:3::/64", "pools": [{"pool": "2001:db8:3::/120"}]}]}],
        "subnet6": [{"subnet": "2001:db8:1::/64",
                     "pools": [{"pool": "2001:db8:1::10 - 2001:db8:1::1f"}],
                     "pd-pools": [{"prefix": "2001:db8:8::", "prefix-len": 56,
                                   "delegated-len": 60}],
                     "reservations": [{"duid": "01:02:03:04",
                                       "ip-addresses": ["2001:db8:1::100"],
                                       "prefixes": ["2001:db8:9::/64"], "hostname": "h"},
                                      {"hw-address": "0a:0b:0c:0d:0e:0f", "hostname": "hw"}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                     "output_options": [{"output": "stderr"}]}],
    }}


def differences(ours, kea, path=""):
    """Where two JSON values differ, as 'path: ours != kea' lines."""
    if isinstance(ours, dict) and isinstance(kea, dict):
        out = []
        for key in sorted(set(ours) | set(kea)):
            out += differences(ours.get(key, "<absent>"), kea.get(key, "<absent>"),
                               f"{path}/{key}")
        return out
    if isinstance(ours, list) and isinstance(kea, list) and len(ours) == len(kea):
        return [d for i, (o, k) in enumerate(zip(ours, kea))
                for d in differences(o, k, f"{path}[{i}]")]
    return [] if ours == kea else [f"{path}: {ours!r} != {kea!r}"]


def free_port():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def command(sock_path, name, arguments=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock_path))
    req = {"command": name}
    if arguments is not None:
        req["arguments"] = arguments
    s.sendall(json.dumps(req).encode())
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return json.loads(data)


def ask(argv, tmp, conf, written):
    """Start a server on ``conf``; its config-get answer and config-write file."""
    sock = tmp / "ctl.sock"
    if sock.exists():
        sock.unlink()
    path = tmp / "server.json"
    path.write_text(json.dumps(conf))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp), KEA_LOCKFILE_DIR=str(tmp),
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv + ["-c", str(path), "-p", str(free_port())],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                got = command(sock, "config-get")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{argv[0]} did not start: "
                                         f"{proc.stderr.read().decode()[-1500:]}") from None
                time.sleep(0.05)
        w = command(sock, "config-write", {"filename": str(written)})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return got, w, written.read_text()


@pytest.mark.parametrize("make", [dhcp4, minimal4, dhcp6], ids=["dhcp4", "minimal4", "dhcp6"])
def test_config_get_and_write_same_as_kea(tmp_path, make):
    conf = make(tmp_path)
    kea_bin = "kea-dhcp4" if "Dhcp4" in conf else "kea-dhcp6"
    require_program(kea_bin)
    kea_get, kea_w, kea_text = ask([kea_bin], tmp_path, conf, tmp_path / "kea-written.json")
    ours_get, ours_w, ours_text = ask([sys.executable, "-m", "kea_tools.server"], tmp_path,
                                      conf, tmp_path / "ours-written.json")
    assert kea_get["result"] == ours_get["result"] == 0
    kea_map, ours_map = kea_get["arguments"], ours_get["arguments"]
    assert sorted(ours_map) == sorted(kea_map)
    name = next(iter(kea_map))
    diff = differences(ours_map[name], kea_map[name])
    assert not diff, "\n".join(diff)
    assert ours_text.replace("ours-written", "kea-written") == kea_text
    assert ours_w["arguments"]["size"] == kea_w["arguments"]["size"]
    assert ours_w["text"].replace("ours-written", "kea-written") == kea_w["text"]
