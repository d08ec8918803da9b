"""DHCPv6 leases and allocation: the compiled Dhcp6 model, the lease table and
the allocation engine, with Kea 2.2's rules (RFC 8415 sections 18.3, 21.4-21.22).

The model is the packet path's view of a validated Dhcp6 config: addresses and
prefixes as integers, option-data as ready-to-send bytes keyed by code (vendor
sub-options already packed into option 17), reservations indexed by identifier,
address and prefix, merged option tables cached per (subnet, pool, classes,
reservation).

The engine gives at most one address per IA_NA / IA_TA and one prefix per IA_PD
(as Kea does). A SOLICIT is a "fake" allocation: nothing is stored. The order of
preference is: the client's reservation, its existing lease for that IA, the
address or prefix it hinted, then the iterative allocator (a cursor per pool, so
a run of allocations costs O(1) each). Lifetimes come from the first class that
sets them, else the subnet, with the client's hinted lifetimes clamped to the
(min, max) bounds.
"""
import heapq
import ipaddress
import socket
from dataclasses import dataclass, field

from kea_tools.leases.model import (EMPTY_DUID, INFINITE_LFT, STATE_DECLINED, STATE_DEFAULT,
                                    STATE_EXPIRED_RECLAIMED, TYPE_NA, TYPE_PD, TYPE_TA, Lease6)

from kea_tools.server.leasetable import ADD, DELETE, UPDATE, Change, LeaseTable
from kea_tools.server.model import ExpiredLeasesProcessing, OptionItem, option_table

# Outcomes of allocation for one IA.
OK = "ok"
NO_ADDRESS = "none"

FULL_POOL_RETRY = 1.0
OPT_VENDOR_OPTS = 17
V6_SPACES = ("dhcp6", "")


def ip6_to_int(text):
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")


def int_to_ip6(value):
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def in_prefix(address, network, prefix_len):
    shift = 128 - prefix_len
    return (address >> shift) == (network >> shift)


# --- the compiled model ---------------------------------------------------------------

@dataclass(slots=True)
class Lifetimes6:
    """valid and preferred (default, min, max) at one level; None: not set here."""

    valid: tuple | None = None
    preferred: tuple | None = None


@dataclass(slots=True)
class ClientClass6:
    name: str
    test: object = None
    depends_on_known: bool = False
    only_if_required: bool = False
    options: dict = field(default_factory=dict)
    lifetimes: Lifetimes6 = field(default_factory=Lifetimes6)


@dataclass(slots=True)
class Reservation6:
    """A v6 host reservation (subnet_id 0: global): addresses and prefixes as ints."""

    identifier_type: str
    identifier: bytes
    addresses: tuple = ()
    prefixes: tuple = ()          # ((prefix int, length), ...)
    hostname: str = ""
    client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    subnet_id: int = 0


class ReservationIndex6:
    """Reservations of one subnet (or the global ones) by identifier, address, prefix."""

    __slots__ = ("by_id", "by_address", "by_prefix", "all")

    def __init__(self, reservations=()):
        self.by_id, self.by_address, self.by_prefix, self.all = {}, {}, {}, []
        for res in reservations:
            self.add(res)

    def add(self, res):
        self.all.append(res)
        self.by_id.setdefault((res.identifier_type, res.identifier), res)
        for address in res.addresses:
            self.by_address.setdefault(address, []).append(res)
        for prefix in res.prefixes:
            self.by_prefix.setdefault(prefix[0], []).append(res)

    def find(self, identifiers):
        by_id = self.by_id
        if not by_id:
            return None
        for key in identifiers:
            res = by_id.get(key)
            if res is not None:
                return res
        return None

    def holders(self, address):
        return self.by_address.get(address, ()) or self.by_prefix.get(address, ())

    def __len__(self):
        return len(self.all)


@dataclass(slots=True)
class Pool6:
    """An address pool (IA_NA/IA_TA): start..end inclusive."""

    start: int
    end: int
    client_class: str | None = None
    require_client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    cursor: int = 0

    def __post_init__(self):
        self.cursor = self.cursor or self.start

    @property
    def size(self):
        return self.end - self.start + 1

    def __contains__(self, address):
        return self.start <= address <= self.end


@dataclass(slots=True)
class PdPool6:
    """delegated_len prefixes out of prefix/prefix_len; ``cursor`` is an index."""

    prefix: int
    prefix_len: int
    delegated_len: int
    excluded_prefix: int | None = None
    excluded_prefix_len: int = 0
    client_class: str | None = None
    require_client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    cursor: int = 0

    @property
    def size(self):
        return 1 << (self.delegated_len - self.prefix_len)

    @property
    def step(self):
        return 1 << (128 - self.delegated_len)

    def nth(self, index):
        return self.prefix + index * self.step

    def __contains__(self, prefix):
        return in_prefix(prefix, self.prefix, self.prefix_len)


@dataclass(slots=True)
class SharedNetwork6:
    name: str
    subnets: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    client_class: str | None = None


@dataclass(slots=True)
class Subnet6:
    """A subnet6 with every inherited parameter resolved."""

    id: int
    prefix: str
    network: int = 0
    prefix_len: int = 64
    pools: list = field(default_factory=list)
    pd_pools: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    valid: tuple = (7200, 7200, 7200)         # (default, min, max)
    preferred: tuple = (3600, 3600, 3600)
    renew_timer: int | None = None
    rebind_timer: int | None = None
    calculate_tee_times: bool = True
    t1_percent: float = 0.5
    t2_percent: float = 0.8
    rapid_commit: bool = False
    interface: str | None = None
    interface_id: bytes | None = None
    relay_addresses: frozenset = frozenset()
    client_class: str | None = None
    require_client_classes: tuple = ()
    reservations_global: bool = False
    reservations_in_subnet: bool = True
    reservations_out_of_pool: bool = False
    reservations: ReservationIndex6 = field(default_factory=ReservationIndex6)
    shared_network: SharedNetwork6 | None = None

    def __post_init__(self):
        if not self.network:
            net = ipaddress.IPv6Network(self.prefix, strict=False)
            self.network, self.prefix_len = int(net.network_address), net.prefixlen

    def __contains__(self, address):
        return in_prefix(address, self.network, self.prefix_len)

    def pool_of(self, address):
        for pool in self.pools:
            if pool.start <= address <= pool.end:
                return pool
        return None

    def pd_pool_of(self, prefix, length=None):
        for pool in self.pd_pools:
            if prefix in pool and (length is None or length == pool.delegated_len):
                return pool
        return None

    @property
    def total_nas(self):
        return sum(p.size for p in self.pools)

    @property
    def total_pds(self):
        return sum(p.size for p in self.pd_pools)

    def siblings(self):
        if self.shared_network is None:
            return (self,)
        return (self, *(s for s in self.shared_network.subnets if s is not self))


@dataclass(slots=True)
class ServerModel6:
    """Everything the v6 packet path reads; rebuilt on each (re)configuration."""

    subnets: list = field(default_factory=list)
    shared_networks: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    classes: list = field(default_factory=list)
    global_reservations: ReservationIndex6 = field(default_factory=ReservationIndex6)
    identifiers: tuple = ("hw-address", "duid")
    decline_probation_period: int = 86400
    relay_supplied_options: frozenset = frozenset({65})
    mac_sources: tuple = ("any",)
    expired: ExpiredLeasesProcessing = field(default_factory=ExpiredLeasesProcessing)
    server_tag: str = ""
    subnets_by_id: dict = field(default_factory=dict)
    classes_by_name: dict = field(default_factory=dict)
    _merged: dict = field(default_factory=dict)

    def __post_init__(self):
        self.index()

    def index(self):
        self.subnets_by_id = {s.id: s for s in self.subnets}
        self.classes_by_name = {c.name: c for c in self.classes}
        self._merged = {}

    def subnet_containing(self, address):
        for subnet in self.subnets:
            if address in subnet:
                return subnet
        return None

    def merged_options(self, subnet, pool, classes, reservation):
        """reservation > pool > subnet > shared network > classes > global (Kea)."""
        key = (subnet.id if subnet else 0, id(pool), classes, id(reservation))
        merged = self._merged.get(key)
        if merged is not None:
            return merged
        merged = dict(self.options)
        by_name = self.classes_by_name
        for name in reversed(classes):
            cls = by_name.get(name)
            if cls is not None:
                merged.update(cls.options)
        if subnet is not None:
            if subnet.shared_network is not None:
                merged.update(subnet.shared_network.options)
            merged.update(subnet.options)
        if pool is not None:
            merged.update(pool.options)
        if reservation is not None:
            merged.update(reservation.options)
        if len(self._merged) < 65536:
            self._merged[key] = merged
        return merged


def options6_of(option_data):
    """DHCPv6 top-level options of one level as {code: OptionItem}; sub-options of
    ``vendor-N`` spaces are packed into option 17 for enterprise N (RFC 8415
    section 21.17), after any vendor-opts entry configured for N."""
    items, vendor = [], {}
    for o in option_data:
        if o.space in V6_SPACES:
            items.append(OptionItem(o.code, o.payload, o.always_send,
                                    getattr(o, "never_send", False)))
        elif o.space.startswith("vendor-") and o.space[7:].isdigit():
            vendor.setdefault(int(o.space[7:]), []).append(o)
    if vendor:
        configured = {int.from_bytes(i.data[:4], "big"): i for i in items
                      if i.code == OPT_VENDOR_OPTS and len(i.data) >= 4}
        for enterprise, subs in vendor.items():
            base = configured.get(enterprise)
            payload = enterprise.to_bytes(4, "big") if base is None else base.data
            for sub in subs:
                payload += sub.code.to_bytes(2, "big") + len(sub.payload).to_bytes(2, "big") \
                    + sub.payload
            always = any(s.always_send for s in subs) or (base is not None and base.always_send)
            item = OptionItem(OPT_VENDOR_OPTS, payload, always)
            if base is not None:
                items[items.index(base)] = item
            else:
                items.append(item)
    return option_table(items)


def _triplet(t):
    return None if t is None else (t.default, t.min, t.max)


def _reservation6(res, subnet_id):
    return Reservation6(
        res.identifier_type, res.identifier,
        tuple(ip6_to_int(a) for a in (res.ip_addresses or ((res.ip_address,)
                                                           if res.ip_address else ()))),
        tuple((ip6_to_int(p), plen) for p, plen in res.prefixes), res.hostname,
        tuple(res.client_classes), options6_of(res.option_data), subnet_id)


def expression_compiler6(cfg):
    """Class tests of a Dhcp6 config: text -> (predicate(exchange), depends_on_known)."""
    from kea_tools.classify.compiler import compile_expression
    from kea_tools.classify.query import Query
    section = (cfg.raw or {}).get("Dhcp6", cfg.raw or {})
    defs = section.get("option-def") if isinstance(section, dict) else None
    known_names = {"KNOWN", "UNKNOWN"}

    def compile_test(text, name=None):
        expr = compile_expression(text, 6, "bool", option_defs=defs)
        known = expr.depends_on(known_names)
        if known and name:
            known_names.add(name)

        def test(ex):
            inc = ex.incoming
            return expr(Query(ex.packet, inc.iface, inc.src_address, inc.local_address,
                              classes=dict.fromkeys(ex.classes)))
        return test, known
    return compile_test


def _relay_codes(names):
    from kea_tools.codec.optiondefs import OptionDefs
    codes = set()
    defs = None
    for name in names:
        text = str(name).strip()
        if text.isdigit():
            codes.add(int(text))
            continue
        defs = defs or OptionDefs.standard(6)
        d = defs.by_name("dhcp6", text)
        if d is not None:
            codes.add(d.code)
    return frozenset(codes)


def build_model6(cfg, compiler=None):
    """DhcpConfig (family 6) -> ServerModel6."""
    compiler = compiler or expression_compiler6(cfg)
    networks = {}
    for net in cfg.shared_networks:
        networks[net.name] = SharedNetwork6(net.name, options=options6_of(net.option_data),
                                            client_class=net.params.client_class)
    subnets = []
    for sub in cfg.subnets:
        p = sub.params
        s6 = Subnet6(
            id=sub.id, prefix=f"{int_to_ip6(sub.network)}/{sub.prefix_len}",
            network=sub.network, prefix_len=sub.prefix_len,
            pools=[Pool6(pl.start, pl.end, pl.client_class, tuple(pl.require_client_classes),
                         options6_of(pl.option_data)) for pl in sub.pools],
            pd_pools=[PdPool6(pd.prefix, pd.prefix_len, pd.delegated_len, pd.excluded_prefix,
                              pd.excluded_prefix_len, pd.client_class,
                              tuple(pd.require_client_classes), options6_of(pd.option_data))
                      for pd in sub.pd_pools],
            options=options6_of(sub.option_data),
            valid=_triplet(p.valid_lifetime),
            preferred=_triplet(p.preferred_lifetime) or (3600, 3600, 3600),
            renew_timer=p.renew_timer, rebind_timer=p.rebind_timer,
            calculate_tee_times=p.calculate_tee_times, t1_percent=p.t1_percent,
            t2_percent=p.t2_percent, rapid_commit=p.rapid_commit, interface=p.interface,
            interface_id=p.interface_id,
            relay_addresses=frozenset(ip6_to_int(a) for a in p.relay_addresses),
            client_class=p.client_class, require_client_classes=tuple(p.require_client_classes),
            reservations_global=p.reservations_global,
            reservations_in_subnet=p.reservations_in_subnet,
            reservations_out_of_pool=p.reservations_out_of_pool,
            reservations=ReservationIndex6(_reservation6(r, sub.id) for r in sub.reservations))
        if sub.shared_network is not None:
            s6.shared_network = networks[sub.shared_network.name]
            s6.shared_network.subnets.append(s6)
        subnets.append(s6)
    classes = []
    for cls in cfg.client_classes:
        test, known = compiler(cls.test, cls.name) if cls.test else (None, False)
        classes.append(ClientClass6(
            cls.name, test, known, cls.only_if_required, options6_of(cls.option_data),
            Lifetimes6(_triplet(cls.valid_lifetime), _triplet(cls.preferred_lifetime))))
    elp = cfg.expired_leases_processing
    return ServerModel6(
        subnets=subnets, shared_networks=list(networks.values()),
        options=options6_of(cfg.option_data), classes=classes,
        global_reservations=ReservationIndex6(_reservation6(r, 0) for r in cfg.reservations),
        identifiers=tuple(cfg.host_reservation_identifiers),
        decline_probation_period=cfg.decline_probation_period,
        relay_supplied_options=_relay_codes(cfg.relay_supplied_options or ("65",)),
        mac_sources=tuple(cfg.mac_sources or ("any",)),
        expired=ExpiredLeasesProcessing(
            elp.reclaim_timer_wait_time, elp.flush_reclaimed_timer_wait_time,
            elp.hold_reclaimed_time, elp.max_reclaim_leases, elp.max_reclaim_time,
            elp.unwarned_reclaim_cycles),
        server_tag=cfg.server_tag)


# --- the lease table ----------------------------------------------------------------

class LeaseTable6(LeaseTable):
    """v6 leases by address/prefix (an int) and by DUID, with the v4 table's
    staged writes and group commit (same journal, same failure semantics)."""

    def __init__(self, backend, clock=None):
        self.backend = backend
        self.by_addr = {}
        self.by_hw = {}
        self.by_cid = {}     # DUID -> addresses (the v4 table's client-id slot)
        self._expiry = []
        self._journal = []
        for lease in backend.iter_leases():
            self._index(ip6_to_int(lease.address), lease)

    def _index(self, addr, lease):
        self.by_addr[addr] = lease
        if lease.duid:
            self.by_cid.setdefault(lease.duid, set()).add(addr)
        if lease.hwaddr:
            self.by_hw.setdefault(lease.hwaddr, set()).add(addr)
        if lease.valid_lft != INFINITE_LFT and lease.state != STATE_EXPIRED_RECLAIMED:
            heapq.heappush(self._expiry, (lease.cltt + lease.valid_lft, addr))

    def _unindex(self, addr, lease):
        if self.by_addr.get(addr) is lease:
            del self.by_addr[addr]
        for index, key in ((self.by_cid, lease.duid), (self.by_hw, lease.hwaddr)):
            if key:
                addrs = index.get(key)
                if addrs is not None:
                    addrs.discard(addr)
                    if not addrs:
                        del index[key]

    def by_duid(self, duid):
        return [self.by_addr[a] for a in self.by_cid.get(duid, ())]

    def client_leases(self, duid, iaid, lease_type, subnet_ids):
        """The client's leases of one IA in the given subnets (declined ones aside)."""
        out = []
        by_addr = self.by_addr
        for a in self.by_cid.get(duid, ()):
            lease = by_addr[a]
            if lease.iaid == iaid and lease.type == lease_type and \
                    lease.subnet_id in subnet_ids and lease.state != STATE_DECLINED:
                out.append(lease)
        return out

    def stage_put(self, new, tag=0):
        addr = ip6_to_int(new.address)
        old = self.by_addr.get(addr)
        self._journal.append(Change(ADD if old is None else UPDATE, addr, old, new, tag))
        self._replace(addr, old, new)

    def stage_delete(self, lease, tag=0):
        addr = ip6_to_int(lease.address)
        old = self.by_addr.get(addr)
        if old is None:
            return
        self._journal.append(Change(DELETE, addr, old, None, tag))
        self._replace(addr, old, None)

    def _adopt_stored(self, change):
        stored = self.backend.get(int_to_ip6(change.address))
        if stored is not None:
            change.old = stored


# --- the engine ---------------------------------------------------------------------

@dataclass(slots=True)
class IARequest:
    """One IA of a client message: its type, IAID and hints [(address, plen,
    preferred, valid)]."""

    type: int
    iaid: int
    hints: list = field(default_factory=list)


@dataclass(slots=True)
class ClientContext:
    """What the engine needs to know about the client behind one message."""

    subnet: object
    duid: bytes
    identifiers: list
    classes: tuple = ()
    hwaddr: tuple | None = None       # (hwtype, bytes, source bits)
    hostname: str = ""
    now: int = 0
    fake: bool = True


@dataclass(slots=True)
class IAResult:
    status: str
    lease: Lease6 | None = None
    subnet: object = None
    pool: object = None
    reservation: object = None
    renewed: bool = False
    reclaimed: Lease6 | None = None   # another client's expired lease taken over
    old: list = field(default_factory=list)  # the IA's previous leases, to delete
    reason: str = ""


def _hint_lifetime(triplet, hinted):
    default, lo, hi = triplet
    if not hinted:
        return default
    return min(max(hinted, lo), hi)


@dataclass(slots=True)
class AllocationEngine6:
    model: object
    leases: object
    stats: object = None
    _exhausted: dict = field(default_factory=dict)

    def reservation_for(self, subnet, identifiers):
        if subnet.reservations_global:
            res = self.model.global_reservations.find(identifiers)
            if res is not None:
                return res
        if subnet.reservations_in_subnet:
            return subnet.reservations.find(identifiers)
        return None

    def reserved_for_other(self, subnet, address, mine):
        holders = subnet.reservations.holders(address) if subnet.reservations_in_subnet else ()
        if any(res is not mine for res in holders):
            return True
        if subnet.reservations_global:
            return any(res is not mine for res in self.model.global_reservations.holders(address))
        return False

    @staticmethod
    def class_allowed(client_class, classes):
        return client_class is None or client_class in classes

    def candidate_subnets(self, ctx):
        out = []
        for s in ctx.subnet.siblings():
            net = s.shared_network
            if self.class_allowed(s.client_class, ctx.classes) and (
                    net is None or self.class_allowed(net.client_class, ctx.classes)):
                out.append(s)
        return out

    def lifetimes(self, subnet, classes, hint_pref=0, hint_valid=0):
        """(preferred, valid): the first class that sets them, else the subnet's;
        hinted values clamped; preferred never above valid."""
        valid, preferred = subnet.valid, subnet.preferred
        by_name = self.model.classes_by_name
        for name in classes:
            cls = by_name.get(name)
            if cls is not None and cls.lifetimes.valid is not None:
                valid = cls.lifetimes.valid
                break
        for name in classes:
            cls = by_name.get(name)
            if cls is not None and cls.lifetimes.preferred is not None:
                preferred = cls.lifetimes.preferred
                break
        v = _hint_lifetime(valid, hint_valid)
        p = _hint_lifetime(preferred, hint_pref)
        return min(p, v), v

    def is_free(self, address, ctx, ia):
        lease = self.leases.by_addr.get(address)
        if lease is None or lease.state == STATE_EXPIRED_RECLAIMED:
            return True
        if lease.state != STATE_DECLINED and lease.duid == ctx.duid and lease.iaid == ia.iaid \
                and lease.type == ia.type:
            return True
        return lease.valid_lft != INFINITE_LFT and lease.cltt + lease.valid_lft <= ctx.now

    def allocate(self, ctx, ia):
        """One lease for ``ia`` (SOLICIT/REQUEST, and RENEW/REBIND with no binding)."""
        subnets = self.candidate_subnets(ctx)
        if not subnets:
            return IAResult(NO_ADDRESS, reason="no subnet allowed for the client's classes")
        ids = {s.id for s in subnets}
        current = self.leases.client_leases(ctx.duid, ia.iaid, ia.type, ids)
        reservations = [(s, self.reservation_for(s, ctx.identifiers)) for s in subnets]
        pd = ia.type == TYPE_PD
        # 1. A reserved address or prefix nobody else holds.
        for sub, res in reservations:
            if res is None:
                continue
            for value in (res.prefixes if pd else ((a, 128) for a in res.addresses)):
                address, plen = value
                if (pd or address in sub) and self.is_free(address, ctx, ia):
                    return self._result(ctx, ia, sub, address, plen, res, current)
        # 2. The client's existing lease for this IA.
        for lease in current:
            sub = self.model.subnets_by_id.get(lease.subnet_id)
            address = ip6_to_int(lease.address)
            if sub is not None and self._usable(sub, address, lease.prefix_len, ctx, reservations):
                return self._result(ctx, ia, sub, address, lease.prefix_len,
                                    self._res_of(sub, reservations), current,
                                    hint=self._hint_for(ia, address))
        # 3. What the client hinted.
        for hint in ia.hints:
            address, plen = hint[0], hint[1]
            if not address:
                continue
            for sub in subnets:
                if pd:
                    pool = sub.pd_pool_of(address)
                    if pool is None:
                        continue
                    address = (address >> (128 - pool.delegated_len)) << (128 - pool.delegated_len)
                    plen = pool.delegated_len
                elif address not in sub:
                    continue
                if self._usable(sub, address, plen, ctx, reservations) and \
                        self.is_free(address, ctx, ia):
                    return self._result(ctx, ia, sub, address, plen,
                                        self._res_of(sub, reservations), current, hint=hint)
        # 4. The iterative allocator.
        return self._iterate(ctx, ia, subnets, reservations, current)

    def _hint_for(self, ia, address):
        for hint in ia.hints:
            if hint[0] == address:
                return hint
        return None

    def _usable(self, sub, address, plen, ctx, reservations):
        mine = self._res_of(sub, reservations)
        if mine is not None and (address in mine.addresses or (address, plen) in mine.prefixes):
            return True
        if plen == 128:
            pool = sub.pool_of(address)
        else:
            pool = sub.pd_pool_of(address, plen)
        if pool is None or not self.class_allowed(pool.client_class, ctx.classes):
            return False
        if sub.reservations_out_of_pool:
            return True
        return not self.reserved_for_other(sub, address, mine)

    @staticmethod
    def _res_of(sub, reservations):
        for s, res in reservations:
            if s is sub:
                return res
        return None

    def _iterate(self, ctx, ia, subnets, reservations, current):
        now = ctx.now
        by_addr = self.leases.by_addr
        pd = ia.type == TYPE_PD
        for sub in subnets:
            mine = self._res_of(sub, reservations)
            check_res = not sub.reservations_out_of_pool and (
                (sub.reservations_in_subnet and len(sub.reservations))
                or (sub.reservations_global and len(self.model.global_reservations)))
            for pool in (sub.pd_pools if pd else sub.pools):
                if not self.class_allowed(pool.client_class, ctx.classes):
                    continue
                if self._exhausted.get(id(pool), 0) > now:
                    continue
                if pd:
                    size, cursor = pool.size, pool.cursor
                    # Huge pools are never scanned to the end: the probe budget
                    # bounds the cost of one allocation.
                    for _ in range(min(size, 1 << 16)):
                        address = pool.nth(cursor)
                        cursor = cursor + 1 if cursor + 1 < size else 0
                        if self._taken(by_addr.get(address), now):
                            continue
                        if check_res and self.reserved_for_other(sub, address, mine):
                            continue
                        pool.cursor = cursor
                        return self._result(ctx, ia, sub, address, pool.delegated_len, mine,
                                            current, pool=pool)
                else:
                    start, end, cursor = pool.start, pool.end, pool.cursor
                    for _ in range(min(end - start + 1, 1 << 16)):
                        address = cursor
                        cursor = cursor + 1 if cursor < end else start
                        if self._taken(by_addr.get(address), now):
                            continue
                        if check_res and self.reserved_for_other(sub, address, mine):
                            continue
                        pool.cursor = cursor
                        return self._result(ctx, ia, sub, address, 128, mine, current,
                                            pool=pool)
                self._exhausted[id(pool)] = now + FULL_POOL_RETRY
        return IAResult(NO_ADDRESS, reason="no prefix available" if pd else
                        "no address available")

    @staticmethod
    def _taken(lease, now):
        return lease is not None and lease.state != STATE_EXPIRED_RECLAIMED and (
            lease.valid_lft == INFINITE_LFT or lease.cltt + lease.valid_lft > now)

    def address_freed(self, address=None):
        if self._exhausted:
            self._exhausted.clear()

    def _result(self, ctx, ia, sub, address, plen, res, current, pool=None, hint=None):
        if pool is None:
            pool = sub.pool_of(address) if plen == 128 else sub.pd_pool_of(address, plen)
        hint = hint or self._hint_for(ia, address) or (0, 0, 0, 0)
        preferred, valid = self.lifetimes(sub, ctx.classes, hint[2], hint[3])
        text = int_to_ip6(address)
        prior = next((lease for lease in current if lease.address == text), None)
        hostname = ctx.hostname or (res.hostname if res is not None else "") or (
            prior.hostname if prior is not None else "")
        hw = ctx.hwaddr
        lease = Lease6(text, ctx.duid, ia.iaid, ia.type, plen, preferred, valid, ctx.now,
                       sub.id, hostname=hostname if ia.type != TYPE_PD else "",
                       hwaddr=hw[1] if hw else None, hwtype=hw[0] if hw else None,
                       hwaddr_source=hw[2] if hw else None, state=STATE_DEFAULT,
                       user_context=prior.user_context if prior is not None else None)
        existing = self.leases.by_addr.get(address)
        reclaimed = existing if existing is not None and prior is None else None
        old = [lease_ for lease_ in current if lease_ is not prior]
        return IAResult(OK, lease, sub, pool, res, prior is not None, reclaimed, old)

    def extend(self, ctx, ia, lease):
        """A renewed copy of the client's ``lease`` (RENEW/REBIND), or None when
        the lease may no longer go to this client (then it gets lifetime 0)."""
        sub = self.model.subnets_by_id.get(lease.subnet_id)
        if sub is None:
            return None
        reservations = [(s, self.reservation_for(s, ctx.identifiers))
                        for s in self.candidate_subnets(ctx)]
        if sub not in [s for s, _ in reservations]:
            return None
        address = ip6_to_int(lease.address)
        if not self._usable(sub, address, lease.prefix_len, ctx, reservations):
            return None
        hint = self._hint_for(ia, address) or (0, 0, 0, 0)
        preferred, valid = self.lifetimes(sub, ctx.classes, hint[2], hint[3])
        res = self._res_of(sub, reservations)
        hostname = ctx.hostname or (res.hostname if res is not None else "") or lease.hostname
        hw = ctx.hwaddr
        return lease.copy(preferred_lft=preferred, valid_lft=valid, cltt=ctx.now,
                          hostname=hostname if lease.type != TYPE_PD else "",
                          hwaddr=hw[1] if hw else lease.hwaddr,
                          hwtype=hw[0] if hw else lease.hwtype,
                          hwaddr_source=hw[2] if hw else lease.hwaddr_source,
                          state=STATE_DEFAULT)

    @staticmethod
    def declined(lease, now, probation):
        """Kea's Lease6::decline: the lease keeps its address, loses its owner."""
        return lease.copy(duid=EMPTY_DUID, hwaddr=None, hwtype=None, hwaddr_source=None,
                          preferred_lft=0, valid_lft=probation, cltt=now, hostname="",
                          fqdn_fwd=False, fqdn_rev=False, state=STATE_DECLINED,
                          user_context=None)


IA_TYPES = {TYPE_NA: "IA_NA", TYPE_TA: "IA_TA", TYPE_PD: "IA_PD"}
