"""Lease4 and Lease6: Kea's lease fields as compact slot dataclasses.

Representation (chosen so a million leases fit well under 600 MB and every
lookup the server needs is a dict probe):

- ``address``: canonical text (dotted quad; RFC 5952 compressed IPv6), the form
  Kea writes in its CSV files and JSON; :func:`addr_key` gives the integer used
  for address ordering (paging).
- ``hwaddr``, ``client_id``, ``duid``: raw ``bytes`` (``None`` when absent);
  hashable, so they key the indexes directly.
- ``cltt`` (client last transmission time, Unix seconds) and ``valid_lft`` are
  stored, as in Kea; ``expire`` is derived (cltt + valid_lft).
"""
import socket
from dataclasses import dataclass, replace

STATE_DEFAULT = 0
STATE_DECLINED = 1
STATE_EXPIRED_RECLAIMED = 2
STATE_NAMES = {STATE_DEFAULT: "default", STATE_DECLINED: "declined",
               STATE_EXPIRED_RECLAIMED: "expired-reclaimed"}
STATE_BY_NAME = {name: code for code, name in STATE_NAMES.items()}

TYPE_NA = 0
TYPE_TA = 1
TYPE_PD = 2
TYPE_NAMES = {TYPE_NA: "IA_NA", TYPE_TA: "IA_TA", TYPE_PD: "IA_PD"}
TYPE_BY_NAME = {name: code for code, name in TYPE_NAMES.items()}

INFINITE_LFT = 0xFFFFFFFF

# Kea writes a declined v6 lease with this one-byte "empty DUID" (2.2).
EMPTY_DUID = b"\x00"


class _LeaseTimes:
    """What Lease4 and Lease6 share beyond their fields."""

    __slots__ = ()

    @property
    def expire(self):
        return self.cltt + self.valid_lft

    def is_expired(self, now):
        return self.valid_lft != INFINITE_LFT and self.cltt + self.valid_lft < now

    def copy(self, **changes):
        return replace(self, **changes)


@dataclass(slots=True)
class Lease4(_LeaseTimes):
    """A DHCPv4 lease with Kea's Lease4 fields."""

    address: str
    hwaddr: bytes | None = None
    client_id: bytes | None = None
    valid_lft: int = 0
    cltt: int = 0
    subnet_id: int = 0
    pool_id: int = 0
    fqdn_fwd: bool = False
    fqdn_rev: bool = False
    hostname: str = ""
    state: int = STATE_DEFAULT
    user_context: dict | None = None

    family = 4


@dataclass(slots=True)
class Lease6(_LeaseTimes):
    """A DHCPv6 lease (IA_NA address or IA_PD prefix) with Kea's Lease6 fields."""

    address: str
    duid: bytes | None = None
    iaid: int = 0
    type: int = TYPE_NA
    prefix_len: int = 128
    preferred_lft: int = 0
    valid_lft: int = 0
    cltt: int = 0
    subnet_id: int = 0
    pool_id: int = 0
    fqdn_fwd: bool = False
    fqdn_rev: bool = False
    hostname: str = ""
    hwaddr: bytes | None = None
    hwtype: int | None = None
    hwaddr_source: int | None = None
    state: int = STATE_DEFAULT
    user_context: dict | None = None

    family = 6


LEASE_CLASS = {4: Lease4, 6: Lease6}


def norm_address(text, family):
    """Canonical text of an IPv4/IPv6 address; ValueError when malformed."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    try:
        return socket.inet_ntop(af, socket.inet_pton(af, text.strip()))
    except (OSError, AttributeError):
        raise ValueError(f"malformed IPv{family} address {text!r}") from None


def addr_key(address):
    """Integer value of an address in canonical text (the paging order)."""
    af = socket.AF_INET6 if ":" in address else socket.AF_INET
    return int.from_bytes(socket.inet_pton(af, address), "big")


def key_addr(value, family):
    """Canonical text of the address whose integer value is ``value``."""
    if family == 4:
        return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def parse_hex(text):
    """Kea's hex identifier forms -> bytes.

    Accepts ``aa:bb:cc`` (one- or two-digit octets), ``aa bb``, ``aabbcc`` and
    ``0xaabbcc``; the empty string gives ``None``. ValueError when malformed.
    """
    text = text.strip()
    if not text:
        return None
    try:
        # Fast path for two-digit octets (Kea's own form): fromhex skips spaces.
        return bytes.fromhex(text.replace(":", " "))
    except ValueError:
        pass
    if ":" in text or " " in text:
        parts = text.replace(" ", ":").split(":")
        if any(not 1 <= len(p) <= 2 for p in parts):
            raise ValueError(f"malformed hex identifier {text!r}")
        try:
            return bytes(int(p, 16) for p in parts)
        except ValueError:
            raise ValueError(f"malformed hex identifier {text!r}") from None
    if text[:2].lower() == "0x":
        text = text[2:]
    if len(text) % 2:
        text = "0" + text
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"malformed hex identifier {text!r}") from None


def format_hex(data):
    """bytes -> Kea's lowercase colon-separated hex (``""`` for None)."""
    return data.hex(":") if data else ""
