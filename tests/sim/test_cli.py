"""``keactl perf`` from the command line: options, errors, reports, exit codes."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import parse_packet6

from tests.conftest import require_program
from tests.sim.fakeserver import FakeServer, Misbehaviour

ROOT = Path(__file__).resolve().parents[2]


def keactl(*args, timeout=60, prefixed=False):
    """Run bin/keactl; with ``prefixed``, leading arguments up to "perf" are a
    command prefix (see unprivileged())."""
    args = list(map(str, args))
    prefix = []
    if prefixed:
        i = args.index("perf")
        prefix, args = args[:i], args[i:]
    return subprocess.run([*prefix, sys.executable, str(ROOT / "bin" / "keactl"), *args],
                          capture_output=True, text=True, timeout=timeout)


def unprivileged():
    """Command prefix that runs without root's capabilities (binding port 67 / 547
    fails as it does for a user); nothing to add for a user."""
    if os.geteuid() != 0:
        return []
    require_program("setpriv")
    return ["setpriv", "--bounding-set=-all"]


def _free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_help():
    proc = keactl("perf", "--help")
    assert proc.returncode == 0
    for letter in ("-r", "-R", "-n", "-p", "-D", "-t", "-f", "-F", "-d", "-W", "-c", "-e",
                   "-o", "-l", "-b", "-s", "--json", "--mode", "--identities",
                   "--relay-port"):
        assert f"  {letter}" in proc.stdout or f", {letter}" in proc.stdout


@pytest.mark.parametrize("args, message", [
    ((), "a server address is required"),
    (("-D", "0", "127.0.0.1"), "-D must be at least 1"),
    (("-D", "100%", "127.0.0.1"), "-D percentage must be below 100"),
    (("-o", "300,00", "127.0.0.1"), "out of range for DHCPv4"),
    (("-o", "12,zz", "127.0.0.1"), "must be hex digits"),
    (("-b", "mac=00:01", "127.0.0.1"), "-b mac=00:01: a MAC address has 6 octets"),
    (("-4", "fd00::1"), "is not an IPv4 address"),
    (("-f", "10", "127.0.0.1"), "-f and -F need -r"),
    (("-r", "10", "-f", "8", "-F", "8", "127.0.0.1"), "must not exceed -r"),
    (("-e", "prefix-only", "127.0.0.1"), "needs -6"),
    (("-c", "127.0.0.1"), "needs -6"),
    (("--mode", "client", "127.0.0.1"), "client mode needs -l INTERFACE"),
    (("not-an-address",), "server must be an IP address"),
])
def test_user_errors_are_one_line(args, message):
    proc = keactl("perf", *args)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert message in proc.stderr


def test_port_in_use_is_a_user_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        proc = keactl("perf", "-l", "127.0.0.1", "-L", port, "-n", 1, "127.0.0.1:9")
    assert proc.returncode == 1
    assert "cannot bind 127.0.0.1 port" in proc.stderr and "already" in proc.stderr


@pytest.mark.parametrize("family", [4, 6])
def test_json_report_against_loopback_server(family):
    host = "127.0.0.1" if family == 4 else "::1"
    if family == 6:
        try:
            _free_port(socket.AF_INET6, host)
        except OSError:
            pytest.skip("no IPv6 loopback")
    with FakeServer(family, udp=True) as srv:
        server = f"{host}:{srv.port}" if family == 4 else f"[{host}]:{srv.port}"
        proc = keactl("perf", f"-{family}", "-l", host, "-L",
                      _free_port(socket.AF_INET if family == 4 else socket.AF_INET6, host),
                      "-r", 500, "-n", 40, "-R", 100, "--json", server)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    names = (["DISCOVER-OFFER", "REQUEST-ACK"] if family == 4 else
             ["SOLICIT-ADVERTISE", "REQUEST-REPLY"])
    assert list(report["exchanges"]) == names
    for name in names:
        ex = report["exchanges"][name]
        assert (ex["sent"], ex["received"], ex["drops"], ex["orphans"], ex["rejected"],
                ex["non-unique"]) == (40, 40, 0, 0, 0, 0)
        assert set(ex["delays"]) == {"min", "avg", "max", "std"}
        assert ex["delays"]["min"] <= ex["delays"]["avg"] <= ex["delays"]["max"]
    assert report["rate"] > 0 and report["completed"] == 40


def test_table_report_intervals_and_exit_3_on_drops():
    with FakeServer(4, Misbehaviour(silent_every=4), udp=True) as srv:
        proc = keactl("perf", "-l", "127.0.0.1", "-L", _free_port(), "-r", 100, "-p", 1.2,
                      "-t", 0.5, "-d", 0.2, "-W", 300000, "--progress",
                      f"127.0.0.1:{srv.port}")
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout
    assert "Rate: " in out and "expected rate: 100" in out
    assert out.count("sent: ") == 2  # -t 0.5 over 1.2 s
    row = next(line for line in out.splitlines() if line.startswith("DISCOVER-OFFER "))
    sent, received, drops = map(int, row.split()[1:4])
    assert sent == 120 and drops == 30 and received == 90
    assert "exchanges/s" in proc.stderr  # the live progress line


def test_max_drop_exit_code():
    with FakeServer(4, Misbehaviour(silent_every=2), udp=True) as srv:
        proc = keactl("perf", "-l", "127.0.0.1", "-L", _free_port(), "-r", 200, "-p", 20,
                      "-d", 0.1, "-D", "10%", "--json", f"127.0.0.1:{srv.port}")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["exit-reason"] == "Reached maximum percentage of drops"
    assert report["duration"] < 5


@pytest.mark.parametrize("family", [4, 6])
def test_without_root_relay_mode_uses_an_unprivileged_port_and_rfc_8357(family):
    host = "127.0.0.1" if family == 4 else "::1"
    if family == 6:
        try:
            _free_port(socket.AF_INET6, host)
        except OSError:
            pytest.skip("no IPv6 loopback")
    prefix = unprivileged()
    # The fake server answers like Kea: to port 67 / 547 unless the relay names its port.
    first = "DISCOVER-OFFER" if family == 4 else "SOLICIT-ADVERTISE"
    with FakeServer(family, udp=True) as srv:
        server = f"{host}:{srv.port}" if family == 4 else f"[{host}]:{srv.port}"
        base = ["perf", f"-{family}", "-l", host, "-r", 500, "-R", 100, "--json"]
        proc = keactl(*prefix, *base, "-n", 30, server, prefixed=True)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["completed"] == 30
        received = list(srv.received)
        # perfdhcp's bytes from an unprivileged port: the replies go to 67 / 547.
        proc = keactl(*prefix, *base, "-n", 10, "-d", 0.2, "--no-relay-port", server,
                      prefixed=True)
        assert proc.returncode == 3, proc.stderr
        assert json.loads(proc.stdout)["exchanges"][first]["drops"] == 10
    if family == 4:
        assert all(Packet4.parse(raw).options.data(82) == b"\x13\x00" for raw in received)
    else:
        assert all(parse_packet6(raw).options.data(135) == b"\x00\x00" for raw in received)
    # Asking for the privileged port explicitly is a one-line error.
    proc = keactl(*prefix, "perf", f"-{family}", "-l", host, "-L", 67 if family == 4 else 547,
                  "-n", 1, server, prefixed=True)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "Permission denied" in proc.stderr and "need root" in proc.stderr
