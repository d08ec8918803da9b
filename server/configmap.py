"""Map the validated config (kea_tools.config.model.DhcpConfig) onto the
server's compiled :class:`~kea_tools.server.model.ServerModel`.

The config model already resolved inheritance and option payloads; this adds
what the packet path wants: option tables keyed by code, reservation indexes,
integer addresses, and compiled class tests.
"""
import json
from importlib import resources

from kea_tools.server.model import (BootFields, ClientClass4, ExpiredLeasesProcessing,
                                    Lifetimes, OptionItem, Pool4, Reservation4,
                                    ReservationIndex, ServerModel, SharedNetwork4, Subnet4,
                                    int_to_ip, ip_to_int, option_table)

V4_SPACES = ("dhcp4", "")


def _options_of(option_data, encapsulations=None):
    """DHCPv4 top-level options of one level as {code: OptionItem}.

    An option whose definition encapsulates a space (43 ->
    vendor-encapsulated-options-space, or a custom option-def with
    "encapsulate") carries the options of that space defined at the same level
    as sub-options after its own payload, as Kea's CfgOption::encapsulate does.
    """
    encapsulations = encapsulations if encapsulations is not None else {}
    by_space = {}
    for o in option_data:
        by_space.setdefault(o.space, []).append(o)
    items = []
    for o in option_data:
        if o.space not in V4_SPACES:
            continue
        payload = o.payload
        space = encapsulations.get(o.code)
        if space:
            payload += b"".join(_tlv(sub.code, sub.payload) for sub in by_space.get(space, ()))
        items.append(OptionItem(o.code, payload, o.always_send, getattr(o, "never_send", False)))
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
    for d in cfg.option_defs:
        if d.space in V4_SPACES:
            if d.encapsulate:
                out[d.code] = d.encapsulate
            else:
                out.pop(d.code, None)
    return out


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


def compile_class(cls, compiler, options_of):
    """A config ClientClass -> ClientClass4; ``compiler(text)`` -> (predicate,
    depends_on_known) compiles a Kea expression."""
    test, known = (None, False)
    if cls.test:
        test, known = compiler(cls.test, cls.name)
    life = cls.valid_lifetime
    return ClientClass4(
        name=cls.name, test=test, depends_on_known=known,
        only_if_required=cls.only_if_required, options=options_of(cls.option_data),
        boot=_boot(cls.next_server, cls.server_hostname, cls.boot_file_name),
        lifetimes=Lifetimes(life.default, life.min, life.max) if life else Lifetimes())


def expression_compiler(cfg):
    """A compiler of class tests for ``cfg``: text -> (predicate(exchange),
    depends_on_known). A class depends on KNOWN if its test names KNOWN/UNKNOWN
    or a class that does (Kea evaluates those after the host lookup)."""
    from kea_tools.classify.compiler import compile_expression
    from kea_tools.classify.query import Query
    section = (cfg.raw or {}).get("Dhcp4", cfg.raw or {})
    defs = section.get("option-def") if isinstance(section, dict) else None
    known_names = {"KNOWN", "UNKNOWN"}

    def compile_test(text, name=None):
        expr = compile_expression(text, 4, "bool", option_defs=defs)
        known = expr.depends_on(known_names)
        if known and name:
            known_names.add(name)

        def test(ex):
            inc = ex.incoming
            return expr(Query(ex.query, inc.iface, inc.src_address, inc.local_address,
                              classes=dict.fromkeys(ex.classes)))
        return test, known
    return compile_test


def build_model(cfg, compiler=None):
    """DhcpConfig (family 4) -> ServerModel. ``compiler`` compiles class tests
    (default: kea_tools.classify through :func:`expression_compiler`)."""
    compiler = compiler or expression_compiler(cfg)
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
            pools=[Pool4(pool.start, pool.end, pool.client_class,
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
    elp = cfg.expired_leases_processing
    return ServerModel(
        subnets=subnets, shared_networks=list(networks.values()),
        options=options_of(cfg.option_data),
        classes=[compile_class(c, compiler, options_of) for c in cfg.client_classes],
        global_reservations=ReservationIndex(_reservation(r, 0, options_of)
                                             for r in cfg.reservations),
        identifiers=tuple(cfg.host_reservation_identifiers),
        decline_probation_period=cfg.decline_probation_period,
        echo_client_id=cfg.echo_client_id,
        expired=ExpiredLeasesProcessing(
            elp.reclaim_timer_wait_time, elp.flush_reclaimed_timer_wait_time,
            elp.hold_reclaimed_time, elp.max_reclaim_leases, elp.max_reclaim_time,
            elp.unwarned_reclaim_cycles),
        server_tag=cfg.server_tag)

