"""keactl's DDL for Kea 2.2's PostgreSQL schema (version 13.0), as `kea-admin db-init pgsql`.

Kea 2.2 opens a database only when ``schema_version`` says 13.0, and at
connect time each of its back ends prepares statements over its own tables:
the lease back end over lease4/lease6, the statistics tables and the
functions isJsonSupported(), checkLease4Limits(text), checkLease6Limits(text);
the host back end over hosts, ipv6_reservations and dhcp4_options /
dhcp6_options; the config back end (a hook) over the dhcp4_* / dhcp6_* tables;
kea-admin's lease-dump / lease-upload call leaseXDumpHeader(),
leaseXDumpData() and leaseXUpload(...).  keactl creates every table, column,
key, index, lookup row, function and trigger of Kea's script under Kea's
names (its upgrade scripts find what they alter), written as data:
this module holds the lease part, pgsql_schema_hosts the host reservations,
pgsql_schema_cb the configuration back end; ``DDL`` renders all of it once,
on first use.

One deliberate difference: the statistics tables are kept by statement-level
triggers (under Kea's trigger names lease4_ains, ...), so a bulk write touches
each counter row once per statement rather than once per lease.  The rules
are Kea's: lease4_stat / lease6_stat count states 0 (default) and 1 (declined)
per subnet (and lease type); the *_stat_by_client_class tables count state-0
leases per class listed in user-context ``ISC.client-classes``.  Kea's per-row
helpers (lease4_AINS_lease4_stat, ...) exist too and follow the same rules.
keactl's own helpers are named keactl_*; the index lease6_by_inet_address is a
keactl addition (numeric address order for paging) that Kea ignores.
"""
import functools

SCHEMA_VERSION = (13, 0)

LEASE_DDL = r"""
CREATE TABLE schema_version (
    version INT PRIMARY KEY NOT NULL,
    minor INT
);
INSERT INTO schema_version VALUES (13, 0);

CREATE TABLE lease_state (
    state BIGINT PRIMARY KEY NOT NULL,
    name VARCHAR(64) NOT NULL
);
INSERT INTO lease_state VALUES (0, 'default'), (1, 'declined'), (2, 'expired-reclaimed');

CREATE TABLE lease6_types (
    lease_type SMALLINT PRIMARY KEY NOT NULL,
    name VARCHAR(5)
);
INSERT INTO lease6_types VALUES (0, 'IA_NA'), (1, 'IA_TA'), (2, 'IA_PD');

CREATE TABLE lease_hwaddr_source (
    hwaddr_source INT PRIMARY KEY NOT NULL,
    name VARCHAR(40) DEFAULT NULL
);
INSERT INTO lease_hwaddr_source VALUES
    (0, 'HWADDR_SOURCE_UNKNOWN'), (1, 'HWADDR_SOURCE_RAW'),
    (2, 'HWADDR_SOURCE_IPV6_LINK_LOCAL'), (4, 'HWADDR_SOURCE_DUID'),
    (8, 'HWADDR_SOURCE_CLIENT_ADDR_RELAY_OPTION'), (16, 'HWADDR_SOURCE_REMOTE_ID'),
    (32, 'HWADDR_SOURCE_SUBSCRIBER_ID'), (64, 'HWADDR_SOURCE_DOCSIS_CMTS'),
    (128, 'HWADDR_SOURCE_DOCSIS_MODEM');

CREATE TABLE lease4 (
    address BIGINT PRIMARY KEY NOT NULL,
    hwaddr BYTEA,
    client_id BYTEA,
    valid_lifetime BIGINT,
    expire TIMESTAMP WITH TIME ZONE,
    subnet_id BIGINT,
    fqdn_fwd BOOLEAN,
    fqdn_rev BOOLEAN,
    hostname VARCHAR(255),
    state BIGINT DEFAULT 0 CONSTRAINT fk_lease4_state REFERENCES lease_state (state),
    user_context TEXT
);
CREATE INDEX lease4_by_hwaddr_subnet_id ON lease4 (hwaddr, subnet_id);
CREATE INDEX lease4_by_client_id_subnet_id ON lease4 (client_id, subnet_id);
CREATE INDEX lease4_by_state_expire ON lease4 (state ASC, expire ASC);
CREATE INDEX lease4_by_subnet_id ON lease4 (subnet_id);
CREATE INDEX lease4_by_hostname ON lease4 (lower(hostname)) WHERE hostname IS NOT NULL;

CREATE TABLE lease6 (
    address VARCHAR(39) PRIMARY KEY NOT NULL,
    duid BYTEA,
    valid_lifetime BIGINT,
    expire TIMESTAMP WITH TIME ZONE,
    subnet_id BIGINT,
    pref_lifetime BIGINT,
    lease_type SMALLINT CONSTRAINT fk_lease6_type REFERENCES lease6_types (lease_type),
    iaid INT,
    prefix_len SMALLINT,
    fqdn_fwd BOOLEAN,
    fqdn_rev BOOLEAN,
    hostname VARCHAR(255),
    state BIGINT DEFAULT 0 CONSTRAINT fk_lease6_state REFERENCES lease_state (state),
    hwaddr BYTEA,
    hwtype SMALLINT,
    hwaddr_source SMALLINT,
    user_context TEXT
);
CREATE INDEX lease6_by_duid_iaid_subnet_id ON lease6 (duid, iaid, subnet_id);
CREATE INDEX lease6_by_state_expire ON lease6 (state ASC, expire ASC);
CREATE INDEX lease6_by_subnet_id_lease_type ON lease6 (subnet_id, lease_type);
CREATE INDEX lease6_by_hostname ON lease6 (lower(hostname)) WHERE hostname IS NOT NULL;
-- keactl's addition (Kea ignores it): numeric address order for paging.
CREATE INDEX lease6_by_inet_address ON lease6 ((address::inet));

CREATE TABLE lease4_stat (
    subnet_id BIGINT NOT NULL,
    state BIGINT NOT NULL,
    leases BIGINT,
    PRIMARY KEY (subnet_id, state)
);
CREATE TABLE lease6_stat (
    subnet_id BIGINT NOT NULL,
    lease_type SMALLINT NOT NULL,
    state BIGINT NOT NULL,
    leases BIGINT,
    PRIMARY KEY (subnet_id, lease_type, state)
);
CREATE TABLE lease4_stat_by_client_class (
    client_class VARCHAR(128) PRIMARY KEY NOT NULL,
    leases BIGINT NOT NULL
);
CREATE TABLE lease6_stat_by_client_class (
    client_class VARCHAR(128) NOT NULL,
    lease_type SMALLINT NOT NULL
        CONSTRAINT fk_lease6_stat_by_client_class_lease_type REFERENCES lease6_types (lease_type),
    leases BIGINT NOT NULL,
    PRIMARY KEY (client_class, lease_type)
);

-- JSON has been built into PostgreSQL since 9.3.
CREATE FUNCTION isJsonSupported() RETURNS BOOLEAN LANGUAGE sql IMMUTABLE AS $$ SELECT true $$;

-- Client classes named in a lease's user-context (ISC.client-classes), or none.
CREATE FUNCTION keactl_lease_classes(ctx TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT json_array_elements_text(ctx::json -> 'ISC' -> 'client-classes')
    WHERE ctx IS NOT NULL AND ctx LIKE '%client-classes%'
$$;

-- Statistics upkeep: statement-level triggers over the transition tables, so a
-- bulk write touches each counter row once per statement rather than once per
-- lease.  keactl_stat4/6 take the per-(subnet[, type], state) deltas; the trigger
-- functions themselves (func_leaseX_ains, ...) are LEASE_STAT_FUNCTION below.
CREATE FUNCTION keactl_stat4(sid BIGINT, st BIGINT, delta BIGINT) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO lease4_stat AS s VALUES (sid, st, GREATEST(delta, 0))
    ON CONFLICT (subnet_id, state) DO UPDATE SET leases = GREATEST(s.leases + delta, 0)
$$;
CREATE FUNCTION keactl_stat6(sid BIGINT, lt SMALLINT, st BIGINT, delta BIGINT) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO lease6_stat AS s VALUES (sid, lt, st, GREATEST(delta, 0))
    ON CONFLICT (subnet_id, lease_type, state) DO UPDATE SET leases = GREATEST(s.leases + delta, 0)
$$;
CREATE FUNCTION keactl_class4(cls TEXT, delta BIGINT) RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO lease4_stat_by_client_class AS s VALUES (cls, GREATEST(delta, 0))
    ON CONFLICT (client_class) DO UPDATE SET leases = GREATEST(s.leases + delta, 0)
$$;
CREATE FUNCTION keactl_class6(cls TEXT, lt SMALLINT, delta BIGINT) RETURNS VOID
LANGUAGE sql AS $$
    INSERT INTO lease6_stat_by_client_class AS s VALUES (cls, lt, GREATEST(delta, 0))
    ON CONFLICT (client_class, lease_type) DO UPDATE SET leases = GREATEST(s.leases + delta, 0)
$$;

-- The rows a statement added (+1) and removed (-1), as SQL over the transition tables.
CREATE FUNCTION keactl_changed_rows(op TEXT, cols TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE op
        WHEN 'INSERT' THEN format('SELECT %s, 1 AS n FROM keactl_new', cols)
        WHEN 'DELETE' THEN format('SELECT %s, -1 AS n FROM keactl_old', cols)
        ELSE format('SELECT %s, 1 AS n FROM keactl_new UNION ALL '
                    'SELECT %s, -1 AS n FROM keactl_old', cols, cols)
    END
$$;

-- The lease-limit checks Kea's limits hook calls: '' when within every limit
-- given in user-context ISC.limits, otherwise the first limit reached.
CREATE FUNCTION checkLease4Limits(user_context TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    limits JSON := CASE WHEN coalesce(user_context, '') = '' THEN NULL
                        ELSE user_context::json -> 'ISC' -> 'limits' END;
    class JSON;
    used BIGINT;
BEGIN
    IF limits IS NULL THEN
        RETURN '';
    END IF;
    FOR class IN SELECT json_array_elements(limits -> 'client-classes') LOOP
        IF class -> 'address-limit' IS NOT NULL THEN
            SELECT coalesce(max(leases), 0) INTO used FROM lease4_stat_by_client_class
                WHERE client_class = class ->> 'name';
            IF (class ->> 'address-limit')::BIGINT <= used THEN
                RETURN format('address limit %s for client class "%s", current lease count %s',
                              class ->> 'address-limit', class ->> 'name', used);
            END IF;
        END IF;
    END LOOP;
    IF limits -> 'subnet' -> 'address-limit' IS NOT NULL THEN
        SELECT coalesce(max(leases), 0) INTO used FROM lease4_stat
            WHERE subnet_id = (limits -> 'subnet' ->> 'id')::BIGINT AND state = 0;
        IF (limits -> 'subnet' ->> 'address-limit')::BIGINT <= used THEN
            RETURN format('address limit %s for subnet ID %s, current lease count %s',
                          limits -> 'subnet' ->> 'address-limit',
                          limits -> 'subnet' ->> 'id', used);
        END IF;
    END IF;
    RETURN '';
END;
$$;

CREATE FUNCTION checkLease6Limits(user_context TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    limits JSON := CASE WHEN coalesce(user_context, '') = '' THEN NULL
                        ELSE user_context::json -> 'ISC' -> 'limits' END;
    class JSON;
    kind RECORD;
    used BIGINT;
BEGIN
    IF limits IS NULL THEN
        RETURN '';
    END IF;
    FOR kind IN SELECT * FROM (VALUES ('address', 0), ('prefix', 2)) AS k(word, lt) LOOP
        FOR class IN SELECT json_array_elements(limits -> 'client-classes') LOOP
            IF class -> (kind.word || '-limit') IS NOT NULL THEN
                SELECT coalesce(max(leases), 0) INTO used FROM lease6_stat_by_client_class
                    WHERE client_class = class ->> 'name' AND lease_type = kind.lt;
                IF (class ->> (kind.word || '-limit'))::BIGINT <= used THEN
                    RETURN format('%s limit %s for client class "%s", current lease count %s',
                                  kind.word, class ->> (kind.word || '-limit'),
                                  class ->> 'name', used);
                END IF;
            END IF;
        END LOOP;
    END LOOP;
    FOR kind IN SELECT * FROM (VALUES ('address', 0), ('prefix', 2)) AS k(word, lt) LOOP
        IF limits -> 'subnet' -> (kind.word || '-limit') IS NOT NULL THEN
            SELECT coalesce(max(leases), 0) INTO used FROM lease6_stat
                WHERE subnet_id = (limits -> 'subnet' ->> 'id')::BIGINT
                  AND lease_type = kind.lt AND state = 0;
            IF (limits -> 'subnet' ->> (kind.word || '-limit'))::BIGINT <= used THEN
                RETURN format('%s limit %s for subnet ID %s, current lease count %s', kind.word,
                              limits -> 'subnet' ->> (kind.word || '-limit'),
                              limits -> 'subnet' ->> 'id', used);
            END IF;
        END IF;
    END LOOP;
    RETURN '';
END;
$$;
"""

# Kea's per-row statistics helpers and its unattached per-row trigger
# functions (proc_stat_*), expressed through keactl_stat* / keactl_class*.
# count() makes a SQL function evaluate every row, not just the first.
LEASE_HELPERS = r"""
CREATE FUNCTION lease4_AINS_lease4_stat(new_state BIGINT, new_subnet_id BIGINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_stat4(new_subnet_id, new_state, 1)) WHERE new_state IN (0, 1)
$$;
CREATE FUNCTION lease4_ADEL_lease4_stat(old_state BIGINT, old_subnet_id BIGINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_stat4(old_subnet_id, old_state, -1)) WHERE old_state IN (0, 1)
$$;
CREATE FUNCTION lease4_AUPD_lease4_stat(old_state BIGINT, old_subnet_id BIGINT,
                                        new_state BIGINT, new_subnet_id BIGINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_stat4(sid, st, delta))
    FROM (VALUES (old_subnet_id, old_state, -1),
                 (new_subnet_id, new_state, 1)) AS c(sid, st, delta)
    WHERE st IN (0, 1) AND (old_state, old_subnet_id) IS DISTINCT FROM (new_state, new_subnet_id)
$$;
CREATE FUNCTION lease6_AINS_lease6_stat(new_state BIGINT, new_subnet_id BIGINT,
                                        new_lease_type SMALLINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_stat6(new_subnet_id, new_lease_type, new_state, 1))
    WHERE new_state IN (0, 1)
$$;
CREATE FUNCTION lease6_ADEL_lease6_stat(old_state BIGINT, old_subnet_id BIGINT,
                                        old_lease_type SMALLINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_stat6(old_subnet_id, old_lease_type, old_state, -1))
    WHERE old_state IN (0, 1)
$$;
CREATE FUNCTION lease6_AUPD_lease6_stat(old_state BIGINT, old_subnet_id BIGINT,
                                        old_lease_type SMALLINT, new_state BIGINT,
                                        new_subnet_id BIGINT, new_lease_type SMALLINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_stat6(sid, lt, st, delta))
    FROM (VALUES (old_subnet_id, old_lease_type, old_state, -1),
                 (new_subnet_id, new_lease_type, new_state, 1)) AS c(sid, lt, st, delta)
    WHERE st IN (0, 1) AND (old_state, old_subnet_id, old_lease_type)
                           IS DISTINCT FROM (new_state, new_subnet_id, new_lease_type)
$$;

-- By class: the per-class net change between the old and the new lease.
CREATE FUNCTION lease4_AINS_lease4_stat_by_client_class(new_state BIGINT, new_user_context TEXT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_class4(cls, 1)) FROM keactl_lease_classes(new_user_context) AS cls
    WHERE new_state = 0
$$;
CREATE FUNCTION lease4_ADEL_lease4_stat_by_client_class(old_state BIGINT, old_user_context TEXT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_class4(cls, -1)) FROM keactl_lease_classes(old_user_context) AS cls
    WHERE old_state = 0
$$;
CREATE FUNCTION lease4_AUPD_lease4_stat_by_client_class(old_state BIGINT, old_user_context TEXT,
                                                        new_state BIGINT, new_user_context TEXT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_class4(cls, total)) FROM (
        SELECT cls, sum(delta) AS total FROM (
            SELECT cls, -1 AS delta FROM keactl_lease_classes(old_user_context) AS cls
            WHERE old_state = 0
            UNION ALL
            SELECT cls, 1 FROM keactl_lease_classes(new_user_context) AS cls
            WHERE new_state = 0) AS c
        GROUP BY cls) AS d
    WHERE total <> 0
$$;
CREATE FUNCTION lease6_AINS_lease6_stat_by_client_class(new_state BIGINT, new_user_context TEXT,
                                                        new_lease_type SMALLINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_class6(cls, new_lease_type, 1))
    FROM keactl_lease_classes(new_user_context) AS cls WHERE new_state = 0
$$;
CREATE FUNCTION lease6_ADEL_lease6_stat_by_client_class(old_state BIGINT, old_user_context TEXT,
                                                        old_lease_type SMALLINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_class6(cls, old_lease_type, -1))
    FROM keactl_lease_classes(old_user_context) AS cls WHERE old_state = 0
$$;
CREATE FUNCTION lease6_AUPD_lease6_stat_by_client_class(
    old_state BIGINT, old_user_context TEXT, old_lease_type SMALLINT,
    new_state BIGINT, new_user_context TEXT, new_lease_type SMALLINT)
RETURNS VOID LANGUAGE sql AS $$
    SELECT count(keactl_class6(cls, lt, total)) FROM (
        SELECT cls, lt, sum(delta) AS total FROM (
            SELECT cls, old_lease_type AS lt, -1 AS delta
            FROM keactl_lease_classes(old_user_context) AS cls WHERE old_state = 0
            UNION ALL
            SELECT cls, new_lease_type, 1
            FROM keactl_lease_classes(new_user_context) AS cls WHERE new_state = 0) AS c
        GROUP BY cls, lt) AS d
    WHERE total <> 0
$$;

CREATE FUNCTION proc_stat_lease4_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lease4_AINS_lease4_stat(NEW.state, NEW.subnet_id);
    RETURN NULL;
END $$;
CREATE FUNCTION proc_stat_lease4_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lease4_AUPD_lease4_stat(OLD.state, OLD.subnet_id, NEW.state, NEW.subnet_id);
    RETURN NULL;
END $$;
CREATE FUNCTION proc_stat_lease4_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lease4_ADEL_lease4_stat(OLD.state, OLD.subnet_id);
    RETURN NULL;
END $$;
CREATE FUNCTION proc_stat_lease6_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lease6_AINS_lease6_stat(NEW.state, NEW.subnet_id, NEW.lease_type);
    RETURN NULL;
END $$;
CREATE FUNCTION proc_stat_lease6_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lease6_AUPD_lease6_stat(OLD.state, OLD.subnet_id, OLD.lease_type,
                                    NEW.state, NEW.subnet_id, NEW.lease_type);
    RETURN NULL;
END $$;
CREATE FUNCTION proc_stat_lease6_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM lease6_ADEL_lease6_stat(OLD.state, OLD.subnet_id, OLD.lease_type);
    RETURN NULL;
END $$;

-- '' is an empty JSON object (Kea stores '' for "no user context").
CREATE FUNCTION json_cast(json_candidate TEXT) RETURNS JSON LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN json_candidate = '' THEN '{}'::json ELSE json_candidate::json END
$$;

-- kea-admin lease-dump / lease-upload: Kea's memfile CSV columns; hex bytes
-- are lower case and colon separated, commas in text are escaped as &#x2c.
CREATE FUNCTION colonSeparatedHex(hex TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(regexp_replace(CASE WHEN length(hex) % 2 = 1 THEN '0' || hex ELSE hex END,
                                '(..)(?!$)', '\1:', 'g'))
$$;
CREATE FUNCTION lease4DumpHeader() RETURNS TEXT LANGUAGE sql AS $$
    SELECT 'address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,'
           'hostname,state,user_context'::TEXT
$$;
CREATE FUNCTION lease6DumpHeader() RETURNS TEXT LANGUAGE sql AS $$
    SELECT 'address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,'
           'prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,'
           'hwaddr_source'::TEXT
$$;
CREATE FUNCTION lease4DumpData() RETURNS TABLE (
    address INET, hwaddr VARCHAR, client_id VARCHAR, valid_lifetime BIGINT, expire BIGINT,
    subnet_id BIGINT, fqdn_fwd INT, fqdn_rev INT, hostname VARCHAR, state BIGINT,
    user_context VARCHAR)
LANGUAGE sql AS $$
    SELECT '0.0.0.0'::inet + l.address, colonSeparatedHex(encode(l.hwaddr, 'hex')),
           colonSeparatedHex(encode(l.client_id, 'hex')), l.valid_lifetime,
           extract(epoch FROM l.expire)::BIGINT, l.subnet_id, l.fqdn_fwd::INT, l.fqdn_rev::INT,
           replace(l.hostname, ',', '&#x2c'), l.state, replace(l.user_context, ',', '&#x2c')
    FROM lease4 AS l ORDER BY l.address
$$;
CREATE FUNCTION lease6DumpData() RETURNS TABLE (
    address VARCHAR, duid VARCHAR, valid_lifetime BIGINT, expire BIGINT, subnet_id BIGINT,
    pref_lifetime BIGINT, lease_type SMALLINT, iaid INT, prefix_len SMALLINT, fqdn_fwd INT,
    fqdn_rev INT, hostname VARCHAR, hwaddr VARCHAR, state BIGINT, user_context VARCHAR,
    hwtype SMALLINT, hwaddr_source SMALLINT)
LANGUAGE sql AS $$
    SELECT l.address, colonSeparatedHex(encode(l.duid, 'hex')), l.valid_lifetime,
           extract(epoch FROM l.expire)::BIGINT, l.subnet_id, l.pref_lifetime, l.lease_type,
           l.iaid, l.prefix_len, l.fqdn_fwd::INT, l.fqdn_rev::INT,
           replace(l.hostname, ',', '&#x2c'), colonSeparatedHex(encode(l.hwaddr, 'hex')),
           l.state, replace(l.user_context, ',', '&#x2c'), l.hwtype, l.hwaddr_source
    FROM lease6 AS l ORDER BY l.address
$$;
CREATE FUNCTION lease4Upload(address VARCHAR, hwaddr VARCHAR, client_id VARCHAR,
                             valid_lifetime BIGINT, expire BIGINT, subnet_id BIGINT,
                             fqdn_fwd INT, fqdn_rev INT, hostname VARCHAR, state BIGINT,
                             user_context VARCHAR)
RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO lease4 (address, hwaddr, client_id, valid_lifetime, expire, subnet_id,
                        fqdn_fwd, fqdn_rev, hostname, state, user_context)
    VALUES ($1::inet - '0.0.0.0'::inet, decode(replace($2, ':', ''), 'hex'),
            decode(replace($3, ':', ''), 'hex'), $4, to_timestamp($5), $6,
            $7::BOOLEAN, $8::BOOLEAN, replace($9, '&#x2c', ','), $10,
            replace($11, '&#x2c', ','))
$$;
CREATE FUNCTION lease6Upload(address VARCHAR, duid VARCHAR, valid_lifetime BIGINT,
                             expire BIGINT, subnet_id BIGINT, pref_lifetime BIGINT,
                             lease_type INT, iaid INT, prefix_len INT, fqdn_fwd INT,
                             fqdn_rev INT, hostname VARCHAR, hwaddr VARCHAR, state BIGINT,
                             user_context VARCHAR, hwtype INT, hwaddr_source INT)
RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO lease6 (address, duid, valid_lifetime, expire, subnet_id, pref_lifetime,
                        lease_type, iaid, prefix_len, fqdn_fwd, fqdn_rev, hostname, hwaddr,
                        state, user_context, hwtype, hwaddr_source)
    VALUES ($1, decode(replace($2, ':', ''), 'hex'), $3, to_timestamp($4), $5, $6, $7, $8,
            $9, $10::BOOLEAN, $11::BOOLEAN, replace($12, '&#x2c', ','),
            decode(replace($13, ':', ''), 'hex'), $14, replace($15, '&#x2c', ','), $16, $17)
$$;
"""

# The statistics trigger function, one per event under Kea's names; each
# works from the statement's transition tables (keactl_new / keactl_old).
LEASE_STAT_FUNCTION = r"""
CREATE FUNCTION func_lease{v}_{event}() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := keactl_changed_rows(TG_OP, 'subnet_id, {typed}state, user_context');
BEGIN
    EXECUTE format('SELECT count(keactl_stat{v}(subnet_id, {typed}state, total)) FROM ('
                   'SELECT subnet_id, {typed}state, sum(n) AS total FROM (%s) AS c '
                   'WHERE state IN (0, 1) GROUP BY subnet_id, {typed}state) AS d '
                   'WHERE total <> 0', changed);
    EXECUTE format('SELECT count(keactl_class{v}(cls, {typed}total)) FROM ('
                   'SELECT cls, {typed}sum(n) AS total FROM (%s) AS c, '
                   'keactl_lease_classes(c.user_context) AS cls '
                   'WHERE state = 0 GROUP BY {typed}cls) AS d WHERE total <> 0', changed);
    RETURN NULL;
END $$;
CREATE TRIGGER lease{v}_{event} AFTER {op} ON lease{v} REFERENCING {transition}
    FOR EACH STATEMENT EXECUTE FUNCTION func_lease{v}_{event}();
"""
LEASE_STAT_EVENTS = (
    ("ains", "INSERT", "NEW TABLE AS keactl_new"),
    ("aupd", "UPDATE", "OLD TABLE AS keactl_old NEW TABLE AS keactl_new"),
    ("adel", "DELETE", "OLD TABLE AS keactl_old"),
)
LEASE_TYPED = {4: "", 6: "lease_type, "}

FAMILIES = (4, 6)
MODIFICATION_TS = "TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP"


def _each(template, words=None):
    """A template rendered for both families when it names {v}, else once."""
    if "{v}" not in template:
        return [template.format(mts=MODIFICATION_TS)]
    return [template.format(v=v, mts=MODIFICATION_TS, **(words or {}).get(v, {}))
            for v in FAMILIES]


def _create_table(name, body):
    lines = (line.strip() for line in body.splitlines())
    return f"CREATE TABLE {name} (\n    " + ",\n    ".join(l for l in lines if l) + "\n);"


def _audit_function(obj, id_column, event):
    row, action = {"ains": ("NEW", "create"), "aupd": ("NEW", "update"),
                   "adel": ("OLD", "delete")}[event]
    return (f"CREATE FUNCTION func_dhcp{{v}}_{obj}_{event}() RETURNS TRIGGER LANGUAGE plpgsql "
            f"AS $$\nBEGIN\n    PERFORM createAuditEntryDHCP{{v}}('dhcp{{v}}_{obj}', "
            f"{row}.{id_column}, '{action}');\n    RETURN NULL;\nEND $$;")


@functools.cache
def ddl():
    """The whole schema as one SQL script (tables, rows, keys, indexes, code, triggers)."""
    from kea_tools.leases import pgsql_schema_cb as cb
    from kea_tools.leases import pgsql_schema_hosts as hosts
    words = {v: {**hosts.FAMILY[v], **cb.FAMILY[v]} for v in FAMILIES}
    out = [LEASE_DDL]
    for part in (hosts, cb):
        for name, body in part.TABLES:
            # Family words may span lines, so render the whole table first.
            out += [_create_table(*table.split("\x00", 1))
                    for table in _each(name + "\x00" + body, words)]
    for part in (hosts, cb):
        for table, rows in part.ROWS:
            out += _each(f"INSERT INTO {table} VALUES {rows};")
        for table, name, definition in part.FOREIGN_KEYS:
            out += _each(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY {definition};")
        out += [f"CREATE {index};" for line in part.INDEXES for index in _each(line)]
    out.append(LEASE_HELPERS)
    out.append(cb.SESSION_FUNCTIONS)
    for v in FAMILIES:
        out.append(cb.FUNCTIONS.format(v=v, **cb.FUNCTION_FAMILY[v]))
    out.append(cb.V6_FUNCTIONS)
    for obj, id_column, events in cb.AUDITED:
        out += [f for event in events for f in _each(_audit_function(obj, id_column, event))]
    for v in FAMILIES:
        for event, op, transition in LEASE_STAT_EVENTS:
            out.append(LEASE_STAT_FUNCTION.format(v=v, event=event, op=op, transition=transition,
                                                  typed=LEASE_TYPED[v]))
    for name, when, table, function in cb.TRIGGERS:
        out += _each(f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW "
                     f"EXECUTE FUNCTION {function}();")
    placed = [(f"{t}_modification_ts_update", t) for line in cb.MODIFICATION_TS_TABLES
              for t in _each(line)]
    placed += [(f"{name}_modification_ts_update", table)
               for name, table in cb.MODIFICATION_TS_ELSEWHERE]
    out += [f"CREATE TRIGGER {name} AFTER UPDATE ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION modification_ts_update();" for name, table in sorted(set(placed))]
    return "\n".join(out)


def __getattr__(name):
    # DDL is rendered on first use, not at import time.
    if name == "DDL":
        return ddl()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
