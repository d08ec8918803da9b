"""sqlite: the embedded single-file lease database (a keactl extension to Kea).

One file, WAL journal, an index for every lookup the interface offers and a
``schema_version`` row.  Addresses are stored packed (4 or 16 bytes) as the
primary key, so byte order is address order and paging is an index range scan.
The column names follow Kea's SQL schema.
"""
import socket
import sqlite3

import sqlite_utils

from kea_tools.leases.backend import (BackendError, DuplicateLeaseError, LeaseBackend,
                                      LeaseError, LeaseNotFoundError, check_lease)
from kea_tools.leases.csvfmt import kea_json, parse_user_context
from kea_tools.leases.model import INFINITE_LFT, Lease4, Lease6

SCHEMA_VERSION = (1, 0)

_COLUMNS = {
    4: {"address": bytes, "hwaddr": bytes, "client_id": bytes, "valid_lifetime": int,
        "expire": int, "subnet_id": int, "pool_id": int, "fqdn_fwd": int, "fqdn_rev": int,
        "hostname": str, "state": int, "user_context": str},
    6: {"address": bytes, "duid": bytes, "valid_lifetime": int, "expire": int,
        "subnet_id": int, "pref_lifetime": int, "lease_type": int, "iaid": int,
        "prefix_len": int, "pool_id": int, "fqdn_fwd": int, "fqdn_rev": int,
        "hostname": str, "hwaddr": bytes, "hwtype": int, "hwaddr_source": int,
        "state": int, "user_context": str},
}
# One index per lookup: (name, columns).
_INDEXES = {
    4: [("lease4_by_hwaddr_subnet_id", ["hwaddr", "subnet_id"]),
        ("lease4_by_client_id_subnet_id", ["client_id", "subnet_id"]),
        ("lease4_by_subnet_id", ["subnet_id"]),
        ("lease4_by_state_expire", ["state", "expire"]),
        ("lease4_by_hostname", ["hostname COLLATE NOCASE"])],
    6: [("lease6_by_duid_iaid_subnet_id", ["duid", "iaid", "subnet_id"]),
        ("lease6_by_hwaddr", ["hwaddr"]),
        ("lease6_by_subnet_id_lease_type", ["subnet_id", "lease_type"]),
        ("lease6_by_state_expire", ["state", "expire"]),
        ("lease6_by_hostname", ["hostname COLLATE NOCASE"])],
}


def _pack(address, family):
    return socket.inet_pton(socket.AF_INET if family == 4 else socket.AF_INET6, address)


def _unpack(data, family):
    return socket.inet_ntop(socket.AF_INET if family == 4 else socket.AF_INET6, data)


def _expire(lease):
    return lease.cltt if lease.valid_lft == INFINITE_LFT else lease.cltt + lease.valid_lft


def _cltt(expire, valid):
    return expire if valid == INFINITE_LFT else expire - valid


class SqliteBackend(LeaseBackend):
    """Leases in one SQLite file (see the module docstring)."""

    kind = "sqlite"

    def __init__(self, family, path, *, fsync=False, readonly=False):
        super().__init__(family)
        self.path = str(path)
        self.readonly = readonly
        self.table = f"lease{family}"
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._ensure_schema()
        except sqlite3.DatabaseError as err:
            raise BackendError(f"{self.path}: {err}") from None
        cols = list(_COLUMNS[family])
        self._cols = ", ".join(cols)
        marks = ", ".join("?" * len(cols))
        self._insert = f"INSERT INTO {self.table} ({self._cols}) VALUES ({marks})"
        self._replace = f"INSERT OR REPLACE INTO {self.table} ({self._cols}) VALUES ({marks})"
        sets = ", ".join(f"{c} = ?" for c in cols[1:])
        self._update_sql = f"UPDATE {self.table} SET {sets} WHERE address = ?"
        self._select = f"SELECT {self._cols} FROM {self.table}"

    @classmethod
    def from_spec(cls, spec, family):
        return cls(family, spec["name"], fsync=spec.get("fsync", False),
                   readonly=spec.get("readonly", False))

    def _ensure_schema(self):
        db = sqlite_utils.Database(self._conn)
        if "schema_version" not in db.table_names():
            db["schema_version"].create({"version": int, "minor": int}, pk="version")
            db["schema_version"].insert({"version": SCHEMA_VERSION[0],
                                         "minor": SCHEMA_VERSION[1]})
        version = db.execute("SELECT version FROM schema_version").fetchone()
        if version is None or version[0] != SCHEMA_VERSION[0]:
            raise BackendError(f"{self.path}: lease schema version {version and version[0]}, "
                               f"keactl needs {SCHEMA_VERSION[0]}")
        for family in (4, 6):
            table = f"lease{family}"
            if table not in db.table_names():
                db[table].create(_COLUMNS[family], pk="address", not_null={"address"})
                for name, columns in _INDEXES[family]:
                    db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                               f"({', '.join(columns)})")

    def schema_version(self):
        return tuple(self._conn.execute("SELECT version, minor FROM schema_version").fetchone())

    # -- rows -------------------------------------------------------------------
    def _row(self, lease):
        ctx = kea_json(lease.user_context) if lease.user_context else None
        address = _pack(lease.address, self.family)
        if self.family == 4:
            return (address, lease.hwaddr, lease.client_id, lease.valid_lft, _expire(lease),
                    lease.subnet_id, lease.pool_id, int(lease.fqdn_fwd), int(lease.fqdn_rev),
                    lease.hostname, lease.state, ctx)
        return (address, lease.duid, lease.valid_lft, _expire(lease), lease.subnet_id,
                lease.preferred_lft, lease.type, lease.iaid, lease.prefix_len, lease.pool_id,
                int(lease.fqdn_fwd), int(lease.fqdn_rev), lease.hostname, lease.hwaddr,
                lease.hwtype, lease.hwaddr_source, lease.state, ctx)

    def _lease(self, row):
        if self.family == 4:
            (address, hwaddr, client_id, valid, expire, subnet, pool, fwd, rev, hostname,
             state, ctx) = row
            return Lease4(_unpack(address, 4), hwaddr or None, client_id or None, valid,
                          _cltt(expire, valid), subnet, pool, bool(fwd), bool(rev),
                          hostname or "", state, parse_user_context(ctx))
        (address, duid, valid, expire, subnet, pref, ltype, iaid, plen, pool, fwd, rev,
         hostname, hwaddr, hwtype, source, state, ctx) = row
        return Lease6(_unpack(address, 6), duid or None, iaid, ltype, plen, pref, valid,
                      _cltt(expire, valid), subnet, pool, bool(fwd), bool(rev), hostname or "",
                      hwaddr or None, hwtype, source, state, parse_user_context(ctx))

    def _query(self, where="", params=(), tail=""):
        sql = f"{self._select} {('WHERE ' + where) if where else ''} {tail}"
        try:
            return [self._lease(row) for row in self._conn.execute(sql, params)]
        except sqlite3.DatabaseError as err:
            raise BackendError(f"{self.path}: {err}") from None

    # -- writes -------------------------------------------------------------------
    def _exec(self, sql, params):
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError as err:
            raise LeaseError(f"{params[0] if params else ''}: {err}") from None
        except sqlite3.DatabaseError as err:
            raise BackendError(f"{self.path}: {err}") from None

    def _begin(self):
        if self.readonly:
            raise BackendError(f"{self.path}: opened read-only")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as err:
            raise BackendError(f"{self.path}: {err}") from None

    def _commit(self):
        try:
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as err:
            self._rollback()
            raise BackendError(f"{self.path}: commit failed: {err}") from None

    def _rollback(self):
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _add(self, lease):
        try:
            self._conn.execute(self._insert, self._row(lease))
        except sqlite3.IntegrityError:
            raise DuplicateLeaseError(f"{lease.address}: a lease for this address exists") from None
        except sqlite3.DatabaseError as err:
            raise BackendError(f"{self.path}: {err}") from None

    def _update(self, lease):
        row = self._row(lease)
        cur = self._exec(self._update_sql, row[1:] + row[:1])
        if cur.rowcount == 0:
            raise LeaseNotFoundError(f"{lease.address}: no lease for this address")

    def _put(self, lease):
        self._exec(self._replace, self._row(lease))

    def _delete(self, address):
        cur = self._exec(f"DELETE FROM {self.table} WHERE address = ?",
                         (_pack(address, self.family),))
        return cur.rowcount > 0

    def _wipe(self, subnet_id):
        if subnet_id is None:
            return self._exec(f"DELETE FROM {self.table}", ()).rowcount
        return self._exec(f"DELETE FROM {self.table} WHERE subnet_id = ?", (subnet_id,)).rowcount

    def add_many(self, leases, *, replace=False):
        leases = list(leases)
        if self._batch_depth or not leases:
            return super().add_many(leases, replace=replace)
        # One executemany in one transaction: the fast path for bulk loads.
        seen = set()
        for lease in leases:
            check_lease(lease, self.family)
            if lease.address in seen:
                raise DuplicateLeaseError(f"{lease.address}: listed twice")
            seen.add(lease.address)
        with self.batch():
            try:
                self._conn.executemany(self._replace if replace else self._insert,
                                       map(self._row, leases))
            except sqlite3.IntegrityError:
                dup = next((l.address for l in leases if self.get(l.address)), "?")
                raise DuplicateLeaseError(f"{dup}: a lease for this address exists") from None
            except sqlite3.DatabaseError as err:
                raise BackendError(f"{self.path}: {err}") from None
        return len(leases)

    # -- reads ----------------------------------------------------------------
    def get(self, address):
        try:
            key = _pack(self._address(address), self.family)
        except LeaseError:
            return None
        found = self._query("address = ?", (key,))
        return found[0] if found else None

    def get_by_hwaddr(self, hwaddr, subnet_id=None):
        if subnet_id is None:
            return self._query("hwaddr = ?", (hwaddr,))
        return self._query("hwaddr = ? AND subnet_id = ?", (hwaddr, subnet_id))

    def get_by_client_id(self, client_id, subnet_id=None):
        if self.family != 4:
            return []
        if subnet_id is None:
            return self._query("client_id = ?", (client_id,))
        return self._query("client_id = ? AND subnet_id = ?", (client_id, subnet_id))

    def get_by_duid(self, duid, iaid=None, lease_type=None, subnet_id=None):
        if self.family != 6:
            return []
        where, params = ["duid = ?"], [duid]
        for column, value in (("iaid", iaid), ("lease_type", lease_type),
                              ("subnet_id", subnet_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        return self._query(" AND ".join(where), params)

    def get_by_hostname(self, hostname):
        return self._query("hostname = ? COLLATE NOCASE", (hostname,))

    def iter_leases(self, subnet_id=None):
        if subnet_id is None:
            return iter(self._query())
        return iter(self._query("subnet_id = ?", (subnet_id,)))

    def get_page(self, after=None, limit=100, subnet_id=None):
        where, params = [], []
        if after is not None:
            where.append("address > ?")
            params.append(_pack(self._address(after), self.family))
        if subnet_id is not None:
            where.append("subnet_id = ?")
            params.append(subnet_id)
        params.append(int(limit))
        return self._query(" AND ".join(where), params, "ORDER BY address LIMIT ?")

    def iter_expired(self, now, limit=None):
        tail = "ORDER BY expire" + (" LIMIT ?" if limit else "")
        params = [now, INFINITE_LFT] + ([limit] if limit else [])
        return iter(self._query("state != 2 AND expire < ? AND valid_lifetime != ?",
                                params, tail))

    def counts(self):
        kind = "lease_type" if self.family == 6 else "0"
        rows = self._conn.execute(f"SELECT subnet_id, {kind}, state, count(*) FROM {self.table} "
                                  f"GROUP BY 1, 2, 3")
        return {(s, t, st): n for s, t, st, n in rows}

    def __len__(self):
        return self._conn.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
