"""The DHCPv6 request pipeline (RFC 8415 sections 16 and 18.3, with Kea 2.2's choices).

The three phases of :class:`~kea_tools.server.pipeline.PipelineBase`, as for
v4: every datagram of a burst runs the fixed steps over its :class:`Exchange6` (parse, hooks, sanity checks, classify,
select subnet, host lookup, the message handler, which stages lease changes in
the LeaseTable6); then all staged changes are written in one back-end batch
(group commit); only then are replies encapsulated for their relays and handed
back, and never one whose leases did not reach storage.

No sockets, no wall clock: datagrams come in as
:class:`~kea_tools.server.interfaces.Incoming` (``local_address`` is the
destination the datagram was sent to, which tells multicast from unicast),
replies go out as :class:`Outgoing6`, and ``clock`` is injected.
"""
import logging
import struct
import time
from dataclasses import dataclass, field

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v6 import MessageType6 as M
from kea_tools.codec.v6 import Packet6, Relay6, parse_options6, parse_packet6
from kea_tools.leases.model import (INFINITE_LFT, STATE_DECLINED, STATE_EXPIRED_RECLAIMED,
                                    TYPE_NA, TYPE_PD, TYPE_TA)

from kea_tools.server import hooks as H
from kea_tools.server.alloc6 import OK as ALLOC_OK
from kea_tools.server.alloc6 import AllocationEngine6, ClientContext, IARequest
from kea_tools.server.ddns import decide_v6
from kea_tools.server.leasetable import CONFLICT
from kea_tools.server.model import int_to_ip6, ip6_to_int
from kea_tools.server.pipeline import PipelineBase
from kea_tools.server.interfaces import Incoming
from kea_tools.server.stats import subnet_stat

log = logging.getLogger("kea-dhcp6.packets")

# Option codes (RFC 8415 section 21, RFC 6603, RFC 6939, RFC 8357).
O_CLIENTID, O_SERVERID, O_IA_NA, O_IA_TA, O_IAADDR, O_ORO = 1, 2, 3, 4, 5, 6
O_STATUS, O_RAPID_COMMIT, O_INTERFACE_ID = 13, 14, 18
O_UNICAST, O_IA_PD, O_IAPREFIX, O_CLIENT_FQDN = 12, 25, 26, 39
O_PD_EXCLUDE, O_CLIENT_LINKLAYER, O_RELAY_SOURCE_PORT = 67, 79, 135
OPT_VENDOR_OPTS = 17
# DOCSIS (CableLabs, enterprise 4491): the one vendor whose clients list the
# vendor sub-options they want, in their sub-option 1 (Kea: DOCSIS3_V6_ORO).
VENDOR_CABLELABS, DOCSIS_ORO = 4491, 1

# Status codes (RFC 8415 section 21.13).
SUCCESS, UNSPEC_FAIL, NO_ADDRS_AVAIL, NO_BINDING, NOT_ON_LINK, USE_MULTICAST = 0, 1, 2, 3, 4, 5
NO_PREFIX_AVAIL = 6

SERVER_PORT, CLIENT_PORT = 547, 546

IA_CODE = {TYPE_NA: O_IA_NA, TYPE_TA: O_IA_TA, TYPE_PD: O_IA_PD}
IA_TYPE = {code: kind for kind, code in IA_CODE.items()}
NO_BINDING_TEXT = {TYPE_NA: "Sorry, no known leases for this duid/iaid.",
                   TYPE_TA: "Sorry, no known leases for this duid/iaid.",
                   TYPE_PD: "Sorry, no known PD leases for this duid/iaid."}
NO_LEASE_STATUS = {TYPE_NA: (NO_ADDRS_AVAIL, "Sorry, no address could be allocated."),
                   TYPE_TA: (NO_ADDRS_AVAIL, "Sorry, no address could be allocated."),
                   TYPE_PD: (NO_PREFIX_AVAIL, "Sorry, no prefixes could be allocated.")}

# Kea's per-message received counters; pkt6-unknown-received for the rest.
RECEIVED_STAT = {
    M.SOLICIT: "pkt6-solicit-received", M.ADVERTISE: "pkt6-advertise-received",
    M.REQUEST: "pkt6-request-received", M.CONFIRM: "pkt6-confirm-received",
    M.RENEW: "pkt6-renew-received", M.REBIND: "pkt6-rebind-received",
    M.REPLY: "pkt6-reply-received", M.RELEASE: "pkt6-release-received",
    M.DECLINE: "pkt6-decline-received", M.RECONFIGURE: "pkt6-reconfigure-received",
    M.INFORMATION_REQUEST: "pkt6-infrequest-received",
    M.DHCPV4_QUERY: "pkt6-dhcpv4-query-received",
    M.DHCPV4_RESPONSE: "pkt6-dhcpv4-response-received",
}
SENT_STAT = {M.ADVERTISE: "pkt6-advertise-sent", M.REPLY: "pkt6-reply-sent"}

# Statistics kea-dhcp6 2.2 creates at start-up, then the per-subnet ones.
GLOBAL_V6 = (
    "pkt6-received", "pkt6-solicit-received", "pkt6-advertise-received",
    "pkt6-request-received", "pkt6-reply-received", "pkt6-renew-received",
    "pkt6-rebind-received", "pkt6-release-received", "pkt6-decline-received",
    "pkt6-infrequest-received", "pkt6-dhcpv4-query-received",
    "pkt6-dhcpv4-response-received", "pkt6-unknown-received", "pkt6-sent",
    "pkt6-advertise-sent", "pkt6-reply-sent", "pkt6-dhcpv4-response-sent",
    "pkt6-parse-failed", "pkt6-receive-drop",
    "cumulative-assigned-nas", "cumulative-assigned-pds", "declined-addresses",
    "reclaimed-declined-addresses", "reclaimed-leases",
    "v6-allocation-fail", "v6-allocation-fail-shared-network", "v6-allocation-fail-subnet",
    "v6-allocation-fail-no-pools", "v6-allocation-fail-classes",
)
SUBNET_V6 = (
    "total-nas", "assigned-nas", "cumulative-assigned-nas", "total-pds", "assigned-pds",
    "cumulative-assigned-pds", "declined-addresses", "reclaimed-declined-addresses",
    "reclaimed-leases",
)
ASSIGNED_STAT = {TYPE_NA: "assigned-nas", TYPE_TA: "assigned-nas", TYPE_PD: "assigned-pds"}
CUMULATIVE_STAT = {TYPE_NA: "cumulative-assigned-nas", TYPE_TA: "cumulative-assigned-nas",
                   TYPE_PD: "cumulative-assigned-pds"}

# RFC 8415 section 16: (client-id, server-id) presence per message type:
# True mandatory, False forbidden, None optional. A message breaking them is dropped.
SANITY = {
    M.SOLICIT: (True, False), M.REQUEST: (True, True), M.CONFIRM: (True, False),
    M.RENEW: (True, True), M.REBIND: (True, False), M.RELEASE: (True, True),
    M.DECLINE: (True, True), M.INFORMATION_REQUEST: (None, None),
}
# Messages a server must see multicast (section 16); the others may come unicast
# only where the server offered it (Server Unicast option, section 18.4).
MULTICAST_ONLY = frozenset({M.SOLICIT, M.CONFIRM, M.REBIND, M.INFORMATION_REQUEST})
# Options the server builds itself; configured values for them are never copied.
SERVER_SET = frozenset({O_CLIENTID, O_SERVERID, O_IA_NA, O_IA_TA, O_IAADDR, O_ORO, O_STATUS,
                        O_RAPID_COMMIT, O_INTERFACE_ID, O_IA_PD, O_IAPREFIX, 9, 0})
# mac-sources "any", in the order Kea tries its sources (the raw socket source
# needs a packet filter keactl's UDP sockets do not have).
MAC_SOURCE_ORDER = ("ipv6-link-local", "duid", "client-link-addr-option")

_U32 = struct.Struct("!I")
_IA = struct.Struct("!III")
_ADDR_LFT = struct.Struct("!II")


@dataclass(slots=True)
class Outgoing6:
    """A reply to send: bytes, destination address/port, the interface it came on."""

    data: bytes
    address: str
    port: int
    iface: str
    local_address: str = ""
    response: Packet6 = None


@dataclass(slots=True)
class Exchange6:
    """The per-request context the steps read and fill in."""

    tag: int
    incoming: Incoming
    packet: object = None          # Packet6, or the outermost Relay6
    query: Packet6 = None          # the client's message
    relays: list = field(default_factory=list)  # outermost first
    msg_type: int = 0
    duid: bytes | None = None
    hwaddr: tuple | None = None    # (hwtype, bytes, source bit)
    classes: list = field(default_factory=list)
    subnet: object = None
    reservation: object = None
    response: Packet6 = None
    leases: list = field(default_factory=list)   # staged, in the reply
    deleted: list = field(default_factory=list)
    pool: object = None
    oro: list | None = None
    drop: str = ""
    committed_hook: bool = False
    name: object = None            # the DDNS NameDecision (None: no name processing)
    priors: dict = None            # address -> its lease before this exchange (for NCRs)
    # kea_tools.classify.Query over ``packet``, built once per packet; its
    # ``classes`` is the exchange's ``classes``.
    class_query: object = None


def status_option(code, message):
    return Option(O_STATUS, struct.pack("!H", code) + message.encode())


def parse_status(data):
    """(code, message) of a status-code payload."""
    return struct.unpack_from("!H", data)[0], data[2:].decode("utf-8", "replace")


def parse_ia(option):
    """An IA_NA / IA_TA / IA_PD option -> (IARequest, t1, t2), or None if malformed."""
    data, kind = option.data, IA_TYPE[option.code]
    head = 4 if kind == TYPE_TA else 12
    if len(data) < head:
        return None
    iaid = _U32.unpack_from(data)[0]
    try:
        subs = parse_options6(data, head)
    except CodecError:
        return None
    hints = []
    for sub in subs:
        if kind != TYPE_PD and sub.code == O_IAADDR and len(sub.data) >= 24:
            pref, valid = _ADDR_LFT.unpack_from(sub.data, 16)
            hints.append((int.from_bytes(sub.data[:16], "big"), 128, pref, valid))
        elif kind == TYPE_PD and sub.code == O_IAPREFIX and len(sub.data) >= 25:
            pref, valid = _ADDR_LFT.unpack_from(sub.data)
            plen = sub.data[8]
            hints.append((int.from_bytes(sub.data[9:25], "big"), plen, pref, valid))
    return IARequest(kind, iaid, hints)


def pd_exclude(pool):
    """Option 67 payload (RFC 6603 section 4.2): the excluded prefix length and
    the subnet-ID bits between the delegated and the excluded length."""
    bits = pool.excluded_prefix_len - pool.delegated_len
    nbytes = (bits + 7) // 8
    subnet_id = (pool.excluded_prefix >> (128 - pool.excluded_prefix_len)) & ((1 << bits) - 1)
    return bytes((pool.excluded_prefix_len,)) + (subnet_id << (nbytes * 8 - bits)).to_bytes(
        nbytes, "big")


def tee_times(subnet, preferred):
    """T1/T2 from the preferred lifetime (Kea 2.2 setTeeTimes): an explicit timer
    wins, else calculate-tee-times; T1 only when below T2, else 0."""
    if preferred == INFINITE_LFT:
        return INFINITE_LFT, INFINITE_LFT
    t2 = subnet.rebind_timer
    if t2 is None:
        t2 = round(subnet.t2_percent * preferred) if subnet.calculate_tee_times else 0
    t1 = subnet.renew_timer
    if t1 is None:
        t1 = round(subnet.t1_percent * preferred) if subnet.calculate_tee_times else 0
    return (t1 if t1 < t2 else 0), t2


def mac_from_duid(duid):
    """(hwtype, mac) from a DUID-LLT or DUID-LL, else None."""
    if len(duid) >= 4:
        kind, htype = struct.unpack_from("!HH", duid)
        if kind == 1 and len(duid) > 8:
            return htype, duid[8:]
        if kind == 3 and len(duid) > 4:
            return htype, duid[4:]
    return None


def mac_from_link_local(address):
    """The MAC inside a modified EUI-64 link-local address (RFC 4291 appendix A)."""
    if not address or not address.lower().startswith("fe80:"):
        return None
    try:
        iid = ip6_to_int(address.split("%")[0]) & ((1 << 64) - 1)
    except OSError:
        return None
    raw = iid.to_bytes(8, "big")
    if raw[3:5] != b"\xff\xfe":
        return None
    return 1, bytes((raw[0] ^ 0x02,)) + raw[1:3] + raw[5:8]


class Pipeline6(PipelineBase):
    """The DHCPv6 server's packet path over a model, a LeaseTable6, stats and hooks.

    ``server_duid`` is the server identifier (see :mod:`kea_tools.server.duid`);
    ``unicast_addresses`` are the addresses interfaces-config lists explicitly
    (clients may send REQUEST/RENEW/RELEASE/DECLINE to them); ``client_port``
    overrides the destination port of direct replies (kea-dhcp6 -P, for tests).
    """

    exchange = Exchange6
    family = 6
    log = log

    def __init__(self, model, leases, stats, hooks=None, *, server_duid, clock=time.time,
                 unicast_addresses=frozenset(), client_port=0, ddns=None, sender=None):
        PipelineBase.__init__(self, ddns, sender)
        self.model = model
        self.leases = leases
        self.stats = stats
        self.hooks = hooks or H.HooksManager()
        self.clock = clock
        self.server_duid = server_duid
        self.unicast_addresses = frozenset(unicast_addresses)
        self.client_port = client_port
        self.engine = AllocationEngine6(model, leases, stats)
        self.init_classes()
        self.handlers = {
            M.SOLICIT: self.solicit, M.REQUEST: self.request, M.CONFIRM: self.confirm,
            M.RENEW: self.renew, M.REBIND: self.rebind, M.RELEASE: self.release,
            M.DECLINE: self.decline, M.INFORMATION_REQUEST: self.information_request,
        }

    # --- configuration-time work -------------------------------------------------
    def init_stats(self):
        """Kea's v6 statistics, with the per-subnet gauges counted from the leases
        (a declined lease still counts as assigned, as in Kea's recount)."""
        st = self.stats
        st.init(GLOBAL_V6)
        counts = {}
        declined = {}
        for lease in self.leases.by_addr.values():
            if lease.state == STATE_EXPIRED_RECLAIMED:
                continue
            key = (lease.subnet_id, ASSIGNED_STAT[lease.type])
            counts[key] = counts.get(key, 0) + 1
            if lease.state == STATE_DECLINED:
                declined[lease.subnet_id] = declined.get(lease.subnet_id, 0) + 1
        for subnet in self.model.subnets:
            sid = subnet.id
            st.init(subnet_stat(sid, name) for name in SUBNET_V6)
            st.set(subnet_stat(sid, "total-nas"), subnet.total_nas)
            st.set(subnet_stat(sid, "total-pds"), subnet.total_pds)
            st.set(subnet_stat(sid, "assigned-nas"), counts.get((sid, "assigned-nas"), 0))
            st.set(subnet_stat(sid, "assigned-pds"), counts.get((sid, "assigned-pds"), 0))
            st.set(subnet_stat(sid, "declined-addresses"), declined.get(sid, 0))
        st.set("declined-addresses", sum(declined.values()))

    def orphan_leases(self):
        """Stored leases outside every configured subnet or pool: kept, reported."""
        out = []
        for addr, lease in self.leases.by_addr.items():
            subnet = self.model.subnets_by_id.get(lease.subnet_id)
            if subnet is None or (lease.type != TYPE_PD and addr not in subnet):
                out.append((lease, "not in its subnet"))
            elif lease.type == TYPE_PD and subnet.pd_pool_of(addr, lease.prefix_len) is None \
                    and not subnet.reservations.holders(addr):
                out.append((lease, "outside the subnet's pd-pools"))
            elif lease.type != TYPE_PD and subnet.pool_of(addr) is None \
                    and not subnet.reservations.holders(addr):
                out.append((lease, "outside the subnet's pools"))
        return out

    def failed_commit(self, ex, reason):
        """The leases of this exchange are not stored: its reply never leaves. The
        client retransmits and gets a fresh allocation."""
        ex.response = None
        self.bump("pkt6-receive-drop")
        if reason == CONFLICT:
            # Another server on the same database took the address: look again.
            self.engine.address_freed()
        if self.debug:
            log.debug("DHCP6_LEASE_STORE_FAIL %s: leases not stored (%s), reply dropped",
                      self.label(ex), reason)

    # --- phase 1: per-packet steps -------------------------------------------------
    def receive(self, ex, now):
        st = self.stats
        st.add("pkt6-received")
        data = ex.incoming.data
        if self.hooks.has("buffer6_receive"):
            handle = self.hooks.call("buffer6_receive", {"query6": data})
            if handle.status == H.DROP:
                return self.dropped(ex, "dropped by buffer6_receive")
            data = handle.arguments["query6"]
            if isinstance(data, (Packet6, Relay6)):
                ex.packet = data
        if ex.packet is None:
            try:
                ex.packet = parse_packet6(data)
            except CodecError as err:
                st.add("pkt6-parse-failed")
                return self.dropped(ex, f"malformed packet: {err}")
        pkt = ex.packet
        if isinstance(pkt, Relay6):
            if pkt.msg_type != M.RELAY_FORW:
                st.add("pkt6-unknown-received")
                return self.dropped(ex, "RELAY-REPL sent to a server")
            ex.relays = pkt.relays()
            ex.query = pkt.innermost()
            if not isinstance(ex.query, Packet6):
                st.add("pkt6-parse-failed")
                return self.dropped(ex, "relay message without a client message")
        else:
            ex.query = pkt
        mt = ex.query.msg_type
        ex.msg_type = mt
        st.add(RECEIVED_STAT.get(mt, "pkt6-unknown-received"))
        if not self.accept(ex):
            return None
        if self.early_classify(ex, ex.packet):
            return self.dropped(ex, "dropped as member of the special class 'DROP'")
        if self.hooks.has("pkt6_receive"):
            handle = self.hooks.call("pkt6_receive", {"query6": ex.query})
            if handle.status in (H.SKIP, H.DROP):
                return self.dropped(ex, "dropped by pkt6_receive")
            ex.class_query.refresh()  # the callout may have changed options
        return self.select_and_handle(ex, ex.query, now)

    def label(self, ex):
        q = ex.query
        if q is None:
            return f"from [{ex.incoming.src_address}]:{ex.incoming.src_port}"
        duid = ex.duid.hex(":") if ex.duid else "none"
        name = M(ex.msg_type).name if ex.msg_type in M._value2member_map_ else ex.msg_type
        return f"duid=[{duid}], tid=0x{q.transaction_id:x}, {name}"

    def accept(self, ex):
        """RFC 8415 section 16 sanity checks, the server-id test and the unicast rule."""
        mt, q = ex.msg_type, ex.query
        if mt not in self.handlers:
            return self.dropped(ex, f"message type {mt} is not served") is not None
        need_cid, need_sid = SANITY[mt]
        cids = q.options.get_all(O_CLIENTID)
        sids = q.options.get_all(O_SERVERID)
        if len(cids) > 1 or len(sids) > 1:
            return self.dropped(ex, "more than one client-id or server-id") is not None
        if need_cid and not cids:
            return self.dropped(ex, "no client identifier") is not None
        if need_sid is True and not sids:
            return self.dropped(ex, "no server identifier") is not None
        if need_sid is False and sids:
            return self.dropped(ex, "a server identifier where none may be") is not None
        if sids and sids[0].data != self.server_duid:
            return self.dropped(ex, "server identifier names another server") is not None
        if cids:
            ex.duid = cids[0].data
            if not ex.duid:
                return self.dropped(ex, "empty client identifier") is not None
        if mt == M.INFORMATION_REQUEST and any(c in q.options for c in IA_TYPE):
            return self.dropped(ex, "Information-request with an IA") is not None
        local = ex.incoming.local_address
        if not ex.relays and local and not local.lower().startswith("ff"):
            if mt in MULTICAST_ONLY:
                return self.dropped(ex, "unicast where multicast is required") is not None
            if local.split("%")[0] not in self.unicast_addresses and \
                    O_UNICAST not in self.model.options:
                self.use_multicast(ex)
                return False
        ex.hwaddr = self.client_hwaddr(ex)
        return True

    def use_multicast(self, ex):
        """RFC 8415 section 18.4: unicast without our invitation gets UseMulticast."""
        resp = self.new_response(ex, M.REPLY)
        resp.options.append(status_option(USE_MULTICAST, "Use multicast to contact the server."))
        ex.response = resp

    def client_hwaddr(self, ex):
        """The client's MAC from the configured mac-sources, with Kea's source bit.
        "any" tries them in Kea's bit order: link-local address, DUID, relay option."""
        for source in self.model.mac_sources:
            for kind in MAC_SOURCE_ORDER if source == "any" else (source,):
                found = self.mac_from(kind, ex)
                if found:
                    return found
        return None

    def mac_from(self, kind, ex):
        if kind in ("ipv6-link-local", "rfc4291") and not ex.relays:
            got = mac_from_link_local(ex.incoming.src_address)
            return got and (*got, 2)
        if kind == "duid" and ex.duid:
            got = mac_from_duid(ex.duid)
            return got and (*got, 4)
        if kind in ("client-link-addr-option", "rfc6939") and ex.relays:
            data = ex.relays[-1].options.data(O_CLIENT_LINKLAYER)
            if data and len(data) > 2:
                return struct.unpack_from("!H", data)[0], data[2:], 8
        return None

    # --- host identification -------------------------------------------------------
    @staticmethod
    def identified(ex):
        return ex.duid is not None

    def identifiers(self, ex):
        """(type, value) pairs in host-reservation-identifiers order."""
        out = []
        for kind in self.model.identifiers:
            if kind == "duid" and ex.duid:
                out.append(("duid", ex.duid))
            elif kind == "hw-address" and ex.hwaddr:
                out.append(("hw-address", ex.hwaddr[1]))
        return out

    # --- subnet selection ------------------------------------------------------------
    def select_subnet(self, ex):
        """Kea's selectSubnet6: for relayed traffic the interface-id, then the relay
        addresses, then the link-address of the relay nearest the client; for direct
        traffic the receiving interface, then the client's (global) address."""
        subnets = self.model.subnets
        if ex.relays:
            first = ex.relays[-1]
            iface_id = first.options.data(O_INTERFACE_ID)
            if iface_id is not None:
                for s in subnets:
                    if s.interface_id is not None and s.interface_id == iface_id:
                        return s
            link = ip6_to_int(first.link_address) if first.link_address != "::" else 0
            if link:
                for s in subnets:
                    if link in s.relay_addresses:
                        return s
                for s in subnets:
                    if link in s:
                        return s
            if iface_id is not None or link:
                return None
        iface = ex.incoming.iface
        for s in subnets:
            if s.interface is not None and s.interface == iface:
                return s
        src = ex.incoming.src_address.split("%")[0]
        if src and not src.lower().startswith("fe80"):
            try:
                return self.model.subnet_containing(ip6_to_int(src))
            except OSError:
                return None
        return None

    # --- message handlers ----------------------------------------------------------
    def client_context(self, ex, now, fake):
        d = ex.name
        if d is None:
            return ClientContext(ex.subnet, ex.duid, self.identifiers(ex), tuple(ex.classes),
                                 ex.hwaddr, "", now, fake)
        return ClientContext(ex.subnet, ex.duid, self.identifiers(ex), tuple(ex.classes),
                             ex.hwaddr, d.hostname, now, fake, d.fwd, d.rev)

    # --- DDNS name processing (Kea's processClientFqdn) ------------------------------
    def decide_name(self, ex):
        """Option 39 and the reserved hostname -> ex.name, before allocation.
        False: the option is invalid, and Kea drops such a packet."""
        res = ex.reservation
        reserved = res.hostname if res is not None else ""
        opts = ex.query.options
        if not (reserved or O_CLIENT_FQDN in opts or self.ddns_generates):
            return True
        d = decide_v6(self.ddns.params(ex.subnet.id if ex.subnet is not None else None),
                      opts, reserved)
        if d.drop:
            self.stats.add("pkt6-parse-failed")
            self.dropped(ex, d.reason)
            return False
        if d.reason and self.debug:
            log.debug("DHCP6_NAME_PROC_FAIL %s: %s", self.label(ex), d.reason)
        ex.name = d
        if self.sender is not None:
            ex.priors = {}
        return True

    def name_leases(self, ex, resp, fake):
        """The decided name on every IA_NA lease of the reply (generated from the
        first one's address), option 39 in the reply, and the NCR for the first
        lease. A SOLICIT keeps a name to generate empty, as kea-dhcp6 2.2 does."""
        d = ex.name
        if not fake:
            nas = [lease for lease in ex.leases if lease.type == TYPE_NA]
            if nas:
                first = nas[0]
                d.finish(first.address, self.ddns.params(first.subnet_id))
                for lease in nas:
                    lease.hostname, lease.fqdn_fwd, lease.fqdn_rev = d.hostname, d.fwd, d.rev
                if ex.priors is not None:
                    self.queue_add(ex, first, ex.priors.get(first.address))
        option = d.option
        if option is not None:
            resp.options.append(option)

    def ia_requests(self, ex, types=(TYPE_NA, TYPE_TA, TYPE_PD)):
        out = []
        wanted = {IA_CODE[t] for t in types}
        for opt in ex.query.options:
            if opt.code in wanted:
                ia = parse_ia(opt)
                if ia is not None:
                    out.append(ia)
        return out

    def solicit(self, ex, now):
        rapid = (O_RAPID_COMMIT in ex.query.options and ex.subnet is not None
                 and ex.subnet.rapid_commit)
        return self.assign(ex, now, fake=not rapid, rapid=rapid)

    def request(self, ex, now):
        return self.assign(ex, now, fake=False, rapid=False)

    def assign(self, ex, now, *, fake, rapid):
        """SOLICIT (fake: nothing stored), REQUEST and rapid-commit SOLICIT."""
        msg = M.ADVERTISE if fake else M.REPLY
        if not self.decide_name(ex):
            return None
        resp = self.new_response(ex, msg)
        if rapid:
            resp.options.append(Option(O_RAPID_COMMIT, b""))
        ctx = self.client_context(ex, now, fake)
        for ia in self.ia_requests(ex):
            if ex.subnet is None:
                resp.options.append(self.ia_status(ia, NO_LEASE_STATUS[ia.type][0],
                                                   "Server could not select subnet for this "
                                                   "client"))
                continue
            result = self.engine.allocate(ctx, ia)
            if result.status == ALLOC_OK and not self.lease_select(ex, result, fake):
                result.status, result.lease = "none", None
            if result.status != ALLOC_OK:
                self.allocation_failed(ex, ia)
                resp.options.append(self.ia_status(ia, *NO_LEASE_STATUS[ia.type]))
                continue
            if not fake:
                self.commit_lease(ex, result)
            ex.pool = ex.pool or result.pool
            resp.options.append(self.ia_option(ex, ia, [result.lease], result.subnet))
        if ex.name is not None:
            self.name_leases(ex, resp, fake)
        return self.finish(ex, resp)

    def allocation_failed(self, ex, ia):
        st = self.stats
        sub = ex.subnet
        if not any(sub.pd_pools if ia.type == TYPE_PD else sub.pools
                   for sub in sub.siblings()):
            name = "v6-allocation-fail-no-pools"
        elif sub.shared_network is not None:
            name = "v6-allocation-fail-shared-network"
        else:
            name = "v6-allocation-fail-subnet"
        for stat in ("v6-allocation-fail", name):
            st.add(stat)
            st.add(subnet_stat(sub.id, stat))

    def commit_lease(self, ex, result):
        """Stage the lease (the IA's previous leases go) and keep the gauges in step."""
        st, table, tag = self.stats, self.leases, ex.tag
        lease = result.lease
        if ex.priors is not None and result.renewed:
            ex.priors.setdefault(lease.address, table.by_addr.get(ip6_to_int(lease.address)))
        if result.reclaimed is not None:
            self.queue_remove(ex, result.reclaimed)
        table.stage_put(lease, tag)
        if result.reclaimed is not None:
            self.account_reclaim(result.reclaimed)
        if not result.renewed:
            st.add(CUMULATIVE_STAT[lease.type])
            st.add(subnet_stat(lease.subnet_id, CUMULATIVE_STAT[lease.type]))
            st.add(subnet_stat(lease.subnet_id, ASSIGNED_STAT[lease.type]))
        for old in result.old:
            self.delete_lease(ex, old)
        ex.leases.append(lease)
        ex.committed_hook = True

    def delete_lease(self, ex, old):
        self.leases.stage_delete(old, ex.tag)
        self.queue_remove(ex, old)
        ex.deleted.append(old)
        if old.state != STATE_EXPIRED_RECLAIMED:
            self.stats.add(subnet_stat(old.subnet_id, ASSIGNED_STAT[old.type]), -1)
        if old.state == STATE_DECLINED:
            self.stats.add("declined-addresses", -1)
            self.stats.add(subnet_stat(old.subnet_id, "declined-addresses"), -1)
        self.engine.address_freed()
        ex.committed_hook = True

    def account_reclaim(self, old):
        """Another client's expired lease is taken over: Kea reclaims it first."""
        st = self.stats
        if old.state == STATE_EXPIRED_RECLAIMED:
            return
        st.add(subnet_stat(old.subnet_id, ASSIGNED_STAT[old.type]), -1)
        if old.state == STATE_DECLINED:
            st.add("declined-addresses", -1)
            st.add(subnet_stat(old.subnet_id, "declined-addresses"), -1)
            st.add("reclaimed-declined-addresses")
            st.add(subnet_stat(old.subnet_id, "reclaimed-declined-addresses"))
        st.add("reclaimed-leases")
        st.add(subnet_stat(old.subnet_id, "reclaimed-leases"))

    def renew(self, ex, now):
        return self.extend(ex, now, "lease6_renew")

    def rebind(self, ex, now):
        return self.extend(ex, now, "lease6_rebind")

    def extend(self, ex, now, hook):
        """RENEW / REBIND (RFC 8415 18.3.4-5): extend the IA's leases; addresses the
        client names that are not its own go back with lifetimes 0; an IA with no
        binding gets a new lease when one can be had (RFC 7550, as Kea), else
        NoBinding. IA_TA is not renewed (section 21.5)."""
        if not self.decide_name(ex):
            return None
        resp = self.new_response(ex, M.REPLY)
        ctx = self.client_context(ex, now, False)
        sub = ex.subnet
        rebind = hook == "lease6_rebind"
        ias = self.ia_requests(ex, (TYPE_NA, TYPE_PD))
        if sub is None and rebind and not any(ia.hints for ia in ias):
            return self.dropped(ex, "REBIND from an unknown link without addresses")
        for ia in ias:
            if sub is None:
                if rebind:
                    resp.options.append(self.ia_option(ex, ia, [], None, zero=ia.hints))
                else:
                    resp.options.append(self.ia_status(ia, NO_BINDING,
                                                       "Sorry, no subnet available."))
                continue
            ids = {s.id for s in sub.siblings()}
            current = self.leases.client_leases(ex.duid, ia.iaid, ia.type, ids)
            granted = []
            for lease in current:
                new = self.engine.extend(ctx, ia, lease)
                if new is None:
                    continue
                if self.hooks.has(hook):
                    handle = self.hooks.call(hook, {"query6": ex.query, "lease6": new,
                                                    "ia_" + ("pd" if ia.type == TYPE_PD
                                                             else "na"): ia})
                    if handle.status == H.SKIP:
                        granted.append(lease)
                        continue
                    new = handle.arguments["lease6"]
                if ex.priors is not None:
                    ex.priors.setdefault(new.address, lease)
                self.leases.stage_put(new, ex.tag)
                ex.leases.append(new)
                ex.committed_hook = True
                granted.append(new)
            held = {ip6_to_int(lease.address) for lease in granted}
            if not granted:
                result = self.engine.allocate(ctx, ia)
                if result.status == ALLOC_OK and self.lease_select(ex, result, False):
                    self.commit_lease(ex, result)
                    granted.append(result.lease)
                    held.add(ip6_to_int(result.lease.address))
            zero = [h for h in ia.hints if h[0] not in held]
            if not granted:
                if rebind and zero:
                    resp.options.append(self.ia_option(ex, ia, [], sub, zero=zero))
                else:
                    resp.options.append(self.ia_status(ia, NO_BINDING, NO_BINDING_TEXT[ia.type]))
                continue
            resp.options.append(self.ia_option(ex, ia, granted, sub, zero=zero))
        if ex.name is not None:
            self.name_leases(ex, resp, False)
        return self.finish(ex, resp)

    def owned(self, ex, ia, hint, verb):
        """The client's lease named by ``hint`` in ``ia``, or (None, Kea's reason)."""
        lease = self.leases.by_addr.get(hint[0])
        if lease is None or lease.type != ia.type or lease.state == STATE_DECLINED:
            return None, ("Sorry, no known leases for this duid/iaid, can't release."
                          if verb == "release" else "Server does not know about such an "
                                                    "address.")
        if lease.duid != ex.duid:
            return None, f"This address does not belong to you, you can't {verb} it"
        if lease.iaid != ia.iaid:
            return None, "This is your address, but you used wrong IAID"
        return lease, ""

    def release(self, ex, now):
        """RELEASE (18.3.7): delete each named lease the client holds; NoBinding in
        the IA for the others; Kea's summary status at the top (NoBinding when an
        IA failed, as kea-dhcp6 2.2 answers)."""
        resp = self.new_response(ex, M.REPLY)
        general = SUCCESS
        for ia in self.ia_requests(ex, (TYPE_NA, TYPE_TA, TYPE_PD)):
            released, reason = False, ("You did not include a prefix in your RELEASE"
                                       if ia.type == TYPE_PD else
                                       "You did not include an address in your RELEASE")
            for hint in ia.hints:
                lease, reason = self.owned(ex, ia, hint, "release")
                if lease is None:
                    continue
                if self.hooks.has("lease6_release"):
                    handle = self.hooks.call("lease6_release", {"query6": ex.query,
                                                                "lease6": lease})
                    if handle.status in (H.SKIP, H.DROP):
                        reason = "Server failed to release a lease"
                        continue
                self.delete_lease(ex, lease)
                released = True
            if released:
                resp.options.append(self.ia_status(
                    ia, SUCCESS, "Lease released. Thank you, please come again."))
            else:
                general = NO_BINDING
                resp.options.append(self.ia_status(ia, NO_BINDING, reason))
        resp.options.append(status_option(general, "Summary status for all processed IA_NAs"))
        ex.response = resp
        return None

    def decline(self, ex, now):
        """DECLINE (18.3.8): IA_NA addresses only; the lease is kept for
        decline-probation-period with its owner stripped (Kea's Lease6::decline).
        Like kea-dhcp6 2.2, the status goes in each IA and none at the top."""
        resp = self.new_response(ex, M.REPLY)
        probation = self.model.decline_probation_period
        for ia in self.ia_requests(ex, (TYPE_NA,)):
            declined, reason = False, "Server does not know about such an address."
            for hint in ia.hints:
                lease, reason = self.owned(ex, ia, hint, "decline")
                if lease is None:
                    continue
                if self.hooks.has("lease6_decline"):
                    handle = self.hooks.call("lease6_decline", {"query6": ex.query,
                                                                "lease6": lease})
                    if handle.status == H.DROP:
                        return self.dropped(ex, "dropped by lease6_decline")
                    if handle.status == H.SKIP:
                        continue
                new = self.engine.declined(lease, now, probation)
                self.leases.stage_put(new, ex.tag)
                self.queue_remove(ex, lease)
                self.stats.add("declined-addresses")
                self.stats.add(subnet_stat(lease.subnet_id, "declined-addresses"))
                ex.leases.append(new)
                ex.committed_hook = True
                declined = True
                log.info("DHCP6_DECLINE_LEASE %s: address %s declined, probation %d s",
                         self.label(ex), lease.address, probation)
            if declined:
                resp.options.append(self.ia_status(
                    ia, SUCCESS, "Lease declined. Hopefully the next one will be better."))
            else:
                resp.options.append(self.ia_status(ia, NO_BINDING, reason))
        ex.response = resp
        return None

    def confirm(self, ex, now):
        """CONFIRM (18.3.3): Success when every address is on the client's link,
        NotOnLink otherwise; no reply when there is nothing to judge."""
        if ex.subnet is None:
            return self.dropped(ex, "CONFIRM from a link with no subnet")
        addresses = [h[0] for ia in self.ia_requests(ex, (TYPE_NA, TYPE_TA)) for h in ia.hints]
        if not addresses:
            return self.dropped(ex, "CONFIRM without addresses")
        links = ex.subnet.siblings()
        off = next((a for a in addresses if not any(a in s for s in links)), None)
        resp = self.new_response(ex, M.REPLY)
        if off is None:
            resp.options.append(status_option(SUCCESS, "All addresses are on-link"))
        else:
            resp.options.append(status_option(NOT_ON_LINK,
                                              f"Address {int_to_ip6(off)} is not on link."))
        return self.finish(ex, resp)

    def information_request(self, ex, now):
        resp = self.new_response(ex, M.REPLY)
        return self.finish(ex, resp)

    # --- replies ---------------------------------------------------------------
    def new_response(self, ex, msg_type):
        q = ex.query
        opts = OptionList()
        cid = q.options.get(O_CLIENTID)
        if cid is not None:
            opts.append(Option(O_CLIENTID, cid.data))
        opts.append(Option(O_SERVERID, self.server_duid))
        return Packet6(msg_type, q.transaction_id, opts)

    def ia_status(self, ia, code, message):
        head = _U32.pack(ia.iaid) if ia.type == TYPE_TA else _IA.pack(ia.iaid, 0, 0)
        return Option(IA_CODE[ia.type], head + _opt(status_option(code, message)))

    def ia_option(self, ex, ia, leases, subnet, zero=()):
        """An IA carrying ``leases`` and, with lifetimes 0, the ``zero`` hints."""
        body = b""
        oro = self.oro(ex)
        for lease in leases:
            address = ip6_to_int(lease.address)
            if lease.type == TYPE_PD:
                sub_opts = b""
                pool = subnet.pd_pool_of(address, lease.prefix_len) if subnet else None
                if pool is not None and pool.excluded_prefix is not None and O_PD_EXCLUDE in oro:
                    sub_opts = _opt(Option(O_PD_EXCLUDE, pd_exclude(pool)))
                body += _opt(Option(O_IAPREFIX, _ADDR_LFT.pack(lease.preferred_lft,
                                                               lease.valid_lft)
                                    + bytes((lease.prefix_len,)) + address.to_bytes(16, "big")
                                    + sub_opts))
            else:
                body += _opt(Option(O_IAADDR, address.to_bytes(16, "big")
                                    + _ADDR_LFT.pack(lease.preferred_lft, lease.valid_lft)))
        for hint in zero:
            if ia.type == TYPE_PD:
                body += _opt(Option(O_IAPREFIX, _ADDR_LFT.pack(0, 0) + bytes((hint[1],))
                                    + hint[0].to_bytes(16, "big")))
            else:
                body += _opt(Option(O_IAADDR, hint[0].to_bytes(16, "big") + _ADDR_LFT.pack(0, 0)))
        if ia.type == TYPE_TA:
            return Option(O_IA_TA, _U32.pack(ia.iaid) + body)
        t1 = t2 = 0
        if leases and subnet is not None:
            t1, t2 = tee_times(subnet, min(lease.preferred_lft for lease in leases))
        return Option(IA_CODE[ia.type], _IA.pack(ia.iaid, t1, t2) + body)

    def oro(self, ex):
        if ex.oro is None:
            data = ex.query.options.data(O_ORO) or b""
            ex.oro = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
        return ex.oro

    def finish(self, ex, resp):
        """Requested, always-send and relay-supplied options; then the reply is ready."""
        self.required_classes(ex)
        merged = self.model.merged_options(ex.subnet, ex.pool, tuple(ex.classes),
                                           ex.reservation)
        opts = resp.options
        present = {o.code for o in opts}
        for code in self.oro(ex):
            if code in present or code in SERVER_SET:
                continue
            item = merged.get(code)
            if item is not None and not item.never_send:
                opts.append(Option(code, item.data))
                present.add(code)
        vendor = False
        for code, item in merged.items():
            if type(code) is tuple:
                vendor = True
            elif item.always_send and not item.never_send and code not in present \
                    and code not in SERVER_SET:
                opts.append(Option(code, item.data))
                present.add(code)
        if vendor:
            self.add_vendor_options(ex, merged, opts)
        if ex.relays and self.model.relay_supplied_options:
            for relay in ex.relays:
                for opt in relay.options:
                    if opt.code in self.model.relay_supplied_options and opt.code not in present:
                        opts.append(Option(opt.code, opt.data))
                        present.add(opt.code)
        ex.response = resp
        if self.debug:
            log.debug("DHCP6_RESPONSE %s: %s with %d lease(s)", self.label(ex),
                      M(resp.msg_type).name, len(ex.leases))
        return None

    @staticmethod
    def add_vendor_options(ex, merged, opts):
        """Sub-options of the vendor the query's option 17 names, in a new option
        17, as Kea 2.2's appendRequestedVendorOptions does: a DOCSIS client (4491)
        lists the codes it wants in its sub-option 1 (ORO); the vendor's
        always-send sub-options come too; sub-options are packed in code order."""
        req = ex.query.options.data(OPT_VENDOR_OPTS)
        if req is None or len(req) < 4:
            return
        vendor = int.from_bytes(req[:4], "big")
        requested = []
        if vendor == VENDOR_CABLELABS:
            subs = parse_options6(req, 4)
            oro = subs.data(DOCSIS_ORO) if DOCSIS_ORO in subs else b""
            requested.extend(int.from_bytes(oro[i:i + 2], "big")
                             for i in range(0, len(oro) - 1, 2))
        for key, item in merged.items():
            if type(key) is tuple and key[0] == vendor and item.always_send \
                    and key[1] not in requested:
                requested.append(key[1])
        found = {}
        for code in requested:
            item = merged.get((vendor, code))
            if item is not None and code not in found:
                found[code] = item.data
        if found:
            opts.append(Option(OPT_VENDOR_OPTS, vendor.to_bytes(4, "big") + b"".join(
                code.to_bytes(2, "big") + len(found[code]).to_bytes(2, "big") + found[code]
                for code in sorted(found))))

    # --- phase 3: after the commit -------------------------------------------------
    def send(self, ex):
        hooks = self.hooks
        resp = self.send_hooks(ex, ex.response, list(ex.leases))
        if resp is None:
            return None
        # kea-dhcp6 keeps a message's options in a multimap by code, so they go
        # out in code order (stable among equal codes): do the same.
        resp.options.sort(key=_code)
        inc = ex.incoming
        if ex.relays:
            message = resp
            for relay in reversed(ex.relays):
                echoed = [o for o in relay.options
                          if o.code in (O_INTERFACE_ID, O_RELAY_SOURCE_PORT)]
                message = Relay6(M.RELAY_REPL, relay.hop_count, relay.link_address,
                                 relay.peer_address, OptionList(echoed), message)
            outer = ex.relays[0]
            # RFC 8357: a relay that named its source port gets the reply there.
            port = inc.src_port if O_RELAY_SOURCE_PORT in outer.options else SERVER_PORT
            data = message.build()
        else:
            port = self.client_port or CLIENT_PORT
            data = resp.build()
        if hooks.has("buffer6_send"):
            handle = hooks.call("buffer6_send", {"response6": data})
            if handle.status in (H.SKIP, H.DROP):
                return None
            data = handle.arguments["response6"]
        st = self.stats
        st.add("pkt6-sent")
        sent = SENT_STAT.get(resp.msg_type)
        if sent is not None:
            st.add(sent)
        return Outgoing6(data, inc.src_address, port, inc.iface, inc.local_address, resp)


def _code(option):
    return option.code


def _opt(option):
    return struct.pack("!HH", option.code, len(option.data)) + option.data


__all__ = ["Exchange6", "Incoming", "Outgoing6", "Pipeline6", "GLOBAL_V6", "SUBNET_V6",
           "int_to_ip6", "parse_status", "tee_times", "pd_exclude"]
