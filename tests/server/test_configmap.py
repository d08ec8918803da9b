"""A Kea Dhcp4 config through the config loader and configmap into the pipeline."""
import json
import socket

from kea_tools.codec.option import Option
from kea_tools.config import load_file
from kea_tools.leases import open_backend
from kea_tools.server.configmap import build_model
from kea_tools.server.leasetable import LeaseTable
from kea_tools.server.pipeline4 import Pipeline4
from kea_tools.server.stats import Statistics
from tests.server.helpers import SERVER, Clock, exchange, mac, packet

CONFIG = {"Dhcp4": {
    "interfaces-config": {"interfaces": ["eth0"]},
    "valid-lifetime": 600, "min-valid-lifetime": 300, "max-valid-lifetime": 900,
    "client-classes": [
        {"name": "phones", "test": "substring(option[60].hex,0,5) == 'phone'",
         "option-data": [{"name": "tftp-server-name", "data": "tftp.example"}],
         "next-server": "192.0.2.66"},
        {"name": "known-ones", "test": "member('KNOWN')",
         "option-data": [{"name": "domain-name", "data": "known.example"}]},
    ],
    "option-data": [{"name": "domain-name-servers", "data": "192.0.2.53, 192.0.2.54"},
                    {"name": "domain-name", "data": "example.org"}],
    "shared-networks": [{"name": "net", "subnet4": [
        {"id": 10, "subnet": "192.0.2.0/24",
         "pools": [{"pool": "192.0.2.10 - 192.0.2.10"},
                   {"pool": "192.0.2.100/30", "client-class": "phones"}],
         "option-data": [{"name": "routers", "data": "192.0.2.1"}],
         "reservations": [{"hw-address": "02:00:00:00:00:07", "ip-address": "192.0.2.200",
                           "hostname": "printer"}]},
        {"id": 11, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.5 - 10.0.0.6"}],
         "option-data": [{"name": "routers", "data": "10.0.0.1"}]}]}],
}}


def pipeline(tmp_path):
    path = tmp_path / "kea.json"
    path.write_text(json.dumps(CONFIG))
    model = build_model(load_file(path).config)
    clock = Clock()
    pipe = Pipeline4(model, LeaseTable(open_backend("memfile:", 4)), Statistics(clock=clock),
                     clock=clock, server_addresses=lambda i: (SERVER,), our_addresses={SERVER})
    pipe.init_stats()
    return pipe


def test_classes_pools_shared_network_and_lifetimes(tmp_path):
    pipe = pipeline(tmp_path)
    (o,), _ = exchange(pipe, packet(1, mac(2), options=[Option(51, (5000).to_bytes(4, "big"))]))
    assert o.yiaddr == "192.0.2.10" and int.from_bytes(o.options.data(51), "big") == 900
    (a,), _ = exchange(pipe, packet(3, mac(2), requested="192.0.2.10", server_id=SERVER))
    assert a.msg_type == 5
    # The open pool is full: a phone gets its class's pool...
    (o,), _ = exchange(pipe, packet(1, mac(1), prl=bytes([66, 3, 15]),
                                    options=[Option(60, b"phone-x")]))
    assert o.yiaddr == "192.0.2.100"
    assert o.options.data(66) == b"tftp.example" and o.siaddr == "192.0.2.66"
    assert int.from_bytes(o.options.data(51), "big") == 600
    # ...and anyone else the shared network's second subnet, with its own router.
    (o,), _ = exchange(pipe, packet(1, mac(3)))
    assert o.yiaddr == "10.0.0.5" and o.options.data(3) == socket.inet_aton("10.0.0.1")


def test_reservation_makes_client_known(tmp_path):
    pipe = pipeline(tmp_path)
    (o,), _ = exchange(pipe, packet(1, mac(7), prl=bytes([15])))
    assert o.yiaddr == "192.0.2.200"
    assert o.options.data(15) == b"known.example"  # the KNOWN-dependent class's option
    (o,), _ = exchange(pipe, packet(1, mac(8), prl=bytes([15])))
    assert o.options.data(15) == b"example.org"
    assert pipe.stats.value("subnet[10].total-addresses") == 5


def test_vendor_encapsulated_suboptions_and_always_send(tmp_path):
    conf = {"Dhcp4": {
        "option-def": [{"name": "tftp", "code": 1, "space": "vendor-encapsulated-options-space",
                        "type": "ipv4-address"}],
        "option-data": [
            {"name": "vendor-encapsulated-options"},
            {"name": "tftp", "space": "vendor-encapsulated-options-space", "data": "192.0.2.7"},
            {"code": 250, "csv-format": False, "data": "0102", "always-send": True}],
        "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                     "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}]}}
    path = tmp_path / "kea.json"
    path.write_text(json.dumps(conf))
    model = build_model(load_file(path).config)
    assert model.options[43].data == b"\x01\x04" + socket.inet_aton("192.0.2.7")
    clock = Clock()
    pipe = Pipeline4(model, LeaseTable(open_backend("memfile:", 4)), Statistics(clock=clock),
                     clock=clock, server_addresses=lambda i: (SERVER,), our_addresses={SERVER})
    (o,), _ = exchange(pipe, packet(1, mac(1), prl=bytes([43])))
    assert o.options.data(43) == b"\x01\x04" + socket.inet_aton("192.0.2.7")
    assert o.options.data(250) == b"\x01\x02"
    (o,), _ = exchange(pipe, packet(1, mac(2), prl=bytes([3])))
    assert 43 not in o.options and o.options.data(250) == b"\x01\x02"
