"""The server's compiled view of a Dhcp6 configuration (the v4 one and the
shared pieces are in :mod:`kea_tools.server.model`): addresses and prefixes as
integers, option-data as ready-to-send bytes keyed by code (vendor sub-options
already packed into option 17), reservations indexed by identifier, address and
prefix, merged option tables cached per (subnet, pool, classes, reservation).
:func:`kea_tools.server.configmap.build_model6` maps the config model onto it.
"""
import ipaddress
from dataclasses import dataclass, field

from kea_tools.server.model import (ExpiredLeasesProcessing, OptionScopes, ReservationIndex,
                                    SubnetScope, in_prefix)


@dataclass(slots=True)
class Lifetimes6:
    """valid and preferred (default, min, max) at one level; None: not set here."""

    valid: tuple | None = None
    preferred: tuple | None = None


@dataclass(slots=True)
class ClientClass6:
    name: str
    test: object = None
    depends_on_known: bool = False
    only_if_required: bool = False
    options: dict = field(default_factory=dict)
    lifetimes: Lifetimes6 = field(default_factory=Lifetimes6)


@dataclass(slots=True)
class Reservation6:
    """A v6 host reservation (subnet_id 0: global): addresses and prefixes as ints."""

    identifier_type: str
    identifier: bytes
    addresses: tuple = ()
    prefixes: tuple = ()          # ((prefix int, length), ...)
    hostname: str = ""
    client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    subnet_id: int = 0

    def leased_values(self):
        """The keys the lease table uses for what this host holds: addresses and
        the first address of each prefix."""
        return (*self.addresses, *(prefix for prefix, _length in self.prefixes))


@dataclass(slots=True)
class PdPool6:
    """delegated_len prefixes out of prefix/prefix_len; ``cursor`` is an index."""

    prefix: int
    prefix_len: int
    delegated_len: int
    excluded_prefix: int | None = None
    excluded_prefix_len: int = 0
    client_class: str | None = None
    require_client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    cursor: int = 0

    @property
    def size(self):
        return 1 << (self.delegated_len - self.prefix_len)

    @property
    def step(self):
        return 1 << (128 - self.delegated_len)

    def nth(self, index):
        return self.prefix + index * self.step

    def __contains__(self, prefix):
        return in_prefix(prefix, self.prefix, self.prefix_len)


@dataclass(slots=True)
class SharedNetwork6:
    name: str
    subnets: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    client_class: str | None = None
    require_client_classes: tuple = ()


@dataclass(slots=True)
class Subnet6(SubnetScope):
    """A subnet6 with every inherited parameter resolved."""

    id: int
    prefix: str
    network: int = 0
    prefix_len: int = 64
    pools: list = field(default_factory=list)
    pd_pools: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    valid: tuple = (7200, 7200, 7200)         # (default, min, max)
    preferred: tuple = (3600, 3600, 3600)
    renew_timer: int | None = None
    rebind_timer: int | None = None
    calculate_tee_times: bool = True
    t1_percent: float = 0.5
    t2_percent: float = 0.8
    rapid_commit: bool = False
    interface: str | None = None
    interface_id: bytes | None = None
    relay_addresses: frozenset = frozenset()
    client_class: str | None = None
    require_client_classes: tuple = ()
    reservations_global: bool = False
    reservations_in_subnet: bool = True
    reservations_out_of_pool: bool = False
    reservations: ReservationIndex = field(default_factory=ReservationIndex)
    shared_network: SharedNetwork6 | None = None

    def __post_init__(self):
        if not self.network:
            net = ipaddress.IPv6Network(self.prefix, strict=False)
            self.network, self.prefix_len = int(net.network_address), net.prefixlen

    def __contains__(self, address):
        return in_prefix(address, self.network, self.prefix_len)

    def pd_pool_of(self, prefix, length=None):
        for pool in self.pd_pools:
            if prefix in pool and (length is None or length == pool.delegated_len):
                return pool
        return None

    @property
    def total_nas(self):
        return sum(p.size for p in self.pools)

    @property
    def total_pds(self):
        return sum(p.size for p in self.pd_pools)


@dataclass(slots=True)
class ServerModel6(OptionScopes):
    """Everything the v6 packet path reads; rebuilt on each (re)configuration."""

    subnets: list = field(default_factory=list)
    shared_networks: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    classes: list = field(default_factory=list)
    global_reservations: ReservationIndex = field(default_factory=ReservationIndex)
    identifiers: tuple = ("hw-address", "duid")
    decline_probation_period: int = 86400
    relay_supplied_options: frozenset = frozenset({65})
    mac_sources: tuple = ("any",)
    expired: ExpiredLeasesProcessing = field(default_factory=ExpiredLeasesProcessing)
    server_tag: str = ""
    subnets_by_id: dict = field(default_factory=dict)
    classes_by_name: dict = field(default_factory=dict)
    _merged: dict = field(default_factory=dict)

    def __post_init__(self):
        self.index()
