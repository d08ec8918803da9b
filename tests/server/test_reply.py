"""RFC 2131 4.1 reply destinations, as Kea 2.2 applies them (checked against
kea-dhcp4 2.2 for the relay port rules: relayed -> giaddr:67, RFC 8357 relay
port -> the relay's source port, -P overrides every port)."""
import pytest

from kea_tools.server.reply import Destination, reply_destination

Z = "0.0.0.0"
B = "255.255.255.255"
OFFER, ACK, NAK, INFORM = 2, 5, 6, 8

# (msg, giaddr, ciaddr, yiaddr, bcast flag, source, kwargs) -> Destination
TABLE = [
    ("relayed offer", OFFER, "10.0.0.1", Z, "10.0.0.50", False, "10.0.0.1", {},
     Destination("10.0.0.1", 67, "relay")),
    ("relayed ack, broadcast flag irrelevant", ACK, "10.0.0.1", Z, "10.0.0.50", True, "10.0.0.1",
     {}, Destination("10.0.0.1", 67, "relay")),
    ("relayed nak sets broadcast bit", NAK, "10.0.0.1", Z, Z, False, "10.0.0.1", {},
     Destination("10.0.0.1", 67, "relay", True)),
    ("relay port (RFC 8357)", OFFER, "10.0.0.1", Z, "10.0.0.50", False, "10.0.0.1",
     {"relay_port": 4000}, Destination("10.0.0.1", 4000, "relay")),
    ("direct nak broadcasts", NAK, Z, "192.0.2.5", Z, False, "192.0.2.5", {},
     Destination(B, 68, "broadcast")),
    ("renewing ack to ciaddr", ACK, Z, "192.0.2.5", "192.0.2.5", False, "192.0.2.5", {},
     Destination("192.0.2.5", 68, "ciaddr")),
    ("broadcast flag", OFFER, Z, Z, "192.0.2.9", True, Z, {}, Destination(B, 68, "broadcast")),
    ("no flag, no arp: broadcast like Kea's udp sockets", OFFER, Z, Z, "192.0.2.9", False, Z, {},
     Destination(B, 68, "broadcast")),
    ("no flag, arp allowed: unicast to yiaddr", ACK, Z, Z, "192.0.2.9", False, Z,
     {"arp_unicast": True}, Destination("192.0.2.9", 68, "yiaddr")),
    ("inform with ciaddr", INFORM, "10.0.0.1", "192.0.2.7", Z, False, "10.0.0.1", {},
     Destination("192.0.2.7", 68, "ciaddr")),
    ("inform via relay", INFORM, "10.0.0.1", Z, Z, False, "10.0.0.1", {},
     Destination("10.0.0.1", 67, "relay")),
    ("inform to source", INFORM, Z, Z, Z, False, "192.0.2.8", {},
     Destination("192.0.2.8", 68, "source")),
    ("-P overrides relay", OFFER, "127.0.0.1", Z, "127.1.0.9", False, "127.0.0.1",
     {"client_port": 6868}, Destination("127.0.0.1", 6868, "relay")),
    ("-P overrides broadcast", OFFER, Z, Z, "192.0.2.9", True, Z, {"client_port": 6868},
     Destination(B, 6868, "broadcast")),
]


@pytest.mark.parametrize("name,msg,giaddr,ciaddr,yiaddr,flag,src,kw,expected", TABLE,
                         ids=[row[0] for row in TABLE])
def test_reply_destination(name, msg, giaddr, ciaddr, yiaddr, flag, src, kw, expected):
    assert reply_destination(msg, giaddr, ciaddr, yiaddr, flag, src, **kw) == expected
