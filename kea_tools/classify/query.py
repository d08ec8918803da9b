"""What an expression is evaluated against: one received packet and its metadata."""
import socket
from dataclasses import dataclass, field

from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Relay6

_ANY = {4: socket.inet_aton("0.0.0.0"), 6: bytes(16)}


def _addr(text, universe):
    if not text:
        return _ANY[universe]
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    if ":" in text:  # a link-local source may carry its zone ("fe80::1%eth0")
        return socket.inet_pton(socket.AF_INET6, text.partition("%")[0])
    return socket.inet_pton(socket.AF_INET, text)


@dataclass(slots=True)
class Query:
    """A received packet as the classifier sees it; the server builds one per packet.

    ``packet`` is a codec Packet4, Packet6 or Relay6 (a relayed v6 message: options
    and pkt6 fields come from the client's innermost message, relay6[n] from the
    envelopes, 0 being the one nearest the server, as in Kea). ``src``/``dst`` are
    the packet's addresses (text or bytes; unset means 0.0.0.0 or ::), ``iface``
    the receiving interface, ``length`` the value of pkt.len (None: computed the way
    Kea's Pkt::len() does, from the parsed options). ``classes`` is the ordered set
    of class names assigned so far (a dict used as an insertion-ordered set).
    """

    packet: object
    iface: str = ""
    src: object = ""
    dst: object = ""
    length: int | None = None
    classes: dict = field(default_factory=dict)
    # Set by the classifier once v4 option 43 counts as unpacked (after the first
    # pass, as Kea's deferred unpacking does).
    deferred_unpacked: bool = False
    universe: int = field(init=False, default=4)
    message: object = field(init=False, default=None)
    relays: list = field(init=False, default_factory=list)
    _src_bytes: bytes | None = field(init=False, default=None, repr=False)
    _dst_bytes: bytes | None = field(init=False, default=None, repr=False)
    _index: dict | None = field(init=False, default=None, repr=False)
    # Made on first use: most packets never need it.
    _cache: dict | None = field(init=False, default=None, repr=False)

    def __post_init__(self):
        pkt = self.packet
        if isinstance(pkt, Packet4):
            self.universe = 4
            self.message = pkt
        else:
            self.universe = 6
            if isinstance(pkt, Relay6):
                self.relays = pkt.relays()
                self.message = pkt.innermost()
                if self.message is None:
                    raise ValueError("relayed DHCPv6 message without a Relay Message option")
            else:
                self.message = pkt

    # Packed addresses for pkt.src / pkt.dst, converted only when a test asks.
    @property
    def src_bytes(self):
        if self._src_bytes is None:
            self._src_bytes = _addr(self.src, self.universe)
        return self._src_bytes

    @property
    def dst_bytes(self):
        if self._dst_bytes is None:
            self._dst_bytes = _addr(self.dst, self.universe)
        return self._dst_bytes

    # --- classes ---------------------------------------------------------------
    def add_class(self, name):
        self.classes[name] = None

    def in_class(self, name):
        return name in self.classes

    def refresh(self, index=None):
        """Forget the option index and parsed internals (a hook callout changed
        the packet's options; later class tests must see the change). ``index``
        is {code: payload of the first option with that code} when the caller
        has already built it (what :meth:`option` would build)."""
        self._index = index
        self._cache = None

    # --- options ---------------------------------------------------------------
    def option(self, code):
        """Payload of the first option ``code`` of the client's message, or None."""
        index = self._index
        if index is None:
            index = {}
            if self.message is not None:
                for opt in self.message.options:
                    index.setdefault(opt.code, opt.data)
            self._index = index
        return index.get(code)

    def cached(self, key, compute):
        """Per-packet memo for parsed option internals (sub-options, tuples)."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = compute()
            return value

    def kea_length(self):
        """pkt.len: the given length, else the length of the message as Kea's
        Pkt::len() computes it (v6: the whole message with its relay envelopes; the
        compiled pkt.len refines v4 with Kea's re-packing of string options)."""
        if self.length is not None:
            return self.length
        if self.universe == 4:
            return 236 + sum(2 + len(o.data) for o in self.message.options)
        return len(self.packet.build())
