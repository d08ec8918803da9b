"""The traffic engine: one process, one non-blocking UDP socket, a send scheduler
at the target rate, a receive loop and per-exchange bookkeeping keyed by xid.

Relay mode behaves like perfdhcp (DHCPv4 giaddr / DHCPv6 Relay-Forw, unicast to a
server address from port 67 / 547). Without the privilege for that port (and
without -L) it sends from an ephemeral port; from any port but 67 / 547 the
requests carry RFC 8357's relay source port option (82.19 / 135) so the replies
come back to that port (--no-relay-port: perfdhcp's bytes). Client mode talks
like a real client on an interface (DHCPv4 broadcast from port 68 with the
broadcast flag, DHCPv6 multicast to ff02::1:2 from port 546), so it can run
beside a server.
"""
import errno
import math
import random
import selectors
import socket
import sys
import time
from dataclasses import dataclass

from kea_tools.errors import UserError
from kea_tools.sim import packets as P
from kea_tools.sim.identity import FakerIdentities, SequentialIdentities
from kea_tools.sim.stats import EXCHANGES_V4, EXCHANGES_V6, ExchangeStats, RunStats

TICK = 0.05          # housekeeping period: stop checks, drop-time sweep, progress
RECV_BATCH = 256     # packets drained per loop iteration before sending again
RCVBUF = 4 << 20     # room for bursts while Python is busy sending
PREDRAW_LIMIT = 200_000  # faker identities drawn before a run starts (~6 s at most)
EXIT_OK, EXIT_ERROR, EXIT_DROPS = 0, 1, 3
# default ports (server, relay-mode local, client-mode local) per family
PORTS = {4: (67, 67, 68), 6: (547, 547, 546)}
ALL_SERVERS = {4: "255.255.255.255", 6: "ff02::1:2"}


@dataclass(slots=True)
class PerfConfig:
    """A run's parameters; perfdhcp's option letter is named where one exists."""

    family: int = 4
    server: str | None = None            # positional; None / "all" = broadcast/multicast
    port: int | None = None              # -N
    local: str | None = None             # -l interface name or local address
    local_port: int | None = None        # -L
    mode: str = "relay"                  # "relay" | "client"
    rate: float | None = None            # -r
    clients: int = 1                     # -R
    num_requests: tuple = ()             # -n (stage 1[, stage 2])
    period: float | None = None          # -p
    max_drop: tuple = ()                 # -D ((value, is_percent)[, ...])
    drop_time: float = 1.0               # -d
    exit_wait: float | None = None       # -W (seconds here; None = drop time)
    report_interval: float | None = None  # -t
    renew_rate: float = 0.0              # -f
    release_rate: float = 0.0            # -F
    two_way: bool = False                # -i
    rapid_commit: bool = False           # -c
    lease_type: str = "address-only"     # -e
    options: tuple = ()                  # -o ((code, bytes), ...)
    base_mac: bytes | None = None        # -b mac=
    base_duid: bytes | None = None       # -b duid=
    seed: int | None = None              # -s
    identities: str = "sequential"       # "sequential" | "faker"
    progress: bool = False               # live progress line on stderr
    relay_port: bool = True              # RFC 8357 option from a non-DHCP port

    def validate(self):
        """Reject combinations that cannot work, with perfdhcp's reasons."""
        if self.family not in (4, 6):
            raise UserError("family must be 4 or 6")
        if self.renew_rate or self.release_rate:
            if not self.rate:
                raise UserError("-f and -F need -r")
            if self.renew_rate + self.release_rate > self.rate:
                raise UserError("-f plus -F must not exceed -r")
            if self.two_way:
                raise UserError("-f and -F need the 4-way exchange (not -i)")
            if self.family == 4 and self.mode == "client":
                raise UserError("DHCPv4 renew/release (-f/-F) need relay mode: a client-mode "
                                "renewal is unicast from the leased address")
        if self.family == 4 and self.lease_type != "address-only":
            raise UserError("-e other than address-only needs -6")
        if self.rapid_commit and self.family != 6:
            raise UserError("-c (rapid commit) needs -6")
        if self.mode == "client" and not self.local:
            raise UserError("client mode needs -l INTERFACE")
        if self.mode == "relay" and not self.server:
            raise UserError("relay mode needs a server address (or -l INTERFACE for "
                            "client mode)")
        if self.clients < 1:
            raise UserError("-R must be at least 1")


def sends_relay_port(cfg, local_port):
    """Whether requests carry RFC 8357's relay source port option: in relay mode,
    from a known local port that is not the DHCP one (67 / 547)."""
    return (cfg.mode == "relay" and cfg.relay_port and local_port is not None
            and local_port != PORTS[cfg.family][1])


def _interface_index(name):
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return 0


def interface_address(name, family):
    """The first address of ``family`` on interface ``name`` (global before
    link-local for IPv6), or None."""
    if family == 6:
        found = []
        try:
            with open("/proc/net/if_inet6") as f:
                for line in f:
                    hexaddr, _, _, scope, _, ifname = line.split()
                    if ifname == name:
                        addr = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(hexaddr))
                        found.append((scope != "00", addr))
        except OSError:
            return None
        return min(found)[1] if found else None
    import fcntl  # Linux: SIOCGIFADDR
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = fcntl.ioctl(s.fileno(), 0x8915, name.encode()[:15].ljust(40, b"\0"))
        return socket.inet_ntoa(req[20:24])
    except OSError:
        return None
    finally:
        s.close()


def open_socket(cfg):
    """The UDP socket, the destination and the relay address for ``cfg``.

    Returns (sock, dest, relay_address_bytes_or_None).
    """
    af = socket.AF_INET if cfg.family == 4 else socket.AF_INET6
    server_port, relay_port, client_port = PORTS[cfg.family]
    port = cfg.port or server_port
    sock = socket.socket(af, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, RCVBUF)
        if cfg.mode == "client":
            ifindex = _interface_index(cfg.local)
            if not ifindex:
                raise UserError(f"-l {cfg.local}: no such interface")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, cfg.local.encode())
            server = cfg.server if cfg.server and cfg.server != "all" else ALL_SERVERS[cfg.family]
            lport = cfg.local_port or client_port
            if cfg.family == 4:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                _bind(sock, ("0.0.0.0", lport))
                dest = (server, port)
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
                _bind(sock, ("::", lport))
                dest = (server, port, 0, ifindex)
            return sock, dest, None
        local = cfg.local
        if local and _interface_index(local):
            addr = interface_address(local, cfg.family)
            if addr is None:
                raise UserError(f"-l {local}: interface has no IPv{cfg.family} address")
            local = addr
        if not local:
            local = _route_source(af, cfg.server, port)
        if cfg.local_port:
            _bind(sock, (local, cfg.local_port))
        else:
            _bind_relay(sock, local, relay_port)
        if cfg.family == 4 and cfg.server == "255.255.255.255":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        relay_addr = socket.inet_pton(af, local.split("%")[0])
        return sock, (cfg.server, port), relay_addr
    except BaseException:
        sock.close()
        raise


BIND_HINTS = {
    errno.EADDRINUSE: " (a DHCP server or relay already uses it?)",
    errno.EACCES: " (ports below 1024 need root; without -L an unprivileged port is used)",
}


def _bind(sock, addr):
    try:
        sock.bind(addr)
    except OSError as err:
        hint = BIND_HINTS.get(err.errno, "")
        raise UserError(f"cannot bind {addr[0]} port {addr[1]}: {err.strerror}{hint}") from None


def _bind_relay(sock, local, port):
    """Bind the relay's port; without the privilege for it, an ephemeral port
    (the requests then name it with RFC 8357's option, see sends_relay_port)."""
    try:
        sock.bind((local, port))
        return
    except PermissionError:
        port = 0
    except OSError:
        pass  # in use, no such address, ...: _bind reports it
    _bind(sock, (local, port))


def _route_source(af, server, port):
    probe = socket.socket(af, socket.SOCK_DGRAM)
    try:
        probe.connect((server, port))
        return probe.getsockname()[0]
    except OSError as err:
        raise UserError(f"no route to {server}: {err.strerror}") from None
    finally:
        probe.close()


class Simulator:
    """Runs one test: ``Simulator(cfg, sock, dest, relay_addr).run()`` -> RunStats.

    ``sock`` only needs send/sendto, recv and fileno, so tests can hand in one end
    of a socketpair (``dest`` None) and run an in-process server on the other.
    ``local_port`` is the UDP port ``sock`` sends from (None: unknown, as for a
    socketpair); it decides whether relayed requests carry RFC 8357's option.
    """

    def __init__(self, cfg, sock, dest, relay_addr=None, clock=time.monotonic, out=None,
                 err=None, local_port=None):
        cfg.validate()
        self.cfg = cfg
        self.sock = sock
        self.dest = dest
        self.clock = clock
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.rng = random.Random(cfg.seed)
        start_time = int(time.time()) if cfg.seed is None else 1700000000 + cfg.seed
        if cfg.identities == "faker":
            self.idents = FakerIdentities(cfg.seed, start_time)
        else:
            kw = {"start_time": start_time, "base_duid": cfg.base_duid}
            if cfg.base_mac:
                kw["base_mac"] = cfg.base_mac
            self.idents = SequentialIdentities(**kw)
        names = EXCHANGES_V4 if cfg.family == 4 else EXCHANGES_V6
        self.ex = [ExchangeStats(names[0])]
        if not cfg.two_way:
            self.ex.append(ExchangeStats(names[1]))
        self.ex_renew = self.ex_release = None
        if cfg.renew_rate:
            self.ex_renew = ExchangeStats(names[2])
            self.ex.append(self.ex_renew)
        if cfg.release_rate:
            # A DHCPv4 RELEASE has no answer: count what was sent, never drops.
            self.ex_release = ExchangeStats(names[3], expects_reply=cfg.family == 6)
            self.ex.append(self.ex_release)
        self.stats = RunStats(self.ex, cfg.rate, last_stage=len(self.ex[:2]) - 1)
        # outstanding requests: xid -> (time sent, client index, ...)
        self.pend1, self.pend2, self.pend_renew, self.pend_release = {}, {}, {}, {}
        self.bound = []           # client indices holding a lease (renew/release pool)
        self.bound_pos = {}       # client index -> (position in bound, lease data)
        self.holder = {}          # leased address / prefix -> client index
        self.completed = 0
        self.last_completion = 0.0
        self.malformed = 0
        self.drop_limit_hit = False
        self.xid = self.rng.randrange(1, 1 << 20) if cfg.seed is not None else 1
        # -o 1,... replaces every client's DUID: replies then carry that one.
        self.duid_override = dict(cfg.options).get(P.O6_CLIENTID) if cfg.family == 6 else None
        self.client_counter = 0
        self.relay_port = sends_relay_port(cfg, local_port)
        if cfg.family == 4:
            self.v4 = P.V4Packets(cfg.mode == "relay", relay_addr or b"\0\0\0\0", cfg.options,
                                  relay_port=self.relay_port)
            self.handle = self._on_reply4
        else:
            self.v6 = P.V6Packets(relay_addr if cfg.mode == "relay" else None,
                                  cfg.lease_type, cfg.rapid_commit, cfg.options,
                                  relay_port=self.relay_port)
            self.handle = self._on_reply6
        if dest is None:
            self.send = sock.send
        else:
            sendto = sock.sendto
            self.send = lambda data: sendto(data, dest)

    # --- identities and ids --------------------------------------------------
    def _next_xid(self):
        self.xid = (self.xid + 1) & (0xFFFFFFFF if self.cfg.family == 4 else 0xFFFFFF) or 1
        return self.xid

    def _next_client(self):
        k = self.client_counter
        self.client_counter = (k + 1) % self.cfg.clients
        return k

    def _send(self, data):
        try:
            self.send(data)
            return True
        except (BlockingIOError, InterruptedError):
            return False  # socket buffer full: counted as sent, it will show as a drop
        except OSError as err:
            raise UserError(f"sending to {self.dest}: {err.strerror}") from None

    # --- senders -------------------------------------------------------------
    def _send_stage1(self, now):
        k = self._next_client()
        xid = self._next_xid()
        ident = self.idents[k]
        data = self.v4.discover(xid, ident) if self.cfg.family == 4 else \
            self.v6.solicit(xid, ident)
        self.pend1[xid] = (now, k)
        self.ex[0].sent += 1
        self._send(data)

    def _pick_bound(self):
        if not self.bound:
            return None
        return self.bound[self.rng.randrange(len(self.bound))]

    def _unbind(self, k):
        pos, lease = self.bound_pos.pop(k)
        last = self.bound.pop()
        if last != k:
            self.bound[pos] = last
            self.bound_pos[last] = (pos, self.bound_pos[last][1])
        for key in lease[-1]:
            if self.holder.get(key) == k:
                del self.holder[key]
        return lease

    def _bind_lease(self, k, lease, keys, ex):
        for key in keys:
            other = self.holder.get(key)
            if other is not None and other != k:
                ex.non_unique += 1  # the same address handed to two clients at once
            self.holder[key] = k
        old = self.bound_pos.get(k)
        if old is not None:
            for key in old[1][-1]:
                if key not in keys and self.holder.get(key) == k:
                    del self.holder[key]
            self.bound_pos[k] = (old[0], lease)
        else:
            self.bound_pos[k] = (len(self.bound), lease)
            self.bound.append(k)

    def _send_renew(self, now):
        k = self._pick_bound()
        if k is None:
            return
        lease = self.bound_pos[k][1]
        xid = self._next_xid()
        ident = self.idents[k]
        if self.cfg.family == 4:
            data = self.v4.renew(xid, ident, lease[0])
        else:
            data = self.v6.after_reply(P.RENEW, xid, ident, lease[0], lease[1])
        self.pend_renew[xid] = (now, k)
        self.ex_renew.sent += 1
        self._send(data)

    def _send_release(self, now):
        k = self._pick_bound()
        if k is None:
            return
        lease = self._unbind(k)
        xid = self._next_xid()
        ident = self.idents[k]
        if self.cfg.family == 4:
            data = self.v4.release(xid, ident, lease[0], lease[1])
        else:
            data = self.v6.after_reply(P.RELEASE6, xid, ident, lease[0], lease[1])
            self.pend_release[xid] = (now, k)
        self.ex_release.sent += 1
        self._send(data)

    # --- receivers -----------------------------------------------------------
    def _complete(self, now):
        self.completed += 1
        self.last_completion = now

    def _on_reply4(self, data, now):
        r = P.parse_reply4(data)
        if r is None:
            self.malformed += 1
            return
        xid, mtype, yiaddr, sid, mac = r
        if mtype == P.OFFER:
            ent = self.pend1.pop(xid, None)
            ex = self.ex[0]
            if ent is None:
                ex.orphans += 1
                return
            k = ent[1]
            ident = self.idents[k]
            if mac != ident.mac:
                ex.mismatched += 1
                self.pend1[xid] = ent  # not the answer to this request: keep waiting
                return
            ex.add_delay(now - ent[0])
            if yiaddr == b"\0\0\0\0":
                ex.rejected += 1
                return
            if self.cfg.two_way:
                self._complete(now)
                return
            if self.stopped_requests():
                return
            # RFC 2131: the REQUEST keeps the DISCOVER's xid.
            self.pend2[xid] = (now, k)
            self.ex[1].sent += 1
            self._send(self.v4.request(xid, ident, yiaddr, sid))
            return
        if mtype == P.ACK or mtype == P.NAK:
            ent = self.pend2.pop(xid, None)
            if ent is not None:
                ex, final = self.ex[1], True
            else:
                ent = self.pend_renew.pop(xid, None)
                ex, final = self.ex_renew, False
                if ent is None:
                    if xid in self.pend1:
                        self.ex[0].mismatched += 1  # an ACK/NAK to a DISCOVER
                    else:
                        self.ex[-1 if self.cfg.two_way else 1].orphans += 1
                    return
            k = ent[1]
            if mac != self.idents[k].mac:
                ex.mismatched += 1
                (self.pend2 if final else self.pend_renew)[xid] = ent
                return
            ex.add_delay(now - ent[0])
            if final:
                self._complete(now)
            if mtype == P.NAK:
                ex.naks += 1
                if not final and k in self.bound_pos:
                    self._unbind(k)
                return
            if yiaddr == b"\0\0\0\0":
                ex.rejected += 1
                return
            self._bind_lease(k, (yiaddr, sid, (yiaddr,)), (yiaddr,), ex)
            return
        # Any other type (an answer to nothing we send) is not a valid reply.
        if xid in self.pend1 or xid in self.pend2 or xid in self.pend_renew:
            self.ex[0 if xid in self.pend1 else 1].mismatched += 1
        else:
            self.ex[0].orphans += 1

    def _on_reply6(self, data, now):
        r = P.parse_reply6(data)
        if r is None:
            self.malformed += 1
            return
        xid, mtype, duid, sid, ias, leases, status = r
        if mtype == P.ADVERTISE:
            table, ex, stage = self.pend1, self.ex[0], 1
        elif mtype == P.REPLY:
            if xid in self.pend2:
                table, ex, stage = self.pend2, self.ex[1], 2
            elif xid in self.pend_renew:
                table, ex, stage = self.pend_renew, self.ex_renew, 3
            elif xid in self.pend_release:
                table, ex, stage = self.pend_release, self.ex_release, 4
            elif xid in self.pend1 and self.cfg.rapid_commit:
                table, ex, stage = self.pend1, self.ex[0], 0  # Rapid Commit answer
            elif xid in self.pend1:
                self.ex[0].mismatched += 1
                return
            else:
                self.ex[1 if len(self.ex) > 1 else 0].orphans += 1
                return
        else:
            if xid in self.pend1 or xid in self.pend2:
                self.ex[0 if xid in self.pend1 else 1].mismatched += 1
            else:
                self.ex[0].orphans += 1
            return
        ent = table.pop(xid, None)
        if ent is None:
            ex.orphans += 1
            return
        k = ent[1]
        ident = self.idents[k]
        if duid != (self.duid_override or ident.duid):
            ex.mismatched += 1
            table[xid] = ent
            return
        ex.add_delay(now - ent[0])
        if stage == 4:
            return
        if status:
            ex.naks += 1
            if stage == 3 and k in self.bound_pos:
                self._unbind(k)
            if stage in (0, 2):
                self._complete(now)
            return
        wanted = len(self.v6.ia_codes)
        if len(leases) < wanted:
            ex.rejected += 1  # perfdhcp: a reply without the IA address/prefix asked for
            if stage in (0, 2):
                self._complete(now)
            return
        if stage == 1:
            if self.cfg.two_way:
                self._complete(now)
                return
            if self.stopped_requests():
                return
            xid2 = self._next_xid()
            self.pend2[xid2] = (now, k)
            self.ex[1].sent += 1
            self._send(self.v6.after_reply(P.REQUEST6, xid2, ident, sid, ias))
            return
        if stage in (0, 2):
            self._complete(now)
        self._bind_lease(k, (sid, ias, leases), leases, ex)

    def stopped_requests(self):
        """Whether the second -n limit stops further stage-2 requests."""
        n = self.cfg.num_requests
        return len(n) > 1 and len(self.ex) > 1 and self.ex[1].sent >= n[1]

    # --- housekeeping ----------------------------------------------------------
    def _collect(self, now):
        """Forget requests older than the drop time (perfdhcp's collected packets)."""
        cut = now - self.cfg.drop_time
        for table, ex in ((self.pend1, self.ex[0]),
                          (self.pend2, self.ex[1] if len(self.ex) > 1 else None),
                          (self.pend_renew, self.ex_renew),
                          (self.pend_release, self.ex_release)):
            if not table:
                continue
            old = []
            for xid, ent in table.items():
                if ent[0] >= cut:
                    break  # insertion order is send order
                old.append(xid)
            for xid in old:
                del table[xid]
            ex.collected += len(old)

    def _drop_limit_reached(self):
        for i, (value, percent) in enumerate(self.cfg.max_drop[:2]):
            if i >= len(self.ex):
                break
            ex = self.ex[i]
            if percent:
                if ex.sent > 10 and 100.0 * ex.collected / ex.sent >= value:
                    return "Reached maximum percentage of drops."
            elif ex.collected >= value:
                return "Reached maximum drops number."
        return None

    def _stop_reason(self, now):
        cfg = self.cfg
        if cfg.period and now - self.t0 >= cfg.period:
            return "reached test-period."
        n = cfg.num_requests
        if n and self.ex[0].sent >= n[0]:
            return "Reached max requests limit."
        if len(n) > 1 and self.stopped_requests():
            return "Reached max requests limit."
        reason = self._drop_limit_reached()
        self.drop_limit_hit = reason is not None
        return reason

    def _outstanding(self):
        return len(self.pend1) + len(self.pend2) + len(self.pend_renew) + len(self.pend_release)

    def _progress(self, now):
        e0, last = self.ex[0], self.ex[self.stats.last_stage]
        elapsed = now - self.t0
        rate = self.completed / elapsed if elapsed > 0 else 0.0
        drops = sum(ex.collected for ex in self.ex)
        self.err.write(f"\r{elapsed:7.1f}s  sent {e0.sent}  done {last.received}  "
                       f"timed out {drops}  {rate:.0f} exchanges/s   ")
        self.err.flush()

    def _prepare_identities(self):
        """Draw faker identities before the clock starts (about 30 us each), as many
        as the run can use, so drawing them does not slow the first second."""
        cfg = self.cfg
        if cfg.identities != "faker":
            return
        expected = cfg.num_requests[0] if cfg.num_requests else (
            cfg.rate * cfg.period if cfg.rate and cfg.period else 0)
        for k in range(min(cfg.clients, int(expected), PREDRAW_LIMIT)):
            self.idents[k]

    # --- the loop ----------------------------------------------------------------
    def run(self):
        self._prepare_identities()
        cfg = self.cfg
        clock = self.clock
        sock = self.sock
        recv = sock.recv
        handle = self.handle
        ex0 = self.ex[0]
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        rate = cfg.rate
        # Spread bursts: at most this many new exchanges per loop iteration.
        burst = max(3, int(rate / 200)) if rate else 1
        limit1 = cfg.num_requests[0] if cfg.num_requests else math.inf
        self.t0 = t0 = clock()
        next_tick = t0 + TICK
        next_progress = t0 + 0.5
        next_report = t0 + cfg.report_interval if cfg.report_interval else math.inf
        renew_sent = release_sent = 0
        send_until = t0 + cfg.period if cfg.period else math.inf
        sending = True
        stop_at = None
        reason = ""
        try:
            while True:
                now = clock()
                due = 0
                if sending:
                    if rate:
                        # Tokens for the time so far (up to the period's end, so a
                        # -p run sends exactly rate x period), a burst at a time.
                        due = int((min(now, send_until) - t0) * rate + 1e-9) - ex0.sent
                        if due > burst:
                            due = burst
                    else:
                        due = 1
                    if ex0.sent + due > limit1:
                        due = int(limit1 - ex0.sent)
                    for _ in range(due):
                        self._send_stage1(now)
                    if cfg.renew_rate:
                        n = int((min(now, send_until) - t0) * cfg.renew_rate) - renew_sent
                        for _ in range(min(n, burst)):
                            renew_sent += 1
                            self._send_renew(now)
                    if cfg.release_rate:
                        n = int((min(now, send_until) - t0) * cfg.release_rate) - release_sent
                        for _ in range(min(n, burst)):
                            release_sent += 1
                            self._send_release(now)
                    if now >= send_until and (not rate or due < burst):
                        sending = False  # the period is over and its last tokens are spent
                        stop_at = send_until
                        reason = "reached test-period."
                        deadline = now + (cfg.drop_time if cfg.exit_wait is None
                                          else cfg.exit_wait)
                got = 0
                while got < RECV_BATCH:
                    try:
                        data = recv(4096)
                    except (BlockingIOError, InterruptedError):
                        break
                    except ConnectionRefusedError:
                        continue  # ICMP port unreachable from a previous send
                    got += 1
                    handle(data, clock())
                now = clock()
                if now >= next_tick:
                    next_tick = now + TICK
                    self._collect(now)
                    if sending:
                        reason = self._stop_reason(now)
                        if reason:
                            sending = False
                            stop_at = now
                            wait = cfg.drop_time if cfg.exit_wait is None else cfg.exit_wait
                            if self.drop_limit_hit:
                                wait = 0.0  # aborting: the server is not keeping up
                            deadline = now + wait
                    if not sending and (now >= deadline or not self._outstanding()):
                        break
                    if cfg.progress and now >= next_progress:
                        next_progress = now + 0.5
                        self._progress(now)
                    if now >= next_report:
                        next_report += cfg.report_interval
                        self.out.write(self.stats.interval_line() + "\n")
                        self.out.flush()
                if got or due:
                    continue
                # Idle: sleep until the next packet is due, a reply arrives or a tick.
                wake = next_tick
                if sending and rate:
                    wake = min(wake, t0 + (ex0.sent + 1) / rate)
                timeout = wake - clock()
                if timeout > 0:
                    sel.select(timeout)
        except KeyboardInterrupt:
            reason = "Interrupted."
            stop_at = stop_at or clock()
        finally:
            sel.close()
            if cfg.progress:
                self.err.write("\n")
        end = max(stop_at or clock(), self.last_completion)
        st = self.stats
        st.duration = end - t0
        st.malformed = self.malformed
        st.exit_reason = reason.rstrip(".") or "stopped"
        st.completed = self.completed
        return st

    def exit_code(self, stats):
        """perfdhcp's: 3 when -D's limit is reached (during the run or by the final
        drops); without -D, 3 when any exchange has drops at the end; else 0."""
        if self.cfg.max_drop:
            if self.drop_limit_hit:
                return EXIT_DROPS
            for i, (value, percent) in enumerate(self.cfg.max_drop[:2]):
                if i < len(self.ex):
                    ex = self.ex[i]
                    if (ex.drops_ratio >= value) if percent else (ex.drops >= value):
                        return EXIT_DROPS
            return EXIT_OK
        return EXIT_DROPS if any(ex.drops for ex in self.ex) else EXIT_OK
