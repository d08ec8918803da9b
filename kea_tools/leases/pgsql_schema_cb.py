"""The configuration back end in Kea 2.2's PostgreSQL schema (13.0): data for pgsql_schema.

Kea's cb_cmds / pgsql_cb hooks keep servers, global parameters, option
definitions, shared networks, subnets, pools and client classes in the
``dhcp4_*`` / ``dhcp6_*`` tables.  Every change is recorded: the hook opens an
audit revision (createAuditRevisionDHCPx, which leaves its id in the session
setting ``kea.audit_revision_id``) and row triggers then add one ``dhcpx_audit``
row per changed object; servers poll the audit tables to pick up changes.
Options and pools of a subnet or shared network are recorded through their
parent's modification_ts instead, unless the session marks a cascade.

Same vocabulary as pgsql_schema_hosts: ``{v}`` is the family, ``{x}`` words
come from FAMILY, ``{mts}`` is the modification-timestamp column type.
"""

# Columns a subnet and a shared network have in common (both families).
_NETWORK = """
    client_class VARCHAR(128)
    interface VARCHAR(128)
    modification_ts {mts}
    rebind_timer BIGINT
    relay TEXT
    renew_timer BIGINT
    require_client_classes TEXT
    user_context JSON
    valid_lifetime BIGINT
    min_valid_lifetime BIGINT
    max_valid_lifetime BIGINT
    calculate_tee_times BOOLEAN
    t1_percent FLOAT
    t2_percent FLOAT
    ddns_send_updates BOOLEAN
    ddns_override_no_update BOOLEAN
    ddns_override_client_update BOOLEAN
    ddns_replace_client_name BIGINT
    ddns_generated_prefix VARCHAR(255)
    ddns_qualifying_suffix VARCHAR(255)
    reservations_global BOOLEAN
    reservations_in_subnet BOOLEAN
    reservations_out_of_pool BOOLEAN
    cache_threshold FLOAT
    cache_max_age BIGINT
    {network_extra}
"""

# Lines shared by the tables that tie an object to the servers it belongs to.
_SERVER_LINK = """
    server_id BIGINT NOT NULL
    modification_ts {mts}
"""

TABLES = (
    ("modification", """
        id SMALLINT PRIMARY KEY NOT NULL
        modification_type VARCHAR(32) NOT NULL
    """),
    ("parameter_data_type", """
        id SMALLINT PRIMARY KEY NOT NULL
        name VARCHAR(32) NOT NULL
    """),
    ("ddns_replace_client_name_types", """
        type BIGINT PRIMARY KEY NOT NULL
        name VARCHAR(32)
    """),
    # Kea's log table for the legacy forensic logging into SQL; no key.
    ("logs", """
        timestamp TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
        address VARCHAR(43)
        log TEXT NOT NULL
    """),
    ("dhcp{v}_server", """
        id SERIAL PRIMARY KEY
        tag VARCHAR(64) NOT NULL UNIQUE
        description TEXT
        modification_ts {mts}
    """),
    ("dhcp{v}_audit_revision", """
        id SERIAL PRIMARY KEY
        modification_ts {mts}
        log_message TEXT
        server_id BIGINT
    """),
    # Kea gives the audit table a unique id but no primary key.
    ("dhcp{v}_audit", """
        id SERIAL UNIQUE
        object_type VARCHAR(256) NOT NULL
        object_id BIGINT NOT NULL
        modification_type SMALLINT NOT NULL
        revision_id BIGINT NOT NULL
    """),
    ("dhcp{v}_global_parameter", """
        id SERIAL PRIMARY KEY
        name VARCHAR(128) NOT NULL
        value TEXT NOT NULL
        modification_ts {mts}
        parameter_type SMALLINT NOT NULL
    """),
    ("dhcp{v}_global_parameter_server", """
        parameter_id BIGINT NOT NULL
    """ + _SERVER_LINK + """
        PRIMARY KEY (parameter_id, server_id)
    """),
    ("dhcp{v}_option_def", """
        id SERIAL PRIMARY KEY
        code SMALLINT NOT NULL
        name VARCHAR(128) NOT NULL
        space VARCHAR(128) NOT NULL
        type SMALLINT NOT NULL
        modification_ts {mts}
        is_array BOOLEAN NOT NULL
        encapsulate VARCHAR(128) NOT NULL
        user_context JSON
        record_types VARCHAR
        class_id BIGINT
    """),
    ("dhcp{v}_option_def_server", """
        option_def_id BIGINT NOT NULL
    """ + _SERVER_LINK + """
        PRIMARY KEY (option_def_id, server_id)
    """),
    ("dhcp{v}_options_server", """
        option_id BIGINT NOT NULL
    """ + _SERVER_LINK + """
        PRIMARY KEY (option_id, server_id)
    """),
    ("dhcp{v}_shared_network", """
        id SERIAL PRIMARY KEY
        name VARCHAR(128) NOT NULL UNIQUE
    """ + _NETWORK),
    ("dhcp{v}_shared_network_server", """
        shared_network_id BIGINT NOT NULL
    """ + _SERVER_LINK + """
        PRIMARY KEY (shared_network_id, server_id)
    """),
    ("dhcp{v}_subnet", """
        subnet_id BIGINT PRIMARY KEY NOT NULL
        subnet_prefix VARCHAR(64) NOT NULL UNIQUE
        shared_network_name VARCHAR(128)
        {subnet_extra}
    """ + _NETWORK),
    ("dhcp{v}_subnet_server", """
        subnet_id BIGINT NOT NULL
    """ + _SERVER_LINK + """
        PRIMARY KEY (subnet_id, server_id)
    """),
    ("dhcp{v}_pool", """
        id SERIAL PRIMARY KEY
        start_address INET NOT NULL
        end_address INET NOT NULL
        subnet_id BIGINT NOT NULL
        modification_ts {mts}
        client_class VARCHAR(128)
        require_client_classes TEXT
        user_context JSON
    """),
    ("dhcp6_pd_pool", """
        id SERIAL PRIMARY KEY
        prefix VARCHAR(45) NOT NULL
        prefix_length SMALLINT NOT NULL
        delegated_prefix_length SMALLINT NOT NULL
        subnet_id BIGINT NOT NULL
        modification_ts {mts}
        excluded_prefix VARCHAR(45)
        excluded_prefix_length SMALLINT NOT NULL
        client_class VARCHAR(128)
        require_client_classes TEXT
        user_context JSON
    """),
    ("dhcp{v}_client_class", """
        id SERIAL PRIMARY KEY
        name VARCHAR(128) NOT NULL UNIQUE
        test TEXT
        only_if_required BOOLEAN NOT NULL DEFAULT false
        valid_lifetime BIGINT
        min_valid_lifetime BIGINT
        max_valid_lifetime BIGINT
        depend_on_known_directly BOOLEAN NOT NULL DEFAULT false
        follow_class_name VARCHAR(128)
        modification_ts {mts}
        user_context JSON
        {class_extra}
    """),
    ("dhcp{v}_client_class_dependency", """
        class_id BIGINT NOT NULL
        dependency_id BIGINT NOT NULL
        PRIMARY KEY (class_id, dependency_id)
    """),
    # Evaluation order of the classes; setClientClassXOrder keeps it.
    ("dhcp{v}_client_class_order", """
        class_id BIGINT PRIMARY KEY NOT NULL
        order_index BIGINT NOT NULL
        depend_on_known_indirectly BOOLEAN NOT NULL DEFAULT false
    """),
    # Kea leaves this one's modification_ts without a default.
    ("dhcp{v}_client_class_server", """
        class_id BIGINT NOT NULL
        server_id BIGINT NOT NULL
        modification_ts TIMESTAMPTZ
        PRIMARY KEY (class_id, server_id)
    """),
)

FAMILY = {
    4: {
        "network_extra": """
            match_client_id BOOLEAN
            authoritative BOOLEAN
            boot_file_name VARCHAR(128)
            next_server INET
            server_hostname VARCHAR(64)
        """,
        "subnet_extra": """
            interface_4o6 VARCHAR(128)
            interface_id_4o6 VARCHAR(128)
            subnet_4o6 VARCHAR(64)
        """,
        "class_extra": """
            next_server INET
            server_hostname VARCHAR(128)
            boot_file_name VARCHAR(512)
        """,
    },
    6: {
        "network_extra": """
            preferred_lifetime BIGINT
            min_preferred_lifetime BIGINT
            max_preferred_lifetime BIGINT
            rapid_commit BOOLEAN
            interface_id BYTEA
        """,
        "subnet_extra": "",
        "class_extra": """
            preferred_lifetime BIGINT
            min_preferred_lifetime BIGINT
            max_preferred_lifetime BIGINT
        """,
    },
}

# Server id 1 is the special tag "all" every configuration object may belong to.
ROWS = (
    ("modification", "(0, 'create'), (1, 'update'), (2, 'delete')"),
    ("parameter_data_type", "(0, 'integer'), (1, 'real'), (2, 'boolean'), (4, 'string')"),
    ("ddns_replace_client_name_types",
     "(0, 'RCM_NEVER'), (1, 'RCM_ALWAYS'), (2, 'RCM_WHEN_PRESENT'), (3, 'RCM_WHEN_NOT_PRESENT')"),
    ("dhcp{v}_server (tag, description)", "('all', 'special type: all servers')"),
)

# Kea's index names, oddities included (dhcp4_server_modification_ts sits on
# dhcp6_server, and dhcp4_server has none), so its upgrade scripts find them.
INDEXES = (
    "INDEX address_id ON logs (address)",
    "INDEX timestamp_id ON logs (timestamp)",
    "INDEX dhcp{v}_audit_idx1 ON dhcp{v}_audit (modification_type)",
    "INDEX dhcp{v}_audit_idx2 ON dhcp{v}_audit (revision_id)",
    "INDEX key_dhcp{v}_client_class_modification_ts ON dhcp{v}_client_class (modification_ts)",
    "INDEX dhcp{v}_client_class_dependency_id_idx ON dhcp{v}_client_class_dependency "
    "(dependency_id)",
    "INDEX key_dhcp{v}_client_class_order_index ON dhcp{v}_client_class_order (order_index)",
    "INDEX dhcp4_global_parameter_idx1 ON dhcp4_global_parameter (modification_ts)",
    "INDEX dhcp4_global_parameter_idx2 ON dhcp4_global_parameter (name)",
    "INDEX key_dhcp4_global_parameter_idx1 ON dhcp4_global_parameter_server (modification_ts)",
    "INDEX key_dhcp6_global_parameter_idx1 ON dhcp6_global_parameter (modification_ts)",
    "INDEX key_dhcp6_global_parameter_idx2 ON dhcp6_global_parameter (name)",
    "INDEX key_dhcp6_global_parameter_server_idx1 ON dhcp6_global_parameter_server "
    "(modification_ts)",
    "INDEX dhcp{v}_option_def_idx1 ON dhcp{v}_option_def (modification_ts)",
    "INDEX dhcp{v}_option_def_idx2 ON dhcp{v}_option_def (code, space)",
    "INDEX dhcp{v}_options_server_idx1 ON dhcp{v}_options_server (server_id)",
    "INDEX dhcp{v}_options_server_idx2 ON dhcp{v}_options_server (modification_ts)",
    "INDEX dhcp{v}_pool_idx1 ON dhcp{v}_pool (modification_ts)",
    "INDEX dhcp{v}_pool_idx2 ON dhcp{v}_pool (subnet_id)",
    "INDEX dhcp6_pd_pool_idx1 ON dhcp6_pd_pool (modification_ts)",
    "INDEX dhcp6_pd_pool_idx2 ON dhcp6_pd_pool (subnet_id)",
    "INDEX dhcp4_server_modification_ts ON dhcp6_server (modification_ts)",
    "INDEX dhcp6_server_idx1 ON dhcp6_server (modification_ts)",
    "UNIQUE INDEX dhcp6_server_idx2 ON dhcp6_server (tag)",
    "UNIQUE INDEX dhcp4_shared_network_idx1 ON dhcp4_shared_network (name)",
    "INDEX dhcp4_shared_network_idx2 ON dhcp4_shared_network (modification_ts)",
    "INDEX dhcp6_shared_network_idx1 ON dhcp6_shared_network (name)",
    "INDEX dhcp{v}_shared_network_server_idx1 ON dhcp{v}_shared_network_server (modification_ts)",
    "INDEX dhcp{v}_shared_network_server_idx2 ON dhcp{v}_shared_network_server (server_id)",
    "INDEX dhcp{v}_subnet_idx1 ON dhcp{v}_subnet (modification_ts)",
    "INDEX dhcp{v}_subnet_idx2 ON dhcp{v}_subnet (shared_network_name)",
    "INDEX dhcp{v}_subnet_server_idx1 ON dhcp{v}_subnet_server (server_id)",
    "INDEX dhcp{v}_subnet_server_idx2 ON dhcp{v}_subnet_server (modification_ts)",
    # Indexes behind foreign keys, under the keys' names.
    "INDEX fk_dhcp{v}_client_class_server_id ON dhcp{v}_client_class_server (server_id)",
    "INDEX fk_dhcp{v}_global_parameter_server_server_id ON dhcp{v}_global_parameter_server "
    "(server_id)",
    "INDEX fk_dhcp{v}_option_def_client_class_id ON dhcp{v}_option_def (class_id)",
    "INDEX fk_dhcp{v}_option_def_server_server_id ON dhcp{v}_option_def_server (server_id)",
)

_CASCADE = "ON DELETE CASCADE"
_BOTH = "ON UPDATE CASCADE ON DELETE CASCADE"

# (table, constraint name, definition).  Where Kea's upgrades left two keys on
# one column (option_def_server) the one that decides behaviour is kept.
FOREIGN_KEYS = (
    ("dhcp{v}_audit", "fk_dhcp{v}_audit_modification_type",
     "(modification_type) REFERENCES modification (id)"),
    ("dhcp{v}_audit", "fk_dhcp{v}_audit_revision",
     "(revision_id) REFERENCES dhcp{v}_audit_revision (id) ON UPDATE CASCADE"),
    # Kea names both families' key fk_dhcp6_global_parameter_type.
    ("dhcp{v}_global_parameter", "fk_dhcp6_global_parameter_type",
     "(parameter_type) REFERENCES parameter_data_type (id)"),
    ("dhcp{v}_global_parameter_server", "fk_dhcp{v}_global_parameter_server_parameter_id",
     f"(parameter_id) REFERENCES dhcp{{v}}_global_parameter (id) {_CASCADE}"),
    ("dhcp{v}_global_parameter_server", "fk_dhcp{v}_global_parameter_server_server_id",
     f"(server_id) REFERENCES dhcp{{v}}_server (id) {_CASCADE}"),
    ("dhcp{v}_option_def", "fk_dhcp{v}_option_def_client_class_id",
     f"(class_id) REFERENCES dhcp{{v}}_client_class (id) {_BOTH}"),
    ("dhcp{v}_option_def_server", "fk_dhcp{v}_option_def_server_option_def_id",
     f"(option_def_id) REFERENCES dhcp{{v}}_option_def (id) {_CASCADE}"),
    ("dhcp{v}_option_def_server", "fk_dhcp{v}_option_def_server_server_id",
     f"(server_id) REFERENCES dhcp{{v}}_server (id) {_CASCADE}"),
    ("dhcp{v}_options_server", "fk_dhcp{v}_options_server_option_id",
     f"(option_id) REFERENCES dhcp{{v}}_options (option_id) {_CASCADE}"),
    ("dhcp{v}_options_server", "fk_dhcp{v}_options_server_server_id",
     f"(server_id) REFERENCES dhcp{{v}}_server (id) {_CASCADE}"),
    ("dhcp{v}_shared_network", "fk_ddns_replace_client_name",
     "(ddns_replace_client_name) REFERENCES ddns_replace_client_name_types (type)"),
    ("dhcp{v}_shared_network_server", "fk_dhcp{v}_shared_network_server_server_id",
     f"(server_id) REFERENCES dhcp{{v}}_server (id) {_CASCADE}"),
    ("dhcp{v}_shared_network_server", "fk_dhcp{v}_shared_network_server_shared_network_id",
     f"(shared_network_id) REFERENCES dhcp{{v}}_shared_network (id) {_CASCADE}"),
    ("dhcp{v}_subnet", "fk_ddns_replace_client_name",
     "(ddns_replace_client_name) REFERENCES ddns_replace_client_name_types (type)"),
    ("dhcp{v}_subnet", "fk_dhcp{v}_subnet_shared_network",
     "(shared_network_name) REFERENCES dhcp{v}_shared_network (name)"),
    ("dhcp{v}_subnet_server", "fk_dhcp{v}_subnet_server_server_id",
     f"(server_id) REFERENCES dhcp{{v}}_server (id) {_BOTH}"),
    ("dhcp{v}_subnet_server", "fk_dhcp{v}_subnet_server_subnet_id",
     f"(subnet_id) REFERENCES dhcp{{v}}_subnet (subnet_id) {_BOTH}"),
    ("dhcp{v}_pool", "fk_dhcp{v}_pool_subnet_id",
     "(subnet_id) REFERENCES dhcp{v}_subnet (subnet_id)"),
    ("dhcp6_pd_pool", "fk_dhcp6_pd_pool_subnet_id",
     "(subnet_id) REFERENCES dhcp6_subnet (subnet_id)"),
    ("dhcp{v}_client_class_dependency", "dhcp{v}_client_class_class_id",
     f"(class_id) REFERENCES dhcp{{v}}_client_class (id) {_CASCADE}"),
    ("dhcp{v}_client_class_dependency", "dhcp{v}_client_class_dependency_id",
     "(dependency_id) REFERENCES dhcp{v}_client_class (id)"),
    ("dhcp{v}_client_class_order", "fk_dhcp{v}_client_class_order_class_id",
     f"(class_id) REFERENCES dhcp{{v}}_client_class (id) {_CASCADE}"),
    ("dhcp{v}_client_class_server", "fk_dhcp{v}_client_class_class_id",
     f"(class_id) REFERENCES dhcp{{v}}_client_class (id) {_CASCADE}"),
    ("dhcp{v}_client_class_server", "fk_dhcp{v}_client_class_server_id",
     "(server_id) REFERENCES dhcp{v}_server (id)"),
)

# Objects whose every insert / update / delete becomes one audit row:
# (object, id column, the row events recorded by a plain audit function).
# Subnets and shared networks record deletion in their BEFORE DELETE trigger
# (FUNCTIONS below), which also clears what hangs off them.
AUDITED = (
    ("server", "id", ("ains", "aupd", "adel")),
    ("global_parameter", "id", ("ains", "aupd", "adel")),
    ("option_def", "id", ("ains", "aupd", "adel")),
    ("shared_network", "id", ("ains", "aupd", "adel")),
    ("subnet", "subnet_id", ("ains", "aupd")),
    ("client_class", "id", ("adel",)),
)

# Kea's session-variable helpers: the hooks talk to the triggers through
# transaction-independent settings named kea.*.
SESSION_FUNCTIONS = r"""
CREATE FUNCTION set_session_value(name TEXT, value TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config(name, value, false);
END $$;
CREATE FUNCTION set_session_value(name TEXT, value BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config(name, value::TEXT, false);
END $$;
CREATE FUNCTION set_session_value(name TEXT, value BOOLEAN) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config(name, value::TEXT, false);
END $$;

-- NULL when the setting was never made in this session.
CREATE FUNCTION get_session_value(name TEXT) RETURNS TEXT LANGUAGE sql AS $$
    SELECT current_setting(name, true)
$$;
CREATE FUNCTION get_session_big_int(name TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    raw TEXT := get_session_value(name);
BEGIN
    RETURN CASE WHEN coalesce(raw, '') = '' THEN 0 ELSE raw::BIGINT END;
EXCEPTION WHEN invalid_text_representation THEN
    RAISE EXCEPTION 'get_session_big_int(%): % is not a number', name, raw;
END $$;
CREATE FUNCTION get_session_boolean(name TEXT) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    raw TEXT := get_session_value(name);
BEGIN
    RETURN CASE WHEN coalesce(raw, '') = '' THEN false ELSE raw::BOOLEAN END;
EXCEPTION WHEN invalid_text_representation THEN
    RAISE EXCEPTION 'get_session_boolean(%): % is not a boolean', name, raw;
END $$;

-- Seconds since the epoch of the wall-clock reading of a timestamp (Kea's CB
-- compares modification times this way).
CREATE FUNCTION gmt_epoch(input_ts TIMESTAMPTZ) RETURNS BIGINT LANGUAGE sql AS $$
    SELECT (extract(epoch FROM input_ts) + extract(timezone FROM input_ts))::BIGINT
$$;

-- Kea attaches this AFTER UPDATE, where changing NEW has no effect; the
-- triggers exist under Kea's names so its upgrade scripts find them.
CREATE FUNCTION modification_ts_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    NEW.modification_ts := CURRENT_TIMESTAMP;
    RETURN NEW;
END $$;
"""

# Per-family functions ({v} is 4 or 6).
FUNCTIONS = r"""
-- Opens an audit revision; the audit rows the triggers add point to it.
CREATE FUNCTION createAuditRevisionDHCP{v}(audit_ts TIMESTAMPTZ, server_tag VARCHAR(64),
                                          audit_log_message TEXT, cascade_transaction BOOLEAN)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    revision BIGINT;
BEGIN
    IF get_session_boolean('kea.disable_audit') THEN
        RETURN;
    END IF;
    INSERT INTO dhcp{v}_audit_revision (modification_ts, server_id, log_message)
        VALUES (audit_ts, (SELECT id FROM dhcp{v}_server WHERE tag = server_tag),
                audit_log_message)
        RETURNING id INTO revision;
    PERFORM set_session_value('kea.audit_revision_id', revision);
    PERFORM set_session_value('kea.cascade_transaction', cascade_transaction);
END $$;

-- One audit row for the current revision ('create', 'update' or 'delete').
CREATE FUNCTION createAuditEntryDHCP{v}(object_type_val VARCHAR(256), object_id_val BIGINT,
                                       modification_type_val VARCHAR(32))
RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF get_session_boolean('kea.disable_audit') THEN
        RETURN;
    END IF;
    INSERT INTO dhcp{v}_audit (object_type, object_id, modification_type, revision_id)
        SELECT object_type_val, object_id_val, m.id, get_session_big_int('kea.audit_revision_id')
        FROM modification AS m WHERE m.modification_type = modification_type_val;
END $$;

-- A changed option is audited by itself when global, otherwise by touching
-- the subnet or shared network it belongs to (pool options: the pool's subnet).
-- Host options are not audited.  Nothing is recorded inside a cascade.
CREATE FUNCTION createOptionAuditDHCP{v}(modification_type VARCHAR(32), scope_id SMALLINT,
                                        option_id INT, p_subnet_id BIGINT, host_id INT,
                                        network_name VARCHAR(128), pool_id BIGINT,
                                        {pd_pool_param}
                                        p_modification_ts TIMESTAMPTZ)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    owner_subnet BIGINT := CASE scope_id WHEN 1 THEN p_subnet_id
        WHEN 5 THEN (SELECT p.subnet_id FROM dhcp{v}_pool AS p WHERE p.id = pool_id)
        {pd_pool_owner}
        END;
BEGIN
    IF get_session_boolean('kea.cascade_transaction') THEN
        RETURN;
    END IF;
    IF scope_id = 0 THEN
        PERFORM createAuditEntryDHCP{v}('dhcp{v}_options', option_id, modification_type);
    ELSIF scope_id = 4 THEN
        UPDATE dhcp{v}_shared_network SET modification_ts = p_modification_ts
            WHERE id = (SELECT min(n.id) FROM dhcp{v}_shared_network AS n
                        WHERE n.name = network_name);
    ELSIF owner_subnet IS NOT NULL THEN
        UPDATE dhcp{v}_subnet SET modification_ts = p_modification_ts
            WHERE subnet_id = owner_subnet;
    END IF;
END $$;

CREATE FUNCTION func_dhcp{v}_options_ains() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM createOptionAuditDHCP{v}('create', NEW.scope_id, NEW.option_id, NEW.dhcp{v}_subnet_id,
        NEW.host_id, NEW.shared_network_name, NEW.pool_id, {pd_pool_new} NEW.modification_ts);
    RETURN NULL;
END $$;
CREATE FUNCTION func_dhcp{v}_options_aupd() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM createOptionAuditDHCP{v}('update', NEW.scope_id, NEW.option_id, NEW.dhcp{v}_subnet_id,
        NEW.host_id, NEW.shared_network_name, NEW.pool_id, {pd_pool_new} NEW.modification_ts);
    RETURN NULL;
END $$;
CREATE FUNCTION func_dhcp{v}_options_adel() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM createOptionAuditDHCP{v}('delete', OLD.scope_id, OLD.option_id, OLD.dhcp{v}_subnet_id,
        OLD.host_id, OLD.shared_network_name, OLD.pool_id, {pd_pool_old} now());
    RETURN NULL;
END $$;

-- Deleting a shared network frees its subnets and drops its options.
CREATE FUNCTION func_dhcp{v}_shared_network_bdel() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM createAuditEntryDHCP{v}('dhcp{v}_shared_network', OLD.id, 'delete');
    UPDATE dhcp{v}_subnet SET shared_network_name = NULL WHERE shared_network_name = OLD.name;
    DELETE FROM dhcp{v}_options WHERE shared_network_name = OLD.name;
    RETURN OLD;
END $$;

-- Deleting a subnet takes its pools and options with it.
CREATE FUNCTION func_dhcp{v}_subnet_bdel() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM createAuditEntryDHCP{v}('dhcp{v}_subnet', OLD.subnet_id, 'delete');
    DELETE FROM dhcp{v}_pool WHERE subnet_id = OLD.subnet_id;
    {pd_pool_subnet_delete}
    DELETE FROM dhcp{v}_options WHERE dhcp{v}_subnet_id = OLD.subnet_id;
    RETURN OLD;
END $$;

CREATE FUNCTION func_dhcp{v}_pool_bdel() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dhcp{v}_options WHERE scope_id = 5 AND pool_id = OLD.id;
    RETURN OLD;
END $$;

-- Client classes: evaluation order and dependencies.  A class is placed right
-- after follow_class_name (or last); a class may depend only on classes placed
-- before it and present on all of its servers; whether a class depends on the
-- KNOWN/UNKNOWN built-ins (directly or through its dependencies) must not
-- change while other classes depend on it.
CREATE FUNCTION setClientClass{v}Order(id BIGINT, new_follow_class_name VARCHAR(128),
                                      old_follow_class_name VARCHAR(128))
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    this_class BIGINT := id;
    indirect BOOLEAN;
    follow_place BIGINT;
BEGIN
    SELECT o.depend_on_known_indirectly INTO indirect
        FROM dhcp{v}_client_class_order AS o WHERE o.class_id = this_class;
    PERFORM set_session_value('kea.depend_on_known_indirectly', coalesce(indirect, false));
    IF indirect IS NOT NULL
       AND new_follow_class_name IS NOT DISTINCT FROM old_follow_class_name THEN
        -- Same place as before: only the indirect flag is recomputed, by the
        -- dependency triggers that follow.
        UPDATE dhcp{v}_client_class_order SET depend_on_known_indirectly = false
            WHERE class_id = this_class;
        RETURN;
    END IF;
    IF new_follow_class_name IS NULL THEN
        SELECT coalesce(max(o.order_index), 0) INTO follow_place
            FROM dhcp{v}_client_class_order AS o;
    ELSE
        SELECT o.order_index INTO follow_place FROM dhcp{v}_client_class AS c
            JOIN dhcp{v}_client_class_order AS o ON o.class_id = c.id
            WHERE c.name = new_follow_class_name;
        IF follow_place IS NULL THEN
            RAISE EXCEPTION 'Class % does not exist.', new_follow_class_name
                USING ERRCODE = 'sql_routine_exception';
        END IF;
        UPDATE dhcp{v}_client_class_order SET order_index = order_index + 1
            WHERE order_index > follow_place;
    END IF;
    IF EXISTS (SELECT 1 FROM dhcp{v}_client_class_dependency AS d
               JOIN dhcp{v}_client_class_order AS o ON o.class_id = d.class_id
               WHERE d.dependency_id = this_class AND o.order_index <= follow_place) THEN
        RAISE EXCEPTION 'Unable to move class with id % because it would break its dependencies',
            this_class USING ERRCODE = 'sql_routine_exception';
    END IF;
    INSERT INTO dhcp{v}_client_class_order AS o (class_id, order_index, depend_on_known_indirectly)
        VALUES (this_class, follow_place + 1, false)
        ON CONFLICT (class_id) DO UPDATE SET order_index = EXCLUDED.order_index,
            depend_on_known_indirectly = coalesce(indirect, false);
END $$;

CREATE FUNCTION checkDHCPv{v}ClientClassDependency(p_class_id BIGINT, p_dependency_id BIGINT)
RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    class_place BIGINT;
    dependency_place BIGINT;
BEGIN
    IF p_class_id IS NULL OR p_dependency_id IS NULL THEN
        RAISE EXCEPTION 'Client class id and class dependency id must not be NULL.'
            USING ERRCODE = 'sql_routine_exception';
    END IF;
    IF p_class_id = p_dependency_id THEN
        RAISE EXCEPTION 'Client class must not have dependency on self.'
            USING ERRCODE = 'sql_routine_exception';
    END IF;
    SELECT order_index INTO class_place FROM dhcp{v}_client_class_order
        WHERE class_id = p_class_id;
    IF class_place IS NULL THEN
        RAISE EXCEPTION 'Client class with id % does not exist.', p_class_id
            USING ERRCODE = 'sql_routine_exception';
    END IF;
    SELECT order_index INTO dependency_place FROM dhcp{v}_client_class_order
        WHERE class_id = p_dependency_id;
    IF dependency_place IS NULL THEN
        RAISE EXCEPTION 'Dependency class with id % does not exist.', p_dependency_id
            USING ERRCODE = 'sql_routine_exception';
    END IF;
    IF dependency_place > class_place THEN
        RAISE EXCEPTION 'Client class with id % must not depend on class defined later with id %',
            p_class_id, p_dependency_id USING ERRCODE = 'sql_routine_exception';
    END IF;
    -- Every server of the class needs the dependency, directly or through "all" (id 1).
    IF EXISTS (SELECT 1 FROM dhcp{v}_client_class_server AS mine
               WHERE mine.class_id = p_class_id AND NOT EXISTS (
                   SELECT 1 FROM dhcp{v}_client_class_server AS dep
                   WHERE dep.class_id = p_dependency_id
                     AND dep.server_id IN (1, mine.server_id))) THEN
        RAISE EXCEPTION 'Unmet dependencies for client class with id %', p_class_id
            USING ERRCODE = 'sql_routine_exception';
    END IF;
END $$;

CREATE FUNCTION updateDHCPv{v}ClientClassKnownDependency(client_class_id BIGINT,
                                                        dependency_id BIGINT)
RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dhcp{v}_client_class AS c
               LEFT JOIN dhcp{v}_client_class_order AS o ON o.class_id = c.id
               WHERE c.id = dependency_id
                 AND (c.depend_on_known_directly OR coalesce(o.depend_on_known_indirectly, false)))
    THEN
        UPDATE dhcp{v}_client_class_order SET depend_on_known_indirectly = true
            WHERE class_id = client_class_id;
    END IF;
END $$;

-- Called by the hook after updating a class (the aupd trigger left the class
-- id and its former KNOWN dependency in the session).
CREATE FUNCTION checkDHCPv{v}ClientClassKnownDependencyChange() RETURNS VOID
LANGUAGE plpgsql AS $$
DECLARE
    this_class BIGINT := get_session_big_int('kea.client_class_id');
    known_before BOOLEAN;
    now_known BOOLEAN;
BEGIN
    IF this_class = 0 OR NOT EXISTS (SELECT 1 FROM dhcp{v}_client_class_dependency
                                WHERE dependency_id = this_class) THEN
        RETURN;
    END IF;
    known_before := get_session_boolean('kea.depend_on_known_directly')
              OR get_session_boolean('kea.depend_on_known_indirectly');
    SELECT c.depend_on_known_directly OR coalesce(o.depend_on_known_indirectly, false)
        INTO now_known FROM dhcp{v}_client_class AS c
        LEFT JOIN dhcp{v}_client_class_order AS o ON o.class_id = c.id WHERE c.id = this_class;
    IF known_before IS DISTINCT FROM coalesce(now_known, false) THEN
        RAISE EXCEPTION 'Class dependency on KNOWN/UNKNOWN built-in classes must not change.'
            USING ERRCODE = 'sql_routine_exception';
    END IF;
END $$;

CREATE FUNCTION func_dhcp{v}_client_class_ains() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM setClientClass{v}Order(NEW.id, NEW.follow_class_name, NULL);
    PERFORM createAuditEntryDHCP{v}('dhcp{v}_client_class', NEW.id, 'create');
    RETURN NULL;
END $$;
CREATE FUNCTION func_dhcp{v}_client_class_aupd() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_session_value('kea.depend_on_known_directly', OLD.depend_on_known_directly);
    PERFORM set_session_value('kea.client_class_id', NEW.id::BIGINT);
    PERFORM setClientClass{v}Order(NEW.id, NEW.follow_class_name, OLD.follow_class_name);
    PERFORM createAuditEntryDHCP{v}('dhcp{v}_client_class', NEW.id, 'update');
    RETURN NULL;
END $$;
CREATE FUNCTION func_dhcp{v}_client_class_check_dependency_bins() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM checkDHCPv{v}ClientClassDependency(NEW.class_id, NEW.dependency_id);
    RETURN NEW;
END $$;
CREATE FUNCTION func_dhcp{v}_client_class_dependency_ains() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM updateDHCPv{v}ClientClassKnownDependency(NEW.class_id, NEW.dependency_id);
    RETURN NULL;
END $$;
"""

# What FUNCTIONS says differently per family: DHCPv6 options may hang off a
# prefix-delegation pool (scope 6).
FUNCTION_FAMILY = {
    4: {"pd_pool_param": "", "pd_pool_owner": "", "pd_pool_new": "", "pd_pool_old": "",
        "pd_pool_subnet_delete": ""},
    6: {"pd_pool_param": "pd_pool_id BIGINT,",
        "pd_pool_owner":
            "WHEN 6 THEN (SELECT p.subnet_id FROM dhcp6_pd_pool AS p WHERE p.id = pd_pool_id)",
        "pd_pool_new": "NEW.pd_pool_id,", "pd_pool_old": "OLD.pd_pool_id,",
        "pd_pool_subnet_delete": "DELETE FROM dhcp6_pd_pool WHERE subnet_id = OLD.subnet_id;"},
}

V6_FUNCTIONS = r"""
CREATE FUNCTION func_dhcp6_pd_pool_bdel() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM dhcp6_options WHERE scope_id = 6 AND pd_pool_id = OLD.id;
    RETURN OLD;
END $$;
"""

# (trigger, when, table, function) per family; every one is FOR EACH ROW.
# As in Kea, func_dhcp6_pd_pool_bdel and func_dhcpX_shared_network_adel exist
# but no trigger calls them.
TRIGGERS = (
    ("dhcp{v}_options_ains", "AFTER INSERT", "dhcp{v}_options", "func_dhcp{v}_options_ains"),
    ("dhcp{v}_options_aupd", "AFTER UPDATE", "dhcp{v}_options", "func_dhcp{v}_options_aupd"),
    ("dhcp{v}_options_adel", "AFTER DELETE", "dhcp{v}_options", "func_dhcp{v}_options_adel"),
    ("dhcp{v}_server_ains", "AFTER INSERT", "dhcp{v}_server", "func_dhcp{v}_server_ains"),
    ("dhcp{v}_server_aupd", "AFTER UPDATE", "dhcp{v}_server", "func_dhcp{v}_server_aupd"),
    ("dhcp{v}_server_adel", "AFTER DELETE", "dhcp{v}_server", "func_dhcp{v}_server_adel"),
    ("dhcp{v}_global_parameter_ains", "AFTER INSERT", "dhcp{v}_global_parameter",
     "func_dhcp{v}_global_parameter_ains"),
    ("dhcp{v}_global_parameter_aupd", "AFTER UPDATE", "dhcp{v}_global_parameter",
     "func_dhcp{v}_global_parameter_aupd"),
    ("dhcp{v}_global_parameter_adel", "AFTER DELETE", "dhcp{v}_global_parameter",
     "func_dhcp{v}_global_parameter_adel"),
    ("dhcp{v}_option_def_ains", "AFTER INSERT", "dhcp{v}_option_def",
     "func_dhcp{v}_option_def_ains"),
    ("dhcp{v}_option_def_aupd", "AFTER UPDATE", "dhcp{v}_option_def",
     "func_dhcp{v}_option_def_aupd"),
    ("dhcp{v}_option_def_adel", "AFTER DELETE", "dhcp{v}_option_def",
     "func_dhcp{v}_option_def_adel"),
    ("dhcp{v}_shared_network_ains", "AFTER INSERT", "dhcp{v}_shared_network",
     "func_dhcp{v}_shared_network_ains"),
    ("dhcp{v}_shared_network_aupd", "AFTER UPDATE", "dhcp{v}_shared_network",
     "func_dhcp{v}_shared_network_aupd"),
    ("dhcp{v}_shared_network_bdel", "BEFORE DELETE", "dhcp{v}_shared_network",
     "func_dhcp{v}_shared_network_bdel"),
    ("dhcp{v}_subnet_ains", "AFTER INSERT", "dhcp{v}_subnet", "func_dhcp{v}_subnet_ains"),
    ("dhcp{v}_subnet_aupd", "AFTER UPDATE", "dhcp{v}_subnet", "func_dhcp{v}_subnet_aupd"),
    ("dhcp{v}_subnet_bdel", "BEFORE DELETE", "dhcp{v}_subnet", "func_dhcp{v}_subnet_bdel"),
    ("dhcp{v}_pool_bdel", "BEFORE DELETE", "dhcp{v}_pool", "func_dhcp{v}_pool_bdel"),
    ("dhcp{v}_client_class_ains", "AFTER INSERT", "dhcp{v}_client_class",
     "func_dhcp{v}_client_class_ains"),
    ("dhcp{v}_client_class_aupd", "AFTER UPDATE", "dhcp{v}_client_class",
     "func_dhcp{v}_client_class_aupd"),
    ("dhcp{v}_client_class_adel", "AFTER DELETE", "dhcp{v}_client_class",
     "func_dhcp{v}_client_class_adel"),
    ("dhcp{v}_client_class_check_dependency_bins", "BEFORE INSERT",
     "dhcp{v}_client_class_dependency", "func_dhcp{v}_client_class_check_dependency_bins"),
    ("dhcp{v}_client_class_dependency_ains", "AFTER INSERT", "dhcp{v}_client_class_dependency",
     "func_dhcp{v}_client_class_dependency_ains"),
)

# Tables carrying Kea's <table>_modification_ts_update trigger.  Kea hangs
# dhcp6_subnet's on dhcp6_server; it is placed where Kea has it.
MODIFICATION_TS_TABLES = (
    "dhcp{v}_audit", "dhcp{v}_audit_revision", "dhcp{v}_global_parameter",
    "dhcp{v}_global_parameter_server", "dhcp{v}_option_def", "dhcp{v}_option_def_server",
    "dhcp{v}_options", "dhcp{v}_options_server", "dhcp{v}_pool", "dhcp{v}_server",
    "dhcp{v}_shared_network", "dhcp{v}_subnet_server", "dhcp6_pd_pool",
)
MODIFICATION_TS_ELSEWHERE = (("dhcp4_subnet", "dhcp4_subnet"), ("dhcp6_subnet", "dhcp6_server"))
