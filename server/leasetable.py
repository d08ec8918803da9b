"""The server's in-memory view of its leases (v4 and v6), written through to a
LeaseBackend.

Allocation needs "who holds this address" and "which lease is this client's" at
thousands of packets a second, whatever the back end; so the server keeps every
lease in dicts keyed by address (an int), hardware address and client-id, and
sends changes to the back end in one batch per burst of packets (group commit).

A change is *staged*: memory sees it at once, so two requests in the same burst
never get the same address, and a journal remembers the previous value. Then
:meth:`commit` writes the journal in one ``backend.batch()``. A write the back
end refuses (another server on the same database took the address first) undoes
just that change; a storage failure undoes them all. The caller gets the set of
tags (request numbers) whose changes did not reach storage, and must not send
those replies.
"""
from dataclasses import dataclass
from operator import attrgetter

from kea_tools.bulk import gc_paused, release_free_memory
from kea_tools.leases import (BackendError, DuplicateLeaseError, LeaseError,
                              LeaseNotFoundError)
from kea_tools.leases.model import INFINITE_LFT, STATE_DECLINED, STATE_EXPIRED_RECLAIMED
from kea_tools.leases.multiindex import MultiIndex

from kea_tools.server.model import int_to_ip, int_to_ip6, ip6_to_int, ip_to_int

ADD, UPDATE, DELETE = "add", "update", "delete"
EXPIRY_BUCKET = 16
CONFLICT, STORAGE = "conflict", "storage"


@dataclass(slots=True)
class Change:
    kind: str
    address: int
    old: object
    new: object
    tag: int


class LeaseTable:
    """v4 leases by address/hwaddr/client-id over a back end, with staged writes."""

    to_int = staticmethod(ip_to_int)
    to_text = staticmethod(int_to_ip)
    # The client identity by_cid is keyed by: client-id (v4), DUID (v6).
    client_key = attrgetter("client_id")

    def __init__(self, backend, clock=None):
        self.backend = backend
        self.by_addr = {}
        self.by_hw = MultiIndex()
        self.by_cid = MultiIndex()
        # Expiry times filed in buckets of EXPIRY_BUCKET seconds: a list entry per
        # lease instead of a heap tuple (about 90 bytes less each, a million leases).
        self._expiry = {}
        self._expiry_entries = 0
        self._journal = []
        to_int = self.to_int
        with gc_paused():
            for lease in backend.take_leases():
                self._index(to_int(lease.address), lease)
        release_free_memory()

    def __len__(self):
        return len(self.by_addr)

    # --- indexes ------------------------------------------------------------
    def _index(self, addr, lease):
        self.by_addr[addr] = lease
        if lease.hwaddr:
            self.by_hw.add(lease.hwaddr, addr)
        cid = self.client_key(lease)
        if cid:
            self.by_cid.add(cid, addr)
        self._file_expiry(addr, lease)
        if self._expiry_entries > 2 * len(self.by_addr) + 10000:
            self._rebuild_expiry()

    def _file_expiry(self, addr, lease):
        if lease.valid_lft != INFINITE_LFT and lease.state != STATE_EXPIRED_RECLAIMED:
            bucket = (lease.cltt + lease.valid_lft) // EXPIRY_BUCKET
            addrs = self._expiry.get(bucket)
            if addrs is None:
                self._expiry[bucket] = [addr]
            else:
                addrs.append(addr)
            self._expiry_entries += 1

    def _rebuild_expiry(self):
        """Every renewal files a new expiry and leaves the old entry behind: drop
        the stale entries once they outnumber the leases."""
        self._expiry = {}
        self._expiry_entries = 0
        for addr, lease in self.by_addr.items():
            self._file_expiry(addr, lease)

    def _unindex(self, addr, lease):
        if self.by_addr.get(addr) is lease:
            del self.by_addr[addr]
        if lease.hwaddr:
            self.by_hw.remove(lease.hwaddr, addr)
        cid = self.client_key(lease)
        if cid:
            self.by_cid.remove(cid, addr)

    def _replace(self, addr, old, new):
        if old is not None:
            self._unindex(addr, old)
        if new is not None:
            self._index(addr, new)

    # --- reads ----------------------------------------------------------------
    def get(self, addr):
        return self.by_addr.get(addr)

    def by_hwaddr(self, hwaddr):
        return [self.by_addr[a] for a in self.by_hw.values_of(hwaddr)]

    def by_client_id(self, client_id):
        return [self.by_addr[a] for a in self.by_cid.values_of(client_id)]

    def client_lease(self, client_id, hwaddr, subnet_ids):
        """The client's lease in one of ``subnet_ids`` (Kea 7.1): by client-id
        first, then by chaddr, where a chaddr lease with a different stored
        client-id belongs to someone else."""
        by_addr = self.by_addr
        if client_id:
            for a in self.by_cid.values_of(client_id):
                lease = by_addr[a]
                if lease.subnet_id in subnet_ids:
                    return lease
        if hwaddr:
            for a in self.by_hw.values_of(hwaddr):
                lease = by_addr[a]
                if lease.subnet_id in subnet_ids and (
                        not lease.client_id or not client_id or lease.client_id == client_id):
                    return lease
        return None

    def pop_expired(self, now, limit):
        """Up to ``limit`` leases whose expire < now and not yet reclaimed."""
        out = []
        by_addr = self.by_addr
        expiry = self._expiry
        for bucket in sorted(b for b in expiry if b * EXPIRY_BUCKET < now):
            keep = []
            seen = set()  # a lease renewed within one bucket is filed there twice
            for addr in expiry[bucket]:
                if addr in seen:
                    continue
                seen.add(addr)
                lease = by_addr.get(addr)
                if (lease is None or lease.state == STATE_EXPIRED_RECLAIMED
                        or lease.valid_lft == INFINITE_LFT):
                    continue
                expire = lease.cltt + lease.valid_lft
                if expire // EXPIRY_BUCKET != bucket:
                    continue  # renewed since: filed under its new expiry too
                if expire < now and len(out) < limit:
                    out.append(lease)
                else:
                    keep.append(addr)
            self._expiry_entries -= len(expiry[bucket]) - len(keep)
            if keep:
                expiry[bucket] = keep
            else:
                del expiry[bucket]
            if len(out) >= limit:
                break
        return out

    def reclaimed_older_than(self, cutoff):
        """Reclaimed leases whose expire is before ``cutoff`` (for the flush timer)."""
        return [lease for lease in self.by_addr.values()
                if lease.state == STATE_EXPIRED_RECLAIMED and lease.cltt + lease.valid_lft < cutoff]

    # --- staged writes ----------------------------------------------------------
    def stage_put(self, new, tag=0):
        """Stage ``new`` at its address (an add if we hold none there, else an update)."""
        addr = self.to_int(new.address)
        old = self.by_addr.get(addr)
        self._journal.append(Change(ADD if old is None else UPDATE, addr, old, new, tag))
        self._replace(addr, old, new)

    def stage_delete(self, lease, tag=0):
        addr = self.to_int(lease.address)
        old = self.by_addr.get(addr)
        if old is None:
            return
        self._journal.append(Change(DELETE, addr, old, None, tag))
        self._replace(addr, old, None)

    @property
    def pending(self):
        return len(self._journal)

    def commit(self):
        """Write the staged changes in one back-end batch.

        Returns {tag: reason} for the requests whose changes are not stored (and
        were undone in memory); reason is CONFLICT (another writer holds the
        address) or STORAGE (the back end failed).
        """
        journal, self._journal = self._journal, []
        if not journal:
            return {}
        try:
            failed = self._write(journal)
        except (DuplicateLeaseError, LeaseError):
            # The back end found the conflict only when it wrote the whole batch
            # (SQL: one multi-row INSERT): write each request on its own, so that
            # only the requests that lost the race fail.
            failed = {}
            by_tag = {}
            for change in journal:
                by_tag.setdefault(change.tag, []).append(change)
            for tag, changes in by_tag.items():
                try:
                    failed.update(self._write(changes))
                except DuplicateLeaseError:
                    failed[tag] = CONFLICT
                    for change in changes:
                        if change.kind == ADD:
                            self._adopt_stored(change)
                except LeaseError:
                    failed[tag] = CONFLICT
                except (BackendError, OSError):
                    failed[tag] = STORAGE
        except (BackendError, OSError):
            for change in reversed(journal):
                self._replace(change.address, change.new, change.old)
            return {change.tag: STORAGE for change in journal}
        if failed:
            for change in reversed(journal):
                if change.tag in failed and self.by_addr.get(change.address) is change.new:
                    self._replace(change.address, change.new, change.old)
        return failed

    def _write(self, journal):
        """Write changes in one batch; {tag: CONFLICT} for writes refused one by one
        (a back end that checks each write at once, like memfile)."""
        failed = {}
        backend = self.backend
        with backend.batch():
            for change in journal:
                if change.tag in failed:
                    continue
                try:
                    if change.kind == ADD:
                        backend.add(change.new)
                    elif change.kind == UPDATE:
                        backend.put(change.new)
                    else:
                        backend.delete(change.old)
                except DuplicateLeaseError:
                    failed[change.tag] = CONFLICT
                    self._adopt_stored(change)
                except LeaseNotFoundError:
                    failed[change.tag] = CONFLICT
        return failed

    def _adopt_stored(self, change):
        """Another writer holds the address: believe the database from now on."""
        stored = self.backend.get(self.to_text(change.address))
        if stored is not None:
            change.old = stored

    def rollback(self):
        """Undo every staged change (nothing was written)."""
        for change in reversed(self._journal):
            self._replace(change.address, change.new, change.old)
        self._journal = []


class LeaseTable6(LeaseTable):
    """v6 leases by address or prefix (an int), DUID and hardware address, with
    the same staged writes and group commit."""

    to_int = staticmethod(ip6_to_int)
    to_text = staticmethod(int_to_ip6)
    client_key = attrgetter("duid")

    def by_duid(self, duid):
        return self.by_client_id(duid)

    def client_leases(self, duid, iaid, lease_type, subnet_ids):
        """The client's leases of one IA in the given subnets (declined ones aside)."""
        out = []
        by_addr = self.by_addr
        for a in self.by_cid.values_of(duid):
            lease = by_addr[a]
            if lease.iaid == iaid and lease.type == lease_type and \
                    lease.subnet_id in subnet_ids and lease.state != STATE_DECLINED:
                out.append(lease)
        return out
