"""The DHCPv4 allocation engine: Kea 2.2's rules for which address a client gets.

DISCOVER (a "fake" allocation, nothing stored) tries, in order: the client's
reserved address, its current or reclaimed lease (lease affinity), the address
it asked for (option 50), then the iterative allocator. REQUEST checks the
requested address against reservations and other clients' leases and either
renews, allocates it, or refuses (the pipeline turns a refusal into a NAK or a
silent drop). Lifetimes follow the client's option 51 clamped to the
(class or subnet) valid-lifetime bounds.

The allocator keeps a cursor per pool and moves forward from it, skipping
addresses that are leased or reserved, so a run of allocations costs O(1)
each; a pool found full is not rescanned until an address in it is freed or a
second has passed.
"""
import random
from dataclasses import dataclass, field

from kea_tools.leases.model import (INFINITE_LFT, STATE_DECLINED, STATE_DEFAULT,
                                    STATE_EXPIRED_RECLAIMED, Lease4)

from kea_tools.server.model import int_to_ip, ip_to_int

# Outcomes of allocate(); the pipeline maps them to replies.
OK = "ok"
NAK = "nak"          # refuse: the address is not for this client
NO_ADDRESS = "none"  # nothing available (DISCOVER: stay silent; REQUEST: NAK)

FULL_POOL_RETRY = 1.0


@dataclass(slots=True)
class AllocRequest:
    """What the engine needs to know about one client request."""

    subnet: object
    hwaddr: bytes | None
    client_id: bytes | None
    identifiers: list
    classes: tuple = ()
    hint: int = 0
    fake: bool = True
    requested_lifetime: int | None = None
    hostname: str = ""          # the DDNS name decision (Kea's ctx.hostname_)
    fqdn_fwd: bool = False
    fqdn_rev: bool = False
    now: int = 0
    bootp: bool = False


@dataclass(slots=True)
class AllocResult:
    status: str
    lease: Lease4 | None = None
    subnet: object = None
    pool: object = None
    reservation: object = None
    old_lease: Lease4 | None = None      # the client's previous lease, to delete
    renewed: bool = False                # the lease is the client's existing one
    reclaimed: Lease4 | None = None      # another client's expired lease taken over
    reason: str = ""
    fail_stats: tuple = ()


@dataclass(slots=True)
class EngineBase:
    """What the v4 and v6 allocation engines share: reservations in Kea's order,
    class guards, the pool cursors and the full-pool memo."""

    model: object
    leases: object
    stats: object = None
    _exhausted: dict = field(default_factory=dict)

    def reservation_for(self, subnet, identifiers):
        """The client's host reservation for ``subnet``: global first when
        reservations-global is on, then the subnet's own (Kea's order)."""
        if subnet.reservations_global:
            res = self.model.global_reservations.find(identifiers)
            if res is not None:
                return res
        if subnet.reservations_in_subnet:
            return subnet.reservations.find(identifiers)
        return None

    def reserved_for_other(self, subnet, address, mine):
        """Whether ``address`` is reserved, in this subnet's scope, for another host."""
        holders = subnet.reservations.holders(address) if subnet.reservations_in_subnet else ()
        for res in holders:
            if res is not mine:
                return True
        if subnet.reservations_global:
            for res in self.model.global_reservations.holders(address):
                if res is not mine:
                    return True
        return False

    @staticmethod
    def pool_allowed(pool, classes):
        return pool.client_class is None or pool.client_class in classes

    @staticmethod
    def subnet_allowed(subnet, classes):
        if subnet.client_class is not None and subnet.client_class not in classes:
            return False
        net = subnet.shared_network
        return net is None or net.client_class is None or net.client_class in classes

    def candidate_subnets(self, req):
        """The selected subnet and its shared-network siblings the client's
        classes allow, in Kea's order."""
        return [s for s in req.subnet.siblings() if self.subnet_allowed(s, req.classes)]

    @staticmethod
    def _res_of(sub, reservations):
        for s, res in reservations:
            if s is sub:
                return res
        return None

    @staticmethod
    def taken(lease, now):
        """A lease that keeps its address from everyone else at ``now``."""
        return lease is not None and lease.state != STATE_EXPIRED_RECLAIMED and (
            lease.valid_lft == INFINITE_LFT or lease.cltt + lease.valid_lft > now)

    def spread_cursors(self, rng=random):
        """Start every pool's cursor at a random place (servers sharing a lease
        database then walk different stretches of the pool)."""
        for subnet in self.model.subnets:
            for pool in subnet.pools:
                pool.cursor = rng.randint(pool.start, pool.end)
            for pool in getattr(subnet, "pd_pools", ()):
                pool.cursor = rng.randrange(pool.size)

    def address_freed(self, address=None):
        """An address went back to its pool: let the allocator look at full pools again."""
        if self._exhausted:
            self._exhausted.clear()


@dataclass(slots=True)
class AllocationEngine(EngineBase):
    """DHCPv4 allocation over a :class:`LeaseTable` for one configuration model."""

    def is_free(self, address, req):
        """No lease, or a lease that is expired/reclaimed, or the client's own."""
        lease = self.leases.by_addr.get(address)
        if lease is None or lease.state == STATE_EXPIRED_RECLAIMED:
            return True
        if self.owns(lease, req):
            return True
        return lease.valid_lft != INFINITE_LFT and lease.cltt + lease.valid_lft <= req.now

    @staticmethod
    def owns(lease, req):
        if lease.state == STATE_DECLINED:
            return False
        if req.client_id and lease.client_id:
            return lease.client_id == req.client_id
        return bool(req.hwaddr) and lease.hwaddr == req.hwaddr

    def lifetime(self, subnet, classes, requested, bootp=False):
        """Valid lifetime: BOOTP infinite; else the first class's triplet or the
        subnet's, with the client's request clamped to its bounds."""
        if bootp:
            return INFINITE_LFT
        valid, lo, hi = subnet.valid_lifetime, subnet.min_valid_lifetime, subnet.max_valid_lifetime
        by_name = self.model.classes_by_name
        for name in classes:
            cls = by_name.get(name)
            if cls is not None and cls.lifetimes.valid is not None:
                valid, lo, hi = cls.lifetimes.valid, cls.lifetimes.min, cls.lifetimes.max
                break
        if requested is None:
            return valid
        lo = valid if lo is None else lo
        hi = valid if hi is None else hi
        return min(max(requested, lo), hi)

    # --- the engine -------------------------------------------------------
    def allocate(self, req):
        subnets = self.candidate_subnets(req)
        if not subnets:
            return AllocResult(NO_ADDRESS, reason="no subnet allowed for the client's classes",
                               fail_stats=("v4-allocation-fail-classes",))
        ids = {s.id for s in subnets}
        current = self.leases.client_lease(req.client_id, req.hwaddr, ids)
        if current is not None and current.state == STATE_DECLINED:
            current = None
        reservations = [(s, self.reservation_for(s, req.identifiers)) for s in subnets]
        if req.fake:
            return self._discover(req, subnets, current, reservations)
        return self._request(req, subnets, current, reservations)

    def _reserved_address(self, reservations):
        for subnet, res in reservations:
            if res is not None and res.address is not None and res.address in subnet:
                return subnet, res
        return None, None

    def _discover(self, req, subnets, current, reservations):
        # 1. The reserved address, if nobody else holds it.
        rsub, res = self._reserved_address(reservations)
        if res is not None:
            if self.is_free(res.address, req):
                return self._result(req, rsub, res.address, res, current)
            self._count_conflict(rsub)
        # 2. The client's current (or reclaimed) lease, if still allowed.
        if current is not None:
            sub = self.model.subnets_by_id.get(current.subnet_id)
            address = _addr(current)
            if sub is not None and self._usable(sub, address, req, reservations):
                return self._result(req, sub, address, self._res_of(sub, reservations), current)
        # 3. The address the client asked for.
        if req.hint:
            for sub in subnets:
                if req.hint in sub and self._usable(sub, req.hint, req, reservations) \
                        and self.is_free(req.hint, req):
                    return self._result(req, sub, req.hint, self._res_of(sub, reservations), current)
        # 4. The iterative allocator.
        return self._iterate(req, subnets, reservations, current)

    def _request(self, req, subnets, current, reservations):
        rsub, res = self._reserved_address(reservations)
        hint = req.hint
        if not hint:
            if current is not None:
                hint = _addr(current)
            elif res is not None:
                hint = res.address
            else:
                return self._iterate(req, subnets, reservations, current)
        sub = next((s for s in subnets if hint in s), None)
        if sub is None:
            return AllocResult(NAK, reason="requested address is not in the client's network")
        mine = self._res_of(sub, reservations)
        if not (sub.reservations_out_of_pool and sub.pool_of(hint) is not None) \
                and self.reserved_for_other(sub, hint, mine):
            return AllocResult(NAK, reason="requested address is reserved for another client")
        if res is not None and res.address != hint and self.is_free(res.address, req):
            return AllocResult(NAK, reason="the client has a reservation for another address")
        if not self.is_free(hint, req):
            return AllocResult(NAK, reason="requested address is in use by another client")
        reserved_here = mine is not None and mine.address == hint
        pool = sub.pool_of(hint)
        if not reserved_here and (pool is None or not self.pool_allowed(pool, req.classes)):
            return AllocResult(NAK, reason="requested address is outside the client's pools")
        return self._result(req, sub, hint, mine, current)

    def _usable(self, sub, address, req, reservations):
        """The address may go to this client: in an allowed pool (or reserved for
        it) and not reserved for someone else."""
        mine = self._res_of(sub, reservations)
        if mine is not None and mine.address == address:
            return True
        pool = sub.pool_of(address)
        if pool is None or not self.pool_allowed(pool, req.classes):
            return False
        if sub.reservations_out_of_pool:
            return True
        return not self.reserved_for_other(sub, address, mine)

    def _iterate(self, req, subnets, reservations, current):
        now = req.now
        by_addr = self.leases.by_addr
        any_pool = False
        any_allowed = False
        for sub in subnets:
            mine = self._res_of(sub, reservations)
            check_res = not sub.reservations_out_of_pool and (
                (sub.reservations_in_subnet and len(sub.reservations.by_address))
                or (sub.reservations_global and len(self.model.global_reservations.by_address)))
            for pool in sub.pools:
                any_pool = True
                if pool.client_class is not None and pool.client_class not in req.classes:
                    continue
                any_allowed = True
                if self._exhausted.get(id(pool), 0) > now:
                    continue
                start, end = pool.start, pool.end
                cursor = pool.cursor
                for _ in range(end - start + 1):
                    address = cursor
                    cursor = cursor + 1 if cursor < end else start
                    lease = by_addr.get(address)
                    if lease is not None and lease.state != STATE_EXPIRED_RECLAIMED and (
                            lease.valid_lft == INFINITE_LFT or lease.cltt + lease.valid_lft > now):
                        continue
                    if check_res and self.reserved_for_other(sub, address, mine):
                        continue
                    pool.cursor = cursor
                    return self._result(req, sub, address, mine, current, pool)
                self._exhausted[id(pool)] = now + FULL_POOL_RETRY
        if not any_pool:
            stats = ("v4-allocation-fail-no-pools",)
        elif not any_allowed:
            stats = ("v4-allocation-fail-classes",)
        elif req.subnet.shared_network is not None:
            stats = ("v4-allocation-fail-shared-network",)
        else:
            stats = ("v4-allocation-fail-subnet",)
        return AllocResult(NO_ADDRESS, reason="no address available", fail_stats=stats)

    def _count_conflict(self, subnet):
        if self.stats is not None:
            self.stats.add("v4-reservation-conflicts")
            self.stats.add(f"subnet[{subnet.id}].v4-reservation-conflicts")

    def _result(self, req, sub, address, res, current, pool=None):
        pool = pool or sub.pool_of(address)
        classes = req.classes
        valid = self.lifetime(sub, classes, req.requested_lifetime, req.bootp)
        existing = self.leases.by_addr.get(address)
        same = current is not None and _addr(current) == address
        # Lease affinity: a reclaimed lease coming back to its client is a new
        # assignment (it left assigned-addresses when it was reclaimed).
        renewed = same and current.state != STATE_EXPIRED_RECLAIMED
        # The name is the pipeline's DDNS decision, renewals included (Kea's
        # updateLease4Information): a client that stops sending one loses it.
        lease = Lease4(int_to_ip(address), req.hwaddr, req.client_id, valid, req.now, sub.id,
                       fqdn_fwd=req.fqdn_fwd, fqdn_rev=req.fqdn_rev,
                       hostname=req.hostname, state=STATE_DEFAULT,
                       user_context=current.user_context if same else None)
        reclaimed = None
        if existing is not None and not same and not self.owns(existing, req):
            reclaimed = existing
        old = current if current is not None and not same else None
        return AllocResult(OK, lease, sub, pool, res, old, renewed, reclaimed)


def _addr(lease):
    return ip_to_int(lease.address)
