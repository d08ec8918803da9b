"""Simulated client identities: MAC address, DUID, host name, vendor class.

Two generators: ``SequentialIdentities`` numbers clients from a base MAC/DUID the
way perfdhcp does (comparable runs), ``FakerIdentities`` draws realistic ones with
faker (MACs with real vendor OUIs, host names, vendor class identifiers, DUIDs of
the types real clients use). Both are deterministic for a given seed.
"""
import struct
from dataclasses import dataclass

# Seconds between 1970-01-01 and 2000-01-01: DUID-LLT time is counted from 2000.
DUID_EPOCH = 946684800
DUID_LLT, DUID_EN, DUID_LL = 1, 2, 3


@dataclass(slots=True, frozen=True)
class VendorProfile:
    """What a device of one vendor looks like on the wire."""

    vendor: str
    ouis: tuple            # 24-bit OUIs assigned to the vendor (IEEE MA-L registry)
    devices: tuple         # host-name suffixes people give such devices
    vendor_classes: tuple  # option 60 / 16 strings their DHCP clients send ("" = none)
    duid_type: int         # the DUID type their DHCPv6 client generates


# Public IEEE registry facts (checked against Wireshark's manuf file); the vendor-class strings are what the vendors' DHCP
# clients really send (Windows "MSFT 5.0", Android's "android-dhcp-<release>", ...).
VENDOR_PROFILES = (
    VendorProfile("Apple", (0x3C0754, 0xF01898, 0xA4B197, 0x28CFE9, 0xAC87A3),
                  ("iphone", "ipad", "macbook", "imac"), ("",), DUID_LLT),
    VendorProfile("Samsung", (0x5C0A5B, 0x8C71F8, 0xE8508B, 0x002399),
                  ("galaxy", "tab", "tv"), ("android-dhcp-13", "android-dhcp-12"), DUID_LL),
    VendorProfile("Dell", (0x001422, 0xB8AC6F, 0xF8BC12, 0x14FEB5),
                  ("laptop", "desktop", "workstation"), ("MSFT 5.0",), DUID_LLT),
    VendorProfile("Hewlett Packard", (0x001635, 0x3C4A92, 0x9457A5, 0x6C3BE5),
                  ("printer", "laptop", "elitebook"), ("MSFT 5.0", "Hewlett-Packard JetDirect"),
                  DUID_LLT),
    VendorProfile("Cisco", (0x00000C, 0x001B54, 0x68BDAB, 0x7C69F6),
                  ("phone", "ap", "switch"), ("Cisco Systems, Inc. IP Phone CP-8845",
                                              "Cisco AP c9120"), DUID_EN),
    VendorProfile("Intel", (0x001B21, 0x0012F0, 0x001302, 0xA0369F),
                  ("nuc", "server", "pc"),
                  ("dhcpcd-9.4.1:Linux-6.1.0:x86_64:GenuineIntel", "MSFT 5.0"), DUID_LL),
    VendorProfile("Raspberry Pi", (0xB827EB, 0xDCA632, 0xE45F01),
                  ("pi", "sensor", "kiosk"), ("dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835",
                                              "udhcp 1.35.0"), DUID_LL),
    VendorProfile("Lenovo", (0x10C595, 0x0012FE, 0x1436C6),
                  ("thinkpad", "yoga", "desktop"), ("MSFT 5.0",), DUID_LLT),
    VendorProfile("Huawei", (0x001E10, 0x00E0FC, 0x48DB50),
                  ("phone", "router", "matebook"), ("android-dhcp-10", "HUAWEI:android"),
                  DUID_LL),
    VendorProfile("Ubiquiti", (0x0418D6, 0x24A43C, 0x788A20),
                  ("ap", "camera", "switch"), ("ubnt", "udhcp 1.36.1"), DUID_LL),
)

# Enterprise numbers for DUID-EN (IANA PEN registry): Cisco 9, HP 11, Microsoft 311.
ENTERPRISE_NUMBERS = (9, 11, 311, 4413)


@dataclass(slots=True, frozen=True)
class ClientIdentity:
    """One simulated client. ``hostname`` and ``vendor_class`` may be empty."""

    mac: bytes
    duid: bytes
    hostname: str = ""
    vendor_class: bytes = b""


def parse_mac(text):
    """``00:0c:01:02:03:04`` (also ``::`` or ``-`` separated) -> 6 bytes, or ValueError."""
    parts = [p for p in text.replace("-", ":").split(":") if p]
    if len(parts) == 1 and len(parts[0]) == 12:
        parts = [parts[0][i:i + 2] for i in range(0, 12, 2)]
    if len(parts) != 6 or any(not 1 <= len(p) <= 2 for p in parts):
        raise ValueError(f"a MAC address has 6 octets: {text!r}")
    return bytes(int(p, 16) for p in parts)


def parse_duid(text):
    """Hex DUID (colons allowed), 6 to 64 octets (perfdhcp's limits)."""
    digits = text.replace(":", "")
    if len(digits) % 2:
        raise ValueError(f"DUID needs an even number of hex digits: {text!r}")
    duid = bytes.fromhex(digits)
    if not 6 <= len(duid) <= 64:
        raise ValueError(f"DUID must be 6 to 64 octets, got {len(duid)}")
    return duid


def duid_llt(mac, when):
    return struct.pack("!HHI", DUID_LLT, 1, (int(when) - DUID_EPOCH) & 0xFFFFFFFF) + mac


def duid_ll(mac):
    return struct.pack("!HH", DUID_LL, 1) + mac


class SequentialIdentities:
    """perfdhcp's clients: client k has the base MAC plus k, and the base DUID with
    its last 6 octets replaced by that MAC (perfdhcp section 4 of our reference)."""

    def __init__(self, base_mac=bytes.fromhex("000c01020304"), base_duid=None, start_time=0):
        self.base_mac = int.from_bytes(base_mac, "big")
        self.base_duid = base_duid if base_duid is not None else duid_llt(base_mac, start_time)

    def __getitem__(self, k):
        mac = ((self.base_mac + k) & 0xFFFFFFFFFFFF).to_bytes(6, "big")
        duid = self.base_duid[:-6] + mac if len(self.base_duid) >= 6 else self.base_duid
        return ClientIdentity(mac, duid)


class FakerIdentities:
    """Realistic clients drawn with faker from a seed. Client k is the k-th one drawn,
    so identities depend only on the seed and the order clients are first used
    (which is sequential), never on timing."""

    def __init__(self, seed=None, start_time=0):
        from faker import Faker  # imported on use: faker is slow to import

        self.fake = Faker()
        if seed is not None:
            self.fake.seed_instance(seed)
        self.start_time = start_time
        self.cache = []
        self.used_macs = set()

    def __getitem__(self, k):
        while len(self.cache) <= k:
            self.cache.append(self._draw())
        return self.cache[k]

    def _draw(self):
        fake = self.fake
        profile = fake.random_element(VENDOR_PROFILES)
        while True:
            oui = fake.random_element(profile.ouis)
            mac = oui.to_bytes(3, "big") + fake.random_int(0, 0xFFFFFF).to_bytes(3, "big")
            if mac not in self.used_macs:
                break
        self.used_macs.add(mac)
        name = fake.first_name().lower().replace("'", "")
        hostname = f"{name}s-{fake.random_element(profile.devices)}"
        vendor_class = fake.random_element(profile.vendor_classes).encode()
        if profile.duid_type == DUID_LLT:
            # A DUID-LLT records when the OS first ran: some time in the last years.
            duid = duid_llt(mac, self.start_time - fake.random_int(0, 5 * 365 * 86400))
        elif profile.duid_type == DUID_EN:
            duid = (struct.pack("!HI", DUID_EN, fake.random_element(ENTERPRISE_NUMBERS))
                    + fake.random_int(0, 2**64 - 1).to_bytes(8, "big"))
        else:
            duid = duid_ll(mac)
        return ClientIdentity(mac, duid, hostname, vendor_class)
