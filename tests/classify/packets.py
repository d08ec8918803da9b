"""Packets for the classification tests, built with the codec."""
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Packet6, Relay6

MAC = bytes.fromhex("010203040506")


def v4(*options, **fields):
    """A DHCPDISCOVER from 01:02:03:04:05:06 with xid 12345 and ``options``
    ((code, bytes) pairs) after the message type."""
    fields.setdefault("xid", 12345)
    fields.setdefault("chaddr", MAC + bytes(10))
    opts = OptionList([Option(53, b"\x01")] + [Option(c, d) for c, d in options])
    return Packet4(options=opts, **fields)


def v6(*options, msg_type=1, transaction_id=12345):
    return Packet6(msg_type, transaction_id, OptionList(Option(c, d) for c, d in options))


def relayed(inner, *relays):
    """Wrap ``inner`` in relay envelopes; ``relays`` go from the client side out:
    each is (link, peer, [(code, bytes)...])."""
    msg = inner
    for hops, (link, peer, options) in enumerate(relays):
        msg = Relay6(12, hops, link, peer, OptionList(Option(c, d) for c, d in options), msg)
    return msg


def tlv4(*subs):
    return b"".join(bytes((c, len(d))) + d for c, d in subs)


def tlv6(*subs):
    return b"".join(c.to_bytes(2, "big") + len(d).to_bytes(2, "big") + d for c, d in subs)
