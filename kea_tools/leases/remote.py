"""The lease back-end interface over a running server's control channel (lease_cmds).

``keactl leases --socket PATH`` uses it so that the shell never writes behind a
server's back: every read and write is a lease4-* / lease6-* command answered by
the server that owns the storage (Kea with libdhcp_lease_cmds.so, or keactl's
own server).  The control channel has no transactions, so a batch is applied
command by command; :meth:`add_many` undoes the leases it added when a later one
is refused, keeping "all or nothing" for imports.
"""
from kea_tools.leases.backend import (BackendError, DuplicateLeaseError, LeaseBackend,
                                      LeaseError, LeaseNotFoundError, check_lease)
from kea_tools.leases.ctrl import RESULT_EMPTY, ControlClient
from kea_tools.leases.jsonfmt import lease_from_json, lease_to_json
from kea_tools.leases.model import addr_key, format_hex

_PAGE = 1000


def _lease_args(lease):
    """A lease -> lease4-add / lease6-add arguments (Kea takes expire, not cltt)."""
    args = lease_to_json(lease)
    args.pop("cltt")
    args["expire"] = lease.expire
    if lease.family == 4 and not args.get("hw-address"):
        args["hw-address"] = ""
    if not args.get("user-context"):
        args.pop("user-context", None)
    args.pop("pool-id", None)
    return args


class ControlBackend(LeaseBackend):
    """Leases held by the server listening on a control socket."""

    kind = "socket"

    def __init__(self, family, path, *, timeout=30.0):
        super().__init__(family)
        self.client = ControlClient(path, timeout=timeout)
        self.path = path
        self._cmd = f"lease{family}"

    def _call(self, suffix, arguments=None):
        return self.client.call(f"{self._cmd}-{suffix}", arguments)

    def _leases(self, suffix, arguments=None):
        response = self._call(suffix, arguments)
        if response.result == RESULT_EMPTY:
            return []
        if not response.ok:
            raise BackendError(f"{self._cmd}-{suffix}: {response.text}")
        args = response.arguments or {}
        items = args.get("leases", [args] if "ip-address" in args else [])
        return [lease_from_json(item, self.family) for item in items]

    # -- writes -----------------------------------------------------------------
    def _begin(self):
        pass

    def _commit(self):
        pass

    def _rollback(self):
        pass

    def _write(self, suffix, lease, *, exists_error=False):
        response = self._call(suffix, _lease_args(lease))
        if response.ok:
            return
        text = response.text or "refused"
        if exists_error or "already exists" in text:
            raise DuplicateLeaseError(f"{lease.address}: {text}")
        if response.result == RESULT_EMPTY or "does not exist" in text:
            raise LeaseNotFoundError(f"{lease.address}: {text}")
        raise LeaseError(f"{lease.address}: {text}")

    def _add(self, lease):
        if self.get(lease.address) is not None:
            raise DuplicateLeaseError(f"{lease.address}: a lease for this address exists")
        self._write("add", lease)

    def _update(self, lease):
        self._write("update", lease)

    def _put(self, lease):
        if self.get(lease.address) is None:
            self._write("add", lease)
        else:
            self._write("update", lease)

    def _delete(self, address):
        response = self._call("del", {"ip-address": address})
        if response.result == RESULT_EMPTY:
            return False
        if not response.ok:
            raise LeaseError(f"{address}: {response.text}")
        return True

    def _wipe(self, subnet_id):
        before = len(self) if subnet_id is None else len(list(self.iter_leases(subnet_id)))
        args = {} if subnet_id is None else {"subnet-id": subnet_id}
        response = self._call("wipe", args)
        if not response.ok and response.result != RESULT_EMPTY:
            raise BackendError(f"{self._cmd}-wipe: {response.text}")
        return before

    def add_many(self, leases, *, replace=False):
        leases = [check_lease(lease, self.family) for lease in leases]
        if len({l.address for l in leases}) != len(leases):
            raise DuplicateLeaseError("a lease address is listed twice")
        done = []
        try:
            for lease in leases:
                previous = self.get(lease.address)
                if previous is not None and not replace:
                    raise DuplicateLeaseError(f"{lease.address}: a lease for this address exists")
                self._write("update" if previous else "add", lease)
                done.append((lease.address, previous))
        except BaseException:
            # Compensate: put back what was there before this call.
            for address, previous in reversed(done):
                if previous is None:
                    self._delete(address)
                else:
                    self._write("update", previous)
            raise
        return len(leases)

    # -- reads ----------------------------------------------------------------
    def get(self, address):
        try:
            address = self._address(address)
        except LeaseError:
            return None
        found = self._leases("get", {"ip-address": address})
        return found[0] if found else None

    def get_by_hwaddr(self, hwaddr, subnet_id=None):
        if self.family == 4:
            found = self._leases("get-by-hw-address", {"hw-address": format_hex(hwaddr)})
        else:
            found = [l for l in self.iter_leases() if l.hwaddr == hwaddr]
        return [l for l in found if subnet_id is None or l.subnet_id == subnet_id]

    def get_by_client_id(self, client_id, subnet_id=None):
        if self.family != 4:
            return []
        found = self._leases("get-by-client-id", {"client-id": format_hex(client_id)})
        return [l for l in found if subnet_id is None or l.subnet_id == subnet_id]

    def get_by_duid(self, duid, iaid=None, lease_type=None, subnet_id=None):
        if self.family != 6:
            return []
        return [l for l in self._leases("get-by-duid", {"duid": format_hex(duid)})
                if (iaid is None or l.iaid == iaid)
                and (lease_type is None or l.type == lease_type)
                and (subnet_id is None or l.subnet_id == subnet_id)]

    def get_by_hostname(self, hostname):
        return self._leases("get-by-hostname", {"hostname": hostname})

    def iter_leases(self, subnet_id=None):
        args = None if subnet_id is None else {"subnets": [subnet_id]}
        return iter(self._leases("get-all", args))

    def get_page(self, after=None, limit=100, subnet_id=None):
        # lease*-get-page has no subnet filter: page through and filter here.
        page, cursor = [], "start" if after is None else self._address(after)
        while len(page) < limit:
            batch = self._leases("get-page", {"from": cursor, "limit": _PAGE})
            if not batch:
                break
            batch.sort(key=lambda l: addr_key(l.address))
            page.extend(l for l in batch if subnet_id is None or l.subnet_id == subnet_id)
            if len(batch) < _PAGE:
                break
            cursor = batch[-1].address
        return page[:limit]

    def iter_expired(self, now, limit=None):
        found = sorted((l for l in self.iter_leases() if l.state != 2 and l.is_expired(now)),
                       key=lambda l: l.expire)
        return iter(found[:limit] if limit else found)

    def counts(self):
        counts = {}
        for lease in self.iter_leases():
            key = (lease.subnet_id, lease.type if self.family == 6 else 0, lease.state)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def __len__(self):
        return len(list(self.iter_leases()))

    def close(self):
        pass

