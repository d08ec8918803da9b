"""Kea 2.2 accepts a subnet of prefix length 0 (0.0.0.0/0, ::/0): it holds every
address, so it is selected for any client the server hears."""
from tests.server.test_classes import offer, section, server
from tests.server.helpers import mac


def test_subnet_0_0_0_0_slash_0_serves_its_pool():
    sec = section()
    sec["subnet4"] = [{"id": 7, "subnet": "0.0.0.0/0", "interface": "eth0",
                       "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}]
    o = offer(server(sec), mac(1))
    assert o is not None and o.yiaddr == "192.0.2.10"
    assert o.options.data(1) == bytes(4)  # subnet mask 0.0.0.0
