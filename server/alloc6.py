"""The DHCPv6 allocation engine: Kea 2.2's rules (RFC 8415 sections 18.3,
21.4-21.22) over the compiled Dhcp6 model (:mod:`kea_tools.server.model6`) and
the :class:`~kea_tools.server.leasetable.LeaseTable6`.

The engine gives at most one address per IA_NA / IA_TA and one prefix per IA_PD
(as Kea does). A SOLICIT is a "fake" allocation: nothing is stored. The order of
preference is: the client's reservation, its existing lease for that IA, the
address or prefix it hinted, then the iterative allocator (a cursor per pool, so
a run of allocations costs O(1) each). Lifetimes come from the first class that
sets them, else the subnet, with the client's hinted lifetimes clamped to the
(min, max) bounds.
"""
from dataclasses import dataclass, field

from kea_tools.leases.model import (EMPTY_DUID, INFINITE_LFT, STATE_DECLINED, STATE_DEFAULT,
                                    STATE_EXPIRED_RECLAIMED, TYPE_NA, TYPE_PD, TYPE_TA, Lease6)

from kea_tools.server.alloc import FULL_POOL_RETRY, NO_ADDRESS, OK, EngineBase
from kea_tools.server.model import int_to_ip6, ip6_to_int


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
    hostname: str = ""                # the DDNS name decision (Kea's ctx.hostname_)
    now: int = 0
    fake: bool = True
    fqdn_fwd: bool = False
    fqdn_rev: bool = False


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
class AllocationEngine6(EngineBase):
    """DHCPv6 allocation over a :class:`~kea_tools.server.leasetable.LeaseTable6`."""

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
        if pool is None or not self.pool_allowed(pool, ctx.classes):
            return False
        if sub.reservations_out_of_pool:
            return True
        return not self.reserved_for_other(sub, address, mine)

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
                if not self.pool_allowed(pool, ctx.classes):
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
                        if self.taken(by_addr.get(address), now):
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
                        if self.taken(by_addr.get(address), now):
                            continue
                        if check_res and self.reserved_for_other(sub, address, mine):
                            continue
                        pool.cursor = cursor
                        return self._result(ctx, ia, sub, address, 128, mine, current,
                                            pool=pool)
                self._exhausted[id(pool)] = now + FULL_POOL_RETRY
        return IAResult(NO_ADDRESS, reason="no prefix available" if pd else
                        "no address available")

    def _result(self, ctx, ia, sub, address, plen, res, current, pool=None, hint=None):
        if pool is None:
            pool = sub.pool_of(address) if plen == 128 else sub.pd_pool_of(address, plen)
        hint = hint or self._hint_for(ia, address) or (0, 0, 0, 0)
        preferred, valid = self.lifetimes(sub, ctx.classes, hint[2], hint[3])
        text = int_to_ip6(address)
        prior = next((lease for lease in current if lease.address == text), None)
        na = ia.type != TYPE_PD
        hw = ctx.hwaddr
        lease = Lease6(text, ctx.duid, ia.iaid, ia.type, plen, preferred, valid, ctx.now,
                       sub.id, hostname=ctx.hostname if na else "",
                       fqdn_fwd=na and ctx.fqdn_fwd, fqdn_rev=na and ctx.fqdn_rev,
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
        na = lease.type != TYPE_PD
        hw = ctx.hwaddr
        # The name is the pipeline's DDNS decision (Kea's extendLease6).
        return lease.copy(preferred_lft=preferred, valid_lft=valid, cltt=ctx.now,
                          hostname=ctx.hostname if na else "",
                          fqdn_fwd=na and ctx.fqdn_fwd, fqdn_rev=na and ctx.fqdn_rev,
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

