"""Real Kea peers for the DDNS tests: kea-dhcp4 as the oracle for name processing
and NCRs, kea-dhcp-ddns (D2) as the receiver of ours.

Everything stays on loopback: kea-dhcp4 listens on lo (UDP sockets, a free high
server port) and we play a relay at an address of 127.3.0.0/16 picked per run, so
replies come back to that address, port 67; its dhcp-ddns points at a UDP socket
of ours, which receives the NCRs Kea sends.  D2 listens on 127.0.0.1 on a high
port; its "DNS server" is a UDP socket of ours too, so the RFC 2136 updates it
sends can be read.
"""
import contextlib
import json
import os
import random
import signal
import socket
import struct
import subprocess
import tempfile
import time

from kea_tools.codec.v4 import Option, Packet4



def _relay_address():
    """A loopback address of its own for this run's relay socket: concurrent test
    runs (several engineers, one machine) must not steal each other's replies."""
    n = random.randrange(1, 1 << 16)
    return f"127.3.{n >> 8}.{(n & 0xFF) or 1}"


def _free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def relay_socket(address):
    """The relay's socket: replies to a relayed query go to giaddr port 67."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, 67))
    sock.settimeout(0.1)
    return sock


class KeaDhcp4:
    """A kea-dhcp4 with DDNS on, reached as a relay; ``exchange`` runs one DORA."""

    def __init__(self, tmp, global_params, subnet_params=None, reservations=()):
        self.ncr_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ncr_sock.bind(("127.0.0.1", 0))
        self.ncr_sock.settimeout(0.05)
        config = {"Dhcp4": {
            "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
            "lease-database": {"type": "memfile", "persist": False},
            "valid-lifetime": 4000,
            "dhcp-ddns": {"enable-updates": True, "server-ip": "127.0.0.1",
                          "server-port": self.ncr_sock.getsockname()[1]},
            **global_params,
            "subnet4": [{"subnet": "127.0.0.0/8", "id": 1,
                         "pools": [{"pool": "127.0.0.100 - 127.0.0.200"}],
                         "reservations": list(reservations),
                         **(subnet_params or {})}],
            "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}],
                         "severity": "ERROR"}],
        }}
        path = os.path.join(tmp, "kea4.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp)
        self.port, self.relay = _free_udp_port(), _relay_address()
        self.sock = relay_socket(self.relay)
        self.proc = subprocess.Popen(["kea-dhcp4", "-c", path, "-p", str(self.port)], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.xid = 0x5000

    def close(self):
        _stop(self.proc)
        self.sock.close()
        self.ncr_sock.close()

    def _ask(self, query, want):
        wire = query.build()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.sock.sendto(wire, ("127.0.0.1", self.port))
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            reply = Packet4.parse(data)
            if reply.xid == query.xid and reply.msg_type in want:
                return reply
        raise AssertionError("kea-dhcp4 did not answer")

    def _query(self, msg_type, mac, options, client_id):
        self.xid += 1
        q = Packet4(xid=self.xid, hops=1, giaddr=self.relay, chaddr=mac + bytes(16 - len(mac)))
        q.msg_type = msg_type
        if client_id is not None:
            q.options.append(Option(61, client_id))
        q.options.extend(options)
        return q

    def exchange(self, mac, options=(), client_id=None):
        """DISCOVER/OFFER, REQUEST/ACK; returns (offer, ack).  Collect the NCRs
        Kea sent for it with :meth:`ncrs`."""
        self.drain()
        offer = self._ask(self._query(1, mac, options, client_id), (2,))
        req = self._query(3, mac, options, client_id)
        req.options.append(Option(50, bytes(map(int, offer.yiaddr.split(".")))))
        req.options.append(Option(54, offer.options.data(54)))
        return offer, self._ask(req, (5, 6))

    def release(self, mac, address, server_id):
        """A DHCPRELEASE for ``address`` (Kea sends no answer)."""
        q = self._query(7, mac, (Option(54, server_id),), None)
        q.ciaddr = address
        self.sock.sendto(q.build(), ("127.0.0.1", self.port))

    def drain(self):
        self.ncrs(0, grace=0.0)

    def ncrs(self, expect, grace=0.1):
        """The NCR datagrams Kea sent: wait (up to 5 s) for ``expect`` of them,
        then ``grace`` seconds more for any we did not expect."""
        out = []
        deadline = time.monotonic() + 5
        extra = None
        while True:
            try:
                data, _ = self.ncr_sock.recvfrom(65535)
                out.append(data)
                continue
            except socket.timeout:
                pass
            now = time.monotonic()
            if len(out) >= expect and extra is None:
                extra = now + grace
            if (extra is not None and now >= extra) or now >= deadline:
                return out


@contextlib.contextmanager
def kea_dhcp4(global_params, subnet_params=None, reservations=()):
    with tempfile.TemporaryDirectory(prefix="keactl-ddns-") as tmp:
        kea = KeaDhcp4(tmp, global_params, subnet_params, reservations)
        try:
            yield kea
        finally:
            kea.close()


def _skip_name(msg, pos):
    """Offset just past the (possibly compressed) name at ``pos``."""
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n


def _read_name(msg, pos):
    labels = []
    while True:
        n = msg[pos]
        if n == 0:
            return ".".join(labels) + "."
        if n & 0xC0 == 0xC0:
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            continue
        labels.append(msg[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n


def parse_update(msg):
    """An RFC 2136 UPDATE -> {"zone": name, "prereq": [...], "update": [...]}, each RR
    a tuple (name, type, class, ttl, rdata)."""
    _, flags, zo, pr, up, _ad = struct.unpack_from("!HHHHHH", msg)
    pos = 12
    zone = _read_name(msg, pos)
    pos = _skip_name(msg, pos) + 4 * zo
    sections = {"zone": zone, "opcode": (flags >> 11) & 0xF}
    for key, count in (("prereq", pr), ("update", up)):
        rrs = []
        for _ in range(count):
            name = _read_name(msg, pos)
            pos = _skip_name(msg, pos)
            rtype, rclass, ttl, rdlen = struct.unpack_from("!HHIH", msg, pos)
            pos += 10
            rrs.append((name, rtype, rclass, ttl, msg[pos:pos + rdlen]))
            pos += rdlen
        sections[key] = rrs
    return sections


class D2:
    """kea-dhcp-ddns on 127.0.0.1 with one forward and one reverse domain whose
    DNS server is ``self.dns`` (a UDP socket of ours answering NOERROR)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.dns.bind(("127.0.0.1", 0))
        self.dns.settimeout(0.1)
        dns_port = self.dns.getsockname()[1]
        self.port = _free_udp_port()
        self.log = os.path.join(tmp, "d2.log")
        server = [{"ip-address": "127.0.0.1", "port": dns_port}]
        config = {"DhcpDdns": {
            "ip-address": "127.0.0.1", "port": self.port, "dns-server-timeout": 500,
            "ncr-protocol": "UDP", "ncr-format": "JSON",
            "forward-ddns": {"ddns-domains": [{"name": "example.com.", "dns-servers": server}]},
            "reverse-ddns": {"ddns-domains": [{"name": "2.0.192.in-addr.arpa.",
                                               "dns-servers": server}]},
            "loggers": [{"name": "kea-dhcp-ddns", "severity": "DEBUG", "debuglevel": 99,
                         "output_options": [{"output": self.log}]}],
        }}
        path = os.path.join(tmp, "d2.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp)
        self.proc = subprocess.Popen(["kea-dhcp-ddns", "-c", path], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.wait_log("DHCP_DDNS_QUEUE_MGR_STARTED")

    def read_log(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, count=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.read_log().count(text) >= count:
                return True
            if self.proc.poll() is not None:
                out = self.proc.communicate()[0].decode(errors="replace")
                raise AssertionError(f"kea-dhcp-ddns exited: {out}")
            time.sleep(0.05)
        return False

    def serve_dns(self, count, timeout=10.0):
        """Answer ``count`` DNS UPDATE messages with NOERROR; return them."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            try:
                data, peer = self.dns.recvfrom(65535)
            except socket.timeout:
                continue
            got.append(data)
            # Same id, QR=1, opcode UPDATE (5), RCODE NOERROR; D2 wants the zone back.
            (msg_id,) = struct.unpack_from("!H", data)
            end = _skip_name(data, 12) + 4
            self.dns.sendto(struct.pack("!HHHHHH", msg_id, 0x8000 | (5 << 11), 1, 0, 0, 0) +
                            data[12:end], peer)
        return got

    def close(self):
        _stop(self.proc)
        self.dns.close()


@contextlib.contextmanager
def kea_d2():
    with tempfile.TemporaryDirectory(prefix="keactl-d2-") as tmp:
        d2 = D2(tmp)
        try:
            yield d2
        finally:
            d2.close()
