"""The validated configuration: what the server reads on its hot path.

Every value here is already checked and carries Kea 2.2's defaults.  Network
parameters are *effective*: a subnet's ``valid_lifetime`` is its own, else its
shared network's, else the global one (Kea's inheritance; pools take part only
through their option-data).  Option data is kept per level (global, class, shared
network, subnet, pool, reservation) because merging them is per-packet work.
Addresses in pools and subnets are ints for fast range tests; reservation
addresses are canonical text, as leases store them.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Triplet:
    """Kea's (min, default, max) lifetime triplet."""

    min: int
    default: int
    max: int

    def clamp(self, requested):
        """A client's requested lifetime bounded to [min, max]; 0/None means default."""
        if not requested:
            return self.default
        return min(max(requested, self.min), self.max)


@dataclass(slots=True)
class OptionData:
    """One ``option-data`` entry resolved to its wire payload (without code/length)."""

    code: int
    space: str
    payload: bytes
    name: str | None = None
    data: str = ""
    csv_format: bool = True
    always_send: bool = False
    never_send: bool = False


@dataclass(slots=True)
class ClientClass:
    name: str
    test: str = ""
    only_if_required: bool = False
    option_data: list[OptionData] = field(default_factory=list)
    # the codec's OptionDef values (kea_tools.codec.optiondefs)
    option_def: list = field(default_factory=list)
    next_server: str | None = None
    server_hostname: str | None = None
    boot_file_name: str | None = None
    valid_lifetime: Triplet | None = None
    preferred_lifetime: Triplet | None = None


@dataclass(slots=True)
class Reservation:
    """A host reservation; ``subnet_id`` 0 means a global reservation.

    ``identifier`` is the raw identifier bytes of ``identifier_type`` (one of
    hw-address, duid, circuit-id, client-id, flex-id).
    """

    identifier_type: str
    identifier: bytes
    subnet_id: int = 0
    ip_address: str | None = None
    ip_addresses: tuple[str, ...] = ()
    prefixes: tuple[tuple[str, int], ...] = ()
    hostname: str = ""
    client_classes: tuple[str, ...] = ()
    option_data: list[OptionData] = field(default_factory=list)
    next_server: str | None = None
    server_hostname: str | None = None
    boot_file_name: str | None = None


@dataclass(slots=True)
class Pool:
    """An address pool: ``start``..``end`` inclusive, as integers."""

    start: int
    end: int
    client_class: str | None = None
    require_client_classes: tuple[str, ...] = ()
    option_data: list[OptionData] = field(default_factory=list)

    def __contains__(self, address):
        return self.start <= address <= self.end

    @property
    def size(self):
        return self.end - self.start + 1


@dataclass(slots=True)
class PdPool:
    """A prefix-delegation pool: ``delegated_len`` prefixes out of prefix/prefix_len."""

    prefix: int
    prefix_len: int
    delegated_len: int
    excluded_prefix: int | None = None
    excluded_prefix_len: int = 0
    client_class: str | None = None
    require_client_classes: tuple[str, ...] = ()
    option_data: list[OptionData] = field(default_factory=list)

    @property
    def size(self):
        return 1 << (self.delegated_len - self.prefix_len)


@dataclass(slots=True)
class NetworkParams:
    """The parameters every network level carries, after inheritance.

    ``ddns`` holds the ddns-* and hostname-char-* keys by their Kea names.
    Timers are None when not configured (then T1/T2 follow calculate-tee-times).
    """

    valid_lifetime: Triplet
    renew_timer: int | None
    rebind_timer: int | None
    calculate_tee_times: bool
    t1_percent: float
    t2_percent: float
    reservations_global: bool
    reservations_in_subnet: bool
    reservations_out_of_pool: bool
    store_extended_info: bool
    cache_threshold: float | None
    cache_max_age: int | None
    ddns: dict
    client_class: str | None = None
    require_client_classes: tuple[str, ...] = ()
    interface: str | None = None
    relay_addresses: tuple[str, ...] = ()
    # v4
    authoritative: bool = False
    match_client_id: bool = True
    next_server: str = "0.0.0.0"
    server_hostname: str = ""
    boot_file_name: str = ""
    # v6
    preferred_lifetime: Triplet | None = None
    interface_id: bytes | None = None
    rapid_commit: bool = False


@dataclass(slots=True)
class SharedNetwork:
    name: str
    params: NetworkParams
    option_data: list[OptionData]
    subnets: list = field(default_factory=list)


@dataclass(slots=True)
class Subnet:
    """A subnet4 or subnet6 with its effective parameters.

    ``network``/``prefix_len`` give the prefix; ``prefix`` is its text as configured.
    """

    id: int
    prefix: str
    network: int
    prefix_len: int
    params: NetworkParams
    pools: list[Pool] = field(default_factory=list)
    pd_pools: list[PdPool] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    option_data: list[OptionData] = field(default_factory=list)
    shared_network: SharedNetwork | None = None
    user_context: dict | None = None
    family: int = 4

    def __contains__(self, address):
        """Whether an address (an int) is inside this subnet's prefix."""
        bits = 32 if self.family == 4 else 128
        return (address >> (bits - self.prefix_len)) == (self.network >> (bits - self.prefix_len))


@dataclass(slots=True)
class InterfacesConfig:
    interfaces: tuple[str, ...] = ()
    dhcp_socket_type: str = "raw"
    outbound_interface: str = "same-as-inbound"
    re_detect: bool = True
    service_sockets_require_all: bool = False
    service_sockets_max_retries: int = 0
    service_sockets_retry_wait_time: int = 5000


@dataclass(slots=True)
class Database:
    """``lease-database`` (and, when supported, host databases) by Kea names."""

    type: str = "memfile"
    name: str | None = None
    persist: bool = True
    lfc_interval: int = 3600
    params: dict = field(default_factory=dict)


@dataclass(slots=True)
class ControlSocket:
    socket_type: str
    socket_name: str


@dataclass(slots=True)
class HookLibrary:
    library: str
    parameters: dict = field(default_factory=dict)


@dataclass(slots=True)
class LogOutput:
    output: str = "stdout"
    flush: bool = True
    maxsize: int = 10240000
    maxver: int = 1
    pattern: str = ""


@dataclass(slots=True)
class Logger:
    name: str
    severity: str = "INFO"
    debuglevel: int = 0
    output_options: list[LogOutput] = field(default_factory=list)


@dataclass(slots=True)
class ExpiredLeasesProcessing:
    reclaim_timer_wait_time: int = 10
    flush_reclaimed_timer_wait_time: int = 25
    hold_reclaimed_time: int = 3600
    max_reclaim_leases: int = 100
    max_reclaim_time: int = 250
    unwarned_reclaim_cycles: int = 5


@dataclass(slots=True)
class DhcpConfig:
    """A validated Dhcp4 or Dhcp6 section.

    ``subnets`` holds every subnet (shared-network members too) ordered by id;
    ``raw`` is the section as the user wrote it (for config-get / config-write).
    """

    family: int
    params: NetworkParams
    subnets: list[Subnet]
    shared_networks: list[SharedNetwork]
    client_classes: list[ClientClass]
    reservations: list[Reservation]
    option_data: list[OptionData]
    option_defs: list  # kea_tools.codec.optiondefs.OptionDef
    interfaces_config: InterfacesConfig
    lease_database: Database
    control_socket: ControlSocket | None
    hooks_libraries: list[HookLibrary]
    loggers: list[Logger]
    expired_leases_processing: ExpiredLeasesProcessing
    host_reservation_identifiers: tuple[str, ...]
    decline_probation_period: int = 86400
    ip_reservations_unique: bool = True
    early_global_reservations_lookup: bool = False
    reservations_lookup_first: bool = False
    parked_packet_limit: int = 256
    statistic_default_sample_count: int = 20
    statistic_default_sample_age: int = 0
    server_tag: str = ""
    lease_checks: str = "warn"
    lenient_option_parsing: bool = False
    echo_client_id: bool = True
    # v6 only
    data_directory: str | None = None
    mac_sources: tuple[str, ...] = ()
    relay_supplied_options: tuple[str, ...] = ()
    server_id: dict | None = None
    raw: dict = field(default_factory=dict)
    subnet_by_id: dict = field(default_factory=dict)
