"""keactl's DDL for the lease part of Kea 2.2's PostgreSQL schema (version 13.0).

Kea 2.2 opens a lease database only when ``schema_version`` says 13.0, and at
connect time it prepares statements over lease4/lease6, lease4_stat/lease6_stat,
lease4_stat_by_client_class/lease6_stat_by_client_class and the functions
isJsonSupported(), checkLease4Limits(text), checkLease6Limits(text); all of them
must exist.  This DDL creates exactly those objects with Kea's table, column and
index names, so Kea and keactl can share one database.  (Kea's full script also
creates host-reservation and config-backend tables; keactl does not use them.)

The statistics tables are kept by statement-level triggers with Kea's rules:
lease4_stat / lease6_stat count states 0 (default) and 1 (declined) per subnet
(and lease type); the *_stat_by_client_class tables count state-0 leases per
class listed in user-context ``ISC.client-classes``.
"""

SCHEMA_VERSION = (13, 0)

DDL = r"""
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
-- lease.  keactl_stat4/6 take the per-(subnet[, type], state) deltas.
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

CREATE FUNCTION keactl_lease4_stat_trigger() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := keactl_changed_rows(TG_OP, 'subnet_id, state, user_context');
BEGIN
    EXECUTE format('SELECT count(keactl_stat4(subnet_id, state, total)) FROM ('
                   'SELECT subnet_id, state, sum(n) AS total FROM (%s) AS c '
                   'WHERE state IN (0, 1) GROUP BY 1, 2) AS d WHERE total <> 0', changed);
    EXECUTE format('SELECT count(keactl_class4(cls, total)) FROM ('
                   'SELECT cls, sum(n) AS total FROM (%s) AS c, '
                   'keactl_lease_classes(c.user_context) AS cls '
                   'WHERE state = 0 GROUP BY 1) AS d WHERE total <> 0', changed);
    RETURN NULL;
END;
$$;

CREATE FUNCTION keactl_lease6_stat_trigger() RETURNS TRIGGER LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT := keactl_changed_rows(TG_OP, 'subnet_id, lease_type, state, user_context');
BEGIN
    EXECUTE format('SELECT count(keactl_stat6(subnet_id, lease_type, state, total)) FROM ('
                   'SELECT subnet_id, lease_type, state, sum(n) AS total FROM (%s) AS c '
                   'WHERE state IN (0, 1) GROUP BY 1, 2, 3) AS d WHERE total <> 0', changed);
    EXECUTE format('SELECT count(keactl_class6(cls, lease_type, total)) FROM ('
                   'SELECT cls, lease_type, sum(n) AS total FROM (%s) AS c, '
                   'keactl_lease_classes(c.user_context) AS cls '
                   'WHERE state = 0 GROUP BY 1, 2) AS d WHERE total <> 0', changed);
    RETURN NULL;
END;
$$;

CREATE TRIGGER lease4_stat_ins AFTER INSERT ON lease4 REFERENCING NEW TABLE AS keactl_new
    FOR EACH STATEMENT EXECUTE FUNCTION keactl_lease4_stat_trigger();
CREATE TRIGGER lease4_stat_upd AFTER UPDATE ON lease4
    REFERENCING OLD TABLE AS keactl_old NEW TABLE AS keactl_new
    FOR EACH STATEMENT EXECUTE FUNCTION keactl_lease4_stat_trigger();
CREATE TRIGGER lease4_stat_del AFTER DELETE ON lease4 REFERENCING OLD TABLE AS keactl_old
    FOR EACH STATEMENT EXECUTE FUNCTION keactl_lease4_stat_trigger();
CREATE TRIGGER lease6_stat_ins AFTER INSERT ON lease6 REFERENCING NEW TABLE AS keactl_new
    FOR EACH STATEMENT EXECUTE FUNCTION keactl_lease6_stat_trigger();
CREATE TRIGGER lease6_stat_upd AFTER UPDATE ON lease6
    REFERENCING OLD TABLE AS keactl_old NEW TABLE AS keactl_new
    FOR EACH STATEMENT EXECUTE FUNCTION keactl_lease6_stat_trigger();
CREATE TRIGGER lease6_stat_del AFTER DELETE ON lease6 REFERENCING OLD TABLE AS keactl_old
    FOR EACH STATEMENT EXECUTE FUNCTION keactl_lease6_stat_trigger();

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
