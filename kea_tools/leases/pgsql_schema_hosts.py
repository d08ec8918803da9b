"""Host reservations in Kea 2.2's PostgreSQL schema (13.0): data for pgsql_schema.

Kea's ``hosts-database`` (PgSqlHostDataSource) reads ``hosts``, ``ipv6_reservations``
and the option tables ``dhcp4_options`` / ``dhcp6_options``; the option tables
are shared with the configuration back end (their ``scope_id`` says whether a row
belongs to a host, a subnet, a pool, ...), so their foreign keys reach into the
config-backend tables and are added once every table exists.

Everything here is data in the small vocabulary pgsql_schema renders:
tables are a name and one column (or table constraint) per line, ``{v}``
stands for the family (4 or 6) and ``{x}`` words come from FAMILY.
"""

TABLES = (
    ("host_identifier_type", """
        type SMALLINT PRIMARY KEY NOT NULL
        name VARCHAR(32)
    """),
    ("dhcp_option_scope", """
        scope_id SMALLINT PRIMARY KEY NOT NULL
        scope_name VARCHAR(32)
    """),
    ("hosts", """
        host_id SERIAL PRIMARY KEY
        dhcp_identifier BYTEA NOT NULL
        dhcp_identifier_type SMALLINT NOT NULL
        dhcp4_subnet_id BIGINT
        dhcp6_subnet_id BIGINT
        ipv4_address BIGINT
        hostname VARCHAR(255)
        dhcp4_client_classes VARCHAR(255)
        dhcp6_client_classes VARCHAR(255)
        dhcp4_next_server BIGINT
        dhcp4_server_hostname VARCHAR(64)
        dhcp4_boot_file_name VARCHAR(128)
        user_context TEXT
        auth_key VARCHAR(32)
    """),
    ("ipv6_reservations", """
        reservation_id SERIAL PRIMARY KEY
        address VARCHAR(39) NOT NULL
        prefix_len SMALLINT NOT NULL DEFAULT 128
        type SMALLINT NOT NULL DEFAULT 0
        dhcp6_iaid INT
        host_id INT NOT NULL
    """),
    # One option row, owned by whatever scope_id names (global, subnet, class,
    # host, shared network, pool, prefix-delegation pool).
    ("dhcp{v}_options", """
        option_id SERIAL PRIMARY KEY
        code {option_code} NOT NULL
        value BYTEA
        formatted_value TEXT
        space VARCHAR(128)
        persistent BOOLEAN NOT NULL DEFAULT false
        dhcp_client_class VARCHAR(128)
        dhcp{v}_subnet_id BIGINT
        host_id INT
        scope_id SMALLINT NOT NULL
        user_context TEXT
        shared_network_name VARCHAR(128)
        pool_id BIGINT
        {options_extra}
        modification_ts {mts}
    """),
)

# Per-family words for the templates above.
FAMILY = {
    4: {"option_code": "SMALLINT", "options_extra": ""},
    6: {"option_code": "INT", "options_extra": "pd_pool_id BIGINT"},
}

ROWS = (
    ("host_identifier_type",
     "(0, 'hw-address'), (1, 'duid'), (2, 'circuit-id'), (3, 'client-id'), (4, 'flex-id')"),
    ("dhcp_option_scope",
     "(0, 'global'), (1, 'subnet'), (2, 'client-class'), (3, 'host'), "
     "(4, 'shared-network'), (5, 'pool'), (6, 'pd-pool')"),
)

INDEXES = (
    "UNIQUE INDEX key_dhcp4_identifier_subnet_id ON hosts "
    "(dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id) WHERE dhcp4_subnet_id IS NOT NULL",
    "UNIQUE INDEX key_dhcp6_identifier_subnet_id ON hosts "
    "(dhcp_identifier, dhcp_identifier_type, dhcp6_subnet_id) WHERE dhcp6_subnet_id IS NOT NULL",
    "INDEX key_dhcp4_ipv4_address_subnet_id ON hosts (ipv4_address, dhcp4_subnet_id)",
    "INDEX key_dhcp_identifier ON hosts (dhcp_identifier, dhcp_identifier_type)",
    "INDEX hosts_by_hostname ON hosts (lower(hostname)) WHERE hostname IS NOT NULL",
    "INDEX key_dhcp6_address_prefix_len ON ipv6_reservations (address, prefix_len)",
    "INDEX fk_ipv6_reservations_host_idx ON ipv6_reservations (host_id)",
    "INDEX fk_dhcp{v}_options_host1_idx ON dhcp{v}_options (host_id)",
    "INDEX fk_dhcp{v}_options_scope_idx ON dhcp{v}_options (scope_id)",
    # Indexes behind foreign keys, under the keys' names.
    "INDEX fk_host_identifier_type ON hosts (dhcp_identifier_type)",
    "INDEX fk_dhcp{v}_options_subnet ON dhcp{v}_options (dhcp{v}_subnet_id)",
    "INDEX fk_dhcp{v}_options_shared_network ON dhcp{v}_options (shared_network_name)",
    "INDEX fk_dhcp{v}_options_pool ON dhcp{v}_options (pool_id)",
    "INDEX fk_dhcp6_options_pd_pool ON dhcp6_options (pd_pool_id)",
)

# (table, constraint name, definition); Kea's constraint names, typos included,
# so its upgrade scripts find them.
FOREIGN_KEYS = (
    ("hosts", "fk_host_identifier_type",
     "(dhcp_identifier_type) REFERENCES host_identifier_type (type) ON DELETE CASCADE"),
    ("ipv6_reservations", "fk_ipv6_reservations_host",
     "(host_id) REFERENCES hosts (host_id) ON DELETE CASCADE"),
    ("dhcp4_options", "fk_options_host1",
     "(host_id) REFERENCES hosts (host_id) ON DELETE CASCADE"),
    ("dhcp6_options", "fk_options_host10",
     "(host_id) REFERENCES hosts (host_id) ON DELETE CASCADE"),
    ("dhcp{v}_options", "fk_dhcp{v}_option_scode",
     "(scope_id) REFERENCES dhcp_option_scope (scope_id) ON DELETE CASCADE"),
    ("dhcp{v}_options", "fk_dhcp{v}_options_subnet",
     "(dhcp{v}_subnet_id) REFERENCES dhcp{v}_subnet (subnet_id) "
     "ON UPDATE CASCADE ON DELETE CASCADE"),
    ("dhcp{v}_options", "fk_dhcp{v}_options_shared_network",
     "(shared_network_name) REFERENCES dhcp{v}_shared_network (name) "
     "ON UPDATE CASCADE ON DELETE CASCADE"),
    ("dhcp{v}_options", "fk_dhcp{v}_options_pool",
     "(pool_id) REFERENCES dhcp{v}_pool (id) ON UPDATE CASCADE ON DELETE CASCADE"),
    ("dhcp6_options", "fk_dhcp6_options_pd_pool",
     "(pd_pool_id) REFERENCES dhcp6_pd_pool (id) ON UPDATE CASCADE ON DELETE CASCADE"),
)
