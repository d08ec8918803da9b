"""postgresql: leases in Kea 2.2's own PostgreSQL schema (shareable with Kea).

Column encodings follow Kea's PgSqlLeaseMgr: lease4.address is the IPv4 address
as an integer, lease6.address its text; ``expire`` is a timestamp (cltt when
the lifetime is infinite); identifiers are BYTEA; ``user_context`` is JSON text.

Connections: a lost connection is reopened on the next call (up to
``max-reconnect-tries``, ``reconnect-wait-time`` ms apart); a read retries once
on a fresh connection; a write that fails with the connection raises
BackendError, and the transaction it was in is gone, so no write is ever
reported that did not happen.
"""
import socket
import time

from kea_tools.errors import UserError
from kea_tools.leases.backend import (BackendError, DuplicateLeaseError, LeaseBackend,
                                      LeaseError, LeaseNotFoundError)
from kea_tools.leases.csvfmt import kea_json, parse_user_context
from kea_tools.leases.model import INFINITE_LFT, Lease4, Lease6
from kea_tools.leases.pgsql_schema import DDL, SCHEMA_VERSION

_COLS = {
    4: ("address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id",
        "fqdn_fwd", "fqdn_rev", "hostname", "state", "user_context"),
    6: ("address", "duid", "valid_lifetime", "expire", "subnet_id", "pref_lifetime",
        "lease_type", "iaid", "prefix_len", "fqdn_fwd", "fqdn_rev", "hostname", "state",
        "hwaddr", "hwtype", "hwaddr_source", "user_context"),
}


def _psycopg2():
    try:
        import psycopg2
        import psycopg2.errors
        import psycopg2.extras
    except ImportError:
        raise UserError("the postgresql lease back end needs psycopg2 "
                        "(pip install psycopg2-binary)") from None
    return psycopg2


def connect_args(spec):
    """Kea's lease-database map -> psycopg2.connect keyword arguments."""
    args = {"dbname": spec.get("name"), "host": spec.get("host", "localhost"),
            "connect_timeout": spec.get("connect-timeout", 5)}
    for key, arg in (("port", "port"), ("user", "user"), ("password", "password")):
        if spec.get(key) not in (None, ""):
            args[arg] = spec[key]
    if not args["dbname"]:
        raise UserError("lease-database: postgresql needs a database name")
    return args


def schema_version(conn):
    """(version, minor) from schema_version, or None when the table is missing."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT version, minor FROM schema_version")
        row = cur.fetchone()
    return tuple(row) if row else None


def init_schema(spec):
    """Create Kea 2.2's PostgreSQL schema (leases, host reservations, config backend) when missing; returns (created, version)."""
    pg = _psycopg2()
    try:
        conn = pg.connect(**connect_args(spec))
    except pg.OperationalError as err:
        raise BackendError(f"postgresql: {str(err).strip().splitlines()[0]}") from None
    try:
        version = schema_version(conn)
        if version is not None:
            conn.rollback()
            return False, version
        with conn.cursor() as cur:
            cur.execute(DDL)
        conn.commit()
        return True, SCHEMA_VERSION
    except pg.Error as err:
        conn.rollback()
        raise BackendError(f"postgresql: cannot create the schema: "
                           f"{str(err).strip().splitlines()[0]}") from None
    finally:
        conn.close()


def _expire(lease):
    return lease.cltt if lease.valid_lft == INFINITE_LFT else lease.cltt + lease.valid_lft


def _cltt(expire, valid):
    return expire if valid == INFINITE_LFT else expire - valid


class PgsqlBackend(LeaseBackend):
    """Leases in PostgreSQL with Kea 2.2's schema (see the module docstring)."""

    kind = "postgresql"

    def __init__(self, family, spec):
        super().__init__(family)
        self._pg = _psycopg2()
        self._args = connect_args(spec)
        self.readonly = spec.get("readonly", False)
        self._tries = spec.get("max-reconnect-tries", 3)
        self._wait = spec.get("reconnect-wait-time", 1000) / 1000.0
        self.table = f"lease{family}"
        cols = _COLS[family]
        select = ["extract(epoch from expire)::bigint" if c == "expire" else c for c in cols]
        self._select = f"SELECT {', '.join(select)} FROM {self.table}"
        marks = ", ".join("to_timestamp(%s)" if c == "expire" else "%s" for c in cols)
        self._template = f"({marks})"
        self._insert = f"INSERT INTO {self.table} ({', '.join(cols)}) VALUES "
        self._upsert_tail = (" ON CONFLICT (address) DO UPDATE SET " +
                             ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[1:]))
        sets = ", ".join(f"{c} = to_timestamp(%s)" if c == "expire" else f"{c} = %s"
                         for c in cols[1:])
        self._update_sql = f"UPDATE {self.table} SET {sets} WHERE address = %s"
        self._pending = {}      # address -> (row, replace): inserts sent at commit
        self._sent = False      # has the open write transaction reached the server?
        self._conn = None
        self._connect()
        version = self._read(schema_version)
        if version is None:
            raise BackendError(f"postgresql database {self._args['dbname']!r} has no lease "
                               "schema; run `keactl db init URL` first")
        if version[0] != SCHEMA_VERSION[0]:
            raise BackendError(f"postgresql database {self._args['dbname']!r} has schema "
                               f"{version[0]}.{version[1]}; keactl speaks "
                               f"{SCHEMA_VERSION[0]}.{SCHEMA_VERSION[1]} (Kea 2.2)")
        self._inet_order = family == 6 and self._read(
            lambda c: self._one(c, "SELECT to_regclass('lease6_by_inet_address') IS NOT NULL"))

    @classmethod
    def from_spec(cls, spec, family):
        return cls(family, spec)

    # -- connection -----------------------------------------------------------
    def _connect(self):
        last = None
        for attempt in range(max(1, self._tries)):
            try:
                self._conn = self._pg.connect(**self._args)
                return
            except self._pg.OperationalError as err:
                last = err
                if attempt + 1 < self._tries:
                    time.sleep(self._wait)
        raise BackendError(f"postgresql: {str(last).strip().splitlines()[0]}")

    def _lost(self, err):
        return isinstance(err, (self._pg.OperationalError, self._pg.InterfaceError))

    def _drop(self):
        try:
            if self._conn is not None:
                self._conn.close()
        except self._pg.Error:
            pass
        self._conn = None

    @staticmethod
    def _one(conn, sql, params=()):
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]

    def _read(self, func):
        """Run ``func(conn)`` outside any write transaction, retrying once if the link died."""
        if self._batch_depth:
            self._flush()
            try:
                return func(self._conn)
            except self._pg.Error as err:
                raise self._write_error(err) from None
        for attempt in (0, 1):
            if self._conn is None:
                self._connect()
            try:
                result = func(self._conn)
                self._conn.rollback()
                return result
            except self._pg.Error as err:
                if self._lost(err) and attempt == 0:
                    self._drop()
                    continue
                self._conn.rollback() if not self._lost(err) else self._drop()
                raise BackendError(f"postgresql: {str(err).strip().splitlines()[0]}") from None

    def _query(self, where="", params=(), tail=""):
        sql = f"{self._select} {('WHERE ' + where) if where else ''} {tail}"

        def run(conn):
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return [self._lease(row) for row in cur.fetchall()]
        return self._read(run)

    # -- rows -------------------------------------------------------------------
    def _key(self, address):
        if self.family == 4:
            return int.from_bytes(socket.inet_aton(address), "big")
        return address

    def _row(self, lease):
        ctx = kea_json(lease.user_context) if lease.user_context else ""
        binary = self._pg.Binary
        if self.family == 4:
            return (self._key(lease.address), binary(lease.hwaddr or b""),
                    binary(lease.client_id or b""), lease.valid_lft,
                    _expire(lease), lease.subnet_id, lease.fqdn_fwd, lease.fqdn_rev,
                    lease.hostname, lease.state, ctx)
        # As Kea writes them: absent identifiers are empty, hwtype/source 0.
        return (lease.address, binary(lease.duid or b"\x00"), lease.valid_lft, _expire(lease),
                lease.subnet_id, lease.preferred_lft, lease.type, lease.iaid, lease.prefix_len,
                lease.fqdn_fwd, lease.fqdn_rev, lease.hostname, lease.state,
                binary(lease.hwaddr or b""), lease.hwtype or 0, lease.hwaddr_source or 0, ctx)

    def _lease(self, row):
        if self.family == 4:
            (address, hwaddr, client_id, valid, expire, subnet, fwd, rev, hostname, state,
             ctx) = row
            return Lease4(socket.inet_ntoa(int(address).to_bytes(4, "big")),
                          bytes(hwaddr) or None if hwaddr is not None else None,
                          bytes(client_id) or None if client_id is not None else None,
                          valid, _cltt(expire, valid), subnet, 0, bool(fwd), bool(rev),
                          hostname or "", state, parse_user_context(ctx))
        (address, duid, valid, expire, subnet, pref, ltype, iaid, plen, fwd, rev, hostname,
         state, hwaddr, hwtype, source, ctx) = row
        hwaddr = bytes(hwaddr) if hwaddr else None
        return Lease6(address, bytes(duid) if duid is not None else None, iaid & 0xFFFFFFFF,
                      ltype, plen, pref, valid, _cltt(expire, valid), subnet, 0, bool(fwd),
                      bool(rev), hostname or "", hwaddr, hwtype if hwaddr else None,
                      source if hwaddr else None, state, parse_user_context(ctx))

    def _params(self, row):
        # lease6.iaid is a signed INT in Kea's schema; Kea stores the uint32 bits.
        if self.family == 6 and row[7] > 0x7FFFFFFF:
            row = row[:7] + (row[7] - 0x100000000,) + row[8:]
        return row

    # -- writes -----------------------------------------------------------------
    def _execute(self, run):
        """Run ``run(cursor)`` in the open write transaction.

        A dead connection found by the transaction's first statement is replaced
        and the statement retried: nothing of the transaction had reached the
        server, so nothing is lost or doubled.  Later in a transaction the
        server has already rolled back the earlier statements; that is an error.
        """
        for attempt in (0, 1):
            try:
                with self._conn.cursor() as cur:
                    result = run(cur)
                self._sent = True
                return result
            except self._pg.Error as err:
                if self._lost(err) and not self._sent and attempt == 0:
                    self._drop()
                    self._connect()
                    continue
                raise

    def _write(self, sql, params=()):
        def run(cur):
            cur.execute(sql, params)
            return cur.rowcount
        try:
            return self._execute(run)
        except self._pg.errors.UniqueViolation:
            raise DuplicateLeaseError(f"{params[0]}: a lease for this address exists") from None
        except self._pg.Error as err:
            raise self._write_error(err) from None

    def _write_error(self, err):
        if self._lost(err):
            self._drop()
            return BackendError(f"postgresql: connection lost, lease write not stored: "
                                f"{str(err).strip().splitlines()[0] if str(err) else ''}")
        return LeaseError(f"postgresql: {str(err).strip().splitlines()[0]}")

    def _begin(self):
        if self.readonly:
            raise BackendError("postgresql lease database opened read-only")
        self._pending = {}
        self._sent = False
        if self._conn is None or self._conn.closed:
            self._drop()
            self._connect()
        else:
            try:
                self._conn.rollback()
            except self._pg.Error:
                self._drop()
                self._connect()

    def _flush(self):
        """Send the queued inserts (one multi-row statement per kind)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for replace in (False, True):
            rows = [self._params(row) for row, rep in pending.values() if rep == replace]
            if not rows:
                continue
            sql = self._insert + "%s" + (self._upsert_tail if replace else "")
            try:
                self._execute(lambda cur: self._pg.extras.execute_values(
                    cur, sql, rows, template=self._template, page_size=1000))
            except self._pg.errors.UniqueViolation as err:
                detail = getattr(err.diag, "message_detail", "") or ""
                raise DuplicateLeaseError(f"a lease for this address exists ({detail})") from None
            except self._pg.Error as err:
                raise self._write_error(err) from None

    def _commit(self):
        try:
            self._flush()
            self._conn.commit()
        except self._pg.Error as err:
            error = self._write_error(err)
            self._rollback()
            raise error from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self):
        self._pending = {}
        if self._conn is None:
            return
        try:
            self._conn.rollback()
        except self._pg.Error:
            self._drop()

    def _add(self, lease):
        if lease.address in self._pending:
            raise DuplicateLeaseError(f"{lease.address}: a lease for this address exists")
        self._pending[lease.address] = (self._row(lease), False)

    def _put(self, lease):
        # A put after a queued add of the same address stays an add (it must still
        # fail if the database already holds that address).
        old = self._pending.get(lease.address)
        self._pending[lease.address] = (self._row(lease), True if old is None else old[1])

    def _update(self, lease):
        if lease.address in self._pending:
            row, replace = self._pending[lease.address]
            self._pending[lease.address] = (self._row(lease), replace)
            return
        self._flush()
        row = self._params(self._row(lease))
        if self._write(self._update_sql, row[1:] + row[:1]) == 0:
            raise LeaseNotFoundError(f"{lease.address}: no lease for this address")

    def _delete(self, address):
        self._flush()
        return self._write(f"DELETE FROM {self.table} WHERE address = %s",
                           (self._key(address),)) > 0

    def _wipe(self, subnet_id):
        self._flush()
        if subnet_id is None:
            return self._write(f"DELETE FROM {self.table}")
        return self._write(f"DELETE FROM {self.table} WHERE subnet_id = %s", (subnet_id,))

    # -- reads ----------------------------------------------------------------
    def get(self, address):
        try:
            address = self._address(address)
        except LeaseError:
            return None
        found = self._query("address = %s", (self._key(address),))
        return found[0] if found else None

    def get_by_hwaddr(self, hwaddr, subnet_id=None):
        if subnet_id is None:
            return self._query("hwaddr = %s", (self._pg.Binary(hwaddr),))
        return self._query("hwaddr = %s AND subnet_id = %s", (self._pg.Binary(hwaddr), subnet_id))

    def get_by_client_id(self, client_id, subnet_id=None):
        if self.family != 4:
            return []
        if subnet_id is None:
            return self._query("client_id = %s", (self._pg.Binary(client_id),))
        return self._query("client_id = %s AND subnet_id = %s",
                           (self._pg.Binary(client_id), subnet_id))

    def get_by_duid(self, duid, iaid=None, lease_type=None, subnet_id=None):
        if self.family != 6:
            return []
        where, params = ["duid = %s"], [self._pg.Binary(duid)]
        if iaid is not None:
            where.append("iaid = %s")
            params.append(iaid - 0x100000000 if iaid > 0x7FFFFFFF else iaid)
        for column, value in (("lease_type", lease_type), ("subnet_id", subnet_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        return self._query(" AND ".join(where), params)

    def get_by_hostname(self, hostname):
        return self._query("lower(hostname) = lower(%s) AND hostname IS NOT NULL", (hostname,))

    def iter_leases(self, subnet_id=None):
        if subnet_id is None:
            return iter(self._query())
        return iter(self._query("subnet_id = %s", (subnet_id,)))

    def get_page(self, after=None, limit=100, subnet_id=None):
        order = "address::inet" if self._inet_order else "address"
        where, params = [], []
        if after is not None:
            after = self._address(after)
            where.append(f"{order} > %s" + ("::inet" if self._inet_order else ""))
            params.append(self._key(after))
        if subnet_id is not None:
            where.append("subnet_id = %s")
            params.append(subnet_id)
        params.append(int(limit))
        return self._query(" AND ".join(where), params, f"ORDER BY {order} LIMIT %s")

    def iter_expired(self, now, limit=None):
        tail = "ORDER BY expire" + (" LIMIT %s" if limit else "")
        params = [now, INFINITE_LFT] + ([limit] if limit else [])
        return iter(self._query("state != 2 AND expire < to_timestamp(%s) "
                                "AND valid_lifetime != %s", params, tail))

    def counts(self):
        kind = "lease_type" if self.family == 6 else "0"

        def run(conn):
            with conn.cursor() as cur:
                cur.execute(f"SELECT subnet_id, {kind}, state, count(*) FROM {self.table} "
                            f"GROUP BY 1, 2, 3")
                return {(s, t, st): n for s, t, st, n in cur.fetchall()}
        return self._read(run)

    def __len__(self):
        return self._read(lambda c: self._one(c, f"SELECT count(*) FROM {self.table}"))

    def close(self):
        self._drop()
