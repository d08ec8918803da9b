"""Where a DHCPv4 reply goes: RFC 2131 section 4.1, as Kea 2.2 applies it.

One pure function, :func:`reply_destination`, decides; the transport only obeys.
Relay ports follow RFC 8357 (relay agent sub-option 82.19): a relay that names
its port gets the reply on the port it sent from.

Unicast to ``yiaddr`` before the client has an address needs an ARP entry for
chaddr. Kea with ``dhcp-socket-type: udp`` cannot make one and broadcasts
instead; keactl does the same (kind ``"broadcast"`` with ``reason`` "no-arp")
unless the transport was told it may install neighbour entries, in which case
the kind is ``"yiaddr"`` and the transport adds the entry before sending.
"""
from dataclasses import dataclass

DHCP4_SERVER_PORT = 67
DHCP4_CLIENT_PORT = 68
BROADCAST = "255.255.255.255"
ZERO = "0.0.0.0"

DHCPNAK = 6
DHCPINFORM = 8


@dataclass(slots=True, frozen=True)
class Destination:
    """Where to send: ``kind`` says which rule of RFC 2131 4.1 picked it."""

    address: str
    port: int
    kind: str  # "relay" | "ciaddr" | "source" | "broadcast" | "yiaddr"
    # RFC 2131 4.3.2: a NAK through a relay must carry the broadcast bit so the
    # relay broadcasts it on the client's segment.
    set_broadcast_flag: bool = False


def reply_destination(msg_type, giaddr, ciaddr, yiaddr, broadcast_flag, source_address,
                      *, relay_port=0, client_port=0, arp_unicast=False):
    """Decide the destination of a reply of ``msg_type`` to a query.

    ``relay_port`` is the source port of a query that carried RFC 8357's relay
    port sub-option (0 if none); ``client_port`` is kea-dhcp4's ``-P``, which
    overrides every destination port (a testing aid, as in Kea).
    """
    relayed = giaddr != ZERO
    if msg_type == DHCPINFORM:
        # Kea: an INFORM answer goes to ciaddr, else giaddr, else the source.
        if ciaddr != ZERO:
            dest = Destination(ciaddr, DHCP4_CLIENT_PORT, "ciaddr")
        elif relayed:
            dest = Destination(giaddr, relay_port or DHCP4_SERVER_PORT, "relay")
        else:
            dest = Destination(source_address, DHCP4_CLIENT_PORT, "source")
    elif relayed:
        dest = Destination(giaddr, relay_port or DHCP4_SERVER_PORT, "relay",
                           set_broadcast_flag=msg_type == DHCPNAK)
    elif msg_type == DHCPNAK:
        dest = Destination(BROADCAST, DHCP4_CLIENT_PORT, "broadcast")
    elif ciaddr != ZERO:
        dest = Destination(ciaddr, DHCP4_CLIENT_PORT, "ciaddr")
    elif broadcast_flag or yiaddr == ZERO or not arp_unicast:
        dest = Destination(BROADCAST, DHCP4_CLIENT_PORT, "broadcast")
    else:
        dest = Destination(yiaddr, DHCP4_CLIENT_PORT, "yiaddr")
    if client_port:
        dest = Destination(dest.address, client_port, dest.kind, dest.set_broadcast_flag)
    return dest
