"""Map the validated config (kea_tools.config.model.DhcpConfig) onto the
server's compiled :class:`~kea_tools.server.model.ServerModel` (Dhcp4) or
:class:`~kea_tools.server.model6.ServerModel6` (Dhcp6).

The config model already resolved inheritance and option payloads; this adds
what the packet path wants: option tables keyed by code, reservation indexes,
integer addresses, and class tests compiled by kea_tools.classify (the
pipelines apply them through a :class:`~kea_tools.classify.Classifier`, see
:func:`classifier_for`).
"""
import json
from importlib import resources

from kea_tools.server.model import (BootFields, ClientClass4, ExpiredLeasesProcessing,
                                    Lifetimes, OptionItem, Pool, Reservation4,
                                    ReservationIndex, ServerModel, SharedNetwork4, Subnet4,
                                    int_to_ip, int_to_ip6, ip6_to_int, ip_to_int, option_table)
from kea_tools.server.model6 import (ClientClass6, Lifetimes6, PdPool6, Reservation6,
                                     ServerModel6, SharedNetwork6, Subnet6)

V4_SPACES = ("dhcp4", "")
V6_SPACES = ("dhcp6", "")
OPT_VENDOR_OPTS = 17


def vendor_enterprise(space):
    """The enterprise number of a ``vendor-N`` option space, else None."""
    if space.startswith("vendor-") and space[7:].isdigit():
        return int(space[7:])
    return None


def _options_of(option_data, encapsulations=None):
    """DHCPv4 top-level options of one level as {code: OptionItem}.

    An option whose definition encapsulates a space (43 ->
    vendor-encapsulated-options-space, or a custom option-def with
    "encapsulate") carries the options of that space defined at the same level
    as sub-options after its own payload, ordered by code, as Kea's
    CfgOption::encapsulate does. Options of a ``vendor-N`` space are kept under
    the key (N, code): the pipeline puts them in option 125 only when a query
    asks for vendor N (Kea's appendRequestedVendorOptions).
    """
    encapsulations = encapsulations if encapsulations is not None else {}
    by_space = {}
    for o in option_data:
        by_space.setdefault(o.space, []).append(o)
    items = []
    for o in option_data:
        never = o.never_send
        if o.space not in V4_SPACES:
            enterprise = vendor_enterprise(o.space)
            if enterprise is not None:
                items.append(OptionItem((enterprise, o.code), o.payload, o.always_send, never))
            continue
        payload = o.payload
        space = encapsulations.get(o.code)
        if space:
            subs = sorted(by_space.get(space, ()), key=lambda sub: sub.code)
            payload += b"".join(_tlv(sub.code, sub.payload) for sub in subs)
        items.append(OptionItem(o.code, payload, o.always_send, never))
    return option_table(items)


def _tlv(code, data):
    out = b""
    for i in range(0, max(len(data), 1), 255):
        chunk = data[i:i + 255]
        out += bytes((code, len(chunk))) + chunk
    return out


def encapsulations_of(cfg):
    """{dhcp4 option code: encapsulated space} from the standard definitions and
    the configuration's own option-def entries (which override them)."""
    data = json.loads(resources.files("kea_tools.codec").joinpath("data/std-options.json")
                      .read_text())
    out = {o["code"]: o["encapsulate"] for o in data["options"]
           if o.get("space") == "dhcp4" and o.get("encapsulate")}
    return _override_encapsulations(out, cfg.option_defs)


def _override_encapsulations(out, option_defs):
    for d in option_defs:
        if d.space in V4_SPACES:
            if d.encapsulate:
                out[d.code] = d.encapsulate
            else:
                out.pop(d.code, None)
    return out


def class_options_of(cls, encapsulations):
    """A class's options: an option-def in the class (43, 224-254) decides what
    that class's option encapsulates (Kea: the class definition wins)."""
    if cls.option_def:
        encapsulations = _override_encapsulations(dict(encapsulations), cls.option_def)
    return lambda option_data: _options_of(option_data, encapsulations)


def _boot(next_server, server_hostname, boot_file_name):
    return BootFields(next_server or None, server_hostname or None, boot_file_name or None)


def _reservation(res, subnet_id, options_of):
    address = res.ip_address or (res.ip_addresses[0] if res.ip_addresses else None)
    return Reservation4(
        identifier_type=res.identifier_type, identifier=res.identifier,
        address=ip_to_int(address) if address else None, hostname=res.hostname,
        client_classes=tuple(res.client_classes), options=options_of(res.option_data),
        boot=_boot(res.next_server, res.server_hostname, res.boot_file_name),
        subnet_id=subnet_id)


def classifier_of(cfg, family=4):
    """The configuration's ``client-classes`` compiled by kea_tools.classify (the
    same checks and the same KNOWN dependence the server applies per packet)."""
    from kea_tools.classify import Classifier
    from kea_tools.codec.optiondefs import OptionDefs
    defs = OptionDefs.standard(family)
    if cfg.option_defs:
        defs = defs.with_custom(cfg.option_defs, family)
    entries = []
    for cls in cfg.client_classes:
        entry = {"name": cls.name, "only-if-required": cls.only_if_required}
        for key, value in (("test", cls.test), ("next-server", cls.next_server),
                           ("server-hostname", cls.server_hostname),
                           ("boot-file-name", cls.boot_file_name)):
            if value:
                entry[key] = value
        entries.append(entry)
    return Classifier(entries, family, defs)


def compile_class(cls, cdef, options_of):
    """A config ClientClass and its compiled ClientClassDef -> ClientClass4."""
    life = cls.valid_lifetime
    return ClientClass4(
        name=cls.name, test=cdef.test, depends_on_known=cdef.depend_on_known,
        only_if_required=cls.only_if_required, options=options_of(cls.option_data),
        boot=_boot(cls.next_server, cls.server_hostname, cls.boot_file_name),
        lifetimes=Lifetimes(life.default, life.min, life.max) if life else Lifetimes())


def expired_processing(cfg):
    elp = cfg.expired_leases_processing
    return ExpiredLeasesProcessing(
        elp.reclaim_timer_wait_time, elp.flush_reclaimed_timer_wait_time,
        elp.hold_reclaimed_time, elp.max_reclaim_leases, elp.max_reclaim_time,
        elp.unwarned_reclaim_cycles)


def build_model(cfg):
    """DhcpConfig (family 4) -> ServerModel."""
    clf = classifier_of(cfg, 4)
    enc = encapsulations_of(cfg)

    def options_of(option_data):
        return _options_of(option_data, enc)
    networks = {}
    for net in cfg.shared_networks:
        p = net.params
        networks[net.name] = SharedNetwork4(
            name=net.name, options=options_of(net.option_data),
            relay_addresses=frozenset(p.relay_addresses), interface=p.interface,
            client_class=p.client_class, require_client_classes=tuple(p.require_client_classes))
    subnets = []
    for sub in cfg.subnets:
        p = sub.params
        life = p.valid_lifetime
        s4 = Subnet4(
            id=sub.id, prefix=f"{int_to_ip(sub.network)}/{sub.prefix_len}",
            pools=[Pool(pool.start, pool.end, pool.client_class,
                         tuple(pool.require_client_classes), options_of(pool.option_data))
                   for pool in sub.pools],
            options=options_of(sub.option_data),
            valid_lifetime=life.default, min_valid_lifetime=life.min, max_valid_lifetime=life.max,
            renew_timer=p.renew_timer, rebind_timer=p.rebind_timer,
            calculate_tee_times=p.calculate_tee_times, t1_percent=p.t1_percent,
            t2_percent=p.t2_percent, relay_addresses=frozenset(p.relay_addresses),
            interface=p.interface, client_class=p.client_class,
            require_client_classes=tuple(p.require_client_classes),
            authoritative=p.authoritative, match_client_id=p.match_client_id,
            reservations_global=p.reservations_global,
            reservations_in_subnet=p.reservations_in_subnet,
            reservations_out_of_pool=p.reservations_out_of_pool,
            boot=_boot(p.next_server if p.next_server != "0.0.0.0" else None,
                       p.server_hostname, p.boot_file_name),
            reservations=ReservationIndex(_reservation(r, sub.id, options_of)
                                          for r in sub.reservations),
            user_context=sub.user_context)
        if sub.shared_network is not None:
            s4.shared_network = networks[sub.shared_network.name]
            s4.shared_network.subnets.append(s4)
        subnets.append(s4)
    return ServerModel(
        subnets=subnets, shared_networks=list(networks.values()),
        options=options_of(cfg.option_data),
        classes=[compile_class(c, clf.by_name[c.name], class_options_of(c, enc))
                 for c in cfg.client_classes],
        global_reservations=ReservationIndex(_reservation(r, 0, options_of)
                                             for r in cfg.reservations),
        identifiers=tuple(cfg.host_reservation_identifiers),
        decline_probation_period=cfg.decline_probation_period,
        echo_client_id=cfg.echo_client_id, expired=expired_processing(cfg),
        server_tag=cfg.server_tag)


# --- Dhcp6 ------------------------------------------------------------------------------

def options6_of(option_data):
    """DHCPv6 top-level options of one level as {code: OptionItem}; options of a
    ``vendor-N`` space are kept under the key (N, code): the pipeline puts them in
    an option 17 (RFC 8415 section 21.17) only when a query names vendor N, as
    Kea 2.2 does (a configured vendor-opts entry is an ordinary option and does
    not take them in)."""
    items = []
    for o in option_data:
        never = o.never_send
        if o.space in V6_SPACES:
            items.append(OptionItem(o.code, o.payload, o.always_send, never))
        else:
            enterprise = vendor_enterprise(o.space)
            if enterprise is not None:
                items.append(OptionItem((enterprise, o.code), o.payload, o.always_send, never))
    return option_table(items)


def _triplet(t):
    return None if t is None else (t.default, t.min, t.max)


def _reservation6(res, subnet_id):
    return Reservation6(
        res.identifier_type, res.identifier,
        tuple(ip6_to_int(a) for a in (res.ip_addresses or ((res.ip_address,)
                                                           if res.ip_address else ()))),
        tuple((ip6_to_int(p), plen) for p, plen in res.prefixes), res.hostname,
        tuple(res.client_classes), options6_of(res.option_data), subnet_id)


def _relay_codes(names):
    from kea_tools.codec.optiondefs import OptionDefs
    codes = set()
    defs = None
    for name in names:
        text = str(name).strip()
        if text.isdigit():
            codes.add(int(text))
            continue
        defs = defs or OptionDefs.standard(6)
        d = defs.by_name("dhcp6", text)
        if d is not None:
            codes.add(d.code)
    return frozenset(codes)


def build_model6(cfg):
    """DhcpConfig (family 6) -> ServerModel6."""
    clf = classifier_of(cfg, 6)
    networks = {}
    for net in cfg.shared_networks:
        networks[net.name] = SharedNetwork6(
            net.name, options=options6_of(net.option_data), client_class=net.params.client_class,
            require_client_classes=tuple(net.params.require_client_classes))
    subnets = []
    for sub in cfg.subnets:
        p = sub.params
        s6 = Subnet6(
            id=sub.id, prefix=f"{int_to_ip6(sub.network)}/{sub.prefix_len}",
            network=sub.network, prefix_len=sub.prefix_len,
            pools=[Pool(pl.start, pl.end, pl.client_class, tuple(pl.require_client_classes),
                         options6_of(pl.option_data)) for pl in sub.pools],
            pd_pools=[PdPool6(pd.prefix, pd.prefix_len, pd.delegated_len, pd.excluded_prefix,
                              pd.excluded_prefix_len, pd.client_class,
                              tuple(pd.require_client_classes), options6_of(pd.option_data))
                      for pd in sub.pd_pools],
            options=options6_of(sub.option_data),
            valid=_triplet(p.valid_lifetime),
            preferred=_triplet(p.preferred_lifetime) or (3600, 3600, 3600),
            renew_timer=p.renew_timer, rebind_timer=p.rebind_timer,
            calculate_tee_times=p.calculate_tee_times, t1_percent=p.t1_percent,
            t2_percent=p.t2_percent, rapid_commit=p.rapid_commit, interface=p.interface,
            interface_id=p.interface_id,
            relay_addresses=frozenset(ip6_to_int(a) for a in p.relay_addresses),
            client_class=p.client_class, require_client_classes=tuple(p.require_client_classes),
            reservations_global=p.reservations_global,
            reservations_in_subnet=p.reservations_in_subnet,
            reservations_out_of_pool=p.reservations_out_of_pool,
            reservations=ReservationIndex(_reservation6(r, sub.id) for r in sub.reservations))
        if sub.shared_network is not None:
            s6.shared_network = networks[sub.shared_network.name]
            s6.shared_network.subnets.append(s6)
        subnets.append(s6)
    classes = []
    for cls in cfg.client_classes:
        cdef = clf.by_name[cls.name]
        classes.append(ClientClass6(
            cls.name, cdef.test, cdef.depend_on_known, cls.only_if_required, options6_of(cls.option_data),
            Lifetimes6(_triplet(cls.valid_lifetime), _triplet(cls.preferred_lifetime))))
    return ServerModel6(
        subnets=subnets, shared_networks=list(networks.values()),
        options=options6_of(cfg.option_data), classes=classes,
        global_reservations=ReservationIndex(_reservation6(r, 0) for r in cfg.reservations),
        identifiers=tuple(cfg.host_reservation_identifiers),
        decline_probation_period=cfg.decline_probation_period,
        relay_supplied_options=_relay_codes(cfg.relay_supplied_options or ("65",)),
        mac_sources=tuple(cfg.mac_sources or ("any",)),
        expired=expired_processing(cfg), server_tag=cfg.server_tag)


def classifier_for(model, family, **kwargs):
    """The :class:`~kea_tools.classify.Classifier` a pipeline runs over ``model``'s
    classes (their tests were compiled once, by :func:`classifier_of`)."""
    from kea_tools.classify import Classifier, ClientClassDef
    defs = []
    for cls in model.classes:
        boot = getattr(cls, "boot", None)
        defs.append(ClientClassDef(
            cls.name, cls.test, "", cls.only_if_required, cls.depends_on_known,
            next_server=(boot and boot.next_server) or "0.0.0.0",
            server_hostname=(boot and boot.server_hostname) or "",
            boot_file_name=(boot and boot.boot_file_name) or ""))
    return Classifier(defs, family, **kwargs)
