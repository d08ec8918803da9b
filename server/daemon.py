"""The daemon behind ``keactl serve``: one event loop serving a Dhcp4 or a Dhcp6
configuration, with sockets, control channel, timers, signals and
reconfiguration around :class:`~kea_tools.server.pipeline4.Pipeline4` or
:class:`~kea_tools.server.pipeline6.Pipeline6`.

What differs between the families is one :class:`Family` row (model builder,
lease table, pipeline, sockets, statistics names, hook points, default port and
lease file), chosen by the configuration file's top-level object; everything
else exists once.

One thread and one selector: DHCP sockets are drained in bursts of up to
:data:`BURST` datagrams, each burst is processed and its leases written in one
back-end batch before any reply is sent (group commit). Timers run lease
reclamation (expired-leases-processing) and memfile lease file cleanup.
SIGHUP and ``config-reload`` re-read the file; ``config-set`` takes a new map.
A configuration that fails any check (syntax, semantics, hooks, lease database,
interfaces, control socket) is refused and the running one keeps serving; the
lease table is kept across reconfigurations whenever the lease database is
unchanged, so no lease is ever lost. A running server keeps its family: a new
configuration for the other one is refused.
"""
import gc
import logging
import os
import selectors
import signal
import socket
import time
from dataclasses import dataclass

from kea_tools.errors import UserError
from kea_tools.leases import open_backend
from kea_tools.leases.model import STATE_DECLINED, STATE_EXPIRED_RECLAIMED

from kea_tools.server import control
from kea_tools.server import hooks as H
from kea_tools.server.hooks import HooksManager
from kea_tools.server.interfaces import open_sockets, select_interfaces, system_interfaces
from kea_tools.server.stats import Statistics, subnet_stat

BURST = 64
# Lease databases several servers may share: each server starts its allocator
# at a random place in each pool, so that they rarely race for one address.
SHARED_BACKENDS = ("postgresql", "mysql")


# --- what differs between the families ---------------------------------------------------

def _pipeline4(daemon, model, leases, hooks, extra):
    from kea_tools.server.pipeline4 import Pipeline4
    addresses = daemon.iface_addresses
    ours = {s.address for s in daemon.sockets} | {
        a for spec in daemon.iface_specs for a in spec.addresses}
    return Pipeline4(model, leases, daemon.stats, hooks, clock=daemon.clock,
                     server_addresses=lambda iface: addresses.get(iface, ()), our_addresses=ours,
                     client_port=daemon.client_port,
                     arp_unicast=any(s.device_bound for s in daemon.sockets),
                     ddns=daemon.ddns, sender=daemon.sender)


def _pipeline6(daemon, model, leases, hooks, server_duid):
    from kea_tools.server.pipeline6 import Pipeline6
    unicast = {a for spec in daemon.iface_specs for a in spec.unicast}
    return Pipeline6(model, leases, daemon.stats, hooks, server_duid=server_duid,
                     clock=daemon.clock, unicast_addresses=unicast,
                     client_port=daemon.client_port, ddns=daemon.ddns, sender=daemon.sender)


def _server_duid(cfg, data_dir):
    from kea_tools.server.duid import server_duid
    return server_duid(cfg.server_id, data_dir)


def _model4(cfg):
    from kea_tools.server.configmap import build_model
    return build_model(cfg)


def _model6(cfg):
    from kea_tools.server.configmap import build_model6
    return build_model6(cfg)


def _table4(backend):
    from kea_tools.server.leasetable import LeaseTable
    return LeaseTable(backend)


def _table6(backend):
    from kea_tools.server.leasetable import LeaseTable6
    return LeaseTable6(backend)


def _assigned4(lease):
    # A declined v4 lease left assigned-addresses when it was declined.
    return None if lease.state == STATE_DECLINED else "assigned-addresses"


def _assigned6(lease):
    # kea-dhcp6 counts a declined lease as assigned until it is reclaimed.
    from kea_tools.server.pipeline6 import ASSIGNED_STAT
    return ASSIGNED_STAT[lease.type]


@dataclass(slots=True, frozen=True)
class Family:
    """One row of :data:`FAMILIES`: the parts of the daemon that are per family."""

    version: int
    section: str            # the configuration's top-level object
    port: int               # the server port (-p)
    build_model: object     # DhcpConfig -> compiled model
    lease_table: object     # backend -> lease table
    make_pipeline: object   # (daemon, model, leases, hooks, identity) -> pipeline
    identity: object        # (cfg, data_dir) -> the server's identifier (v6 DUID), or None
    assigned_stat: object   # reclaimed lease -> the subnet gauge it leaves, or None

    @property
    def logger(self):
        return f"kea-dhcp{self.version}"

    @property
    def tag(self):
        return f"DHCP{self.version}"

    @property
    def lease_file(self):
        return f"kea-leases{self.version}.csv"


FAMILIES = {
    4: Family(4, "Dhcp4", 67, _model4, _table4, _pipeline4, lambda cfg, data_dir: None,
              _assigned4),
    6: Family(6, "Dhcp6", 547, _model6, _table6, _pipeline6, _server_duid, _assigned6),
}


# --- configuration helpers --------------------------------------------------------------

@dataclass(slots=True)
class Prepared:
    """A configuration checked and with its resources opened, not yet in use."""

    cfg: object
    raw: dict
    model: object
    hooks: object
    backend_spec: dict
    backend: object
    iface_specs: list
    sockets: list
    control_path: str | None
    control_sock: object
    addresses: dict
    identity: object
    ddns: object = None     # DdnsConfig
    sender: object = None   # NcrSender (sockets opened), or None when updates are off


def prepare_ddns(cfg, raw, family, old=None, *, test_only=False):
    """The DDNS view of a configuration and, with updates on, its NCR sender.

    ``raw`` is the file (or the config-set map): the dhcp-ddns connectivity map
    is read from it, since the model keeps only the ddns-* behaviour. The same
    dhcp-ddns settings keep the running sender's socket and queue (a fixed
    sender-port could not be bound twice); otherwise the new socket is bound now,
    so a bad sender address refuses the configuration. UserError on bad values.
    """
    from kea_tools.server.ddns import D2ClientConfig, DdnsConfig, NcrSender
    raw = raw or {}
    section = raw.get(f"Dhcp{family}", raw)
    client = D2ClientConfig.from_map(section.get("dhcp-ddns") if isinstance(section, dict)
                                     else None)
    ddns = DdnsConfig(cfg, client)
    ddns.validate()
    if test_only or not client.enable_updates:
        return ddns, None
    if old is not None and old.client == client:
        sender = NcrSender.from_config(ddns, sock=old.open())
        sender.queue, sender.stats, sender.suspended = old.queue, old.stats, old.suspended
        return ddns, sender
    sender = NcrSender.from_config(ddns)
    sender.open()
    return ddns, sender


def data_directory(cfg, config_dir):
    """Kea's data-directory (v6), relative to the config; else the config's folder."""
    base = config_dir or "."
    directory = cfg.data_directory or base
    return directory if os.path.isabs(directory) else os.path.join(base, directory)


def backend_spec(db, config_dir, data_dir=None, family=4):
    """The lease-database map for open_backend, file names made absolute."""
    spec = {"type": db.type, "persist": db.persist, "lfc-interval": db.lfc_interval}
    spec.update(db.params or {})
    if db.name:
        name = db.name
        if db.type in ("memfile", "sqlite") and config_dir and not os.path.isabs(name):
            name = os.path.join(config_dir, name)
        spec["name"] = name
    elif db.type == "memfile" and db.persist:
        # Kea's default file; beside the config (no root needed).
        spec["name"] = os.path.join(data_dir or config_dir or ".", f"kea-leases{family}.csv")
    return spec


def configure_logging(loggers, debug=False, family=4):
    """Kea's ``loggers`` onto Python logging (see kea_tools.server.logconf):
    every entry whose name is kea-dhcpN or below it, with its severity,
    debuglevel and output_options (stdout, stderr, syslog[:name], or a file with
    flush, maxsize, maxver), in its pattern. ``debug`` (-d) makes kea-dhcpN log
    everything at DEBUG to stderr, as kea-dhcpN -d does."""
    from kea_tools.server.logconf import apply_loggers
    apply_loggers(loggers, f"kea-dhcp{family}", debug)


class Daemon:
    """A running DHCP server for one configuration file (Dhcp4 or Dhcp6).

    ``port`` / ``client_port`` are kea-dhcpN's ``-p`` / ``-P`` (None: the family's
    server port, and the client's own port); ``interfaces(family)`` lists the
    addresses of this namespace's interfaces (injectable for tests).
    """

    def __init__(self, config_path, *, port=None, client_port=0, debug=False, clock=time.time,
                 interfaces=system_interfaces):
        self.config_path = str(config_path)
        self.port = port
        self.client_port = client_port or 0
        self.debug = debug
        self.clock = clock
        self.list_interfaces = interfaces
        self.parts = None       # the Family row, fixed by the first configuration
        self.log = logging.getLogger("kea-dhcp")
        self.stats = Statistics(clock=clock)
        self.started = time.time()
        self.configured_at = self.started
        self.enabled = True
        self.exit_code = None
        self.cfg = None
        self.raw = {}
        self.model = None
        self.hooks = HooksManager()
        self.backend = None
        self.backend_spec = None
        self.leases = None
        self.pipeline = None
        self.iface_specs = []
        self.sockets = []
        self.iface_addresses = {}
        self.control_path = None
        self.control_sock = None
        self.ddns = None
        self.sender = None          # NcrSender to kea-dhcp-ddns, None while updates are off
        self._sender_watched = False
        self.selector = selectors.DefaultSelector()
        self.timers = {}
        self._wake_r = self._wake_w = None
        self._signals = []

    @property
    def family(self):
        return self.parts.version if self.parts is not None else 4

    def _choose_family(self, version):
        if self.parts is None:
            self.parts = FAMILIES[version]
            self.log = logging.getLogger(f"{self.parts.logger}.dhcp{version}")
            self.hooks = HooksManager(family=version)
            if self.port is None:
                self.port = self.parts.port
        elif version != self.parts.version:
            raise UserError(f"this server runs {self.parts.section}; the new configuration is "
                            f"Dhcp{version}: restart to change the family")

    # --- configuration -------------------------------------------------------------
    def load_file(self, path):
        from kea_tools.config import load_file
        result = load_file(path)
        self._choose_family(result.family)
        for warning in result.warnings:
            self.log.warning("%s_CONFIG_SYNTAX_WARNING %s", self.parts.tag, warning)
        return result.config, result.raw, os.path.dirname(os.path.abspath(path))

    def build_section(self, section):
        from kea_tools.config import build
        name = self.parts.section
        if not isinstance(section, dict) or name not in section:
            other = "Dhcp6" if name == "Dhcp4" else "Dhcp4"
            if isinstance(section, dict) and other in section:
                self._choose_family(int(other[-1]))
            raise UserError(f"Missing mandatory {name} parameter")
        cfg = build(section[name], self.family, prefix=(name,))
        cfg.raw = {name: section[name]}
        return cfg, cfg.raw, os.path.dirname(os.path.abspath(self.config_path))

    def prepare(self, cfg, raw, config_dir, *, test_only=False):
        """Check a configuration and open what it needs; nothing running changes."""
        parts, version = self.parts, self.family
        model = parts.build_model(cfg)
        hooks = HooksManager.from_config(cfg.hooks_libraries, config_dir, family=version)
        opened = []
        try:
            ddns, sender = prepare_ddns(cfg, raw, version, self.sender, test_only=test_only)
            if sender is not None and not self._same_socket(sender, self.sender):
                opened.append(sender)
            data_dir = data_directory(cfg, config_dir)
            spec = backend_spec(cfg.lease_database, config_dir, data_dir, version)
            backend = None
            if spec != self.backend_spec and not test_only:
                if spec["type"] in ("memfile", "sqlite") and spec.get("name") and \
                        spec.get("persist", True):
                    # The quick start keeps its lease file in a folder of its own.
                    os.makedirs(os.path.dirname(spec["name"]) or ".", exist_ok=True)
                backend = open_backend(spec, version)
                opened.append(backend)
            available = self.list_interfaces(version)
            specs = select_interfaces(cfg.interfaces_config.interfaces, available, version)
            sockets = []
            if not test_only and _spec_key(specs) != _spec_key(self.iface_specs):
                # SO_REUSEADDR lets the new sockets bind beside the old ones, so
                # the running configuration keeps serving if this one fails.
                sockets = open_sockets(specs, self.port, version)
                opened.extend(sockets)
            path = cfg.control_socket.socket_name if cfg.control_socket else None
            if path and config_dir and not os.path.isabs(path):
                path = os.path.join(config_dir, path)
            control_sock = None
            if path and path != self.control_path and not test_only:
                control_sock = control.open_control_socket(path)
                opened.append(control_sock)
            identity = None if test_only else parts.identity(cfg, data_dir)
            if test_only:
                hooks.unload()
            return Prepared(cfg, raw, model, hooks, spec, backend, specs, sockets, path,
                            control_sock, available, identity, ddns, sender)
        except Exception:
            hooks.unload()
            for thing in opened:
                thing.close()
            raise

    def apply(self, p):
        """Switch to a prepared configuration."""
        parts, tag = self.parts, self.parts.tag
        old_hooks = self.hooks
        if p.backend is not None:
            old_backend = self.backend
            self.backend, self.backend_spec = p.backend, p.backend_spec
            self.leases = parts.lease_table(self.backend)
            if old_backend is not None:
                old_backend.close()
        if p.sockets:
            self._close_sockets(self.sockets)
            self.sockets = p.sockets
            self.iface_specs = p.iface_specs
            for s in self.sockets:
                self.selector.register(s, selectors.EVENT_READ, s)
        else:
            # The same interfaces: keep their sockets, take the new unicast list.
            self.iface_specs = p.iface_specs
        if p.control_sock is not None:
            self._close_control()
            self.control_sock, self.control_path = p.control_sock, p.control_path
            self.selector.register(self.control_sock, selectors.EVENT_READ, "control")
        elif p.control_path is None and self.control_sock is not None:
            self._close_control()
        self.iface_addresses = p.addresses
        self._switch_sender(p.sender)
        self.ddns = p.ddns
        old_ids = set(self.model.subnets_by_id) if self.model is not None else set()
        self.cfg, self.raw, self.model, self.hooks = p.cfg, p.raw, p.model, p.hooks
        for gone in old_ids - set(self.model.subnets_by_id):
            self.stats.remove_matching(f"subnet[{gone}].")
        self.stats.max_samples = p.cfg.statistic_default_sample_count or self.stats.max_samples
        self.pipeline = parts.make_pipeline(self, self.model, self.leases, self.hooks, p.identity)
        self.pipeline.init_stats()
        if getattr(self.backend, "kind", "") in SHARED_BACKENDS:
            self.pipeline.engine.spread_cursors()
        for lease, why in self.pipeline.orphan_leases():
            self.log.warning("%s_LEASE_ORPHAN lease %s (subnet-id %d) is %s; kept", tag,
                             lease.address, lease.subnet_id, why)
        if old_hooks is not self.hooks:
            old_hooks.unload()
        self.configured_at = time.time()
        self._schedule_timers()
        configured = f"dhcp{self.family}_srv_configured"
        if self.hooks.has(configured):
            self.hooks.call(configured, {"json_config": p.raw, "server_config": p.cfg})
        self.log.info("%s_CONFIG_COMPLETE DHCPv%d server has completed configuration: "
                      "%d subnet(s), %d lease(s)", tag, self.family, len(self.model.subnets),
                      len(self.leases))

    # --- DDNS sender -----------------------------------------------------------------
    @staticmethod
    def _same_socket(a, b):
        return a is not None and b is not None and a._sock is b._sock

    def _switch_sender(self, new):
        old = self.sender
        if old is not None and old is not new:
            self._unwatch_sender()
            if not self._same_socket(new, old):
                old.flush()
                old.close()
        self.sender = new

    def _watch_sender(self):
        """Watch the sender's socket for writability only while NCRs wait (most
        are sent at once; a full socket buffer leaves some queued)."""
        want = self.sender is not None and self.sender.wants_write
        if want and not self._sender_watched:
            self.selector.register(self.sender.fileno(), selectors.EVENT_WRITE, "ddns")
            self._sender_watched = True
        elif not want and self._sender_watched:
            self._unwatch_sender()

    def _unwatch_sender(self):
        if self._sender_watched:
            try:
                self.selector.unregister(self.sender.fileno())
            except (KeyError, ValueError):
                pass
            self._sender_watched = False

    def configure(self, cfg, raw, config_dir):
        prepared = self.prepare(cfg, raw, config_dir)
        configure_logging(cfg.loggers, self.debug, self.family)
        self.apply(prepared)

    def reload(self):
        """Re-read the configuration file; on error the running config stays."""
        self.configure(*self.load_file(self.config_path))

    def check_config(self, section):
        cfg, raw, config_dir = self.build_section(section)
        self.prepare(cfg, raw, config_dir, test_only=True)

    def set_config(self, section):
        self.configure(*self.build_section(section))

    def config_raw(self):
        return self.raw

    def refresh_lease_stats(self):
        self.pipeline.init_stats()

    def request_shutdown(self, code=0):
        self.exit_code = code

    # --- lease reclamation -------------------------------------------------------
    def reclaim(self, *, remove, limit=None):
        """Reclaim expired leases (Kea ARM "Lease Reclamation"): leaseN_expire (and
        leaseN_recover for a declined one), then delete or mark
        expired-reclaimed, and count them."""
        now = int(self.clock())
        limit = limit if limit is not None else float("inf")
        st, hooks, table = self.stats, self.hooks, self.leases
        n = self.family
        expire, recover, arg = f"lease{n}_expire", f"lease{n}_recover", f"lease{n}"
        assigned_stat = self.parts.assigned_stat
        count = 0
        gone = []
        for lease in table.pop_expired(now, limit):
            if hooks.has(expire):
                if hooks.call(expire, {arg: lease, "remove_lease": remove}).status == H.SKIP:
                    continue
            declined = lease.state == STATE_DECLINED
            if declined and hooks.has(recover):
                if hooks.call(recover, {arg: lease}).status == H.SKIP:
                    continue
            if lease.hostname:
                gone.append(lease)
            if remove:
                table.stage_delete(lease)
            else:
                table.stage_put(lease.copy(state=STATE_EXPIRED_RECLAIMED, hostname="",
                                           fqdn_fwd=False, fqdn_rev=False))
            sid = lease.subnet_id
            gauge = assigned_stat(lease)
            if gauge is not None:
                st.add(subnet_stat(sid, gauge), -1)
            if declined:
                st.add("declined-addresses", -1)
                st.add(subnet_stat(sid, "declined-addresses"), -1)
                st.add("reclaimed-declined-addresses")
                st.add(subnet_stat(sid, "reclaimed-declined-addresses"))
            st.add("reclaimed-leases")
            st.add(subnet_stat(sid, "reclaimed-leases"))
            count += 1
        if count:
            table.commit()
            if self.sender is not None:
                for lease in gone:
                    self.sender.remove(lease)
                self._watch_sender()
            self.pipeline.engine.address_freed(None)
            self.log.debug("ALLOC_ENGINE_V%d_LEASES_RECLAMATION_COMPLETE reclaimed %d leases",
                           n, count)
        return count

    def flush_reclaimed(self):
        hold = self.model.expired.hold_reclaimed_time
        victims = self.leases.reclaimed_older_than(int(self.clock()) - hold)
        for lease in victims:
            self.leases.stage_delete(lease)
        if victims:
            self.leases.commit()
        return len(victims)

    def _schedule_timers(self):
        elp = self.model.expired
        now = time.monotonic()
        self.timers = {}
        if elp.reclaim_timer_wait_time > 0:
            self.timers["reclaim"] = [now + elp.reclaim_timer_wait_time,
                                      elp.reclaim_timer_wait_time]
        if elp.flush_reclaimed_timer_wait_time > 0:
            self.timers["flush"] = [now + elp.flush_reclaimed_timer_wait_time,
                                    elp.flush_reclaimed_timer_wait_time]
        lfc = self.backend_spec.get("lfc-interval", 0) if self.backend_spec else 0
        if lfc and hasattr(self.backend, "start_lfc"):
            self.timers["lfc"] = [now + lfc, lfc]

    def _run_timers(self):
        now = time.monotonic()
        for name, timer in self.timers.items():
            if timer[0] <= now:
                timer[0] = now + timer[1]
                try:
                    if name == "reclaim":
                        elp = self.model.expired
                        self.reclaim(remove=elp.flush_reclaimed_timer_wait_time == 0,
                                     limit=elp.max_reclaim_leases or None)
                    elif name == "flush":
                        self.flush_reclaimed()
                    elif name == "lfc":
                        self.backend.start_lfc()
                except Exception as err:
                    self.log.error("timer %s failed: %s", name, err)

    def _next_timer(self):
        if not self.timers:
            return 1.0
        return max(0.0, min(min(t[0] for t in self.timers.values()) - time.monotonic(), 1.0))

    # --- the loop ------------------------------------------------------------------
    def start(self):
        """Load and apply the configuration file; UserError if it cannot serve."""
        cfg, raw, config_dir = self.load_file(self.config_path)
        configure_logging(cfg.loggers, self.debug, self.family)
        self.apply(self.prepare(cfg, raw, config_dir))
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, "signal")
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        identity = getattr(self.pipeline, "server_duid", None)
        self.log.info("%s_STARTED keactl DHCPv%d server started on port %d%s", self.parts.tag,
                      self.family, self.port,
                      f" (server-id {identity.hex(':')})" if identity else "")

    def _on_signal(self, signum, frame):
        self._signals.append(signum)

    def _handle_signals(self):
        try:
            while self._wake_r.recv(512):
                pass
        except BlockingIOError:
            pass
        signals, self._signals = self._signals, []
        tag = self.parts.tag
        for signum in signals:
            if signum == signal.SIGHUP:
                try:
                    self.reload()
                    self.log.info("%s_DYNRECONF_SUCCESS configuration reloaded on SIGHUP", tag)
                except UserError as err:
                    self.log.error("%s_DYNRECONF_FAIL configuration refused, the previous one "
                                   "stays: %s", tag, err)
            else:
                self.exit_code = 0

    def serve(self):
        """Run until shutdown; returns the exit code."""
        conns = {}
        by_local = {}
        # The packet path allocates many short-lived, acyclic objects: keep the
        # cyclic collector from scanning the (large, long-lived) lease table.
        gc.freeze()
        gc.set_threshold(50000, 20, 100)
        try:
            while self.exit_code is None:
                events = self.selector.select(self._next_timer())
                batch = []
                for key, _mask in events:
                    what = key.data
                    if what == "signal":
                        self._handle_signals()
                    elif what == "control":
                        self._accept(conns)
                    elif isinstance(what, control.ControlConnection):
                        self._control_read(what, conns)
                    elif what == "ddns":
                        self.sender.on_writable()
                    else:
                        what.receive(BURST - len(batch), batch)
                if batch:
                    self._process(batch, by_local)
                if self.sender is not None:
                    self._watch_sender()
                if self.timers:
                    self._run_timers()
                if conns:
                    now = time.monotonic()
                    for conn in [c for c in conns.values() if c.deadline < now]:
                        self._drop_conn(conn, conns)
        finally:
            self.shutdown()
        return self.exit_code

    def _process(self, batch, by_local):
        if not self.enabled:
            self.stats.add(f"pkt{self.family}-receive-drop", len(batch))
            return
        outgoing = self.pipeline.process(batch)
        if not outgoing:
            return
        if len(by_local) != len(self.sockets) or any(
                by_local.get((s.iface, s.address)) is not s for s in self.sockets):
            by_local.clear()
            for s in self.sockets:
                by_local[(s.iface, s.address)] = s
                by_local.setdefault((s.iface, None), s)
        for out in outgoing:
            sock = by_local.get((out.iface, out.local_address)) or by_local.get((out.iface, None))
            if sock is not None:
                sock.send_reply(out)

    def _accept(self, conns):
        while True:
            try:
                sock, _ = self.control_sock.accept()
            except (BlockingIOError, OSError):
                return
            conn = control.ControlConnection(sock)
            conns[conn.fileno()] = conn
            self.selector.register(conn, selectors.EVENT_READ, conn)

    def _drop_conn(self, conn, conns):
        self._unregister(conn, conns)
        conn.close()

    def _control_read(self, conn, conns):
        try:
            request = conn.read()
        except EOFError:
            return self._drop_conn(conn, conns)
        except ValueError as err:
            response = control.answer(control.ERROR, f"invalid command: {err}")
            self._unregister(conn, conns)
            return conn.reply(response)
        if request is None:
            return None
        self._unregister(conn, conns)
        response = control.execute(self, request)
        conn.reply(response)
        return None

    def _unregister(self, conn, conns):
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conns.pop(conn.fileno(), None)

    def _close_sockets(self, sockets):
        for s in sockets:
            try:
                self.selector.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    def _close_control(self):
        if self.control_sock is None:
            return
        try:
            self.selector.unregister(self.control_sock)
        except (KeyError, ValueError):
            pass
        self.control_sock.close()
        try:
            os.unlink(self.control_path)
        except OSError:
            pass
        self.control_sock = self.control_path = None

    def shutdown(self):
        """Close everything; pending lease writes are committed first."""
        if self.leases is not None and self.leases.pending:
            self.leases.commit()
        self._close_sockets(self.sockets)
        self.sockets = []
        self._close_control()
        self._switch_sender(None)
        self.hooks.unload()
        if self.backend is not None:
            self.backend.close()
            self.backend = None
        if self._wake_r is not None:
            signal.set_wakeup_fd(-1)
            self._wake_r.close()
            self._wake_w.close()
            self._wake_r = None
        if self.parts is not None:
            self.log.info("%s_SHUTDOWN server shut down", self.parts.tag)


def _spec_key(specs):
    return sorted((s.name, tuple(s.addresses)) for s in specs)


def run(config_path, *, port=None, client_port=None, debug=False):
    """Serve ``config_path`` (Dhcp4 or Dhcp6) until SIGTERM/SIGINT or the shutdown
    command.

    ``port`` / ``client_port`` are kea-dhcpN's ``-p`` / ``-P``. Returns the exit
    code; raises UserError (one line for the CLI) if the server cannot start.
    """
    daemon = Daemon(config_path, port=port, client_port=client_port or 0, debug=debug)
    try:
        daemon.start()
    except UserError:
        daemon.shutdown()
        raise
    return daemon.serve()
