"""The lease back-end interface every storage (memfile, sqlite, postgresql) implements.

Contract (the server, the shell and the importers rely on it):

- One back end holds one family (``family`` 4 or 6); the address is the key.
- Writes: :meth:`add` (refuses a duplicate address), :meth:`update` (refuses a
  missing one), :meth:`put` (add or replace), :meth:`delete`, :meth:`wipe`,
  :meth:`add_many` (all or nothing).  Outside a batch each write is on storage
  when the call returns.
- Group commit: ``with backend.batch(): ...`` applies the writes at once and
  makes them durable when the block exits (one transaction, one flush); an
  exception inside the block undoes every write of the block and re-raises.
  The server writes a burst of leases in a batch before sending their ACKs.
- Durability: memfile appends rows and flushes them to the OS before returning
  (Kea does not fsync; ``fsync=True`` in the spec adds it); SQL back ends commit.
  A write that could not be stored raises :class:`BackendError`; it never
  reports success for a write that did not happen.
- Reads return lease objects the caller may keep; mutate a ``copy()`` and
  :meth:`update` it, never a returned object in place.
"""
from abc import ABC, abstractmethod
from contextlib import contextmanager

from kea_tools.errors import UserError
from kea_tools.leases.model import LEASE_CLASS, STATE_DECLINED, TYPE_NA, TYPE_PD, norm_address


class LeaseError(UserError):
    """A lease write refused because of what the lease says."""


class DuplicateLeaseError(LeaseError):
    """add() of an address that already has a lease."""


class LeaseNotFoundError(LeaseError):
    """update() of an address that has no lease."""


class BackendError(UserError):
    """The storage failed (cannot open, connection lost, disk error)."""


def check_lease(lease, family):
    """Kea's write-time rules for a lease; LeaseError when one is broken."""
    if not isinstance(lease, LEASE_CLASS[family]):
        raise LeaseError(f"expected an IPv{family} lease, got {type(lease).__name__}")
    try:
        canonical = norm_address(lease.address, family)
    except ValueError as err:
        raise LeaseError(str(err)) from None
    if canonical != lease.address:
        lease.address = canonical
    if lease.valid_lft < 0 or lease.valid_lft > 0xFFFFFFFF:
        raise LeaseError(f"{lease.address}: valid lifetime {lease.valid_lft} out of range")
    if lease.state not in (0, 1, 2):
        raise LeaseError(f"{lease.address}: unknown lease state {lease.state}")
    if lease.user_context is not None and not isinstance(lease.user_context, dict):
        raise LeaseError(f"{lease.address}: user-context must be a map")
    if family == 4:
        if lease.state != STATE_DECLINED and not lease.hwaddr and not lease.client_id:
            raise LeaseError(f"{lease.address}: a lease needs a hw-address or a client-id")
        if lease.hwaddr is not None and len(lease.hwaddr) > 20:
            raise LeaseError(f"{lease.address}: hw-address longer than 20 bytes")
    else:
        if lease.type not in (0, 1, 2):
            raise LeaseError(f"{lease.address}: unknown lease type {lease.type}")
        if lease.state != STATE_DECLINED and not lease.duid:
            raise LeaseError(f"{lease.address}: a lease needs a DUID")
        if lease.type == TYPE_PD and lease.state == STATE_DECLINED:
            raise LeaseError(f"{lease.address}: a prefix cannot be declined")
        if not 0 < lease.prefix_len <= 128:
            raise LeaseError(f"{lease.address}: prefix length {lease.prefix_len} out of range")
        if lease.type == TYPE_NA and lease.prefix_len != 128:
            raise LeaseError(f"{lease.address}: an address lease has prefix length 128")
    return lease


class LeaseBackend(ABC):
    """Abstract lease storage for one address family (see the module docstring)."""

    kind = "abstract"

    def __init__(self, family):
        if family not in (4, 6):
            raise UserError(f"family must be 4 or 6, not {family!r}")
        self.family = family
        self._batch_depth = 0

    # -- writes -------------------------------------------------------------
    def add(self, lease):
        """Store a new lease; DuplicateLeaseError if its address has one."""
        check_lease(lease, self.family)
        with self.batch():
            self._add(lease)

    def update(self, lease):
        """Replace the lease at its address; LeaseNotFoundError if none."""
        check_lease(lease, self.family)
        with self.batch():
            self._update(lease)

    def put(self, lease):
        """Store a lease, replacing any at its address."""
        check_lease(lease, self.family)
        with self.batch():
            self._put(lease)

    def delete(self, address):
        """Remove the lease at ``address`` (an address, or the lease itself);
        returns whether there was one."""
        if not isinstance(address, str):
            address = address.address
        address = self._address(address)
        with self.batch():
            return self._delete(address)

    def add_many(self, leases, *, replace=False):
        """Store many leases in one batch: all of them, or (on any error) none."""
        leases = [check_lease(lease, self.family) for lease in leases]
        seen = set()
        for lease in leases:
            if lease.address in seen:
                raise DuplicateLeaseError(f"{lease.address}: listed twice")
            seen.add(lease.address)
        with self.batch():
            for lease in leases:
                if replace:
                    self._put(lease)
                else:
                    self._add(lease)
        return len(leases)

    def wipe(self, subnet_id=None):
        """Delete every lease (of one subnet); returns how many went."""
        with self.batch():
            return self._wipe(subnet_id)

    @contextmanager
    def batch(self):
        """Group writes: durable together at the end, undone together on error."""
        outer = self._batch_depth == 0
        if outer:
            self._begin()
        self._batch_depth += 1
        try:
            yield self
        except BaseException:
            self._batch_depth -= 1
            if outer:
                self._rollback()
            raise
        self._batch_depth -= 1
        if outer:
            self._commit()

    def _address(self, address):
        try:
            return norm_address(address, self.family)
        except ValueError as err:
            raise LeaseError(str(err)) from None

    # -- reads --------------------------------------------------------------
    @abstractmethod
    def get(self, address):
        """The lease at ``address`` or None."""

    @abstractmethod
    def get_by_hwaddr(self, hwaddr, subnet_id=None):
        """Leases with this hardware address (bytes), optionally in one subnet."""

    @abstractmethod
    def get_by_client_id(self, client_id, subnet_id=None):
        """v4 leases with this client identifier (bytes)."""

    @abstractmethod
    def get_by_duid(self, duid, iaid=None, lease_type=None, subnet_id=None):
        """v6 leases with this DUID, optionally narrowed by IAID, type, subnet."""

    @abstractmethod
    def get_by_hostname(self, hostname):
        """Leases whose hostname matches (case-insensitive)."""

    def take_leases(self):
        """Every lease, for an owner that keeps all of them in memory itself (the
        server's lease table). A back end that also holds them in memory stops
        doing so and only stores what it is given from then on."""
        return self.iter_leases()

    @abstractmethod
    def iter_leases(self, subnet_id=None):
        """Every lease (of one subnet), in no particular order."""

    @abstractmethod
    def get_page(self, after=None, limit=100, subnet_id=None):
        """Up to ``limit`` leases with addresses above ``after``, in address order."""

    @abstractmethod
    def iter_expired(self, now, limit=None):
        """Leases not yet reclaimed whose expire < now, oldest expiry first."""

    @abstractmethod
    def counts(self):
        """{(subnet_id, lease_type, state): n}; lease_type is 0 for v4."""

    @abstractmethod
    def __len__(self):
        """Number of leases stored."""

    @abstractmethod
    def close(self):
        """Flush and release the storage."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- what each back end implements --------------------------------------
    @abstractmethod
    def _add(self, lease): ...

    @abstractmethod
    def _update(self, lease): ...

    @abstractmethod
    def _put(self, lease): ...

    @abstractmethod
    def _delete(self, address): ...

    @abstractmethod
    def _wipe(self, subnet_id): ...

    @abstractmethod
    def _begin(self): ...

    @abstractmethod
    def _commit(self): ...

    @abstractmethod
    def _rollback(self): ...
