"""DDNS in the DHCPv4 pipeline: option 81/12 answers, the names on leases and the
NCRs queued for kea-dhcp-ddns (in-process, a fake socket stands in for D2)."""
import json

import pytest

from kea_tools.codec.option import Option
from kea_tools.config import build
from kea_tools.leases import open_backend
from kea_tools.server import ddns as D
from kea_tools.server.configmap import build_model
from kea_tools.server.hooks import HooksManager
from kea_tools.server.model import ip_to_int
from kea_tools.server.leasetable import LeaseTable
from kea_tools.server.pipeline4 import Pipeline4
from kea_tools.server.stats import Statistics
from tests.server.helpers import (SERVER, Clock, NcrSocket, dora, exchange, mac, packet, server,
                                  subnet)


class FakeSocket(NcrSocket):
    def ncrs(self):
        return [(n["change-type"], n["fqdn"], n["ip-address"], n["forward-change"],
                 n["reverse-change"]) for n in self.take()]


def stored(pipe, address):
    """The server's lease for ``address`` (the memfile only journals once the
    server owns its leases, so the table is where they are read)."""
    return pipe.leases.get(ip_to_int(address))


def ddns_server(enabled=True, reservations=(), **ddns_keys):
    """A Pipeline4 built from a Kea section, its sender writing to a FakeSocket."""
    section = {
        "valid-lifetime": 4000, "ddns-qualifying-suffix": "example.com", **ddns_keys,
        "subnet4": [{"subnet": "192.0.2.0/24", "id": 1,
                     "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}],
                     "reservations": list(reservations)}],
    }
    cfg = build(section, 4)
    client = D.D2ClientConfig(enable_updates=enabled)
    ddns = D.DdnsConfig(cfg, client)
    sock = FakeSocket()
    sender = D.NcrSender.from_config(ddns, sock=sock)
    clock = Clock()
    pipe = Pipeline4(build_model(cfg), LeaseTable(open_backend("memfile:", 4)),
                     Statistics(clock=clock), HooksManager(), clock=clock,
                     server_addresses=lambda iface: (SERVER,), our_addresses={SERVER},
                     ddns=ddns, sender=sender)
    pipe.init_stats()
    return pipe, sock


def fqdn(flags, name):
    return Option(81, bytes((flags | D.FLAG4_E, 0, 0)) + D.wire_name(name, name.endswith(".")))


def test_dora_with_fqdn_answers_stores_and_sends_one_add():
    pipe, sock = ddns_server()
    (offer,), _ = exchange(pipe, packet(1, mac(1), options=[fqdn(D.FLAG4_S, "Laptop")]))
    assert offer.options.data(81) == bytes((D.FLAG4_S | D.FLAG4_E, 0, 0)) + \
        D.wire_name("laptop.example.com.")
    assert sock.ncrs() == []                       # nothing for an OFFER
    (ack,), _ = exchange(pipe, packet(3, mac(1), requested=offer.yiaddr, server_id=SERVER,
                                      options=[fqdn(D.FLAG4_S, "Laptop")]))
    assert ack.options.data(81) == offer.options.data(81)
    lease = stored(pipe, ack.yiaddr)
    assert (lease.hostname, lease.fqdn_fwd, lease.fqdn_rev) == ("laptop.example.com.", True, True)
    assert sock.ncrs() == [(0, "laptop.example.com.", ack.yiaddr, True, True)]


def test_renewal_same_name_sends_nothing_changed_name_removes_then_adds():
    pipe, sock = ddns_server()
    _, ack = dora(pipe, mac(1), options=[fqdn(D.FLAG4_S, "one")])
    sock.ncrs()
    renew = packet(3, mac(1), ciaddr=ack.yiaddr, options=[fqdn(D.FLAG4_S, "one")])
    exchange(pipe, renew, src=ack.yiaddr, local=SERVER)
    assert sock.ncrs() == []
    renew = packet(3, mac(1), ciaddr=ack.yiaddr, options=[fqdn(D.FLAG4_S, "two")])
    exchange(pipe, renew, src=ack.yiaddr, local=SERVER)
    assert sock.ncrs() == [(1, "one.example.com.", ack.yiaddr, True, True),
                           (0, "two.example.com.", ack.yiaddr, True, True)]


def test_release_and_decline_remove_the_names():
    pipe, sock = ddns_server()
    _, ack1 = dora(pipe, mac(1), options=[Option(12, b"host1")])
    _, ack2 = dora(pipe, mac(2), options=[Option(12, b"host2")])
    assert [n[:2] for n in sock.ncrs()] == [(0, "host1.example.com."), (0, "host2.example.com.")]
    exchange(pipe, packet(7, mac(1), ciaddr=ack1.yiaddr, server_id=SERVER, prl=b""))
    exchange(pipe, packet(4, mac(2), requested=ack2.yiaddr, server_id=SERVER, prl=b""))
    assert sock.ncrs() == [(1, "host1.example.com.", ack1.yiaddr, True, True),
                           (1, "host2.example.com.", ack2.yiaddr, True, True)]
    declined = stored(pipe, ack2.yiaddr)
    assert declined.hostname == "" and not declined.fqdn_fwd


def test_n_and_s_together_drop_the_packet_as_a_parse_failure():
    pipe, sock = ddns_server()
    out, _ = exchange(pipe, packet(1, mac(1), options=[fqdn(D.FLAG4_S | D.FLAG4_N, "x")]))
    assert out == []
    assert pipe.stats.value("pkt4-parse-failed") == 1
    assert pipe.stats.value("pkt4-receive-drop") == 1


def test_generated_name_is_in_the_offer_and_on_the_lease():
    pipe, sock = ddns_server(**{"ddns-replace-client-name": "always"})
    offer, ack = dora(pipe, mac(1))
    name = f"myhost-{ack.yiaddr.replace('.', '-')}.example.com"
    assert offer.options.data(12) == ack.options.data(12) == name.encode()
    assert stored(pipe, ack.yiaddr).hostname == name
    assert sock.ncrs() == [(0, name + ".", ack.yiaddr, True, True)]


def test_reserved_hostname_wins_and_is_qualified():
    res = [{"hw-address": mac(7).hex(":"), "hostname": "Printer"}]
    pipe, sock = ddns_server(reservations=res)
    _, ack = dora(pipe, mac(7), options=[Option(12, b"ignored")])
    assert ack.options.data(12) == b"printer.example.com"
    assert sock.ncrs()[0][1] == "printer.example.com."


def test_updates_off_names_still_processed_no_ncrs():
    pipe, sock = ddns_server(enabled=False)
    assert pipe.sender is None
    _, ack = dora(pipe, mac(1), options=[fqdn(0, "quiet")])
    # Updates off: the server answers N=1 and does no updates.
    assert ack.options.data(81)[0] == D.FLAG4_N | D.FLAG4_E
    lease = stored(pipe, ack.yiaddr)
    assert (lease.hostname, lease.fqdn_fwd, lease.fqdn_rev) == ("quiet.example.com.", False, False)
    assert sock.sent == []


def test_no_name_no_option_and_renewal_drops_the_old_name():
    pipe = server()
    _, ack = dora(pipe, mac(1), options=[Option(12, b"named")])
    assert ack.options.data(12) == b"named"
    assert stored(pipe, ack.yiaddr).hostname == "named"
    _, ack = dora(pipe, mac(1))
    assert 12 not in ack.options
    # Kea's updateLease4Information: the lease takes the request's (empty) name.
    assert stored(pipe, ack.yiaddr).hostname == ""


def test_configured_host_name_option_yields_to_the_decided_name():
    from kea_tools.server.model import OptionItem, option_table
    sub = subnet(options=option_table([OptionItem(12, b"configured")]))
    pipe = server([sub])
    _, ack = dora(pipe, mac(1), options=[Option(12, b"client.a.b")], prl=b"\x01\x0c")
    assert ack.options.get_all(12) == [Option(12, b"client.a.b")]


def test_failed_commit_sends_no_ncr():
    from kea_tools.leases import BackendError
    pipe, sock = ddns_server()
    offer, _ = dora(pipe, mac(1), options=[fqdn(D.FLAG4_S, "a")])
    sock.ncrs()

    def refuse(*args, **kw):
        raise BackendError("disk full")
    pipe.leases.backend.update = refuse
    pipe.leases.backend.put = refuse
    renew = packet(3, mac(1), ciaddr=offer.yiaddr, options=[fqdn(D.FLAG4_S, "b")])
    out, _ = exchange(pipe, renew, src=offer.yiaddr, local=SERVER)
    assert out == [] and sock.ncrs() == []


@pytest.mark.parametrize("remove", [True, False])
def test_daemon_reclamation_removes_names(tmp_path, remove):
    from kea_tools.server.daemon import Daemon
    conf = {"Dhcp4": {
        "interfaces-config": {"interfaces": []},
        "lease-database": {"type": "memfile", "persist": False},
        "valid-lifetime": 10, "ddns-qualifying-suffix": "example.com",
        "dhcp-ddns": {"enable-updates": True, "server-port": 1},
        "option-data": [{"name": "dhcp-server-identifier", "data": SERVER}],
        "subnet4": [{"subnet": "192.0.2.0/24", "id": 1,
                     "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}],
    }}
    path = tmp_path / "kea.json"
    path.write_text(json.dumps(conf))
    clock = Clock()
    d = Daemon(path, clock=clock, interfaces=lambda family: {})
    d.configure(*d.load_file(path))
    try:
        sock = FakeSocket()
        d.sender._sock.close()
        d.sender._sock = sock
        _, ack = dora(d.pipeline, mac(1), options=[Option(12, b"gone")], giaddr="192.0.2.254")
        assert sock.ncrs() == [(0, "gone.example.com.", ack.yiaddr, True, True)]
        clock.now += 11
        assert d.reclaim(remove=remove) == 1
        assert sock.ncrs() == [(1, "gone.example.com.", ack.yiaddr, True, True)]
    finally:
        d.shutdown()
