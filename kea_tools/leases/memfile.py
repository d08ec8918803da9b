"""memfile: leases in memory with indexes, journaled in Kea's CSV lease file.

As in Kea, every add/update/delete appends one complete row to the live file
(a delete appends the lease with valid_lifetime 0); loading replays the file set
in Kea's order (.completed, or .2 then .1; then the live file; the newest row of
an address wins).  Lease File Cleanup (``lfc-interval``) moves the live file
aside and runs :mod:`kea_tools.leases.lfc` as a child process, as Kea runs
kea-lfc.  ``persist: false`` keeps leases in memory only.
"""
import bisect
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from kea_tools.bulk import gc_paused, release_free_memory
from kea_tools.leases.backend import (BackendError, DuplicateLeaseError, LeaseBackend,
                                      LeaseError, LeaseNotFoundError, check_lease)
from kea_tools.leases.csvfmt import FORMAT_ROW, HEADER, replay_file
from kea_tools.leases.lfc import lfc_paths, pid_running
from kea_tools.leases.multiindex import MultiIndex
from kea_tools.leases.model import addr_key, key_addr

log = logging.getLogger(__name__)

DEFAULT_FILE = {4: "/var/lib/kea/kea-leases4.csv", 6: "/var/lib/kea/kea-leases6.csv"}
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


def file_users(path):
    """Pids (other than ours) of processes holding ``path`` open, from /proc."""
    try:
        target = os.stat(path)
    except OSError:
        return []
    users = []
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                try:
                    st = os.stat(fd.path)
                except OSError:
                    continue
                if st.st_ino == target.st_ino and st.st_dev == target.st_dev:
                    users.append(int(entry.name))
                    break
        except OSError:
            continue
    return users


class MemfileJournal:
    """Appends leases to a memfile CSV without loading it, for bulk imports.

    The file is a journal: Kea's loader (and ours) lets a later row for an address
    win, so appending is an add-or-replace. Rows are checked and formatted exactly
    as :class:`MemfileBackend` writes them; a file that another process (a running
    server) holds open is refused, so nothing is written behind its back.
    """

    kind = "memfile"

    def __init__(self, family, path):
        self.family = family
        self.path = str(path or DEFAULT_FILE[family])
        users = file_users(self.path)
        if users:
            raise BackendError(f"{self.path}: in use by process {users[0]}; "
                               "change leases through that server's control socket")
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        if not new:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                header = fh.readline().rstrip("\n")
            if header.split(",")[:len(HEADER[family].split(","))] != HEADER[family].split(","):
                raise BackendError(f"{self.path}: not a Kea DHCPv{family} lease file")
        try:
            self._fh = open(self.path, "a", encoding="utf-8", errors="surrogateescape",
                            newline="")
            if new:
                self._fh.write(HEADER[family] + "\n")
        except OSError as err:
            raise BackendError(f"{self.path}: {err.strerror}") from None
        self._row = FORMAT_ROW[family]

    def add_many(self, leases, *, replace=True):
        if not replace:
            raise BackendError("a memfile journal only appends (add or replace)")
        family, row = self.family, self._row
        text = "".join([row(check_lease(lease, family)) for lease in leases])
        try:
            self._fh.write(text)
            self._fh.flush()
        except OSError as err:
            raise BackendError(f"{self.path}: lease write failed: {err}") from None
        return len(leases)

    def close(self):
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        finally:
            self._fh.close()


class MemfileBackend(LeaseBackend):
    """Kea's memfile lease database (see the module docstring)."""

    kind = "memfile"

    def __init__(self, family, path=None, *, persist=True, lfc_interval=3600,
                 max_row_errors=0, readonly=False, fsync=False):
        super().__init__(family)
        self.path = str(path or DEFAULT_FILE[family]) if persist else None
        self.persist = persist
        self.readonly = readonly
        self.lfc_interval = lfc_interval
        self.fsync = fsync
        self.load_errors = []
        self._leases = {}
        # Indexes by hw-address and client-id (v4) / DUID (v6), built on the first
        # lookup that needs them: a server keeps its own, and a million leases'
        # worth of unused index costs about 150 MB.
        self._by_hw = None
        self._by_id = None
        self._counts = {}
        self._sorted = None    # address integers, built on demand for paging
        # After take_leases() the owner holds the leases: rows are appended as
        # given, without a copy here (a million leases' dict is about 40 MB).
        self._journal_only = False
        self._undo = None
        self._pending = None
        self._fh = None
        self._lfc_proc = None
        self._last_lfc = time.monotonic()
        self._row = FORMAT_ROW[family]
        if persist:
            with gc_paused():
                self._load(max_row_errors)
            release_free_memory()

    @classmethod
    def from_spec(cls, spec, family):
        return cls(family, spec.get("name"), persist=spec.get("persist", True),
                   lfc_interval=spec.get("lfc-interval", 3600),
                   max_row_errors=spec.get("max-row-errors", 0),
                   readonly=spec.get("readonly", False), fsync=spec.get("fsync", False))

    # -- loading --------------------------------------------------------------
    def _load(self, max_row_errors):
        p = lfc_paths(self.path)
        running = pid_running(p["pid"])
        if running is not None and running != os.getpid():
            raise BackendError(f"{self.path}: lease file cleanup (pid {running}) is running")
        if os.path.exists(p["finish"]):
            files = [p["finish"], self.path]
        else:
            files = [p["previous"], p["copy"], self.path]
        rewrite = False
        leases = {}
        for path in files:
            if not os.path.exists(path):
                continue
            try:
                layout = replay_file(path, self.family, leases, max_errors=max_row_errors,
                                     on_error=self._row_error)
            except OSError as err:
                raise BackendError(f"{path}: {err.strerror}") from None
            rewrite = rewrite or (layout is not None and layout.needs_rewrite)
        self._leases = leases
        self._reindex()
        if self.readonly:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise BackendError(f"{self.path}: directory {directory} does not exist")
        self._open_live()
        if rewrite:
            # Kea rewrites a file of an older or newer schema straight after loading.
            self.start_lfc()

    def _reindex(self):
        # One pass after loading: cheaper than keeping counts through the replay.
        counts = {}
        v6 = self.family == 6
        for lease in self._leases.values():
            ck = (lease.subnet_id, lease.type if v6 else 0, lease.state)
            counts[ck] = counts.get(ck, 0) + 1
        self._counts = counts
        self._by_hw = self._by_id = None
        self._sorted = None

    def _client_indexes(self):
        """(by hw-address, by client-id / DUID), built now if not yet built."""
        if self._by_hw is None:
            by_hw, by_id = MultiIndex(), MultiIndex()
            add_hw, add_id = by_hw.add, by_id.add
            v6 = self.family == 6
            for lease in self._leases.values():
                if lease.hwaddr:
                    add_hw(lease.hwaddr, lease)
                key = lease.duid if v6 else lease.client_id
                if key:
                    add_id(key, lease)
            self._by_hw, self._by_id = by_hw, by_id
        return self._by_hw, self._by_id

    def _row_error(self, error):
        self.load_errors.append(error)
        log.warning("%s (row skipped)", error)

    def _open_live(self):
        try:
            fresh = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
            self._fh = open(self.path, "a", encoding="utf-8", errors="surrogateescape",
                            newline="")
            if fresh:
                self._fh.write(HEADER[self.family] + "\n")
                self._fh.flush()
        except OSError as err:
            raise BackendError(f"{self.path}: {err.strerror}") from None

    # -- memory and indexes ---------------------------------------------------
    def _count_key(self, lease):
        return (lease.subnet_id, lease.type if self.family == 6 else 0, lease.state)

    def _store(self, lease):
        old = self._leases.get(lease.address)
        if old is not None:
            self._unindex(old)
        elif self._sorted is not None:
            self._sorted = None
        self._leases[lease.address] = lease
        if self._by_hw is not None:
            if lease.hwaddr:
                self._by_hw.add(lease.hwaddr, lease)
            key = lease.client_id if self.family == 4 else lease.duid
            if key:
                self._by_id.add(key, lease)
        ck = self._count_key(lease)
        self._counts[ck] = self._counts.get(ck, 0) + 1
        return old

    def _unindex(self, lease):
        if self._by_hw is not None:
            if lease.hwaddr:
                self._by_hw.remove(lease.hwaddr, lease)
            key = lease.client_id if self.family == 4 else lease.duid
            if key:
                self._by_id.remove(key, lease)
        ck = self._count_key(lease)
        left = self._counts[ck] - 1
        if left:
            self._counts[ck] = left
        else:
            del self._counts[ck]

    def _remove(self, address):
        old = self._leases.pop(address, None)
        if old is not None:
            self._unindex(old)
            self._sorted = None
        return old

    # -- writes -----------------------------------------------------------------
    def _writable(self):
        if self.readonly:
            raise BackendError(f"{self.path}: opened read-only")

    def _begin(self):
        self._writable()
        self._undo = []
        self._pending = []

    def take_leases(self):
        leases = list(self._leases.values())
        # With persist=false our memory is the lease database itself: keep it.
        if self.persist and not self.readonly:
            self._journal_only = True
            self._leases, self._counts = {}, {}
            self._by_hw = self._by_id = self._sorted = None
        return leases

    def delete(self, address):
        if self._journal_only:
            if isinstance(address, str):
                raise BackendError("this lease file is owned by a server: delete the lease "
                                   "object, not an address")
            with self.batch():
                self._pending.append(self._row(address, 0))
            return True
        return super().delete(address)

    def _add(self, lease):
        if self._journal_only:
            self._pending.append(self._row(lease))
            return
        if lease.address in self._leases:
            raise DuplicateLeaseError(f"{lease.address}: a lease for this address exists")
        self._undo.append((lease.address, None))
        self._store(lease)
        self._pending.append(self._row(lease))

    def _update(self, lease):
        if self._journal_only:
            self._pending.append(self._row(lease))
            return
        old = self._leases.get(lease.address)
        if old is None:
            raise LeaseNotFoundError(f"{lease.address}: no lease for this address")
        self._undo.append((lease.address, old))
        self._store(lease)
        self._pending.append(self._row(lease))

    def _put(self, lease):
        if self._journal_only:
            self._pending.append(self._row(lease))
            return
        self._undo.append((lease.address, self._leases.get(lease.address)))
        self._store(lease)
        self._pending.append(self._row(lease))

    def _delete(self, address):
        old = self._remove(address)
        if old is None:
            return False
        self._undo.append((address, old))
        self._pending.append(self._row(old, 0))
        return True

    def add_many(self, leases, *, replace=False):
        """Bulk add (all or nothing): rows are written first, memory changes after."""
        if self._batch_depth:
            return super().add_many(leases, replace=replace)
        self._writable()
        family = self.family
        leases = [check_lease(lease, family) for lease in leases]
        addresses = [lease.address for lease in leases]
        if len(set(addresses)) != len(addresses):
            seen = set()
            dup = next(a for a in addresses if a in seen or seen.add(a))
            raise DuplicateLeaseError(f"{dup}: listed twice")
        if not replace:
            dup = next((a for a in addresses if a in self._leases), None)
            if dup is not None:
                raise DuplicateLeaseError(f"{dup}: a lease for this address exists")
        if self.persist and leases:
            try:
                self._fh.write("".join(map(self._row, leases)))
                self._fh.flush()
                if self.fsync:
                    os.fsync(self._fh.fileno())
            except (OSError, ValueError) as err:
                raise BackendError(f"{self.path}: lease write failed: {err}") from None
        if not self._journal_only:
            store = self._store
            for lease in leases:
                store(lease)
        return len(leases)

    def _wipe(self, subnet_id):
        doomed = [lease.address for lease in self.iter_leases(subnet_id)]
        for address in doomed:
            self._delete(address)
        return len(doomed)

    def _commit(self):
        pending = self._pending
        if self.persist and pending:
            try:
                self._fh.write("".join(pending))
                self._fh.flush()
                if self.fsync:
                    os.fsync(self._fh.fileno())
            except (OSError, ValueError) as err:
                self._rollback()
                raise BackendError(f"{self.path}: lease write failed: {err}") from None
        self._undo = self._pending = None
        if (self.persist and self.lfc_interval
                and time.monotonic() - self._last_lfc >= self.lfc_interval):
            self.start_lfc()

    def _rollback(self):
        for address, old in reversed(self._undo or ()):
            self._remove(address)
            if old is not None:
                self._store(old)
        self._undo = None
        self._pending = None

    # -- lease file cleanup -----------------------------------------------------
    def start_lfc(self, wait=False):
        """Start a Lease File Cleanup (Kea's kea-lfc protocol) in a child process."""
        if not self.persist or self.readonly or self._batch_depth:
            return False
        self._last_lfc = time.monotonic()
        if self._lfc_proc is not None and self._lfc_proc.poll() is None:
            if wait:
                self.wait_lfc()
            return False
        p = lfc_paths(self.path)
        if not os.path.exists(p["finish"]) and not os.path.exists(p["copy"]):
            self._fh.close()
            try:
                os.rename(self.path, p["copy"])
            except OSError as err:
                log.error("%s: cannot move aside for cleanup: %s", self.path, err)
                self._open_live()
                return False
            self._open_live()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT,
                                                          env.get("PYTHONPATH")]))
        self._lfc_proc = subprocess.Popen(
            [sys.executable, "-m", "kea_tools.leases.lfc", f"-{self.family}", self.path],
            env=env, stdin=subprocess.DEVNULL)
        if wait:
            return self.wait_lfc()
        return True

    def wait_lfc(self):
        """Wait for a running cleanup; True when it succeeded (or none ran)."""
        if self._lfc_proc is None:
            return True
        status = self._lfc_proc.wait()
        self._lfc_proc = None
        if status != 0:
            log.error("%s: lease file cleanup failed (exit %s)", self.path, status)
        return status == 0

    # -- reads ----------------------------------------------------------------
    def get(self, address):
        lease = self._leases.get(address)
        if lease is None and address:
            try:
                lease = self._leases.get(self._address(address))
            except LeaseError:
                return None
        return lease

    def get_by_hwaddr(self, hwaddr, subnet_id=None):
        found = self._client_indexes()[0].values_of(hwaddr)
        return [l for l in found if subnet_id is None or l.subnet_id == subnet_id]

    def get_by_client_id(self, client_id, subnet_id=None):
        if self.family != 4:
            return []
        found = self._client_indexes()[1].values_of(client_id)
        return [l for l in found if subnet_id is None or l.subnet_id == subnet_id]

    def get_by_duid(self, duid, iaid=None, lease_type=None, subnet_id=None):
        if self.family != 6:
            return []
        return [l for l in self._client_indexes()[1].values_of(duid)
                if (iaid is None or l.iaid == iaid)
                and (lease_type is None or l.type == lease_type)
                and (subnet_id is None or l.subnet_id == subnet_id)]

    def get_by_hostname(self, hostname):
        wanted = hostname.lower()
        return [l for l in self._leases.values() if l.hostname and l.hostname.lower() == wanted]

    def iter_leases(self, subnet_id=None):
        if subnet_id is None:
            return iter(list(self._leases.values()))
        return iter([l for l in self._leases.values() if l.subnet_id == subnet_id])

    def get_page(self, after=None, limit=100, subnet_id=None):
        if self._sorted is None:
            self._sorted = sorted(addr_key(a) for a in self._leases)
        keys = self._sorted
        start = 0 if after is None else bisect.bisect_right(keys, addr_key(self._address(after)))
        page = []
        for i in range(start, len(keys)):
            lease = self._leases[key_addr(keys[i], self.family)]
            if subnet_id is None or lease.subnet_id == subnet_id:
                page.append(lease)
                if len(page) >= limit:
                    break
        return page

    def iter_expired(self, now, limit=None):
        found = sorted((l for l in self._leases.values()
                        if l.state != 2 and l.is_expired(now)), key=lambda l: l.expire)
        return iter(found[:limit] if limit else found)

    def counts(self):
        return dict(self._counts)

    def __len__(self):
        return len(self._leases)

    def close(self):
        self.wait_lfc()
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError as err:
                raise BackendError(f"{self.path}: {err.strerror}") from None
            self._fh = None
