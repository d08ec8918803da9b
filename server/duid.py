"""The DHCPv6 server identifier (RFC 8415 section 11), made and kept as Kea 2.2 does.

``server-id`` selects DUID-LLT (the default), DUID-EN or DUID-LL and may fix any
of its parts; a part left out (or 0 / "") is taken from the DUID already in use
when that DUID has the same type, else generated: the link-layer address and
hardware type of an interface, the current time (seconds since 2000-01-01),
ISC's enterprise number 2495 and 6 random bytes. With ``persist`` (default true)
the DUID is written as colon-separated hex to ``kea-dhcp6-serverid`` in the
data directory, and read back from there on the next start (Kea's DUIDFactory).
"""
import os
import secrets
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from kea_tools.errors import UserError

DUID_LLT, DUID_EN, DUID_LL = 1, 2, 3
TYPE_BY_NAME = {"LLT": DUID_LLT, "EN": DUID_EN, "LL": DUID_LL}
ISC_ENTERPRISE_ID = 2495
# RFC 8415 section 11.2: DUID-LLT time counts seconds from 2000-01-01 00:00 UTC.
DUID_EPOCH = 946684800
SERVERID_FILE = "kea-dhcp6-serverid"
HTYPE_ETHER = 1
MAX_DUID_LEN = 130  # RFC 8415 section 11.1: 128 octets plus the type code


@dataclass(slots=True)
class DuidSpec:
    """The ``server-id`` map, with Kea's "use any value" zeros and empties."""

    type: int = DUID_LLT
    identifier: bytes = b""
    htype: int = 0
    time: int = 0
    enterprise_id: int = 0
    persist: bool = True

    @classmethod
    def from_config(cls, server_id):
        """A Dhcp6 ``server-id`` map (or None) -> DuidSpec; UserError when bad."""
        if not server_id:
            return cls()
        kind = server_id.get("type", "LLT")
        if kind not in TYPE_BY_NAME:
            raise UserError(f"server-id: unsupported DUID type '{kind}' (LLT, EN or LL)")
        text = server_id.get("identifier", "") or ""
        try:
            identifier = bytes.fromhex(text.replace(":", ""))
        except ValueError:
            raise UserError(f"server-id: identifier '{text}' is not a hex string") from None
        spec = cls(TYPE_BY_NAME[kind], identifier, int(server_id.get("htype", 0)),
                   int(server_id.get("time", 0)), int(server_id.get("enterprise-id", 0)),
                   bool(server_id.get("persist", True)))
        if not 0 <= spec.htype <= 0xFFFF:
            raise UserError(f"server-id: htype {spec.htype} out of range 0..65535")
        if not 0 <= spec.time <= 0xFFFFFFFF or not 0 <= spec.enterprise_id <= 0xFFFFFFFF:
            raise UserError("server-id: time and enterprise-id must fit 32 bits")
        return spec


def duid_to_text(duid):
    return duid.hex(":")


def text_to_duid(text):
    text = text.strip()
    if not text:
        return None
    try:
        value = bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        return None
    return value if 3 <= len(value) <= MAX_DUID_LEN else None


def duid_type(duid):
    return struct.unpack_from("!H", duid)[0] if duid and len(duid) >= 2 else None


def _parts(stored, kind):
    """(htype, time, identifier) or (enterprise, identifier) of a stored DUID of ``kind``."""
    if stored is None or duid_type(stored) != kind:
        return None
    if kind == DUID_LLT and len(stored) >= 8:
        htype, when = struct.unpack_from("!HI", stored, 2)
        return htype, when, stored[8:]
    if kind == DUID_LL and len(stored) >= 4:
        return struct.unpack_from("!H", stored, 2)[0], 0, stored[4:]
    if kind == DUID_EN and len(stored) >= 6:
        return struct.unpack_from("!I", stored, 2)[0], stored[6:]
    return None


def interface_hwaddr():
    """(htype, link-layer address) of the first non-loopback interface with a
    MAC of 6 bytes or more (Kea's choice), or None."""
    base = Path("/sys/class/net")
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return None
    for name in names:
        try:
            kind = int((base / name / "type").read_text())
            mac = (base / name / "address").read_text().strip()
        except (OSError, ValueError):
            continue
        if kind == 772 or not mac:  # ARPHRD_LOOPBACK
            continue
        value = bytes.fromhex(mac.replace(":", ""))
        if len(value) >= 6 and any(value):
            return kind, value
    return None


def make_duid(spec, stored=None, *, clock=time.time, hwaddr=interface_hwaddr):
    """The server DUID for ``spec``, reusing parts of ``stored`` as Kea does."""
    old = _parts(stored, spec.type)
    if spec.type == DUID_EN:
        enterprise = spec.enterprise_id or (old[0] if old else ISC_ENTERPRISE_ID)
        ident = spec.identifier or (old[1] if old and old[1] else secrets.token_bytes(6))
        return struct.pack("!HI", DUID_EN, enterprise) + ident
    htype, ident = spec.htype, spec.identifier
    if old is not None:
        htype = htype or old[0]
        ident = ident or old[2]
    if not ident or not htype:
        found = hwaddr()
        if found is None:
            found = (HTYPE_ETHER, secrets.token_bytes(6))
        htype = htype or found[0]
        ident = ident or found[1]
    if spec.type == DUID_LL:
        return struct.pack("!HH", DUID_LL, htype) + ident
    when = spec.time or (old[1] if old else int(clock()) - DUID_EPOCH)
    return struct.pack("!HHI", DUID_LLT, htype, when & 0xFFFFFFFF) + ident


def serverid_path(data_directory):
    return Path(data_directory or ".") / SERVERID_FILE


def server_duid(server_id, data_directory, *, clock=time.time, hwaddr=interface_hwaddr):
    """Load or create the server DUID for a Dhcp6 ``server-id`` map.

    Reads ``kea-dhcp6-serverid`` when persisting, builds the DUID (reusing the
    stored one when it already matches the configuration) and writes it back if
    it changed. Returns the DUID bytes.
    """
    spec = DuidSpec.from_config(server_id)
    path = serverid_path(data_directory)
    stored = None
    if spec.persist:
        try:
            stored = text_to_duid(path.read_text())
        except OSError:
            stored = None
    duid = make_duid(spec, stored, clock=clock, hwaddr=hwaddr)
    if spec.persist and duid != stored:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(duid_to_text(duid) + "\n")
            os.replace(tmp, path)
        except OSError as err:
            raise UserError(f"cannot store the server DUID in {path}: {err.strerror}") from None
    return duid
