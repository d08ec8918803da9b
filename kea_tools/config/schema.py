"""Kea 2.2's configuration grammar as data: the keys each map accepts and their types.

Every map in a Kea configuration has a scope; ``SCOPES[scope]`` maps each key that
Kea 2.2's bison grammar accepts there to a type spec:

- ``"bool" "int" "real" "str" "map" "any"``: a JSON scalar/map of that kind
  (Kea's ``real`` is a floating-point token: ``1`` is a syntax error, ``1.0`` is not);
- ``"[str]"``, ``"[int]"``: a list of those;
- ``"@scope"`` a map checked against that scope, ``"[@scope]"`` a list of them;
- a tuple of strings: one of those constants (Kea's grammar keywords).

``SUPPORT`` says what keactl does with a key that Kea accepts: absent means keactl
implements it; ``UNSUPPORTED`` makes ``serve -t`` reject the configuration with
``unsupported: <key>`` at the key's position; a callable decides from the value
(so ``dhcp-ddns`` is refused only with ``ncr-protocol`` TCP, which Kea 2.2 refuses too).  ``IGNORED`` keys are accepted
with a warning.  Flip entries here as features land.
"""
from __future__ import annotations

UNSUPPORTED = "unsupported"
IGNORED = "ignored"

_DDNS = {
    "ddns-send-updates": "bool",
    "ddns-override-no-update": "bool",
    "ddns-override-client-update": "bool",
    "ddns-replace-client-name": ("when-present", "never", "always", "when-not-present"),
    "ddns-generated-prefix": "str",
    "ddns-qualifying-suffix": "str",
    "ddns-update-on-renew": "bool",
    "ddns-use-conflict-resolution": "bool",
    "hostname-char-set": "str",
    "hostname-char-replacement": "str",
}

# Parameters every network level (global, shared network, subnet) may set.
_NETWORK = {
    **_DDNS,
    "valid-lifetime": "int",
    "min-valid-lifetime": "int",
    "max-valid-lifetime": "int",
    "renew-timer": "int",
    "rebind-timer": "int",
    "calculate-tee-times": "bool",
    "t1-percent": "real",
    "t2-percent": "real",
    "option-data": "[@option-data]",
    "reservation-mode": ("disabled", "out-of-pool", "global", "all"),
    "reservations-global": "bool",
    "reservations-in-subnet": "bool",
    "reservations-out-of-pool": "bool",
    "store-extended-info": "bool",
    "cache-threshold": "real",
    "cache-max-age": "int",
    "user-context": "map",
    "comment": "str",
}
_SUBNET_LEVEL = {
    "client-class": "str",
    "require-client-classes": "[str]",
    "interface": "str",
    "relay": "@relay",
}
_V4_NETWORK = {
    "authoritative": "bool",
    "boot-file-name": "str",
    "match-client-id": "bool",
    "next-server": "str",
    "server-hostname": "str",
}
_V6_NETWORK = {
    "preferred-lifetime": "int",
    "min-preferred-lifetime": "int",
    "max-preferred-lifetime": "int",
}
_V6_SUBNET_LEVEL = {"interface-id": "str", "rapid-commit": "bool"}

_DATABASE = {
    # "sqlite" is a keactl extension (Kea has no such back end): one local file.
    "type": ("memfile", "mysql", "postgresql", "sqlite"),
    "name": "str",
    "host": "str",
    "port": "int",
    "user": "str",
    "password": "str",
    "persist": "bool",
    "lfc-interval": "int",
    "readonly": "bool",
    "connect-timeout": "int",
    "max-reconnect-tries": "int",
    "reconnect-wait-time": "int",
    "max-row-errors": "int",
    "on-fail": ("stop-retry-exit", "serve-retry-exit", "serve-retry-continue"),
    "trust-anchor": "str",
    "cert-file": "str",
    "key-file": "str",
    "cipher-list": "str",
    "user-context": "map",
    "comment": "str",
}

_GLOBAL = {
    **_NETWORK,
    "decline-probation-period": "int",
    "compatibility": "@compatibility",
    "config-control": "@config-control",
    "control-socket": "@control-socket",
    "dhcp-ddns": "@dhcp-ddns",
    # Kea passes any extra key through to the queue implementation.
    "dhcp-queue-control": "map",
    "dhcp4o6-port": "int",
    "early-global-reservations-lookup": "bool",
    "expired-leases-processing": "@expired-leases-processing",
    "hooks-libraries": "[@hooks-library]",
    "hosts-database": "@database",
    "hosts-databases": "[@database]",
    "interfaces-config": None,  # family-specific, filled below
    "ip-reservations-unique": "bool",
    "lease-database": "@database",
    "loggers": "[@logger]",
    "multi-threading": "@multi-threading",
    "option-def": "[@option-def]",
    "parked-packet-limit": "int",
    "reservations": None,
    "reservations-lookup-first": "bool",
    "sanity-checks": "@sanity-checks",
    "server-tag": "str",
    "shared-networks": None,
    "statistic-default-sample-age": "int",
    "statistic-default-sample-count": "int",
    "host-reservation-identifiers": None,
}

_IDENTIFIERS4 = ("hw-address", "duid", "circuit-id", "client-id", "flex-id")
_IDENTIFIERS6 = ("hw-address", "duid", "flex-id")

SCOPES = {
    "Dhcp4": {
        **_GLOBAL, **_V4_NETWORK,
        "echo-client-id": "bool",
        "client-classes": "[@client-class4]",
        "interfaces-config": "@interfaces-config4",
        "reservations": "[@reservation4]",
        "shared-networks": "[@shared-network4]",
        "subnet4": "[@subnet4]",
        "host-reservation-identifiers": ("[", _IDENTIFIERS4),
    },
    "Dhcp6": {
        **_GLOBAL, **_V6_NETWORK,
        "data-directory": "str",
        "client-classes": "[@client-class6]",
        "mac-sources": "[str]",
        "relay-supplied-options": "[str]",
        "server-id": "@server-id",
        "interfaces-config": "@interfaces-config6",
        "reservations": "[@reservation6]",
        "shared-networks": "[@shared-network6]",
        "subnet6": "[@subnet6]",
        "host-reservation-identifiers": ("[", _IDENTIFIERS6),
    },
    "shared-network4": {
        **_NETWORK, **_SUBNET_LEVEL, **_V4_NETWORK,
        "name": "str",
        "subnet4": "[@subnet4]",
    },
    "shared-network6": {
        **_NETWORK, **_SUBNET_LEVEL, **_V6_NETWORK, **_V6_SUBNET_LEVEL,
        "name": "str",
        "subnet6": "[@subnet6]",
    },
    "subnet4": {
        **_NETWORK, **_SUBNET_LEVEL, **_V4_NETWORK,
        "id": "int",
        "subnet": "str",
        "pools": "[@pool]",
        "reservations": "[@reservation4]",
        "4o6-interface": "str",
        "4o6-interface-id": "str",
        "4o6-subnet": "str",
    },
    "subnet6": {
        **_NETWORK, **_SUBNET_LEVEL, **_V6_NETWORK, **_V6_SUBNET_LEVEL,
        "id": "int",
        "subnet": "str",
        "pools": "[@pool]",
        "pd-pools": "[@pd-pool]",
        "reservations": "[@reservation6]",
    },
    "pool": {
        "pool": "str",
        "client-class": "str",
        "require-client-classes": "[str]",
        "option-data": "[@option-data]",
        "user-context": "map",
        "comment": "str",
    },
    "pd-pool": {
        "prefix": "str",
        "prefix-len": "int",
        "delegated-len": "int",
        "excluded-prefix": "str",
        "excluded-prefix-len": "int",
        "client-class": "str",
        "require-client-classes": "[str]",
        "option-data": "[@option-data]",
        "user-context": "map",
        "comment": "str",
    },
    "reservation4": {
        "hw-address": "str",
        "duid": "str",
        "circuit-id": "str",
        "client-id": "str",
        "flex-id": "str",
        "ip-address": "str",
        "hostname": "str",
        "client-classes": "[str]",
        "option-data": "[@option-data]",
        "next-server": "str",
        "server-hostname": "str",
        "boot-file-name": "str",
        "user-context": "map",
        "comment": "str",
    },
    "reservation6": {
        "hw-address": "str",
        "duid": "str",
        "flex-id": "str",
        "ip-addresses": "[str]",
        "prefixes": "[str]",
        "hostname": "str",
        "client-classes": "[str]",
        "option-data": "[@option-data]",
        "user-context": "map",
        "comment": "str",
    },
    "client-class4": {
        "name": "str",
        "test": "str",
        "only-if-required": "bool",
        "option-data": "[@option-data]",
        "option-def": "[@option-def]",
        "next-server": "str",
        "server-hostname": "str",
        "boot-file-name": "str",
        "valid-lifetime": "int",
        "min-valid-lifetime": "int",
        "max-valid-lifetime": "int",
        "user-context": "map",
        "comment": "str",
    },
    "client-class6": {
        "name": "str",
        "test": "str",
        "only-if-required": "bool",
        "option-data": "[@option-data]",
        "valid-lifetime": "int",
        "min-valid-lifetime": "int",
        "max-valid-lifetime": "int",
        "preferred-lifetime": "int",
        "min-preferred-lifetime": "int",
        "max-preferred-lifetime": "int",
        "user-context": "map",
        "comment": "str",
    },
    "option-def": {
        "name": "str",
        "code": "int",
        "space": "str",
        "type": "str",
        "array": "bool",
        "record-types": "str",
        "encapsulate": "str",
        "user-context": "map",
        "comment": "str",
    },
    "option-data": {
        "name": "str",
        "code": "int",
        "space": "str",
        "data": "str",
        "csv-format": "bool",
        "always-send": "bool",
        # Kea 2.6's never-send (Kea 2.2 rejects it): keactl accepts it, since the
        # server issues ask for it and it breaks nothing a 2.2 config can say.
        "never-send": "bool",
        "user-context": "map",
        "comment": "str",
    },
    # Kea's grammar gives relay exactly one entry: one form or the other.
    "relay": {"ip-address": "str", "ip-addresses": "[str]"},
    "database": _DATABASE,
    "interfaces-config4": {
        "interfaces": "[str]",
        "dhcp-socket-type": ("raw", "udp"),
        "outbound-interface": ("same-as-inbound", "use-routing"),
        "re-detect": "bool",
        "service-sockets-require-all": "bool",
        "service-sockets-max-retries": "int",
        "service-sockets-retry-wait-time": "int",
        "user-context": "map",
        "comment": "str",
    },
    "interfaces-config6": {
        "interfaces": "[str]",
        "re-detect": "bool",
        "service-sockets-require-all": "bool",
        "service-sockets-max-retries": "int",
        "service-sockets-retry-wait-time": "int",
        "user-context": "map",
        "comment": "str",
    },
    "control-socket": {
        "socket-type": "str",
        "socket-name": "str",
        "user-context": "map",
        "comment": "str",
    },
    "hooks-library": {"library": "str", "parameters": "map", "user-context": "map",
                      "comment": "str"},
    "logger": {
        "name": "str",
        "output_options": "[@output-option]",
        "severity": "str",
        "debuglevel": "int",
        "user-context": "map",
        "comment": "str",
    },
    "output-option": {"output": "str", "flush": "bool", "maxsize": "int", "maxver": "int",
                      "pattern": "str"},
    "expired-leases-processing": {
        "reclaim-timer-wait-time": "int",
        "flush-reclaimed-timer-wait-time": "int",
        "hold-reclaimed-time": "int",
        "max-reclaim-leases": "int",
        "max-reclaim-time": "int",
        "unwarned-reclaim-cycles": "int",
        "user-context": "map",
        "comment": "str",
    },
    "dhcp-ddns": {
        "enable-updates": "bool",
        "server-ip": "str",
        "server-port": "int",
        "sender-ip": "str",
        "sender-port": "int",
        "max-queue-size": "int",
        "ncr-protocol": ("UDP", "TCP"),
        "ncr-format": ("JSON",),
        "qualifying-suffix": "str",
        "generated-prefix": "str",
        "override-no-update": "bool",
        "override-client-update": "bool",
        "replace-client-name": ("when-present", "never", "always", "when-not-present"),
        "hostname-char-set": "str",
        "hostname-char-replacement": "str",
        "user-context": "map",
        "comment": "str",
    },
    "multi-threading": {
        "enable-multi-threading": "bool",
        "thread-pool-size": "int",
        "packet-queue-size": "int",
        "user-context": "map",
        "comment": "str",
    },
    "sanity-checks": {"lease-checks": ("none", "warn", "fix", "fix-del", "del")},
    "compatibility": {"lenient-option-parsing": "bool"},
    "config-control": {
        "config-databases": "[@database]",
        "config-fetch-wait-time": "int",
        "user-context": "map",
        "comment": "str",
    },
    "server-id": {
        "type": ("LLT", "EN", "LL"),
        "identifier": "str",
        "time": "int",
        "htype": "int",
        "enterprise-id": "int",
        "persist": "bool",
        "user-context": "map",
        "comment": "str",
    },
}

def _enabled(flag):
    """Unsupported only when the map turns the feature on."""
    return lambda value: isinstance(value, dict) and bool(value.get(flag, False))


def _nonempty(value):
    return value not in ("", 0, None)


# (scope, key) -> UNSUPPORTED | IGNORED | predicate(value) -> unsupported?
SUPPORT = {
    ("Dhcp4", "hosts-database"): UNSUPPORTED,
    ("Dhcp4", "hosts-databases"): UNSUPPORTED,
    ("Dhcp6", "hosts-database"): UNSUPPORTED,
    ("Dhcp6", "hosts-databases"): UNSUPPORTED,
    ("Dhcp4", "config-control"): UNSUPPORTED,
    ("Dhcp6", "config-control"): UNSUPPORTED,
    # keactl sends NCRs to kea-dhcp-ddns over UDP only, as Kea 2.2 does.
    ("dhcp-ddns", "ncr-protocol"): lambda v: v == "TCP",
    ("Dhcp4", "dhcp-queue-control"): _enabled("enable-queue"),
    ("Dhcp6", "dhcp-queue-control"): _enabled("enable-queue"),
    ("Dhcp4", "dhcp4o6-port"): _nonempty,
    ("Dhcp6", "dhcp4o6-port"): _nonempty,
    ("subnet4", "4o6-interface"): _nonempty,
    ("subnet4", "4o6-interface-id"): _nonempty,
    ("subnet4", "4o6-subnet"): _nonempty,
    # keactl runs its own worker model; Kea's thread settings do not apply.
    ("Dhcp4", "multi-threading"): IGNORED,
    ("Dhcp6", "multi-threading"): IGNORED,
    ("database", "type"): lambda value: value == "mysql",
}

# Top-level objects of the other Kea daemons: a warning, then ignored.
OTHER_DAEMONS = ("Dhcp4", "Dhcp6", "DhcpDdns", "Control-agent", "Netconf", "Logging")
