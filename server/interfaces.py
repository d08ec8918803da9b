"""Interfaces and UDP sockets for DHCPv4 and DHCPv6 (Kea's ``interfaces-config``).

``interfaces`` lists names (``"eth0"``), name/address pairs (``"eth0/192.0.2.1"``,
``"eth0/2001:db8::1"``) or ``"*"`` (every interface except loopback, as Kea does).

As root, each interface but loopback gets one socket bound to the wildcard
address and tied to the device with SO_BINDTODEVICE, so it receives the clients' broadcasts (v4) or
the All_DHCP_Relay_Agents_and_Servers group ff02::1:2 it joins (v6, RFC 8415
section 7.1) and sends replies out of that interface; IP_PKTINFO / IPV6_PKTINFO
tell which address a datagram was sent to (for v6 that tells multicast from
unicast, which decides the RFC 8415 section 16 / 18.4 unicast rules). Without the
privilege, and always on loopback (the quick start with ``-p 6767``), a socket is
bound to each of the interface's addresses instead (v6: each global address, or
the unicast addresses interfaces-config names): relayed and unicast traffic
only, which is all loopback has.

A v4 name/address entry restricts the interface to that address; a v6 one keeps
every address of the interface and names the address clients may reach by
unicast (Kea's meaning for each family).

Unicast to a DHCPv4 client that has no address yet needs a neighbour entry for
its chaddr; as root the sender installs one with SIOCSARP (what Kea's raw sockets
achieve by building the frame themselves) and otherwise broadcasts, as Kea does
with ``dhcp-socket-type: udp``. DHCPv6 replies go to the client's link-local
source (scoped to the receiving interface) or to the relay.
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

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
SIOCSARP = 0x8955
ATF_COM = 0x02
ARPHRD_ETHER = 1
_PKTINFO = struct.Struct("=I4s4s")
ALL_DHCP_SERVERS = "ff02::1:2"


class InterfaceError(UserError):
    """An interfaces-config entry that names nothing usable, or a socket that cannot open."""


@dataclass(slots=True)
class Incoming:
    """One received datagram and where it arrived (``local_address``: the
    destination it was sent to)."""

    data: bytes
    src_address: str
    src_port: int
    iface: str = ""
    local_address: str = ""


def system_interfaces(family=4):
    """{name: [addresses of ``family``]} for the interfaces of this network
    namespace; IPv6 lists global addresses first, then link-local ones."""
    try:
        out = subprocess.run(["ip", f"-{family}", "-j", "addr", "show"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
        data = json.loads(out or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return {name: [] for _, name in socket.if_nameindex()}
    kind = "inet" if family == 4 else "inet6"
    result = {}
    for entry in data:
        addrs = [a for a in entry.get("addr_info", []) if a.get("family") == kind]
        addrs.sort(key=lambda a: a.get("scope") == "link")
        result[entry["ifname"]] = [a["local"] for a in addrs]
    return result


@dataclass(slots=True)
class InterfaceSpec:
    """A selected interface: the addresses it serves on, and (v6) the ones
    interfaces-config names explicitly for unicast."""

    name: str
    addresses: list = field(default_factory=list)
    unicast: list = field(default_factory=list)


def select_interfaces(entries, available, family=4):
    """interfaces-config ``interfaces`` -> [InterfaceSpec]; InterfaceError on a name
    that does not exist or an address the interface lacks."""
    chosen = {}
    for entry in entries:
        if entry == "*":
            for name, addrs in available.items():
                # v4 needs an address to serve on; v6 has its link-local one.
                if name != "lo" and (addrs or family == 6):
                    chosen.setdefault(name, InterfaceSpec(name, list(addrs)))
            continue
        name, _, address = entry.partition("/")
        if name not in available:
            raise InterfaceError(f"interfaces-config: no interface {name!r} "
                                 f"(have: {', '.join(sorted(available))})")
        if address and address not in available[name]:
            raise InterfaceError(f"interfaces-config: {name} has no address {address}")
        if family == 6:
            spec = chosen.setdefault(name, InterfaceSpec(name, list(available[name])))
            if address and address not in spec.unicast:
                spec.unicast.append(address)
        elif address:
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


class UdpSocket:
    """One UDP socket serving one interface (or one address of it)."""

    __slots__ = ("sock", "iface", "address", "device_bound", "log")
    RECV_SIZE = 4096
    # v6 sources of link-local clients come as "fe80::1%eth0": the scope goes.
    SCOPED = False

    def __init__(self, sock, iface, address, device_bound, log):
        self.sock = sock
        self.iface = iface
        self.address = address
        self.device_bound = device_bound
        self.log = log

    def fileno(self):
        return self.sock.fileno()

    def receive(self, limit, out):
        """Read up to ``limit`` datagrams without blocking; append Incoming to out."""
        sock, size, local_of, scoped = self.sock, self.RECV_SIZE, self.local_of, self.SCOPED
        n = 0
        while n < limit:
            try:
                data, anc, _flags, src = sock.recvmsg(size, 256)
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EINTR):
                    self.log.warning("PACKET_RECEIVE_FAIL %s: %s", self.iface, err)
                break
            source = src[0].partition("%")[0] if scoped else src[0]
            out.append(Incoming(data, source, src[1], self.iface,
                                local_of(anc) if anc else self.address))
            n += 1
        return n

    def close(self):
        self.sock.close()


class DhcpSocket(UdpSocket):
    """A DHCPv4 socket: broadcast or unicast replies as RFC 2131 section 4.1 says."""

    __slots__ = ("arp_ok",)

    def __init__(self, sock, iface, address, device_bound, log):
        super().__init__(sock, iface, address, device_bound, log)
        self.arp_ok = device_bound

    def local_of(self, anc):
        for level, kind, value in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(value) >= 12:
                return socket.inet_ntoa(_PKTINFO.unpack_from(value)[2])
        return self.address

    def send_reply(self, out):
        resp = out.response
        return self.send(out.data, out.destination, resp.chaddr[:resp.hlen])

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
            self.log.warning("DHCP4_PACKET_SEND_FAIL to %s:%d on %s: %s", address,
                             destination.port, self.iface, err)
            return False


class Dhcp6Socket(UdpSocket):
    """A DHCPv6 socket: replies to a client's link-local address go out of the
    receiving interface (scope id), replies to relays are routed."""

    __slots__ = ("ifindex",)
    RECV_SIZE = 65536
    SCOPED = True

    def __init__(self, sock, iface, address, device_bound, log):
        super().__init__(sock, iface, address, device_bound, log)
        try:
            self.ifindex = socket.if_nametoindex(iface)
        except OSError:
            self.ifindex = 0

    def local_of(self, anc):
        for level, kind, value in anc:
            if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO and len(value) >= 20:
                return socket.inet_ntop(socket.AF_INET6, value[:16])
        return self.address

    def send_reply(self, out):
        return self.send(out.data, out.address, out.port)

    def send(self, data, address, port):
        scope = self.ifindex if address.lower().startswith(("fe80", "ff02")) else 0
        try:
            self.sock.sendto(data, (address, port, 0, scope))
            return True
        except OSError as err:
            self.log.warning("DHCP6_PACKET_SEND_FAIL to [%s]:%d on %s: %s", address, port,
                             self.iface, err)
            return False


def _udp_socket(family):
    if family == 4:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    else:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    # SO_REUSEADDR lets a new configuration's sockets bind beside the running ones.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.setblocking(False)
    return sock


def _join_all_servers(sock, name):
    index = socket.if_nametoindex(name)
    group = socket.inet_pton(socket.AF_INET6, ALL_DHCP_SERVERS)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack("@I", index))
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)


def open_sockets(specs, port, family=4):
    """Sockets for the selected interfaces on ``port``; InterfaceError if one
    cannot open or none does."""
    log = logging.getLogger(f"kea-dhcp{family}.dhcpsrv")
    make = DhcpSocket if family == 4 else Dhcp6Socket
    wildcard = "0.0.0.0" if family == 4 else "::"
    sockets = []

    def bind(sock, address, where):
        try:
            sock.bind((address, port))
        except OSError as err:
            sock.close()
            raise InterfaceError(f"cannot open a DHCPv{family} socket on {where} port {port}: "
                                 f"{err.strerror}") from None
    try:
        for spec in specs:
            # Loopback has no broadcast or multicast clients: its sockets bind its
            # addresses (v6: the unicast ones interfaces-config names, if any),
            # leaving the others to relays and test tools on the same host.
            if os.geteuid() == 0 and spec.name != "lo":
                sock = _udp_socket(family)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, spec.name.encode())
                    if family == 6:
                        _join_all_servers(sock, spec.name)
                except OSError as err:
                    sock.close()
                    raise InterfaceError(f"cannot open a DHCPv{family} socket on {spec.name}: "
                                         f"{err.strerror}") from None
                bind(sock, wildcard, spec.name)
                first = spec.addresses[0] if spec.addresses and family == 4 else \
                    ("0.0.0.0" if family == 4 else "")
                sockets.append(make(sock, spec.name, first, True, log))
                continue
            for address in spec.unicast or spec.addresses:
                if family == 6 and address.lower().startswith("fe80"):
                    continue
                sock = _udp_socket(family)
                bind(sock, address, f"{spec.name} {address}")
                sockets.append(make(sock, spec.name, address, False, log))
    except InterfaceError:
        for s in sockets:
            s.close()
        raise
    if specs and not sockets:
        raise InterfaceError(f"no DHCPv{family} socket could be opened (no usable IPv{family} "
                             "address on the configured interfaces)")
    return sockets
