"""The DHCPv4 request pipeline (RFC 2131 section 4.3, with Kea 2.2's choices).

A burst of datagrams goes through the three phases of
:class:`~kea_tools.server.pipeline.PipelineBase`: the fixed steps over each
:class:`Exchange` (parse, hooks, accept checks, classify, select subnet, look up
the host, the message handler, which may stage lease changes in the
LeaseTable); one group commit; then the replies, never an ACK whose lease is
not stored.

Nothing here touches a socket or the wall clock: datagrams come in as
:class:`Incoming`, replies go out as :class:`Outgoing`, and ``clock`` is
injected, so unit tests run the whole pipeline in-process.
"""
import logging
import socket
import struct
import time
from dataclasses import dataclass, field

from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import BOOTREPLY, BOOTREQUEST, Packet4
from kea_tools.leases.model import INFINITE_LFT, STATE_DECLINED, STATE_EXPIRED_RECLAIMED

from kea_tools.server import hooks as H
from kea_tools.server.alloc import NAK as ALLOC_NAK
from kea_tools.server.alloc import OK as ALLOC_OK
from kea_tools.server.alloc import AllocRequest, AllocationEngine
from kea_tools.server.ddns import OPT_FQDN4, decide_v4
from kea_tools.server.interfaces import Incoming
from kea_tools.server.leasetable import CONFLICT
from kea_tools.server.pipeline import PipelineBase
from kea_tools.server.model import int_to_ip, ip_to_int
from kea_tools.server.reply import reply_destination
from kea_tools.server.stats import GLOBAL_V4, SUBNET_V4, subnet_stat

log = logging.getLogger("kea-dhcp4.packets")

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8

OPT_SUBNET_MASK, OPT_ROUTERS, OPT_DNS, OPT_HOSTNAME, OPT_DOMAIN = 1, 3, 6, 12, 15
OPT_REQUESTED_IP, OPT_LEASE_TIME, OPT_MSG_TYPE, OPT_SERVER_ID, OPT_PRL = 50, 51, 53, 54, 55
OPT_T1, OPT_T2, OPT_CLIENT_ID = 58, 59, 61
OPT_RAI, OPT_SUBNET_SELECTION = 82, 118
OPT_VIVSO = 125
OPT_MAX_MESSAGE = 57
# The smallest message a client must take (RFC 2131 section 2: a 312-byte options
# field), as an IP datagram; option 57 counts the IP and UDP headers too.
MIN_MESSAGE, IP_UDP_HEADERS = 576, 28
# DOCSIS (CableLabs, enterprise 4491): the one vendor whose clients name the
# vendor sub-options they want, in their sub-option 1 (Kea: DOCSIS3_V4_ORO).
VENDOR_CABLELABS, DOCSIS_ORO = 4491, 1
RAI_CIRCUIT_ID, RAI_LINK_SELECTION, RAI_SERVER_ID_OVERRIDE, RAI_RELAY_PORT = 1, 5, 11, 19

# Kea sends these whenever they are configured, requested or not
# (Dhcpv4Srv::appendBasicOptions).
BASIC_OPTIONS = (OPT_ROUTERS, OPT_DNS, OPT_DOMAIN)
# Options the server sets itself; configured values for them are not copied
# blindly from option-data (server-id is, when configured: Kea allows that).
SERVER_SET = frozenset({OPT_SUBNET_MASK, OPT_LEASE_TIME, OPT_MSG_TYPE, OPT_SERVER_ID,
                        OPT_T1, OPT_T2, OPT_CLIENT_ID, OPT_RAI, 0, 255})

RECEIVED_STAT = {
    DISCOVER: "pkt4-discover-received", OFFER: "pkt4-offer-received",
    REQUEST: "pkt4-request-received", DECLINE: "pkt4-decline-received",
    ACK: "pkt4-ack-received", NAK: "pkt4-nak-received", RELEASE: "pkt4-release-received",
    INFORM: "pkt4-inform-received",
}
SENT_STAT = {OFFER: "pkt4-offer-sent", ACK: "pkt4-ack-sent", NAK: "pkt4-nak-sent"}
MSG_NAME = {DISCOVER: "DHCPDISCOVER", OFFER: "DHCPOFFER", REQUEST: "DHCPREQUEST",
            DECLINE: "DHCPDECLINE", ACK: "DHCPACK", NAK: "DHCPNAK", RELEASE: "DHCPRELEASE",
            INFORM: "DHCPINFORM"}

# Classifier.fixed_fields keys -> BootFields attributes.
BOOT_ATTR = {"next-server": "next_server", "server-hostname": "server_hostname",
             "boot-file-name": "boot_file_name"}

_U32 = struct.Struct("!I")
_U16 = struct.Struct("!H")
ZERO = "0.0.0.0"
BROADCAST = "255.255.255.255"


@dataclass(slots=True)
class Outgoing:
    data: bytes
    destination: object
    iface: str
    local_address: str
    response: Packet4 = None


@dataclass(slots=True)
class Exchange:
    """The per-request context the steps read and fill in."""

    tag: int
    incoming: Incoming
    query: Packet4 = None
    msg_type: int = 0
    hwaddr: bytes | None = None
    client_id: bytes | None = None
    rai: dict | None = None
    classes: list = field(default_factory=list)
    subnet: object = None
    reservation: object = None
    response: Packet4 = None
    lease: object = None
    pool: object = None
    deleted: list = field(default_factory=list)
    server_id: str = ZERO
    drop: str = ""
    committed_hook: bool = False
    # The DDNS NameDecision (None: the request needs no name processing).
    name: object = None
    # The query's options by code (first occurrence), built once per packet.
    opts: dict = None
    ids: list = None
    # kea_tools.classify.Query over ``query``, built once per packet; its
    # ``classes`` is the exchange's ``classes``.
    class_query: object = None
    # A BOOTREQUEST without option 53 served through libdhcp_bootp.so.
    bootp: bool = False


_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")
_COOKIE = b"\x63\x82\x53\x63"
_aton = socket.inet_aton


def encode_reply(p):
    """A reply on the wire: what Packet4.build() gives for a reply without option
    overload, built with fewer steps (this runs for every packet sent). Long
    options are split (RFC 3396); relay agent information goes last."""
    parts = [_HEADER.pack(p.op, p.htype, p.hlen, p.hops, p.xid, p.secs, p.flags,
                          _aton(p.ciaddr), _aton(p.yiaddr), _aton(p.siaddr), _aton(p.giaddr),
                          bytes(p.chaddr).ljust(16, b"\0")[:16], bytes(p.sname).ljust(64, b"\0")[:64],
                          bytes(p.file).ljust(128, b"\0")[:128]), _COOKIE]
    append = parts.append
    rai = None
    for opt in p.options:
        code, data = opt.code, opt.data
        if code == OPT_RAI:
            rai = opt
            continue
        n = len(data)
        if n <= 255:
            append(bytes((code, n)))
            append(data)
        else:
            for i in range(0, n, 255):
                chunk = data[i:i + 255]
                append(bytes((code, len(chunk))))
                append(chunk)
    if rai is not None:
        append(bytes((OPT_RAI, len(rai.data))))
        append(rai.data)
    append(b"\xff")
    return b"".join(parts)


# Kea's message ids for a NAK, by the start of the reason the pipeline gives
# (dhcp4_messages.mes): no subnet, INIT-REBOOT, else "failed to grant a lease".
NAK_MESSAGE_IDS = (("no subnet", "DHCP4_PACKET_NAK_0001"),
                   ("INIT-REBOOT", "DHCP4_PACKET_NAK_0002"))


def nak_message_id(reason):
    for prefix, message_id in NAK_MESSAGE_IDS:
        if reason.startswith(prefix):
            return message_id
    return "DHCP4_PACKET_NAK_0004"


# What libdhcp_bootp.so removes from a reply to a BOOTP client: the options
# RFC 1533 section 9 defines for DHCP only.
DHCP_SPECIFIC_OPTIONS = frozenset({50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61})
BOOTP_MIN_LENGTH = 300  # RFC 951's message size; shorter replies are zero-padded


def bootp_reply(resp):
    """A BOOTREPLY on the wire (RFC 1497 vendor extensions): the reply without
    its DHCP-specific options, padded to 300 bytes."""
    for code in DHCP_SPECIFIC_OPTIONS.intersection(o.code for o in resp.options):
        resp.options.remove_code(code)
    return encode_reply(resp).ljust(BOOTP_MIN_LENGTH, b"\0")


def index_options(pkt):
    """{code: payload} of a packet's options, the first of each code winning."""
    out = {}
    for opt in pkt.options:
        if opt.code not in out:
            out[opt.code] = opt.data
    return out


def parse_rai(data):
    """RFC 3046 sub-options -> {code: bytes}; None if malformed."""
    out, i, n = {}, 0, len(data)
    while i < n:
        if i + 2 > n:
            return None
        code, length = data[i], data[i + 1]
        if i + 2 + length > n:
            return None
        out.setdefault(code, data[i + 2:i + 2 + length])
        i += 2 + length
    return out


class Pipeline4(PipelineBase):
    """The DHCPv4 server's packet path over a model, a lease table, stats and hooks.

    ``server_addresses(iface)`` lists the IPv4 addresses of an interface (for
    server-id and subnet selection); ``our_addresses`` is the set of every address
    a REQUEST's server identifier may name.
    """

    exchange = Exchange
    family = 4
    log = log

    def __init__(self, model, leases, stats, hooks=None, *, clock=time.time,
                 server_addresses=None, our_addresses=frozenset(), client_port=0,
                 arp_unicast=False, authoritative=None, ddns=None, sender=None):
        PipelineBase.__init__(self, ddns, sender)
        self.model = model
        self.leases = leases
        self.stats = stats
        self.hooks = hooks or H.HooksManager()
        self.clock = clock
        self.server_addresses = server_addresses or (lambda iface: ())
        self.our_addresses = frozenset(our_addresses)
        self.client_port = client_port
        self.arp_unicast = arp_unicast
        self.engine = AllocationEngine(model, leases, stats)
        self.init_classes()
        # libdhcp_bootp.so in hooks-libraries: BOOTP queries are served.
        self.bootp = "bootp" in self.hooks.builtins
        self.classifier.bootp = self.bootp
        self.handlers = {DISCOVER: self.discover, REQUEST: self.request,
                         DECLINE: self.decline, RELEASE: self.release, INFORM: self.inform}
        # (merged option table, PRL) -> the options chosen for it: clients of
        # one kind send one PRL, so the choice is made once, not per packet.
        self._chosen = {}
        self._boot = {}
        # merged option table -> its vendor-N sub-option keys (enterprise, code)
        self._vendor_keys = {}

    # --- configuration-time work -------------------------------------------------
    def init_stats(self):
        """Create Kea's statistics and set the per-subnet gauges from the leases."""
        st = self.stats
        st.init(GLOBAL_V4)
        assigned, declined = {}, {}
        for lease in self.leases.by_addr.values():
            if lease.state == STATE_DECLINED:
                declined[lease.subnet_id] = declined.get(lease.subnet_id, 0) + 1
            elif lease.state != STATE_EXPIRED_RECLAIMED:
                assigned[lease.subnet_id] = assigned.get(lease.subnet_id, 0) + 1
        for subnet in self.model.subnets:
            st.init(subnet_stat(subnet.id, name) for name in SUBNET_V4)
            st.set(subnet_stat(subnet.id, "total-addresses"), subnet.total_addresses)
            st.set(subnet_stat(subnet.id, "assigned-addresses"), assigned.get(subnet.id, 0))
            st.set(subnet_stat(subnet.id, "declined-addresses"), declined.get(subnet.id, 0))
        st.set("declined-addresses", sum(declined.values()))

    def orphan_leases(self):
        """Stored leases that lie outside every configured subnet or pool (kept,
        reported: a new config never makes the server drop leases)."""
        out = []
        for addr, lease in self.leases.by_addr.items():
            subnet = self.model.subnets_by_id.get(lease.subnet_id)
            if subnet is None or addr not in subnet:
                out.append((lease, "not in its subnet"))
            elif subnet.pool_of(addr) is None and subnet.reservations.holders(addr) == ():
                out.append((lease, "outside the subnet's pools"))
        return out

    def failed_commit(self, ex, reason):
        """The lease of this exchange is not stored: never send its ACK."""
        if reason == CONFLICT and ex.msg_type == REQUEST:
            # Another server on the same database took the address first.
            self.make_nak(ex, "address taken by another server")
        else:
            ex.response = None
            self.bump("pkt4-receive-drop")
            if self.debug:
                log.debug("DHCP4_LEASE_STORE_FAIL %s: lease not stored (%s), reply dropped",
                          self.label(ex), reason)

    # --- phase 1: per-packet steps -------------------------------------------------
    def receive(self, ex, now):
        bump = self.bump
        bump("pkt4-received")
        data = ex.incoming.data
        if self.hooks.has("buffer4_receive"):
            handle = self.hooks.call("buffer4_receive", {"query4": data})
            if handle.status == H.DROP:
                return self.dropped(ex, "dropped by buffer4_receive")
            data = handle.arguments["query4"]
            if isinstance(data, Packet4):
                ex.query = data  # SKIP: the callout parsed it
        if ex.query is None:
            try:
                ex.query = Packet4.parse(data)
            except CodecError as err:
                bump("pkt4-parse-failed")
                return self.dropped(ex, f"malformed packet: {err}")
        q = ex.query
        ex.opts = index_options(q)
        mt = q.msg_type
        if mt is None and self.bootp and q.op == BOOTREQUEST:
            # libdhcp_bootp: served as a DHCPREQUEST, in class BOOTP.
            ex.bootp = True
            mt = REQUEST
            if self.debug:
                log.debug("BOOTP_BOOTP_QUERY recognized a BOOTP query: %s", self.label(ex))
        ex.msg_type = mt or 0
        bump(RECEIVED_STAT.get(mt, "pkt4-unknown-received"))
        if not self.accept(ex):
            return None
        if self.early_classify(ex, q, ex.opts):
            return self.dropped(ex, "dropped as member of the special class 'DROP'")
        if ex.bootp:
            # The classifier saw no option 53 and put the query in BOOTP; now it
            # gets the option 53 the hook library adds.
            q.msg_type = REQUEST
            ex.opts = index_options(q)
            ex.class_query.refresh(ex.opts)
        if self.hooks.has("pkt4_receive"):
            handle = self.hooks.call("pkt4_receive", {"query4": q})
            if handle.status in (H.SKIP, H.DROP):
                return self.dropped(ex, "dropped by pkt4_receive")
            ex.opts = index_options(q)  # the callout may have changed options
            ex.class_query.refresh(ex.opts)
        return self.select_and_handle(ex, q, now)

    def label(self, ex):
        q = ex.query
        if q is None:
            return f"from {ex.incoming.src_address}:{ex.incoming.src_port}"
        mac = (ex.hwaddr or q.mac).hex(":")
        return f"[hwtype={q.htype} {mac}], tid=0x{q.xid:x}, {MSG_NAME.get(ex.msg_type, ex.msg_type)}"

    def accept(self, ex):
        """Kea's accept(): request op, a known message type, an identity, and (for a
        REQUEST) a server identifier naming us."""
        q = ex.query
        if q.op != BOOTREQUEST:
            return self.dropped(ex, "not a BOOTREQUEST") is not None
        if ex.msg_type not in self.handlers:
            return self.dropped(ex, f"message type {ex.msg_type} is not served") is not None
        ex.hwaddr = q.mac if 0 < q.hlen <= 16 else None
        if ex.hwaddr is not None and not any(ex.hwaddr):
            ex.hwaddr = None
        cid = ex.opts.get(OPT_CLIENT_ID)
        ex.client_id = cid or None
        if ex.client_id is None and ex.hwaddr is None and ex.msg_type != INFORM:
            return self.dropped(ex, "no client identifier and no hardware address") is not None
        rai = ex.opts.get(OPT_RAI)
        if rai is not None:
            ex.rai = parse_rai(rai)
        sid = ex.opts.get(OPT_SERVER_ID)
        if sid is not None and ex.msg_type in (REQUEST, DECLINE, RELEASE, INFORM):
            if len(sid) != 4 or not self.names_us(ex, sid):
                return self.dropped(ex, "server identifier names another server") is not None
        return True

    def names_us(self, ex, sid):
        address = int_to_ip(_U32.unpack(sid)[0])
        if address in self.our_addresses or address == ex.incoming.local_address:
            return True
        if ex.rai and ex.rai.get(RAI_SERVER_ID_OVERRIDE) == sid:
            return True
        if address in self.server_addresses(ex.incoming.iface):
            return True
        # A server identifier configured as option-data anywhere names us too.
        model = self.model
        if OPT_SERVER_ID in model.options and model.options[OPT_SERVER_ID].data == sid:
            return True
        return any(OPT_SERVER_ID in s.options and s.options[OPT_SERVER_ID].data == sid
                   for s in model.subnets)

    # --- host identifiers -----------------------------------------------------------
    def identifiers(self, ex):
        """The client's host identifiers in host-reservation-identifiers order."""
        if ex.ids is not None:
            return ex.ids
        out = ex.ids = []
        for kind in self.model.identifiers:
            if kind == "hw-address" and ex.hwaddr:
                out.append((kind, ex.hwaddr))
            elif kind == "client-id" and ex.client_id:
                out.append((kind, ex.client_id))
            elif kind == "duid" and ex.client_id and len(ex.client_id) > 5 \
                    and ex.client_id[0] == 255:
                out.append((kind, ex.client_id[5:]))  # RFC 4361: type, IAID, DUID
            elif kind == "circuit-id" and ex.rai and RAI_CIRCUIT_ID in ex.rai:
                out.append((kind, ex.rai[RAI_CIRCUIT_ID]))
        return out

    # --- subnet selection ------------------------------------------------------------
    def select_subnet(self, ex):
        """Kea's CfgSubnets4::selectSubnet: relay ip-addresses, then the link
        selection (82.5 / option 118), giaddr, ciaddr or the source of a unicast,
        then the receiving interface (by name, then by its addresses)."""
        q, inc, model = ex.query, ex.incoming, self.model
        classes = ex.classes
        select = None
        if ex.rai and len(ex.rai.get(RAI_LINK_SELECTION, b"")) == 4:
            select = ex.rai[RAI_LINK_SELECTION]
        else:
            opt118 = ex.opts.get(OPT_SUBNET_SELECTION)
            if opt118 is not None and len(opt118) == 4:
                select = opt118
        giaddr = q.giaddr
        if giaddr != ZERO and select is None:
            for subnet in model.subnets:
                relays = subnet.relay_addresses
                net = subnet.shared_network
                if (giaddr in relays or (net is not None and giaddr in net.relay_addresses)) \
                        and self.engine.subnet_allowed(subnet, classes):
                    return subnet
        if select is not None:
            address = _U32.unpack(select)[0]
        elif giaddr != ZERO:
            address = ip_to_int(giaddr)
        elif q.ciaddr != ZERO:
            address = ip_to_int(q.ciaddr)
        elif inc.src_address not in (ZERO, "") and inc.local_address not in (BROADCAST, ""):
            address = ip_to_int(inc.src_address)
        else:
            return self.subnet_by_interface(inc.iface, classes)
        for subnet in model.subnets:
            if address & subnet.mask == subnet.network and self.engine.subnet_allowed(subnet, classes):
                return subnet
        return None

    def subnet_by_interface(self, iface, classes):
        allowed = self.engine.subnet_allowed
        for subnet in self.model.subnets:
            name = subnet.interface or (subnet.shared_network.interface
                                        if subnet.shared_network is not None else None)
            if name is not None and name == iface and allowed(subnet, classes):
                return subnet
        for address in self.server_addresses(iface):
            value = ip_to_int(address)
            for subnet in self.model.subnets:
                if value & subnet.mask == subnet.network and allowed(subnet, classes):
                    return subnet
        return None

    # --- message handlers ----------------------------------------------------------------
    def alloc_request(self, ex, now, fake, hint):
        sub = ex.subnet
        lt = ex.opts.get(OPT_LEASE_TIME)
        d = ex.name
        return AllocRequest(
            subnet=sub, hwaddr=ex.hwaddr,
            client_id=ex.client_id if sub.match_client_id else None,
            identifiers=self.identifiers(ex), classes=tuple(ex.classes), hint=hint, fake=fake,
            requested_lifetime=_U32.unpack(lt)[0] if lt is not None and len(lt) == 4 else None,
            hostname=d.hostname if d is not None else "",
            fqdn_fwd=d is not None and d.fwd, fqdn_rev=d is not None and d.rev, now=now,
            bootp=ex.bootp)

    # --- DDNS name processing (Kea's processClientName) ------------------------------
    def decide_name(self, ex):
        """Option 81 / 12 and the reserved hostname -> ex.name, before allocation.
        False: the FQDN option is invalid, and Kea drops such a packet."""
        opts = ex.opts
        res = ex.reservation
        reserved = res.hostname if res is not None else ""
        if not (reserved or OPT_FQDN4 in opts or OPT_HOSTNAME in opts or self.ddns_generates):
            return True
        d = decide_v4(self.ddns.params(ex.subnet.id), opts, reserved)
        if d.drop:
            self.bump("pkt4-parse-failed")
            self.dropped(ex, d.reason)
            return False
        if d.reason and self.debug:
            log.debug("DHCP4_NAME_PROC_FAIL %s: %s", self.label(ex), d.reason)
        ex.name = d
        return True

    def name_lease(self, ex, result):
        """Put the decided name on the allocated lease; a name generated from the
        address is made now. When the engine moved the client to another subnet
        of its shared network, that subnet's ddns-* parameters decide."""
        d = ex.name
        sub = result.subnet
        if sub is not ex.subnet or (result.reservation is not None
                                    and result.reservation is not ex.reservation):
            res = result.reservation or ex.reservation
            d = decide_v4(self.ddns.params(sub.id), ex.opts, res.hostname if res else "")
            if d.drop:
                d = None
            ex.name = d
        if d is None:
            return
        d.finish(result.lease.address, self.ddns.params(sub.id))
        lease = result.lease
        lease.hostname, lease.fqdn_fwd, lease.fqdn_rev = d.hostname, d.fwd, d.rev

    @staticmethod
    def requested_address(ex):
        data = ex.opts.get(OPT_REQUESTED_IP)
        return _U32.unpack(data)[0] if data is not None and len(data) == 4 else 0

    def discover(self, ex, now):
        if ex.subnet is None:
            return self.dropped(ex, "no subnet for the client")
        if not self.decide_name(ex):
            return None
        req = self.alloc_request(ex, now, True, self.requested_address(ex))
        result = self.engine.allocate(req)
        if result.status == ALLOC_OK and ex.name is not None:
            self.name_lease(ex, result)
        if result.status != ALLOC_OK or not self.lease_select(ex, result, True):
            return self.alloc_failed(ex, result, nak=False)
        return self.make_lease_reply(ex, OFFER, result)

    def request(self, ex, now):
        q = ex.query
        requested = self.requested_address(ex)
        ciaddr = ip_to_int(q.ciaddr) if q.ciaddr != ZERO else 0
        init_reboot = requested and not ciaddr and OPT_SERVER_ID not in ex.opts
        if ex.subnet is None:
            return self.make_nak(ex, "no subnet for the client")
        if init_reboot:
            sub = ex.subnet
            ids = {s.id for s in sub.siblings()}
            lease = self.leases.client_lease(
                ex.client_id if sub.match_client_id else None, ex.hwaddr, ids)
            known = lease is not None and lease.state != STATE_DECLINED
            if not known and not sub.authoritative:
                return self.dropped(ex, "INIT-REBOOT from an unknown client (not authoritative)")
            if known and ip_to_int(lease.address) != requested:
                return self.make_nak(ex, "INIT-REBOOT for an address the client does not hold")
            if not known:
                return self.make_nak(ex, "INIT-REBOOT from an unknown client (authoritative)")
        if not self.decide_name(ex):
            return None
        req = self.alloc_request(ex, now, False, requested or ciaddr)
        result = self.engine.allocate(req)
        if result.status == ALLOC_OK and ex.name is not None:
            self.name_lease(ex, result)
        if result.status == ALLOC_OK and result.renewed and self.hooks.has("lease4_renew"):
            handle = self.hooks.call("lease4_renew", {
                "query4": q, "subnet4": result.subnet, "clientid": ex.client_id,
                "hwaddr": ex.hwaddr, "lease4": result.lease})
            if handle.status == H.SKIP:
                result.lease = self.leases.by_addr.get(ip_to_int(result.lease.address)) \
                    or result.lease
            else:
                result.lease = handle.arguments["lease4"]
        elif result.status == ALLOC_OK and not self.lease_select(ex, result, False):
            return self.make_nak(ex, "lease4_select declined the lease")
        if result.status != ALLOC_OK:
            return self.alloc_failed(ex, result, nak=True)
        self.commit_lease(ex, result)
        return self.make_lease_reply(ex, ACK, result)

    def alloc_failed(self, ex, result, nak):
        for name in result.fail_stats:
            self.bump(name)
            if ex.subnet is not None:
                self.bump(subnet_stat(ex.subnet.id, name))
        if result.fail_stats:
            self.bump("v4-allocation-fail")
            if ex.subnet is not None:
                self.bump(subnet_stat(ex.subnet.id, "v4-allocation-fail"))
        if nak or result.status == ALLOC_NAK:
            return self.make_nak(ex, result.reason)
        return self.dropped(ex, result.reason)

    def commit_lease(self, ex, result):
        """Stage the lease (new address first, then the client's old one goes) and
        keep the statistics in step."""
        bump, table, tag = self.bump, self.leases, ex.tag
        lease = result.lease
        if self.sender is not None:
            # The NCRs compare with what the address held before (a renewal),
            # or the client's previous lease elsewhere.
            prior = result.old_lease
            if prior is None and result.renewed:
                prior = table.by_addr.get(ip_to_int(lease.address))
            if result.reclaimed is not None:
                self.queue_remove(ex, result.reclaimed)
            self.queue_add(ex, lease, prior)
        table.stage_put(lease, tag)
        if result.reclaimed is not None:
            self.account_reclaim(result.reclaimed)
        if not result.renewed:
            bump("cumulative-assigned-addresses")
            bump(subnet_stat(lease.subnet_id, "cumulative-assigned-addresses"))
            bump(subnet_stat(lease.subnet_id, "assigned-addresses"))
        if result.old_lease is not None:
            old = result.old_lease
            table.stage_delete(old, tag)
            ex.deleted.append(old)
            if old.state != STATE_EXPIRED_RECLAIMED:
                bump(subnet_stat(old.subnet_id, "assigned-addresses"), -1)
            self.engine.address_freed(old.address)
        ex.lease = lease
        ex.committed_hook = True

    def account_reclaim(self, old):
        """Another client's expired lease is taken over: Kea reclaims it first."""
        bump = self.bump
        if old.state == STATE_EXPIRED_RECLAIMED:
            return
        if old.state == STATE_DECLINED:
            bump("declined-addresses", -1)
            bump(subnet_stat(old.subnet_id, "declined-addresses"), -1)
            bump("reclaimed-declined-addresses")
            bump(subnet_stat(old.subnet_id, "reclaimed-declined-addresses"))
        else:
            bump(subnet_stat(old.subnet_id, "assigned-addresses"), -1)
        bump("reclaimed-leases")
        bump(subnet_stat(old.subnet_id, "reclaimed-leases"))

    def client_lease_at(self, ex, address):
        lease = self.leases.by_addr.get(address)
        if lease is None or lease.state == STATE_DECLINED:
            return None
        if ex.client_id and lease.client_id:
            return lease if lease.client_id == ex.client_id else None
        return lease if ex.hwaddr and lease.hwaddr == ex.hwaddr else None

    def decline(self, ex, now):
        address = self.requested_address(ex)
        if not address:
            return self.dropped(ex, "DECLINE without a requested address (option 50)")
        lease = self.client_lease_at(ex, address)
        if lease is None:
            return self.dropped(ex, "DECLINE for a lease the client does not hold")
        if self.hooks.has("lease4_decline"):
            handle = self.hooks.call("lease4_decline", {"query4": ex.query, "lease4": lease})
            if handle.status in (H.SKIP, H.DROP):
                return self.dropped(ex, "lease4_decline kept the lease")
        declined = lease.copy(hwaddr=None, client_id=None, hostname="", fqdn_fwd=False,
                              fqdn_rev=False, state=STATE_DECLINED, cltt=now,
                              valid_lft=self.model.decline_probation_period, user_context=None)
        self.leases.stage_put(declined, ex.tag)
        self.queue_remove(ex, lease)
        self.bump("declined-addresses")
        self.bump(subnet_stat(lease.subnet_id, "declined-addresses"))
        ex.lease = declined
        ex.committed_hook = True
        log.info("DHCP4_DECLINE_LEASE %s: address %s declined, probation %d s",
                 self.label(ex), lease.address, self.model.decline_probation_period)
        return None

    def release(self, ex, now):
        if ex.query.ciaddr == ZERO:
            return self.dropped(ex, "RELEASE without ciaddr")
        lease = self.client_lease_at(ex, ip_to_int(ex.query.ciaddr))
        if lease is None:
            return self.dropped(ex, "RELEASE for a lease the client does not hold")
        if self.hooks.has("lease4_release"):
            handle = self.hooks.call("lease4_release", {"query4": ex.query, "lease4": lease})
            if handle.status in (H.SKIP, H.DROP):
                return self.dropped(ex, "lease4_release kept the lease")
        self.leases.stage_delete(lease, ex.tag)
        self.queue_remove(ex, lease)
        if lease.state != STATE_EXPIRED_RECLAIMED:
            self.bump(subnet_stat(lease.subnet_id, "assigned-addresses"), -1)
        self.engine.address_freed(lease.address)
        ex.deleted.append(lease)
        ex.committed_hook = True
        if self.debug:
            log.debug("DHCP4_RELEASE %s: address %s released", self.label(ex), lease.address)
        return None

    def inform(self, ex, now):
        q = ex.query
        if q.ciaddr == ZERO and q.giaddr == ZERO and ex.incoming.src_address in (ZERO, ""):
            return self.dropped(ex, "INFORM with no address to answer")
        if ex.subnet is None:
            return self.dropped(ex, "no subnet for the client")
        resp = self.new_response(ex, ACK)
        self.add_options(ex, resp, None)
        ex.response = resp
        return None

    # --- replies ---------------------------------------------------------------
    def new_response(self, ex, msg_type):
        q = ex.query
        resp = Packet4(op=BOOTREPLY, htype=q.htype, hlen=q.hlen, hops=q.hops, xid=q.xid,
                       flags=q.flags, ciaddr=q.ciaddr, giaddr=q.giaddr, chaddr=q.chaddr,
                       options=OptionList([Option(OPT_MSG_TYPE, bytes((msg_type,)))]))
        return resp

    def make_nak(self, ex, reason):
        # A BOOTP client gets the NAK as Kea 2.2 sends it: a BOOTREPLY with no
        # address and the DHCP options stripped (bootp_reply).
        resp = self.new_response(ex, NAK)
        resp.ciaddr = ZERO
        sid = self.server_identifier(ex, None)
        resp.options.append(Option(OPT_SERVER_ID, sid))
        self.echo(ex, resp)
        ex.response = resp
        ex.lease = None
        if self.debug:
            q = ex.query
            requested = self.requested_address(ex)
            log.debug("%s %s: %s (ciaddr %s, requested-ip-address %s)", nak_message_id(reason),
                      self.label(ex), reason, q.ciaddr,
                      int_to_ip(requested) if requested else ZERO)
        return None

    def make_lease_reply(self, ex, msg_type, result):
        ex.pool = result.pool
        ex.subnet = result.subnet
        ex.reservation = result.reservation or ex.reservation
        self.required_classes(ex)
        lease = result.lease
        resp = self.new_response(ex, msg_type)
        resp.yiaddr = lease.address
        valid = lease.valid_lft
        opts = resp.options
        opts.append(Option(OPT_LEASE_TIME, _U32.pack(valid)))
        t1, t2 = self.timers(ex.subnet, valid)
        if t1 is not None:
            opts.append(Option(OPT_T1, _U32.pack(t1)))
        if t2 is not None:
            opts.append(Option(OPT_T2, _U32.pack(t2)))
        opts.append(Option(OPT_SUBNET_MASK, ex.subnet.mask_bytes))
        self.add_options(ex, resp, lease)
        bkey = (id(ex.subnet), tuple(ex.classes), id(ex.reservation))
        boot = self._boot.get(bkey)
        if boot is None:
            boot = self.boot_fields(ex)
            if len(self._boot) > 4096:
                self._boot.clear()
            self._boot[bkey] = boot
        if boot.next_server:
            resp.siaddr = boot.next_server
        if boot.server_hostname:
            resp.sname = boot.server_hostname.encode()[:64]
        if boot.boot_file_name:
            resp.file = boot.boot_file_name.encode()[:128]
        ex.response = resp
        if self.debug:
            log.debug("DHCP4_LEASE_%s %s: %s %s for %d s", "ADVERT" if msg_type == OFFER
                      else "ALLOC", self.label(ex), MSG_NAME[msg_type], lease.address, valid)
        return None

    def boot_fields(self, ex):
        """siaddr/sname/file (Kea's setFixedFields): the subnet's (inherited from
        global), then the first class that sets each field, then the reservation."""
        boot = self.model.boot_fields(ex.subnet)
        for key, value in self.classifier.fixed_fields(ex.class_query).items():
            setattr(boot, BOOT_ATTR[key], value)
        res = ex.reservation
        if res is not None:
            for attr in BOOT_ATTR.values():
                value = getattr(res.boot, attr)
                if value is not None:
                    setattr(boot, attr, value)
        return boot

    @staticmethod
    def timers(subnet, valid):
        """T1/T2 (Kea 7.8): explicit timers win; else calculate-tee-times."""
        if valid == INFINITE_LFT:
            return None, None
        t1, t2 = subnet.renew_timer, subnet.rebind_timer
        if t1 is None and t2 is None and subnet.calculate_tee_times:
            t2 = round(subnet.t2_percent * valid)
            t1 = round(subnet.t1_percent * valid)
        if t2 is not None and not 0 < t2 < valid:
            t2 = None
        if t1 is not None and not (0 < t1 < (t2 if t2 is not None else valid)):
            t1 = None
        return t1, t2

    def server_identifier(self, ex, options):
        """Option 54: a configured server identifier, else the address the query
        came in on (or the receiving interface's first address)."""
        if options is not None and OPT_SERVER_ID in options:
            return options[OPT_SERVER_ID].data
        local = ex.incoming.local_address
        if local in ("", ZERO, BROADCAST):
            addrs = self.server_addresses(ex.incoming.iface)
            local = addrs[0] if addrs else ZERO
        return _U32.pack(ip_to_int(local))

    def add_options(self, ex, resp, lease):
        merged = self.model.merged_options(ex.subnet, ex.pool, tuple(ex.classes), ex.reservation)
        opts = resp.options
        opts.append(Option(OPT_SERVER_ID, self.server_identifier(ex, merged)))
        prl = ex.opts.get(OPT_PRL) or b""
        key = (id(merged), prl)
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self._choose_options(merged, prl, {o.code for o in opts})
            if len(self._chosen) > 4096:
                self._chosen.clear()
            self._chosen[key] = chosen
        if self.hooks.has("pkt4_send"):
            opts.extend(Option(o.code, o.data) for o in chosen)  # a callout may edit them
        else:
            opts.extend(chosen)
        vendor_keys = self._vendor_keys.get(id(merged))
        if vendor_keys is None:
            if len(self._vendor_keys) > 4096:
                self._vendor_keys.clear()
            vendor_keys = self._vendor_keys[id(merged)] = tuple(
                k for k in merged if type(k) is tuple)
        if vendor_keys:
            self.add_vendor_options(ex, merged, vendor_keys, opts)
        if ex.name is not None and lease is not None:
            name = ex.name.option
            if name is not None:
                # The name the server decided wins over a configured option 12/81.
                if any(o.code == name.code for o in chosen):
                    opts.remove_code(name.code)
                opts.append(name)
        self.echo(ex, resp)

    @staticmethod
    def _choose_options(merged, prl, present):
        """The configured options a reply carries, in order: those the client
        asked for (PRL order), then routers/DNS/domain, then always-send."""
        chosen = []
        present = set(present)
        always = (c for c, i in merged.items() if i.always_send and type(c) is int)
        for code in (*prl, *BASIC_OPTIONS, *always):
            if code in present or code in SERVER_SET:
                continue
            item = merged.get(code)
            if item is None or item.never_send:
                continue
            if code not in prl and code not in BASIC_OPTIONS and not item.always_send:
                continue
            chosen.append(Option(code, item.data))
            present.add(code)
        return tuple(chosen)

    @staticmethod
    def add_vendor_options(ex, merged, vendor_keys, opts):
        """Sub-options of a vendor-N space go in option 125 (RFC 3925 section 4)
        as Kea 2.2's appendRequestedVendorOptions puts them: the vendor is the one
        of a 125 already in the reply (configured vivso-suboptions), else the
        query's; a DOCSIS client (4491) asks with its sub-option 1 (ORO), other
        vendors get their always-send sub-options; sub-options are packed in
        code order."""
        req = ex.opts.get(OPT_VIVSO)
        req_id = _U32.unpack_from(req)[0] if req is not None and len(req) >= 5 else None
        rsp_at = next((i for i, o in enumerate(opts) if o.code == OPT_VIVSO), None)
        rsp = opts[rsp_at].data if rsp_at is not None else None
        vendor = _U32.unpack_from(rsp)[0] if rsp is not None and len(rsp) >= 4 else req_id
        if vendor is None:
            return
        requested = []
        if vendor == VENDOR_CABLELABS and req_id == VENDOR_CABLELABS:
            oro = parse_rai(req[5:5 + req[4]] or b"") or {}
            requested.extend(oro.get(DOCSIS_ORO, b""))
        for enterprise, code in vendor_keys:
            if enterprise == vendor and merged[(enterprise, code)].always_send \
                    and code not in requested:
                requested.append(code)
        subs = parse_rai(rsp[5:5 + rsp[4]]) if rsp is not None and len(rsp) >= 5 else {}
        subs = dict(subs or {})
        added = False
        for code in requested:
            item = merged.get((vendor, code))
            if code not in subs and item is not None:
                subs[code] = item.data
                added = True
        if not added:
            return
        body = b"".join(bytes((code, len(subs[code]))) + subs[code] for code in sorted(subs))
        payload = _U32.pack(vendor) + bytes((len(body),)) + body
        if rsp_at is None:
            opts.append(Option(OPT_VIVSO, payload))
        else:
            opts[rsp_at] = Option(OPT_VIVSO, payload)

    def echo(self, ex, resp):
        """Client identifier (RFC 6842, echo-client-id) and relay agent
        information (RFC 3046 section 2.2) go back as they came."""
        q = ex.query
        if self.model.echo_client_id and ex.client_id is not None:
            resp.options.append(Option(OPT_CLIENT_ID, ex.client_id))
        rai = ex.opts.get(OPT_RAI)
        if rai is not None and q.giaddr != ZERO:
            resp.options.append(Option(OPT_RAI, rai))

    # --- phase 3: after the commit -------------------------------------------------
    def fit(self, ex, resp, data):
        """A reply larger than the client takes (option 57, else 576 bytes: RFC
        2132 section 9.10, RFC 2131 section 2) spills options into file and sname
        where those carry no boot fields, with option 52 (RFC 2132 section 9.3).
        If even that cannot hold them the reply goes out whole, as Kea 2.2 sends
        every reply (it ignores option 57)."""
        mms = ex.opts.get(OPT_MAX_MESSAGE)
        limit = max(_U16.unpack(mms)[0], MIN_MESSAGE) if mms is not None and len(mms) == 2 \
            else MIN_MESSAGE
        limit -= IP_UDP_HEADERS
        if len(data) <= limit:
            return data
        try:
            return resp.build(max_size=limit)
        except CodecError as err:
            log.warning("DHCP4_PACKET_OVERLOAD_FAIL %s: %s; sending %d bytes", self.label(ex),
                        err, len(data))
            return data

    def send(self, ex):
        q, hooks = ex.query, self.hooks
        resp = self.send_hooks(ex, ex.response, [ex.lease] if ex.lease is not None else [])
        if resp is None:
            return None
        relay_port = 0
        if ex.rai and RAI_RELAY_PORT in ex.rai and q.giaddr != ZERO:
            relay_port = ex.incoming.src_port
        dest = reply_destination(resp.msg_type, q.giaddr, q.ciaddr, resp.yiaddr, q.broadcast,
                                 ex.incoming.src_address, relay_port=relay_port,
                                 client_port=self.client_port, arp_unicast=self.arp_unicast)
        if dest.set_broadcast_flag:
            resp.flags |= 0x8000
        if ex.bootp:
            data = bootp_reply(resp)
        else:
            data = encode_reply(resp)
        if len(data) > MIN_MESSAGE - IP_UDP_HEADERS and resp.msg_type is not None:
            data = self.fit(ex, resp, data)
        if hooks.has("buffer4_send"):
            handle = hooks.call("buffer4_send", {"response4": data})
            if handle.status in (H.SKIP, H.DROP):
                return None
            data = handle.arguments["response4"]
        bump = self.bump
        bump("pkt4-sent")
        sent = SENT_STAT.get(resp.msg_type)
        if sent is not None:
            bump(sent)
        return Outgoing(data, dest, ex.incoming.iface, ex.incoming.local_address, resp)

