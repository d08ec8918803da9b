"""The server's compiled view of a Dhcp4 configuration, and the pieces the
Dhcp6 one (:mod:`kea_tools.server.model6`) shares with it.

The validated config model (kea_tools.config) says what the user wrote, with
inheritance resolved; this module holds what the packet path needs, in the form
it needs it: addresses as integers, option-data as ready-to-send bytes keyed by
code, reservations indexed by identifier and by address, and one merged option
table per (subnet, pool, classes, reservation) computed once and cached.
:func:`kea_tools.server.configmap.build_model` maps the config model onto it.
"""
import ipaddress
import socket
import struct
from dataclasses import dataclass, field

_IP = struct.Struct("!I")

# host-reservation-identifiers (Kea's names) in Kea's default v4 order.
DEFAULT_IDENTIFIERS = ("hw-address", "duid", "circuit-id", "client-id")


def ip_to_int(text):
    return _IP.unpack(socket.inet_aton(text))[0]


def int_to_ip(value):
    return socket.inet_ntoa(_IP.pack(value))


def ip6_to_int(text):
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")


def int_to_ip6(value):
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def in_prefix(address, network, prefix_len, bits=128):
    shift = bits - prefix_len
    return (address >> shift) == (network >> shift)


@dataclass(slots=True, frozen=True)
class OptionItem:
    """One configured option: code, payload, and Kea's send flags."""

    code: int
    data: bytes
    always_send: bool = False
    never_send: bool = False


def option_table(items):
    """Items -> {code: item}; at one level the first definition of a code wins."""
    table = {}
    for item in items:
        table.setdefault(item.code, item)
    return table


@dataclass(slots=True)
class BootFields:
    """next-server / server-hostname / boot-file-name at one level (None: unset)."""

    next_server: str | None = None
    server_hostname: str | None = None
    boot_file_name: str | None = None


@dataclass(slots=True)
class Lifetimes:
    """valid-lifetime triplet at one level; None where the level does not set it."""

    valid: int | None = None
    min: int | None = None
    max: int | None = None


@dataclass(slots=True)
class ClientClass4:
    """A client class: ``test`` is a compiled kea_tools.classify expression, or None."""

    name: str
    test: object = None
    depends_on_known: bool = False
    only_if_required: bool = False
    options: dict = field(default_factory=dict)
    boot: BootFields = field(default_factory=BootFields)
    lifetimes: Lifetimes = field(default_factory=Lifetimes)


@dataclass(slots=True)
class Reservation4:
    """A host reservation (in a subnet or global: subnet_id 0)."""

    identifier_type: str
    identifier: bytes
    address: int | None = None
    hostname: str = ""
    client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    boot: BootFields = field(default_factory=BootFields)
    subnet_id: int = 0

    def leased_values(self):
        return () if self.address is None else (self.address,)


class ReservationIndex:
    """Reservations of one subnet (or the global ones) by identifier and by address
    (v4: a reservation's ``address``; v6: its ``addresses`` and ``prefixes``)."""

    __slots__ = ("by_id", "by_address", "all")

    def __init__(self, reservations=()):
        self.by_id = {}
        self.by_address = {}
        self.all = []
        for res in reservations:
            self.add(res)

    def add(self, res):
        self.all.append(res)
        self.by_id.setdefault((res.identifier_type, res.identifier), res)
        for address in res.leased_values():
            self.by_address.setdefault(address, []).append(res)

    def find(self, identifiers):
        """The first reservation matching ``identifiers`` [(type, bytes)], in order."""
        by_id = self.by_id
        if not by_id:
            return None
        for key in identifiers:
            res = by_id.get(key)
            if res is not None:
                return res
        return None

    def holders(self, address):
        return self.by_address.get(address, ())

    def __len__(self):
        return len(self.all)


@dataclass(slots=True)
class Pool:
    """An address pool (v4, or v6 IA_NA/IA_TA): start..end inclusive."""

    start: int
    end: int
    client_class: str | None = None
    require_client_classes: tuple = ()
    options: dict = field(default_factory=dict)
    # The iterative allocator's cursor: the next address to try.
    cursor: int = 0

    def __post_init__(self):
        if not self.cursor:
            self.cursor = self.start

    @property
    def size(self):
        return self.end - self.start + 1

    def __contains__(self, address):
        return self.start <= address <= self.end


@dataclass(slots=True)
class SharedNetwork4:
    name: str
    subnets: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    relay_addresses: frozenset = frozenset()
    interface: str | None = None
    client_class: str | None = None
    require_client_classes: tuple = ()


class SubnetScope:
    """What v4 and v6 subnets share: pools and the shared network's siblings."""

    __slots__ = ()

    def pool_of(self, address):
        for pool in self.pools:
            if pool.start <= address <= pool.end:
                return pool
        return None

    def siblings(self):
        """This subnet and then the other subnets of its shared network (Kea's order)."""
        if self.shared_network is None:
            return (self,)
        return (self, *(s for s in self.shared_network.subnets if s is not self))


@dataclass(slots=True)
class Subnet4(SubnetScope):
    """A subnet with every inherited parameter already resolved."""

    id: int
    prefix: str
    network: int = 0
    mask: int = 0
    pools: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    valid_lifetime: int = 7200
    min_valid_lifetime: int | None = None
    max_valid_lifetime: int | None = None
    renew_timer: int | None = None
    rebind_timer: int | None = None
    calculate_tee_times: bool = False
    t1_percent: float = 0.5
    t2_percent: float = 0.875
    relay_addresses: frozenset = frozenset()
    interface: str | None = None
    client_class: str | None = None
    require_client_classes: tuple = ()
    authoritative: bool = False
    match_client_id: bool = True
    reservations_global: bool = False
    reservations_in_subnet: bool = True
    reservations_out_of_pool: bool = False
    boot: BootFields = field(default_factory=BootFields)
    reservations: ReservationIndex = field(default_factory=ReservationIndex)
    shared_network: SharedNetwork4 | None = None
    user_context: dict | None = None

    def __post_init__(self):
        net = ipaddress.IPv4Network(self.prefix, strict=False)
        self.network = int(net.network_address)
        self.mask = int(net.netmask)

    def __contains__(self, address):
        return address & self.mask == self.network

    @property
    def prefix_len(self):
        return bin(self.mask).count("1")

    @property
    def mask_bytes(self):
        return _IP.pack(self.mask)

    @property
    def total_addresses(self):
        return sum(pool.size for pool in self.pools)


@dataclass(slots=True)
class ExpiredLeasesProcessing:
    reclaim_timer_wait_time: int = 10
    flush_reclaimed_timer_wait_time: int = 25
    hold_reclaimed_time: int = 3600
    max_reclaim_leases: int = 100
    max_reclaim_time: int = 250
    unwarned_reclaim_cycles: int = 5


class OptionScopes:
    """What the v4 and v6 server models share: lookups by id and name, and the
    merged option table per (subnet, pool, classes, reservation)."""

    __slots__ = ()

    def index(self):
        self.subnets_by_id = {s.id: s for s in self.subnets}
        self.classes_by_name = {c.name: c for c in self.classes}
        self._merged = {}

    def subnet_containing(self, address):
        for subnet in self.subnets:
            if address in subnet:
                return subnet
        return None

    def merged_options(self, subnet, pool, classes, reservation):
        """Options by precedence: reservation > pool > subnet > shared network >
        classes (first assigned wins) > global. Cached per combination."""
        key = (subnet.id if subnet else 0, id(pool), classes, id(reservation))
        merged = self._merged.get(key)
        if merged is not None:
            return merged
        merged = dict(self.options)
        by_name = self.classes_by_name
        for name in reversed(classes):
            cls = by_name.get(name)
            if cls is not None:
                merged.update(cls.options)
        if subnet is not None:
            if subnet.shared_network is not None:
                merged.update(subnet.shared_network.options)
            merged.update(subnet.options)
        if pool is not None:
            merged.update(pool.options)
        if reservation is not None:
            merged.update(reservation.options)
        if len(self._merged) < 65536:
            self._merged[key] = merged
        return merged


@dataclass(slots=True)
class ServerModel(OptionScopes):
    """Everything the v4 packet path reads; rebuilt on each (re)configuration."""

    subnets: list = field(default_factory=list)
    shared_networks: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    classes: list = field(default_factory=list)
    boot: BootFields = field(default_factory=BootFields)
    global_reservations: ReservationIndex = field(default_factory=ReservationIndex)
    identifiers: tuple = DEFAULT_IDENTIFIERS
    decline_probation_period: int = 86400
    echo_client_id: bool = True
    expired: ExpiredLeasesProcessing = field(default_factory=ExpiredLeasesProcessing)
    server_tag: str = ""
    subnets_by_id: dict = field(default_factory=dict)
    classes_by_name: dict = field(default_factory=dict)
    _merged: dict = field(default_factory=dict)

    def __post_init__(self):
        self.index()

    def boot_fields(self, subnet):
        """siaddr/sname/file of the subnet, inherited from the global ones; the
        pipeline layers the classes' and the reservation's on top (Kea's
        setFixedFields)."""
        out = BootFields()
        for level in (self.boot, subnet.boot) if subnet is not None else (self.boot,):
            for name in ("next_server", "server_hostname", "boot_file_name"):
                value = getattr(level, name)
                if value is not None:
                    setattr(out, name, value)
        return out
