"""Network namespaces, veth links and real DHCP peers for end-to-end tests.

Everything here runs inside namespaces this module creates, so DHCP traffic never
reaches a host interface. A :class:`NetLab` owns its namespaces and processes and
removes them on exit, whatever happened; namespaces left by a crashed run (their
owner pid is part of the name) are removed the first time a lab is opened.

Usage in a test::

    from tests.e2e.netns import dhclient, kea, netlab, read_records, two_hosts  # noqa: F401

    def test_something(two_hosts):          # s0 192.0.2.1/24 <-> c0 (no address)
        kea(two_hosts.server, 4, {"interfaces-config": {"interfaces": ["s0"]}, ...},
            two_hosts.lab.tmp)
        proc, log = dhclient(two_hosts.client, "c0", two_hosts.lab.tmp)
        assert read_records(log)[-1]["new_ip_address"] == ...

(tests/e2e/conftest.py already provides the fixtures to tests in tests/e2e.)

and from a script (tests/codec/golden/capture.py)::

    with NetLab() as lab:
        srv = lab.namespace("srv")
        ...

The client helpers (:func:`dhclient`, :func:`udhcpc`, :func:`dhcpcd`,
:func:`perfdhcp`) pass the clients a script of ours that only records the
variables it is given (``-sf`` / ``-s`` / ``-c``); dhcpcd additionally gets its own
config file and private state directories, and every namespace has an empty
/etc/netns/NS/resolv.conf, so nothing on the host is rewritten.
"""
import atexit
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require_program, require_root

PREFIX = "kct-"
NETNS_ETC = Path("/etc/netns")
# kct-<owner pid>-<token>-<role>: the pid tells a later run whether the owner died.
_NAME_RE = re.compile(r"^kct-(\d+)-[0-9a-f]+-[a-z0-9-]+$")

# Documentation ranges (RFC 5737, RFC 3849) used by the standard topologies.
NET4 = "192.0.2.0/24"
NET4_RELAY = "198.51.100.0/24"
NET6 = "2001:db8:1::/64"

_stale_checked = False


class NetnsError(RuntimeError):
    """A namespace command failed; the message carries the command and its stderr."""


def _ip(*args, check=True):
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def list_namespaces():
    out = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _pid_alive(pid):
    return Path(f"/proc/{pid}").exists()


def _kill_namespace_pids(name):
    """SIGKILL whatever still runs inside namespace ``name`` (processes we started)."""
    out = _ip("netns", "pids", name, check=False).stdout
    for pid in out.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def delete_namespace(name):
    _kill_namespace_pids(name)
    _ip("netns", "del", name, check=False)
    shutil.rmtree(NETNS_ETC / name, ignore_errors=True)


def remove_stale_namespaces():
    """Delete kct-* namespaces (and /etc/netns dirs) whose owner process is gone.

    Namespaces of a live owner belong to a parallel run and are left alone.
    """
    for name in list_namespaces():
        m = _NAME_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            delete_namespace(name)
    if NETNS_ETC.is_dir():
        live = set(list_namespaces())
        for d in NETNS_ETC.iterdir():
            m = _NAME_RE.match(d.name)
            if m and d.name not in live and not _pid_alive(int(m.group(1))):
                shutil.rmtree(d, ignore_errors=True)


@dataclass(slots=True)
class Process:
    """A process started in a namespace, its output going to files in the lab's tmp."""

    argv: list
    popen: subprocess.Popen
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self):
        return self.popen.pid

    def poll(self):
        return self.popen.poll()

    def wait(self, timeout=None):
        return self.popen.wait(timeout)

    def stdout(self):
        return self.stdout_path.read_text(errors="replace")

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, grace=3.0):
        """Signal the process group, then SIGKILL it if it outlives ``grace``."""
        if self.popen.poll() is not None:
            return self.popen.returncode
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return self.popen.wait(5)

    def wait_for(self, predicate, timeout=10.0, what="condition"):
        """Poll ``predicate()`` until true; fail with the process output if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.popen.poll() is not None:
                if predicate():
                    return
                raise NetnsError(f"{self.argv[0]} exited ({self.popen.returncode}) before {what}:\n"
                                 f"{self.stderr()[-2000:]}{self.stdout()[-2000:]}")
            time.sleep(0.05)
        raise NetnsError(f"timed out after {timeout}s waiting for {what} from {self.argv[0]}:\n"
                         f"{self.stderr()[-2000:]}{self.stdout()[-2000:]}")


@dataclass(slots=True)
class Namespace:
    """One network namespace owned by a :class:`NetLab`."""

    name: str
    lab: "NetLab" = field(repr=False)

    def argv(self, cmd):
        return ["ip", "netns", "exec", self.name, *map(str, cmd)]

    def run(self, cmd, check=True, timeout=60, **kw):
        """Run ``cmd`` to completion inside the namespace (text output captured)."""
        proc = subprocess.run(self.argv(cmd), capture_output=True, text=True,
                              timeout=timeout, **kw)
        if check and proc.returncode != 0:
            raise NetnsError(f"[{self.name}] {' '.join(map(str, cmd))} exited "
                             f"{proc.returncode}: {proc.stderr.strip()}{proc.stdout.strip()}")
        return proc

    def popen(self, cmd, env=None, name=None):
        """Start ``cmd`` inside the namespace in its own process group; the lab stops it."""
        return self.lab._start(self, list(map(str, cmd)), env, name)

    def sysctl(self, key, value):
        self.run(["sysctl", "-q", "-w", f"{key}={value}"])

    def up(self, ifname):
        _ip("-n", self.name, "link", "set", ifname, "up")

    def add_address(self, ifname, cidr):
        """Add an address; IPv6 ones with nodad so they are usable at once."""
        extra = ["nodad"] if ":" in cidr else []
        _ip("-n", self.name, "addr", "add", cidr, "dev", ifname, *extra)

    def add_route(self, prefix, via):
        _ip("-n", self.name, "route", "add", prefix, "via", via)

    def mac(self, ifname):
        out = _ip("-n", self.name, "-o", "link", "show", ifname).stdout
        return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)

    def addresses(self, ifname, family=4, scope="global"):
        out = _ip("-n", self.name, f"-{family}", "-o", "addr", "show", "dev", ifname,
                  "scope", scope).stdout
        return [line.split()[3] for line in out.splitlines()]

    def link_local(self, ifname, timeout=5.0):
        """The interface's fe80:: address once it is no longer tentative.

        dhclient -6 and dhcpcd bind to it; with accept_dad=0 (set for every lab
        namespace) it is ready as soon as the link is up.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = _ip("-n", self.name, "-6", "-o", "addr", "show", "dev", ifname,
                      "scope", "link").stdout
            for line in out.splitlines():
                if "tentative" not in line:
                    return line.split()[3].split("/")[0]
            time.sleep(0.05)
        raise NetnsError(f"[{self.name}] {ifname} has no usable link-local address")

    def ping(self, address, count=1, timeout=2):
        six = ["-6"] if ":" in address else []
        proc = self.run(["busybox", "ping", *six, "-c", count, "-W", timeout, address],
                        check=False)
        return proc.returncode == 0


class NetLab:
    """Namespaces, links and processes that are always torn down together.

    Use as a context manager (or the ``netlab`` fixture). ``tmp`` is a private
    directory for scripts, lease files and captures.
    """

    def __init__(self, tmp=None):
        self.token = secrets.token_hex(3)
        self.namespaces = []
        self.processes = []
        self._own_tmp = tmp is None
        self.tmp = Path(tempfile.mkdtemp(prefix=PREFIX) if tmp is None else tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._closed = False

    def __enter__(self):
        global _stale_checked
        if not _stale_checked:
            remove_stale_namespaces()
            _stale_checked = True
        atexit.register(self.close)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def namespace(self, role):
        """Create namespace kct-<pid>-<token>-<role> with lo up and IPv6 DAD off."""
        name = f"{PREFIX}{os.getpid()}-{self.token}-{role}"
        _ip("netns", "add", name)
        ns = Namespace(name, self)
        self.namespaces.append(ns)
        etc = NETNS_ETC / name
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "resolv.conf").write_text("")
        ns.up("lo")
        # New interfaces copy "default": no DAD, so link-local addresses are usable
        # at once (dhclient -6 cannot bind to a tentative address).
        for scope in ("all", "default"):
            ns.sysctl(f"net.ipv6.conf.{scope}.accept_dad", 0)
            ns.sysctl(f"net.ipv6.conf.{scope}.dad_transmits", 0)
        return ns

    def veth(self, a, a_if, b, b_if, master=None, up=True):
        """A veth pair a:a_if <-> b:b_if, created directly inside both namespaces
        (no name clash with the host). ``master`` enslaves a_if to a bridge in a."""
        _ip("link", "add", a_if, "netns", a.name, "type", "veth", "peer", "name", b_if,
            "netns", b.name)
        if master:
            _ip("-n", a.name, "link", "set", a_if, "master", master)
        if up:
            a.up(a_if)
            b.up(b_if)

    def bridge(self, ns, name="br0"):
        """A bridge in ``ns`` that veth ends can be attached to (veth(..., master=name))."""
        _ip("-n", ns.name, "link", "add", name, "type", "bridge", "forward_delay", "0",
            "stp_state", "0")
        ns.up(name)

    def _start(self, ns, cmd, env, name):
        label = name or Path(cmd[0]).name
        n = len(self.processes)
        out = self.tmp / f"{label}-{n}.out"
        err = self.tmp / f"{label}-{n}.err"
        with open(out, "wb") as fo, open(err, "wb") as fe:
            popen = subprocess.Popen(ns.argv(cmd), stdout=fo, stderr=fe,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True)
        proc = Process(cmd, popen, out, err)
        self.processes.append(proc)
        return proc

    def close(self):
        """Stop every process, delete every namespace and its /etc/netns dir."""
        if self._closed:
            return
        self._closed = True
        for proc in reversed(self.processes):
            proc.stop(grace=2.0)
        for ns in reversed(self.namespaces):
            delete_namespace(ns.name)
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        atexit.unregister(self.close)


@dataclass(slots=True)
class TwoHosts:
    """Server and client namespaces joined by one veth (s0 <-> c0).

    The server side has 192.0.2.1/24 and 2001:db8:1::1/64; the client side has
    no global address (a DHCP client will get one) unless ``client_addresses``.
    """

    lab: NetLab
    server: Namespace
    client: Namespace
    server_if: str = "s0"
    client_if: str = "c0"
    server4: str = "192.0.2.1"
    server6: str = "2001:db8:1::1"


def two_hosts_topology(lab, client_addresses=()):
    srv = lab.namespace("srv")
    cli = lab.namespace("cli")
    lab.veth(srv, "s0", cli, "c0")
    srv.add_address("s0", "192.0.2.1/24")
    srv.add_address("s0", "2001:db8:1::1/64")
    for cidr in client_addresses:
        cli.add_address("c0", cidr)
    return TwoHosts(lab, srv, cli)


# --- recording script for clients ----------------------------------------------

_RECORD_SCRIPT = """#!/bin/sh
# Written by tests/e2e/netns.py: record what the DHCP client passes, touch nothing.
{{
  echo "@reason=${{reason:-$1}}"
  env | LC_ALL=C sort
  echo "@end"
}} >> '{record}'
exit 0
"""


def record_script(directory, name="record"):
    """Write a client hook script that appends its environment to ``<name>.log``.

    Returns (script path, log path). Parse the log with :func:`read_records`.
    """
    directory = Path(directory)
    script = directory / f"{name}.sh"
    log = directory / f"{name}.log"
    script.write_text(_RECORD_SCRIPT.format(record=log))
    script.chmod(0o755)
    log.touch()
    return script, log


def read_records(log):
    """The calls recorded by a :func:`record_script`: a list of dicts, each with
    ``"@reason"`` and the environment variables of that call."""
    records, cur = [], None
    for line in Path(log).read_text(errors="replace").splitlines():
        if line.startswith("@reason="):
            cur = {"@reason": line.split("=", 1)[1]}
        elif line == "@end" and cur is not None:
            records.append(cur)
            cur = None
        elif cur is not None and "=" in line:
            k, v = line.split("=", 1)
            cur[k] = v
    return records


def _has_reason(log, reasons):
    return lambda: any(r["@reason"] in reasons for r in read_records(log))


# --- DHCP clients ------------------------------------------------------------------

# Debian's stock /etc/dhcp/dhclient.conf request list, so captures look like a
# real Debian host; we pass it with -cf so the host file is never read.
DHCLIENT_CONF = """option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name "kct-client";
request subnet-mask, broadcast-address, time-offset, routers,
        domain-name, domain-name-servers, domain-search, host-name,
        dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers,
        netbios-name-servers, netbios-scope, interface-mtu,
        rfc3442-classless-static-routes, ntp-servers;
"""

DHCLIENT_BOUND = {4: ("BOUND", "RENEW", "REBOOT"), 6: ("BOUND6", "RENEW6", "REBIND6")}


def dhclient(ns, ifname, tmp, family=4, prefix_delegation=False, conf=DHCLIENT_CONF,
             extra=(), wait=True, timeout=20.0, tag=None):
    """Start ``dhclient -d -1`` (foreground, one attempt) on ``ifname`` in ``ns``.

    Returns (Process, record log). With ``wait`` it returns once the script saw
    a BOUND/BOUND6 call; the process keeps running (renewals) until stopped.
    """
    require_root()
    require_program("dhclient")
    tag = tag or f"dhclient{family}{'pd' if prefix_delegation else ''}-{ifname}"
    d = Path(tmp) / tag
    d.mkdir(parents=True, exist_ok=True)
    script, log = record_script(d)
    (d / "dhclient.conf").write_text(conf)
    if family == 6:
        ns.link_local(ifname)
    argv = ["dhclient", "-d", "-1", f"-{family}", "-v", "-sf", script,
            "-cf", d / "dhclient.conf", "-lf", d / "dhclient.leases",
            "-pf", d / "dhclient.pid"]
    if prefix_delegation:
        argv.append("-P")
    argv += [*extra, ifname]
    proc = ns.popen(argv, name=tag)
    if wait:
        proc.wait_for(_has_reason(log, DHCLIENT_BOUND[family]), timeout, "a lease (BOUND)")
    return proc, log


def dhclient_release(ns, ifname, tmp, family=4, prefix_delegation=False, tag=None,
                     timeout=20.0):
    """Run ``dhclient -r`` with the lease file of an earlier :func:`dhclient` call."""
    tag = tag or f"dhclient{family}{'pd' if prefix_delegation else ''}-{ifname}"
    d = Path(tmp) / tag
    script, _ = record_script(d, "release")
    argv = ["dhclient", "-r", f"-{family}", "-v", "-sf", script, "-cf", d / "dhclient.conf",
            "-lf", d / "dhclient.leases", "-pf", d / "dhclient-release.pid"]
    if prefix_delegation:
        argv.append("-P")
    return ns.run([*argv, ifname], timeout=timeout)


def udhcpc(ns, ifname, tmp, request=(), extra=(), timeout=20.0, tag=None):
    """Run busybox ``udhcpc -f -q -n`` to completion: DISCOVER..ACK, then exit.

    ``request`` lists extra options to ask for (-O NAME|CODE). Returns
    (CompletedProcess, record log).
    """
    require_root()
    require_program("udhcpc")
    tag = tag or f"udhcpc-{ifname}"
    d = Path(tmp) / tag
    d.mkdir(parents=True, exist_ok=True)
    script, log = record_script(d)
    argv = ["udhcpc", "-f", "-q", "-n", "-i", ifname, "-s", script, "-t", "5", "-T", "1",
            "-p", d / "udhcpc.pid"]
    for opt in request:
        argv += ["-O", opt]
    proc = ns.run([*argv, *extra], timeout=timeout)
    return proc, log


DHCPCD_CONF = """# Written by tests/e2e/netns.py; passed with -f so /etc/dhcpcd.conf is not read.
hostname kct-client
duid
option domain_name_servers, domain_name, domain_search, host_name
option classless_static_routes, interface_mtu, ntp_servers
option dhcp6_name_servers, dhcp6_domain_search
require dhcp_server_identifier
noipv4ll
noarp
nohook resolv.conf, hostname, ntp.conf, timesyncd.conf, chrony.conf, openntpd.conf
"""

# dhcpcd stores its DUID and leases under /var/lib/dhcpcd and its pid files and
# control sockets under /run/dhcpcd (compiled in, no option to move them). The
# mount namespace `ip netns exec` gives the process lets us bind private
# directories over both, so runs never share state with the host or each other.
_DHCPCD_WRAPPER = """set -e
mkdir -p /run/dhcpcd
mount --bind '{db}' /var/lib/dhcpcd
mount --bind '{run}' /run/dhcpcd
exec "$@"
"""


def dhcpcd(ns, ifname, tmp, family=4, conf=DHCPCD_CONF, extra=(), timeout=30.0, tag=None,
           wait=True):
    """Start ``dhcpcd -B -1`` (foreground, exit once bound) with our -f config and
    -c record script. v6 runs without router advertisements: the config turns off
    IPv6 RS and asks for an IA_NA directly (ia_na), which dhcpcd then solicits.

    Returns (Process, record log); with ``wait`` returns once a BOUND/BOUND6
    (or REBOOT) call was recorded.
    """
    require_root()
    require_program("dhcpcd")
    tag = tag or f"dhcpcd{family}-{ifname}"
    d = Path(tmp) / tag
    for sub in ("db", "run"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    script, log = record_script(d)
    text = conf
    if family == 6:
        text += "noipv6rs\nipv6only\n" + f"interface {ifname}\n  ia_na 1\n"
        ns.link_local(ifname)
    (d / "dhcpcd.conf").write_text(text)
    argv = ["sh", "-c", _DHCPCD_WRAPPER.format(db=d / "db", run=d / "run"), "dhcpcd",
            "dhcpcd", "-B", "-1", f"-{family}", "-f", d / "dhcpcd.conf", "-c", script,
            "-t", int(timeout), *extra, ifname]
    proc = ns.popen(argv, name=tag)
    if wait:
        reasons = ("BOUND", "REBOOT") if family == 4 else ("BOUND6", "REBOOT6", "INFORM6")
        proc.wait_for(_has_reason(log, reasons), timeout, "a lease (BOUND)")
    return proc, log


def perfdhcp(ns, server, family=4, local=None, count=None, rate=1, period=1, clients=100,
             extra=(), timeout=30.0):
    """Run ``perfdhcp -r rate -p period -R clients`` to completion and return the
    CompletedProcess (exit 0 when every exchange was answered, 3 otherwise).

    ``count=N`` means: N distinct clients (-R N), each completing at least one
    full exchange (-r 2N -p 1 runs about 2N-1 exchanges over the N clients), so
    the server ends up with exactly N leases.

    A test period rather than ``-n``: perfdhcp 2.2 ends its ``-W`` exit wait as
    soon as the counters it looks at balance, which races with the REQUEST it
    sends on an OFFER (seen with -n 2 -R 2: Kea answered both, perfdhcp counted a
    drop and never sent the second REQUEST). With ``-p`` every exchange has
    finished long before the period ends. ``-r 1 -p 1`` gives one full exchange,
    ``-r 4 -p 1`` three.
    """
    require_root()
    require_program("perfdhcp")
    if count is not None:
        clients, rate, period = count, max(2 * count, 2), 1
    argv = ["perfdhcp", f"-{family}", "-r", rate, "-p", period, "-R", clients]
    if local:
        argv += ["-l", local]
    return ns.run([*argv, *extra, server], check=False, timeout=timeout)


# --- servers and capture -------------------------------------------------------------

def kea(ns, family, config, tmp, tag=None, timeout=15.0):
    """Start Kea's ``kea-dhcp4``/``kea-dhcp6`` 2.2 in ``ns`` with ``config`` (the dict
    inside "Dhcp4"/"Dhcp6"). Pid and lock files go to the tmp dir, leases default
    to a non-persistent memfile and logging to stdout (INFO). Returns the Process
    once Kea logged DHCP<family>_STARTED."""
    require_root()
    require_program(f"kea-dhcp{family}")
    tag = tag or f"kea{family}"
    d = Path(tmp) / tag
    d.mkdir(parents=True, exist_ok=True)
    conf = dict(config)
    conf.setdefault("lease-database", {"type": "memfile", "persist": False})
    conf.setdefault("loggers", [{"name": f"kea-dhcp{family}", "severity": "INFO",
                                 "output_options": [{"output": "stdout"}]}])
    if family == 6:
        # The default server-id is persisted in /var/lib/kea: keep it in memory.
        conf.setdefault("server-id", {"type": "EN", "enterprise-id": 2495,
                                      "identifier": "6b6561637c6c", "persist": False})
    path = d / f"kea-dhcp{family}.json"
    path.write_text(json.dumps({f"Dhcp{family}": conf}, indent=2))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(d), KEA_LOCKFILE_DIR=str(d))
    proc = ns.popen([f"kea-dhcp{family}", "-c", path], env=env, name=tag)
    proc.wait_for(lambda: f"DHCP{family}_STARTED" in proc.stdout(), timeout,
                  f"DHCP{family}_STARTED")
    return proc


DHCP_CAPTURE_FILTER = "udp port 67 or udp port 68 or udp port 546 or udp port 547"


def tshark_capture(ns, ifname, pcap, capture_filter=DHCP_CAPTURE_FILTER, timeout=15.0):
    """Start ``tshark -i ifname -w pcap`` in ``ns``; returns once it is capturing.
    Stop it with ``proc.stop(signal.SIGINT)`` so the file is flushed."""
    require_root()
    require_program("tshark")
    proc = ns.popen(["tshark", "-q", "-n", "-i", ifname, "-f", capture_filter, "-w", pcap],
                    name="tshark")
    proc.wait_for(lambda: "Capturing on" in proc.stderr(), timeout, "tshark to start capturing")
    # dumpcap announces itself a moment before its filter is attached; packets
    # sent in that moment were missed now and then.
    time.sleep(0.5)
    return proc


# --- pytest fixtures ---------------------------------------------------------------

@pytest.fixture
def netlab(tmp_path):
    """A NetLab whose namespaces and processes are removed after the test."""
    require_root()
    require_program("ip")
    with NetLab(tmp_path / "netlab") as lab:
        yield lab


@pytest.fixture
def two_hosts(netlab):
    """Server and client namespaces joined by a veth; see :class:`TwoHosts`."""
    return two_hosts_topology(netlab)
