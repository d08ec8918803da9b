"""DDNS: client name processing and NameChangeRequests to kea-dhcp-ddns (D2).

Kea 2.2's behaviour is the specification (ARM "DDNS for DHCPv4/DHCPv6", the
D2ClientMgr / Dhcpv4Srv::processClientName / Dhcpv6Srv::processClientFqdn logic,
ncr_generator.cc); the protocol pieces are RFC 4702 (v4 Client FQDN, option 81),
RFC 4704 (v6 Client FQDN, option 39) and RFC 4701 (the DHCID RR).

Two halves, pure logic first:

- name processing: :class:`DdnsParams` (the ddns-* / hostname-char-* values of one
  subnet, plus whether updates are enabled there) and :func:`decide_v4` /
  :func:`decide_v6`, which turn a request's options and a reserved hostname into a
  :class:`NameDecision`: the option to answer with, the hostname for the lease and
  its fqdn_fwd / fqdn_rev flags.  A name generated from the address is filled in by
  :meth:`NameDecision.finish` once the address is known (:func:`process_v4` /
  :func:`process_v6` do both steps).
- NameChangeRequests: :class:`NameChangeRequest` is Kea's NCR in its JSON wire form
  (a 2-byte length, then the JSON text, one per UDP datagram); :class:`NcrSender`
  queues them (bounded by max-queue-size) and sends them without ever blocking the
  packet path.  D2 does not answer NCRs sent over UDP.
"""
from __future__ import annotations

import calendar
import collections
import hashlib
import ipaddress
import json
import logging
import re
import socket
import struct
import time
from dataclasses import dataclass

from kea_tools.codec.option import Option
from kea_tools.errors import UserError
from kea_tools.leases.model import TYPE_PD, Lease6

log = logging.getLogger("kea-dhcp-ddns-client")

OPT_HOSTNAME = 12
OPT_FQDN4 = 81
OPT_FQDN6 = 39

# RFC 4702 section 2.1 (v4) and RFC 4704 section 4.1 (v6) flag bits.
FLAG4_S, FLAG4_O, FLAG4_E, FLAG4_N = 0x01, 0x02, 0x04, 0x08
FLAG6_S, FLAG6_O, FLAG6_N = 0x01, 0x02, 0x04

CHG_ADD, CHG_REMOVE = 0, 1

# ddns-replace-client-name -> (replace a name the client sent, generate one when it sent none)
REPLACE_MODES = {
    "never": (False, False),
    "always": (True, True),
    "when-present": (True, False),
    "when-not-present": (False, True),
}

# RFC 4701 section 3.3 identifier types.
DHCID_HWADDR, DHCID_CLIENTID, DHCID_DUID = 0x0000, 0x0001, 0x0002
DHCID_DIGEST_SHA256 = 1
HTYPE_ETHER = 1

# Kea's dhcp-ddns connectivity defaults (D2ClientConfig).
CLIENT_DEFAULTS = {
    "enable-updates": False,
    "server-ip": "127.0.0.1",
    "server-port": 53001,
    "sender-ip": "",
    "sender-port": 0,
    "max-queue-size": 1024,
    "ncr-protocol": "UDP",
    "ncr-format": "JSON",
}

# isc::util::str::trim's white space.
_TRIM = " \t\r\n"


class DnsNameError(ValueError):
    """A domain name that isc::dns::Name would refuse (empty label, label > 63...)."""


# ---------------------------------------------------------------- configuration

@dataclass(slots=True)
class D2ClientConfig:
    """The ``dhcp-ddns`` connectivity parameters of a Dhcp4/Dhcp6 section."""

    enable_updates: bool = False
    server_ip: str = "127.0.0.1"
    server_port: int = 53001
    sender_ip: str = ""
    sender_port: int = 0
    max_queue_size: int = 1024
    ncr_protocol: str = "UDP"
    ncr_format: str = "JSON"

    @classmethod
    def from_map(cls, data):
        """A ``dhcp-ddns`` map (already grammar-checked) -> config; Kea's semantic checks."""
        d = {**CLIENT_DEFAULTS, **(data or {})}
        cfg = cls(enable_updates=d["enable-updates"], server_ip=d["server-ip"],
                  server_port=d["server-port"], sender_ip=d["sender-ip"],
                  sender_port=d["sender-port"], max_queue_size=d["max-queue-size"],
                  ncr_protocol=d["ncr-protocol"], ncr_format=d["ncr-format"])
        if cfg.ncr_protocol != "UDP":
            raise UserError(f"dhcp-ddns: ncr-protocol {cfg.ncr_protocol} is not yet supported")
        try:
            server = ipaddress.ip_address(cfg.server_ip)
        except ValueError:
            raise UserError(f"dhcp-ddns: server-ip is not an address: {cfg.server_ip!r}") from None
        if cfg.sender_ip:
            try:
                sender = ipaddress.ip_address(cfg.sender_ip)
            except ValueError:
                raise UserError(f"dhcp-ddns: sender-ip is not an address: {cfg.sender_ip!r}") \
                    from None
            if sender.version != server.version:
                raise UserError(f"dhcp-ddns: server-ip {cfg.server_ip} and sender-ip "
                                f"{cfg.sender_ip} must be the same family")
            if sender == server and cfg.sender_port == cfg.server_port:
                raise UserError(f"dhcp-ddns: server-ip/server-port cannot be the same as "
                                f"sender-ip/sender-port: {cfg.server_ip}:{cfg.server_port}")
        for key, value, top in (("server-port", cfg.server_port, 65535),
                                ("sender-port", cfg.sender_port, 65535),
                                ("max-queue-size", cfg.max_queue_size, 2 ** 31)):
            if not 0 <= value <= top:
                raise UserError(f"dhcp-ddns: {key} out of range: {value}")
        return cfg

    @classmethod
    def from_config(cls, cfg):
        """The ``dhcp-ddns`` map of a loaded DhcpConfig (``cfg.raw`` is the file or the section)."""
        raw = cfg.raw or {}
        section = raw.get(f"Dhcp{cfg.family}", raw)
        return cls.from_map(section.get("dhcp-ddns"))


@dataclass(slots=True)
class DdnsParams:
    """The DDNS behaviour of one subnet (Kea's DdnsParams).

    ``enable_updates`` is ``dhcp-ddns.enable-updates`` and ``ddns-send-updates``
    together: both must hold for this subnet to ask for updates.
    """

    enable_updates: bool = False
    override_no_update: bool = False
    override_client_update: bool = False
    replace_client_name: str = "never"
    generated_prefix: str = "myhost"
    qualifying_suffix: str = ""
    update_on_renew: bool = False
    use_conflict_resolution: bool = True
    hostname_char_set: str = "[^A-Za-z0-9.-]"
    hostname_char_replacement: str = ""
    sanitizer: re.Pattern | None = None

    @classmethod
    def from_mapping(cls, ddns, d2_enabled):
        """From the ddns-* keys by their Kea names (a NetworkParams.ddns dict)."""
        get = ddns.get
        p = cls(enable_updates=bool(d2_enabled and get("ddns-send-updates", True)),
                override_no_update=get("ddns-override-no-update", False),
                override_client_update=get("ddns-override-client-update", False),
                replace_client_name=get("ddns-replace-client-name", "never"),
                generated_prefix=get("ddns-generated-prefix", "myhost"),
                qualifying_suffix=get("ddns-qualifying-suffix", ""),
                update_on_renew=get("ddns-update-on-renew", False),
                use_conflict_resolution=get("ddns-use-conflict-resolution", True),
                hostname_char_set=get("hostname-char-set", "[^A-Za-z0-9.-]"),
                hostname_char_replacement=get("hostname-char-replacement", ""))
        if p.replace_client_name not in REPLACE_MODES:
            raise UserError(f"ddns-replace-client-name: unknown mode {p.replace_client_name!r}")
        if p.hostname_char_set:
            # Kea's StringSanitizer: the set, and embedded NULs always.
            try:
                p.sanitizer = re.compile(f"(?:{p.hostname_char_set})|\x00")
            except re.error as err:
                raise UserError(f"hostname-char-set: invalid regular expression "
                                f"{p.hostname_char_set!r}: {err}") from None
        return p

    @classmethod
    def from_subnet(cls, subnet, global_cfg, client=None):
        """A config-model Subnet (its inherited ``params.ddns``) in ``global_cfg``
        (the DhcpConfig; its dhcp-ddns map says whether D2 is enabled)."""
        client = client or D2ClientConfig.from_config(global_cfg)
        return cls.from_mapping(subnet.params.ddns, client.enable_updates)

    def scrub(self, text):
        if self.sanitizer is None:
            return text
        rep = self.hostname_char_replacement
        return self.sanitizer.sub(lambda _m: rep, text)


class DdnsConfig:
    """The DDNS view of one DhcpConfig: the D2 connection and per-subnet params.

    Params are built once per subnet on first use (config load stays cheap).
    """

    __slots__ = ("client", "_cfg", "_params", "_default")

    def __init__(self, cfg, client=None):
        """``client`` overrides the dhcp-ddns map found through ``cfg.raw`` (a
        section handed over by config-set has no raw file)."""
        self._cfg = cfg
        self.client = client or D2ClientConfig.from_config(cfg)
        self._params = {}
        self._default = None

    @property
    def enabled(self):
        return self.client.enable_updates

    def params(self, subnet_id):
        """DdnsParams of a subnet id; unknown ids get the global level's values."""
        p = self._params.get(subnet_id)
        if p is None:
            subnet = self._cfg.subnet_by_id.get(subnet_id)
            if subnet is None:
                if self._default is None:
                    self._default = DdnsParams.from_mapping(self._cfg.params.ddns,
                                                            self.client.enable_updates)
                return self._default
            p = self._params[subnet_id] = DdnsParams.from_mapping(
                subnet.params.ddns, self.client.enable_updates)
        return p

    def validate(self):
        """Build every subnet's params now, so a bad hostname-char-set fails at load."""
        for sid in self._cfg.subnet_by_id:
            self.params(sid)
        self.params(None)

    def generates(self, family):
        """Whether some subnet makes up a name for a client that sent none
        (ddns-replace-client-name always / when-not-present): if not, a request
        without a name option and without a reserved hostname needs no name
        processing at all, which keeps the packet path free for the common case.
        v6 only does so with updates enabled (Kea fabricates option 39 then)."""
        return any(_generates(self.params(sid), family)
                   for sid in (*self._cfg.subnet_by_id, None))


def _generates(params, family):
    return REPLACE_MODES[params.replace_client_name][1] and (
        family == 4 or params.enable_updates)


class FixedDdns:
    """One DdnsParams for every subnet: the DDNS view of a model built without
    a configuration (unit tests, tools); Kea's defaults unless given."""

    __slots__ = ("client", "_params")

    def __init__(self, params=None, client=None):
        self.client = client or D2ClientConfig()
        self._params = params or DdnsParams.from_mapping({}, self.client.enable_updates)

    @property
    def enabled(self):
        return self.client.enable_updates

    def params(self, subnet_id):
        return self._params

    def validate(self):
        return None

    def generates(self, family):
        return _generates(self._params, family)


# ---------------------------------------------------------------- names

def parse_text_name(text):
    """A text domain name -> (labels, full); raises DnsNameError like isc::dns::Name.

    ``full`` is whether it ends with the root dot.  "." is the root (no labels).
    """
    if text == ".":
        return [], True
    full = text.endswith(".")
    body = text[:-1] if full else text
    labels = body.split(".")
    wire = 1
    for label in labels:
        n = len(label.encode("latin-1", "replace"))
        if n == 0:
            raise DnsNameError(f"empty label in {text!r}")
        if n > 63:
            raise DnsNameError(f"label longer than 63 octets in {text!r}")
        wire += n + 1
    if wire > 255:
        raise DnsNameError(f"name longer than 255 octets: {text!r}")
    return labels, full


def label_count(text):
    """isc::dns::Name(text).getLabelCount(), root included; 0 for an empty string."""
    if not text:
        return 0
    labels, _ = parse_text_name(text)
    return len(labels) + 1


def parse_wire_name(data):
    """RFC 1035 wire labels (no compression) -> (text, full).

    A name without the terminating zero octet is partial (RFC 4702 section 2.3.1).
    """
    full = data.endswith(b"\x00")
    labels = []
    pos = 0
    end = len(data)
    while pos < end:
        n = data[pos]
        if n == 0:
            break
        if n > 63:
            raise DnsNameError(f"bad label length {n} at offset {pos}")
        if pos + 1 + n > end:
            raise DnsNameError("label runs past the end of the option")
        labels.append(data[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n
    text = ".".join(labels)
    if full:
        text += "."
    return text.lower(), full


def wire_name(text, full=True):
    """Text name -> wire labels; lower-cased (Kea's Name(text, downcase=true))."""
    labels = parse_text_name(text)[0] if text else []
    out = bytearray()
    for label in labels:
        raw = label.lower().encode("latin-1", "replace")
        out.append(len(raw))
        out += raw
    if full:
        out.append(0)
    return bytes(out)


def qualify_name(partial, suffix, trailing_dot):
    """D2ClientMgr::qualifyName: append the qualifying suffix, fix the trailing dot."""
    name = partial
    if suffix:
        if name and not name.endswith("."):
            name += "."
        name += suffix
    if trailing_dot:
        if name and not name.endswith("."):
            name += "."
    elif name.endswith("."):
        name = name[:-1]
    return name


def generate_fqdn(address, params, trailing_dot=True):
    """D2ClientMgr::generateFqdn: "<prefix>-<address with . or : as ->.<suffix>"."""
    addr = ipaddress.ip_address(address)
    text = str(addr).replace("." if addr.version == 4 else ":", "-")
    return qualify_name(f"{params.generated_prefix}-{text}", params.qualifying_suffix, trailing_dot)


def server_flags(client_s, client_n, params):
    """D2ClientMgr::analyzeFqdn: the server's (S, N) for the client's (S, N)."""
    if client_s and client_n:
        raise ValueError("Invalid client FQDN - N and S cannot both be 1")
    enabled = params.enable_updates
    if client_s:
        return enabled, not enabled
    if client_n:
        s = enabled and params.override_no_update
        return s, not s
    if not enabled:
        return False, True
    return params.override_client_update, False


def _adjust_domain_name(client_name, client_full, params):
    """D2ClientMgr::adjustDomainName -> the response name ("" = generate later)."""
    replace, _ = REPLACE_MODES[params.replace_client_name]
    if replace or not client_name:
        return ""
    name = client_name
    if params.sanitizer is not None:
        name = ".".join(params.scrub(label) for label in name.split("."))
    if not client_full:
        name = qualify_name(name, params.qualifying_suffix, True)
    parse_text_name(name)  # Option*ClientFqdn::setDomainName refuses what Name refuses
    return name.lower()


@dataclass(slots=True)
class NameDecision:
    """What the server does with a client's name for one response.

    ``option`` is the Option to add to the response (81 or 12 for v4, 39 for v6)
    or None; ``hostname`` goes on the lease; ``fwd``/``rev`` are the lease's
    fqdn_fwd/fqdn_rev.  ``generate`` means the name is to be generated from the
    lease address: call :meth:`finish` with it.  ``drop``: the request carries
    an invalid FQDN option (N and S both set, or malformed), which Kea counts as a
    parse failure and drops.
    """

    family: int
    code: int | None = None
    hostname: str = ""
    fwd: bool = False
    rev: bool = False
    generate: bool = False
    flags: int = 0
    rcode1: int = 0
    rcode2: int = 0
    trailing_dot: bool = True
    drop: bool = False
    reason: str = ""

    @property
    def option(self):
        """The response option for the current hostname (None: send none)."""
        if self.code is None:
            return None
        if self.code == OPT_HOSTNAME:
            # Option 12 cannot be empty: Kea keeps "." there until the name is generated.
            return Option(OPT_HOSTNAME, (self.hostname or ".").encode("latin-1", "replace"))
        if self.code == OPT_FQDN4:
            if self.flags & FLAG4_E:
                name = wire_name(self.hostname, True) if self.hostname else b""
            else:
                name = self.hostname.encode("latin-1", "replace")
            return Option(OPT_FQDN4, bytes((self.flags, self.rcode1, self.rcode2)) + name)
        name = wire_name(self.hostname, True) if self.hostname else b""
        return Option(OPT_FQDN6, bytes((self.flags,)) + name)

    def finish(self, address, params):
        """Fill in a generated name once the lease address is known (None: no address)."""
        if self.generate and address is not None:
            self.hostname = generate_fqdn(address, params, self.trailing_dot)
            self.generate = False
        return self


def _none(family):
    return NameDecision(family=family)


def _dropped(family, reason):
    return NameDecision(family=family, drop=True, reason=reason)


def decide_v4(params, options, reserved_hostname=""):
    """Kea's Dhcpv4Srv::processClientName before allocation.

    ``options`` is the request's OptionList (or anything with ``.get(code)``
    returning an Option or None, or a mapping code -> payload bytes);
    ``reserved_hostname`` the matching host reservation's hostname ("" if none).
    """
    fqdn = _payload(options, OPT_FQDN4)
    if fqdn is not None:
        return _fqdn4(params, fqdn, reserved_hostname)
    return _hostname4(params, _payload(options, OPT_HOSTNAME), reserved_hostname)


def _fqdn4(params, data, reserved):
    if len(data) < 3:
        return _dropped(4, "client FQDN option (81) shorter than 3 octets")
    flags, rcode1, rcode2 = data[0], data[1], data[2]
    client_s, client_n, e = bool(flags & FLAG4_S), bool(flags & FLAG4_N), flags & FLAG4_E
    if client_s and client_n:
        return _dropped(4, "client FQDN option (81): N and S cannot both be 1")
    try:
        if e:
            client_name, full = parse_wire_name(data[3:])
        else:
            text = data[3:].decode("latin-1")
            client_name, full = text.lower(), text.endswith(".")
            if client_name:
                parse_text_name(client_name)
    except DnsNameError as err:
        return _dropped(4, f"client FQDN option (81): {err}")
    if client_name == ".":
        client_name = ""
    s, n = server_flags(client_s, client_n, params)
    resp_flags = (FLAG4_S if s else 0) | (FLAG4_N if n else 0) | \
        (FLAG4_O if client_s != s else 0) | e
    d = NameDecision(family=4, code=OPT_FQDN4, flags=resp_flags, rcode1=rcode1, rcode2=rcode2,
                     fwd=s, rev=not n, trailing_dot=True)
    try:
        if reserved:
            d.hostname = qualify_name(reserved, params.qualifying_suffix, True).lower()
            parse_text_name(d.hostname)
        else:
            d.hostname = _adjust_domain_name(client_name, full, params)
    except DnsNameError as err:
        # Kea logs DHCP4_NAME_PROC_FAIL and answers without the option.
        return NameDecision(family=4, reason=f"client name: {err}")
    d.generate = not d.hostname
    return d


def _hostname4(params, data, reserved):
    if reserved:
        name = qualify_name(reserved, params.qualifying_suffix, False).lower()
        return NameDecision(family=4, code=OPT_HOSTNAME, hostname=name, fwd=True, rev=True)
    replace, generate = REPLACE_MODES[params.replace_client_name]
    if data is None:
        if generate:
            return NameDecision(family=4, code=OPT_HOSTNAME, fwd=True, rev=True,
                                generate=True, trailing_dot=False)
        return _none(4)
    hostname = data.rstrip(b"\x00").decode("latin-1").strip(_TRIM)
    try:
        count = label_count(hostname)
    except DnsNameError as err:
        return NameDecision(family=4, reason=f"host name option (12): {err}")
    if count == 0:
        return NameDecision(family=4, reason="host name option (12) is empty")
    if replace or count < 2:
        return NameDecision(family=4, code=OPT_HOSTNAME, fwd=True, rev=True,
                            generate=True, trailing_dot=False)
    hostname = params.scrub(hostname).lower()
    if count == 2:
        hostname = qualify_name(hostname, params.qualifying_suffix, False)
    return NameDecision(family=4, code=OPT_HOSTNAME, hostname=hostname, fwd=True, rev=True)


def decide_v6(params, options, reserved_hostname=""):
    """Kea's Dhcpv6Srv::processClientFqdn before allocation (option 39)."""
    data = _payload(options, OPT_FQDN6)
    if data is None:
        _, generate = REPLACE_MODES[params.replace_client_name]
        if not (params.enable_updates and generate):
            # No option, no updates; the lease still carries a reserved name.
            return NameDecision(family=6, hostname=reserved_hostname or "")
        # Kea fabricates a client option asking the server to do the updates.
        data = bytes((FLAG6_S,))
    if len(data) < 1:
        return _dropped(6, "client FQDN option (39) is empty")
    flags = data[0]
    client_s, client_n = bool(flags & FLAG6_S), bool(flags & FLAG6_N)
    if client_s and client_n:
        return _dropped(6, "client FQDN option (39): N and S cannot both be 1")
    try:
        client_name, full = parse_wire_name(data[1:])
    except DnsNameError as err:
        return _dropped(6, f"client FQDN option (39): {err}")
    if client_name == ".":
        client_name = ""
    s, n = server_flags(client_s, client_n, params)
    resp_flags = (FLAG6_S if s else 0) | (FLAG6_N if n else 0) | (FLAG6_O if client_s != s else 0)
    d = NameDecision(family=6, code=OPT_FQDN6, flags=resp_flags, fwd=s, rev=not n)
    try:
        if reserved_hostname:
            d.hostname = qualify_name(reserved_hostname, params.qualifying_suffix, True).lower()
            parse_text_name(d.hostname)
        else:
            d.hostname = _adjust_domain_name(client_name, full, params)
    except DnsNameError as err:
        return NameDecision(family=6, reason=f"client name: {err}")
    d.generate = not d.hostname
    return d


def process_v4(params, request_options, reserved_hostname, lease_address):
    """decide_v4 + finish: the whole decision once the address is known."""
    return decide_v4(params, request_options, reserved_hostname).finish(lease_address, params)


def process_v6(params, request_options, reserved_hostname, lease_address):
    """decide_v6 + finish; ``lease_address`` is the first IA_NA address (or None)."""
    return decide_v6(params, request_options, reserved_hostname).finish(lease_address, params)


def _payload(options, code):
    if options is None:
        return None
    if isinstance(options, dict):
        return options.get(code)
    opt = options.get(code)
    if opt is None:
        return None
    return opt.data if hasattr(opt, "data") else opt


# ---------------------------------------------------------------- DHCID, TTL, NCR

def dhcid(id_type, identifier, fqdn):
    """RFC 4701 section 3.3 DHCID RDATA: type, digest type 1, SHA-256(id || wire FQDN)."""
    digest = hashlib.sha256(bytes(identifier) + wire_name(fqdn, True)).digest()
    return struct.pack("!HB", id_type, DHCID_DIGEST_SHA256) + digest


def dhcid_v4(fqdn, client_id=None, hwaddr=None, htype=HTYPE_ETHER):
    """Kea's choice for v4: the client-id when there is one, else htype + chaddr.

    A client-id of type 255 (RFC 4361: IAID then DUID) uses the DUID, so v4 and v6
    records of one host share a DHCID (RFC 4703 section 5.2).
    """
    if client_id:
        if client_id[0] == 255:
            if len(client_id) <= 5:
                raise ValueError("client identifier with an embedded DUID is too short")
            return dhcid(DHCID_DUID, client_id[5:], fqdn)
        return dhcid(DHCID_CLIENTID, client_id, fqdn)
    if not hwaddr:
        raise ValueError("neither client identifier nor hardware address")
    return dhcid(DHCID_HWADDR, bytes((htype,)) + bytes(hwaddr), fqdn)


def dhcid_v6(fqdn, duid):
    if not duid:
        raise ValueError("no DUID")
    return dhcid(DHCID_DUID, duid, fqdn)


def ddns_ttl(lifetime):
    """Kea 2.2 calculateDdnsTtl (RFC 4702 section 5): a third, at least 10 minutes."""
    return 600 if lifetime < 1800 else lifetime // 3


@dataclass(slots=True)
class NameChangeRequest:
    """Kea's NameChangeRequest as D2 reads it (ncr-format JSON)."""

    change_type: int
    forward_change: bool
    reverse_change: bool
    fqdn: str
    ip_address: str
    dhcid: bytes
    lease_expires_on: int
    lease_length: int
    use_conflict_resolution: bool = True

    def to_json(self):
        """Kea 2.2's NameChangeRequest::toJSON, key order and spacing included."""
        fqdn = self.fqdn if self.fqdn.endswith(".") else self.fqdn + "."
        expires = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.lease_expires_on))
        return ('{"change-type":%d,"forward-change":%s,"reverse-change":%s,"fqdn":%s,'
                '"ip-address":"%s","dhcid":"%s","lease-expires-on":"%s","lease-length":%d,'
                '"use-conflict-resolution":%s}' % (
                    self.change_type, _b(self.forward_change), _b(self.reverse_change),
                    json.dumps(fqdn), self.ip_address, self.dhcid.hex().upper(), expires,
                    self.lease_length, _b(self.use_conflict_resolution)))

    def to_wire(self):
        """One UDP datagram: a 2-byte big-endian length, then the JSON text."""
        text = self.to_json().encode()
        return struct.pack("!H", len(text)) + text

    @classmethod
    def from_json(cls, text):
        obj = json.loads(text)
        return cls(change_type=obj["change-type"], forward_change=obj["forward-change"],
                   reverse_change=obj["reverse-change"], fqdn=obj["fqdn"],
                   ip_address=obj["ip-address"], dhcid=bytes.fromhex(obj["dhcid"]),
                   lease_expires_on=_timegm(obj["lease-expires-on"]),
                   lease_length=obj["lease-length"],
                   use_conflict_resolution=obj.get("use-conflict-resolution", True))

    @classmethod
    def from_wire(cls, data):
        if len(data) < 2:
            raise ValueError("NCR datagram shorter than its length prefix")
        (n,) = struct.unpack_from("!H", data)
        if len(data) - 2 != n:
            raise ValueError(f"NCR length prefix {n} does not match {len(data) - 2} octets")
        return cls.from_json(data[2:].decode())


def _b(flag):
    return "true" if flag else "false"


def _timegm(text):
    return calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))


def ncr_for_lease(change_type, lease, use_conflict_resolution=True):
    """Kea's queueNCR: the NCR for a lease, or None when no update is due.

    None when the lease has no hostname, neither direction, is a PD lease, or
    lacks the identifier the DHCID needs (Kea logs DHCPSRV_QUEUE_NCR_FAILED).
    """
    if not lease.hostname or not (lease.fqdn_fwd or lease.fqdn_rev):
        return None
    try:
        if isinstance(lease, Lease6):
            if lease.type == TYPE_PD:
                return None
            digest = dhcid_v6(lease.hostname, lease.duid)
        else:
            digest = dhcid_v4(lease.hostname, lease.client_id, lease.hwaddr)
        parse_text_name(lease.hostname)
    except (ValueError, DnsNameError) as err:
        log.error("DHCPSRV_QUEUE_NCR_FAILED %s for %s: %s",
                  "add" if change_type == CHG_ADD else "remove", lease.address, err)
        return None
    ttl = ddns_ttl(lease.valid_lft)
    return NameChangeRequest(change_type, bool(lease.fqdn_fwd), bool(lease.fqdn_rev),
                             lease.hostname, lease.address, digest, lease.cltt + ttl, ttl,
                             use_conflict_resolution)


def same_fqdn(a, b, family):
    """Lease::hasIdenticalFqdn (v4, case-insensitive) / the v6 renew comparison."""
    if family == 4:
        ha, hb = a.hostname.lower(), b.hostname.lower()
    else:
        ha, hb = a.hostname, b.hostname
    return ha == hb and a.fqdn_fwd == b.fqdn_fwd and a.fqdn_rev == b.fqdn_rev


# ---------------------------------------------------------------- sender

@dataclass(slots=True)
class SenderStats:
    queued: int = 0
    sent: int = 0
    dropped_queue_full: int = 0
    send_errors: int = 0


class NcrSender:
    """Queues NCRs for D2 and sends them over UDP, never blocking.

    ``add`` / ``remove`` build the NCRs for a lease the way Kea's servers do and
    try to send at once; whatever the socket does not take waits in the queue
    (at most max-queue-size NCRs).  The daemon loop watches :meth:`fileno` for
    writability while :attr:`wants_write` and calls :meth:`on_writable`.  When
    the queue is full Kea stops generating updates until the backlog shrinks
    (ARM "DHCP-DDNS Server Connectivity"): new NCRs are counted and dropped
    until the queue is half empty.  D2 does not reply over UDP, so nothing is read.
    """

    def __init__(self, client, params=None, *, sock=None):
        """``client``: D2ClientConfig; ``params``: subnet id -> DdnsParams (a
        DdnsConfig's ``params`` method), used for ddns-send-updates,
        ddns-update-on-renew and ddns-use-conflict-resolution."""
        self.client = client
        self.params = params
        self.queue = collections.deque()
        self.stats = SenderStats()
        self.suspended = False
        self._sock = sock
        self._dest = (client.server_ip, client.server_port)

    @classmethod
    def from_config(cls, ddns_config, **kw):
        return cls(ddns_config.client, ddns_config.params, **kw)

    @property
    def enabled(self):
        return self.client.enable_updates

    # -- the socket ------------------------------------------------------------
    def open(self):
        """Create and bind the sender socket (sender-ip:sender-port); idempotent."""
        if self._sock is not None:
            return self._sock
        server = ipaddress.ip_address(self.client.server_ip)
        family = socket.AF_INET if server.version == 4 else socket.AF_INET6
        sender_ip = self.client.sender_ip or ("0.0.0.0" if family == socket.AF_INET else "::")
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((sender_ip, self.client.sender_port))
        except OSError as err:
            sock.close()
            raise UserError(f"dhcp-ddns: cannot bind the NCR sender to "
                            f"{sender_ip}:{self.client.sender_port}: {err.strerror}") from None
        self._sock = sock
        return sock

    def fileno(self):
        return self.open().fileno()

    @property
    def wants_write(self):
        return bool(self.queue)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- what the pipelines call ----------------------------------------------------
    def _params_of(self, lease):
        return self.params(lease.subnet_id) if self.params is not None else None

    def add(self, lease, old_lease=None, *, reused=False):
        """A lease was granted or renewed (v4 REQUEST; v6 REQUEST/RENEW/REBIND).

        Kea's createNameChangeRequests: nothing unless updates are enabled for the
        lease's subnet; on a renewal whose name and directions are unchanged,
        nothing unless ddns-update-on-renew; otherwise remove the old lease's
        names, then add the new ones.  ``reused`` is a lease handed out again from
        the lease cache (cache-threshold), for which Kea sends nothing.
        Returns the NCRs queued.
        """
        if not self.enabled:
            return []
        params = self._params_of(lease)
        if params is not None and not params.enable_updates:
            return []
        family = 6 if isinstance(lease, Lease6) else 4
        if family == 6 and (lease.type == TYPE_PD or not lease.fqdn_rev):
            # The v6 server gives up before looking at the old lease when its answer
            # carries N=1 (no updates) or no FQDN option at all.
            return []
        if reused:
            return []
        on_renew = params.update_on_renew if params is not None else False
        if old_lease is not None and not on_renew and same_fqdn(lease, old_lease, family):
            return []
        out = []
        if old_lease is not None:
            out += self.remove(old_lease)
        ncr = ncr_for_lease(CHG_ADD, lease, self._use_cr(params))
        if ncr is not None:
            if family == 6:
                # Kea 2.2's v6 add carries no expiry (lease-expires-on 0).
                ncr.lease_expires_on = 0
            out += self._enqueue(ncr)
        return out

    def remove(self, lease):
        """A lease's names go away: RELEASE, DECLINE, expiry/reclamation, lease*-del
        with update-ddns, or the old side of a changed renewal.  Gated only by
        dhcp-ddns enable-updates, as in Kea's queueNCR."""
        if not self.enabled:
            return []
        ncr = ncr_for_lease(CHG_REMOVE, lease, self._use_cr(self._params_of(lease)))
        return self._enqueue(ncr) if ncr is not None else []

    def resend(self, lease):
        """lease4-resend-ddns / lease6-resend-ddns: the lease's add, unconditionally
        (Kea's queueNCR; the command has checked name and directions)."""
        if not self.enabled:
            return []
        ncr = ncr_for_lease(CHG_ADD, lease, self._use_cr(self._params_of(lease)))
        if ncr is None:
            return []
        if isinstance(lease, Lease6):
            ncr.lease_expires_on = 0
        return self._enqueue(ncr)

    @staticmethod
    def _use_cr(params):
        return params.use_conflict_resolution if params is not None else True

    # -- queue and sending ----------------------------------------------------------
    def _enqueue(self, ncr):
        limit = self.client.max_queue_size
        if self.suspended and len(self.queue) <= limit // 2:
            self.suspended = False
            log.info("DHCP_DDNS_QUEUE_RESUMED NCR queue down to %d, updates resume",
                     len(self.queue))
        if self.suspended or len(self.queue) >= limit:
            if not self.suspended:
                log.error("DHCP_DDNS_QUEUE_FULL NCR queue reached max-queue-size %d: "
                          "updates suspended until it drains", limit)
            self.suspended = True
            self.stats.dropped_queue_full += 1
            return []
        self.queue.append(ncr)
        self.stats.queued += 1
        self.flush()
        return [ncr]

    def flush(self):
        """Send queued NCRs until the socket would block; returns how many went."""
        if not self.queue:
            return 0
        sock = self.open()
        sent = 0
        while self.queue:
            ncr = self.queue[0]
            try:
                sock.sendto(ncr.to_wire(), self._dest)
            except BlockingIOError:
                break
            except OSError as err:
                # An unreachable D2 must not wedge the queue: count, drop, go on.
                self.queue.popleft()
                self.stats.send_errors += 1
                log.error("DHCP_DDNS_NCR_SEND_FAILED %s: %s", ncr.fqdn, err)
                continue
            self.queue.popleft()
            self.stats.sent += 1
            sent += 1
        return sent

    on_writable = flush
