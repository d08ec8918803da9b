"""Interfaces and UDP sockets for DHCPv4 (Kea's ``interfaces-config``).

``interfaces`` lists names (``"eth0"``), name/address pairs (``"eth0/192.0.2.1"``)
or ``"*"`` (every interface with an IPv4 address except loopback, as Kea does).

As root, each interface gets a socket bound to 0.0.0.0:PORT and tied to the
device with SO_BINDTODEVICE, so it receives the clients' broadcasts and sends
broadcast or unicast replies out of that interface; IP_PKTINFO tells which
address a datagram was sent to. Without the privilege (the quick start on
loopback with ``-p 6767``) a socket is bound to each of the interface's
addresses instead: relayed and unicast traffic only, which is all loopback has.

Unicast to a client that has no address yet needs a neighbour entry for its
chaddr; as root the sender installs one with SIOCSARP (what Kea's raw sockets
achieve by building the frame themselves) and otherwise broadcasts, as Kea
does with ``dhcp-socket-type: udp``.
"""
import errno
import fcntl
import json
import logging
import os
import socket
import struct
import subprocess
from dataclasses import dataclass, field

from kea_tools.errors import UserError

log = logging.getLogger("kea-dhcp4.dhcpsrv")

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
SIOCSARP = 0x8955
ATF_COM = 0x02
ARPHRD_ETHER = 1
_PKTINFO = struct.Struct("=I4s4s")
RECV_SIZE = 4096


class InterfaceError(UserError):
    """An interfaces-config entry that names nothing usable, or a socket that cannot open."""


def system_interfaces():
    """{name: [IPv4 addresses]} for the interfaces of this network namespace."""
    try:
        out = subprocess.run(["ip", "-4", "-j", "addr", "show"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
        data = json.loads(out or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return {name: [] for _, name in socket.if_nameindex()}
    result = {}
    for entry in data:
        addrs = [a["local"] for a in entry.get("addr_info", []) if a.get("family") == "inet"]
        result[entry["ifname"]] = addrs
    return result


@dataclass(slots=True)
class InterfaceSpec:
    name: str
    addresses: list = field(default_factory=list)


def select_interfaces(entries, available):
    """interfaces-config ``interfaces`` -> [InterfaceSpec]; InterfaceError on a name
    that does not exist or an address the interface lacks."""
    chosen = {}
    for entry in entries:
        if entry == "*":
            for name, addrs in available.items():
                if name != "lo" and addrs:
                    chosen.setdefault(name, InterfaceSpec(name, list(addrs)))
            continue
        name, _, address = entry.partition("/")
        if name not in available:
            raise InterfaceError(f"interfaces-config: no interface {name!r} "
                                 f"(have: {', '.join(sorted(available))})")
        if address:
            if address not in available[name]:
                raise InterfaceError(f"interfaces-config: {name} has no address {address}")
            spec = chosen.setdefault(name, InterfaceSpec(name, []))
            if address not in spec.addresses:
                spec.addresses.append(address)
        else:
            chosen[name] = InterfaceSpec(name, list(available[name]))
    return list(chosen.values())


def set_arp(sock, ifname, address, hwaddr):
    """Install a neighbour entry address -> hwaddr on ifname (SIOCSARP)."""
    pa = struct.pack("=H2s4s8s", socket.AF_INET, b"", socket.inet_aton(address), b"")
    ha = struct.pack("=H14s", ARPHRD_ETHER, hwaddr[:14])
    req = pa + ha + struct.pack("=i", ATF_COM) + bytes(16) + ifname.encode()[:15].ljust(16, b"\0")
    fcntl.ioctl(sock.fileno(), SIOCSARP, req)


class DhcpSocket:
    """One UDP socket serving one interface (or one address of it)."""

    __slots__ = ("sock", "iface", "address", "device_bound", "arp_ok")

    def __init__(self, sock, iface, address, device_bound):
        self.sock = sock
        self.iface = iface
        self.address = address
        self.device_bound = device_bound
        self.arp_ok = device_bound

    def fileno(self):
        return self.sock.fileno()

    def receive(self, limit, out, make):
        """Read up to ``limit`` datagrams without blocking; append make(...) to out."""
        sock = self.sock
        n = 0
        while n < limit:
            try:
                data, anc, _flags, src = sock.recvmsg(RECV_SIZE, 64)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno in (errno.EAGAIN, errno.EINTR):
                    break
                log.warning("DHCP4_PACKET_RECEIVE_FAIL %s: %s", self.iface, err)
                break
            local = self.address
            for level, kind, value in anc:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(value) >= 12:
                    _, _spec, dst = _PKTINFO.unpack_from(value)
                    local = socket.inet_ntoa(dst)
            out.append(make(data, src[0], src[1], self.iface, local))
            n += 1
        return n

    def send(self, data, destination, hwaddr=None):
        address = destination.address
        if destination.kind == "yiaddr":
            try:
                if not self.arp_ok:
                    raise OSError("no neighbour table access")
                set_arp(self.sock, self.iface, address, hwaddr or b"")
            except OSError:
                self.arp_ok = False
                address = "255.255.255.255"
        try:
            self.sock.sendto(data, (address, destination.port))
            return True
        except OSError as err:
            log.warning("DHCP4_PACKET_SEND_FAIL to %s:%d on %s: %s", address,
                        destination.port, self.iface, err)
            return False

    def close(self):
        self.sock.close()


def _udp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.setblocking(False)
    return sock


def open_sockets(specs, port):
    """Sockets for the selected interfaces on ``port``; InterfaceError if none opens."""
    sockets = []
    privileged = os.geteuid() == 0
    try:
        for spec in specs:
            if privileged:
                sock = _udp_socket()
                try:
                    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, spec.name.encode())
                    sock.bind(("0.0.0.0", port))
                except OSError as err:
                    sock.close()
                    raise InterfaceError(f"cannot open a DHCP socket on {spec.name} "
                                         f"port {port}: {err.strerror}") from None
                first = spec.addresses[0] if spec.addresses else "0.0.0.0"
                sockets.append(DhcpSocket(sock, spec.name, first, True))
                continue
            for address in spec.addresses:
                sock = _udp_socket()
                try:
                    sock.bind((address, port))
                except OSError as err:
                    sock.close()
                    raise InterfaceError(f"cannot open a DHCP socket on {spec.name} "
                                         f"{address}:{port}: {err.strerror}") from None
                sockets.append(DhcpSocket(sock, spec.name, address, False))
    except InterfaceError:
        for s in sockets:
            s.close()
        raise
    if specs and not sockets:
        raise InterfaceError("no DHCP socket could be opened (no IPv4 address on the "
                             "configured interfaces)")
    return sockets
