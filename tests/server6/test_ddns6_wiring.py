"""DDNS in the DHCPv6 pipeline: option 39 answers, names on IA_NA leases and the
NCRs queued for kea-dhcp-ddns (in-process, a fake socket stands in for D2)."""

from kea_tools.config import build
from kea_tools.leases import open_backend
from kea_tools.server import ddns as D
from kea_tools.server.configmap import build_model6
from kea_tools.server.hooks import HooksManager
from kea_tools.server.model import ip6_to_int
from kea_tools.server.leasetable import LeaseTable6
from kea_tools.server.pipeline6 import Pipeline6
from kea_tools.server.stats import Statistics
from tests.server.helpers import NcrSocket
from tests.server6.helpers import (DECLINE, RELEASE, RENEW, REQUEST, SERVER_DUID, SOLICIT,
                                   Clock, addresses, config, exchange, ia_na, ia_pd, iaaddr,
                                   iaprefix, message, one, prefixes, sarr, server)


class FakeSocket(NcrSocket):
    def ncrs(self):
        return [(n["change-type"], n["fqdn"], n["ip-address"], n["lease-expires-on"]) for n in self.take()]


def stored(pipe, address):
    """The server's lease for ``address`` (the memfile only journals once the
    server owns its leases, so the table is where they are read)."""
    return pipe.leases.get(ip6_to_int(address))


def ddns_server(enabled=True, **over):
    section = config(**{"ddns-qualifying-suffix": "example.com", **over})
    cfg = build(section, 6)
    ddns = D.DdnsConfig(cfg, D.D2ClientConfig(enable_updates=enabled))
    sock = FakeSocket()
    clock = Clock()
    pipe = Pipeline6(build_model6(cfg), LeaseTable6(open_backend("memfile:", 6)),
                     Statistics(clock=clock), HooksManager(), server_duid=SERVER_DUID,
                     clock=clock, ddns=ddns, sender=D.NcrSender.from_config(ddns, sock=sock))
    pipe.init_stats()
    return pipe, sock


def fqdn(flags, name):
    return D.Option(39, bytes((flags,)) + D.wire_name(name, name.endswith(".")))


def test_solicit_request_renew_release():
    pipe, sock = ddns_server()
    name = fqdn(D.FLAG6_S, "Six")
    adv, rep = sarr(pipe, 1, name)
    wire = bytes((D.FLAG6_S,)) + D.wire_name("six.example.com.")
    assert adv.options.data(39) == rep.options.data(39) == wire
    (address, _, _), = addresses(rep)
    lease = stored(pipe, address)
    assert (lease.hostname, lease.fqdn_fwd, lease.fqdn_rev) == ("six.example.com.", True, True)
    # Kea 2.2's v6 add has lease-expires-on 0.
    assert sock.ncrs() == [(0, "six.example.com.", address, "19700101000000")]
    renew = message(RENEW, 1, ia_na(1, iaaddr(address)), name, server_id=SERVER_DUID)
    one(pipe, renew)
    assert sock.ncrs() == []
    renamed = message(RENEW, 1, ia_na(1, iaaddr(address)), fqdn(D.FLAG6_S, "seven"),
                      server_id=SERVER_DUID)
    one(pipe, renamed)
    assert [n[:2] for n in sock.ncrs()] == [(1, "six.example.com."), (0, "seven.example.com.")]
    one(pipe, message(RELEASE, 1, ia_na(1, iaaddr(address)), server_id=SERVER_DUID))
    assert [n[:3] for n in sock.ncrs()] == [(1, "seven.example.com.", address)]


def test_generated_name_empty_in_advertise_filled_in_reply_and_on_every_na():
    pipe, sock = ddns_server(**{"ddns-replace-client-name": "always"})
    adv = one(pipe, message(SOLICIT, 1, ia_na(1), ia_na(2), ia_pd(3)))
    assert adv.options.data(39) == bytes((D.FLAG6_S,))
    rep = one(pipe, message(REQUEST, 1, ia_na(1), ia_na(2), ia_pd(3), server_id=SERVER_DUID))
    first, second = [a for a, _, _ in addresses(rep)]
    name = f"myhost-{first.replace(':', '-')}.example.com."
    assert rep.options.data(39) == bytes((D.FLAG6_S,)) + D.wire_name(name)
    assert stored(pipe, first).hostname == name
    assert stored(pipe, second).hostname == name
    (pd,) = prefixes(rep)
    assert stored(pipe, pd[0]).hostname == ""
    # One NCR, for the first IA_NA only.
    assert [n[:3] for n in sock.ncrs()] == [(0, name, first)]


def test_n_and_s_drop_and_decline_removes():
    pipe, sock = ddns_server()
    bad = message(SOLICIT, 1, ia_na(1), fqdn(D.FLAG6_S | D.FLAG6_N, "x"))
    assert exchange(pipe, bad)[0] == []
    assert pipe.stats.value("pkt6-parse-failed") == 1
    _, rep = sarr(pipe, 2, fqdn(D.FLAG6_S, "dec"))
    (address, _, _), = addresses(rep)
    sock.ncrs()
    one(pipe, message(DECLINE, 2, ia_na(1, iaaddr(address)), server_id=SERVER_DUID))
    assert [n[:3] for n in sock.ncrs()] == [(1, "dec.example.com.", address)]


def test_without_ddns_renewal_takes_the_requests_name():
    pipe = server()
    _, rep = sarr(pipe, 1, fqdn(D.FLAG6_S, "named"))
    (address, _, _), = addresses(rep)
    lease = stored(pipe, address)
    # Updates off: N=1 (O: the server overrode S), the name kept, no directions.
    assert rep.options.data(39)[0] == D.FLAG6_N | D.FLAG6_O
    assert (lease.hostname, lease.fqdn_fwd, lease.fqdn_rev) == ("named.", False, False)
    one(pipe, message(RENEW, 1, ia_na(1, iaaddr(address)), server_id=SERVER_DUID))
    assert stored(pipe, address).hostname == ""


def test_updates_off_sends_nothing():
    pipe, sock = ddns_server(enabled=False)
    sarr(pipe, 1, fqdn(D.FLAG6_S, "quiet"))
    assert pipe.sender is None and sock.sent == []


def test_pd_only_request_sends_nothing():
    pipe, sock = ddns_server()
    adv = one(pipe, message(SOLICIT, 1, ia_pd(1), fqdn(D.FLAG6_S, "router")))
    (pfx, plen, *_), = prefixes(adv)
    one(pipe, message(REQUEST, 1, ia_pd(1, iaprefix(pfx, plen)), fqdn(D.FLAG6_S, "router"),
                      server_id=SERVER_DUID))
    assert sock.ncrs() == []
