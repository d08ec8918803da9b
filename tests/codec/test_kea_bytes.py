"""encode_option_data against the bytes a real kea-dhcp4 2.2 sends, and against
the option-data strings kea-dhcp4 -t refuses."""
import json
import os
import subprocess
import tempfile

import pytest

from kea_tools.codec.errors import CodecError
from kea_tools.codec.optiondefs import OptionDefs, encode_option_data
from kea_tools.codec.v4 import Option
from tests.conftest import require_program, require_root

CUSTOM_DEFS = [
    {"name": "my-rec", "code": 222, "type": "record",
     "record-types": "uint16, ipv4-address, string"},
    {"name": "my-arr", "code": 223, "type": "record", "array": True,
     "record-types": "uint8, uint16"},
    {"name": "my-i16", "code": 224, "type": "int16", "array": True},
    {"name": "my-tuple", "code": 225, "type": "tuple"},
    {"name": "my-prefix", "code": 226, "type": "ipv6-prefix"},
    {"name": "my-psid", "code": 227, "type": "psid"},
    {"name": "my-fqdn-rec", "code": 228, "type": "record", "record-types": "fqdn, uint8"},
    {"name": "my-bin-rec", "code": 229, "type": "record", "record-types": "uint8, binary"},
    {"name": "my-i8", "code": 230, "type": "int8"},
    {"name": "my-u32", "code": 231, "type": "uint32"},
    {"name": "my-bool", "code": 232, "type": "boolean", "array": True},
    # Not an array: Kea 2.2 packs an ipv6-address array in a v4 option with a
    # DHCPv6 header (a malformed packet), which is nothing to imitate.
    {"name": "my-ipv6", "code": 233, "type": "ipv6-address"},
    {"name": "my-empty", "code": 234, "type": "empty"},
    {"name": "vendor-encapsulated-options", "code": 43, "type": "empty", "encapsulate": "acme"},
    {"name": "acme-port", "code": 1, "type": "uint16", "space": "acme"},
]

# One entry per code: Kea sends each requested option once.
OPTION_DATA = [
    {"name": "routers", "data": "127.0.0.2, 10.0.0.1"},
    {"name": "time-offset", "data": "-3600"},
    {"name": "host-name", "data": "a\\,b\\\\c, rest"},
    {"name": "domain-name", "data": "example.org"},
    {"name": "ip-forwarding", "data": "True"},
    {"name": "default-ip-ttl", "data": "0x1f"},
    {"name": "interface-mtu", "data": "ff"},
    {"name": "nis-domain", "data": "  spaced  "},
    {"name": "nwip-suboptions", "data": "'text bytes'", "csv-format": False},
    {"name": "boot-file-name", "data": "6162630000", "csv-format": False},
    {"name": "user-class", "data": "0x0102", "csv-format": False},
    {"name": "tftp-server-name", "data": "a:b:0c", "csv-format": False},
    {"name": "merit-dump", "data": "64 65", "csv-format": False},
    {"name": "extensions-path", "data": "123", "csv-format": False},
    {"name": "slp-directory-agent", "data": "true, 10.0.0.1, 10.0.0.2"},
    {"name": "slp-service-scope", "data": "0, scope\\,list"},
    {"name": "fqdn", "data": "5, 0, 0, host.example.org"},
    {"name": "associated-ip", "data": ""},
    {"name": "client-system", "data": "1,2 ,  3"},
    {"name": "uuid-guid", "data": "0, 0102030405"},
    {"name": "domain-search", "data": "example.com, foo.example.org."},
    {"name": "vivco-suboptions", "data": "4491, 0568656c6c6f"},
    {"name": "vivso-suboptions", "data": "4491"},
    {"name": "rdnss-selection", "data": "1, 10.0.0.1, 10.0.0.2, dns.example"},
    {"name": "v4-portparams", "data": "6, 5/4"},
    {"name": "option-6rd", "data": "8, 32, 2001:db8::, 10.0.0.1, 10.0.0.2"},
    {"code": 121, "data": "18 0a 00 01 0a 00 00 01", "csv-format": False},
    {"name": "vendor-encapsulated-options"},
    {"name": "acme-port", "space": "acme", "data": "8080"},
    {"name": "my-rec", "data": "513, 1.2.3.4, hi there"},
    {"name": "my-arr", "data": "1, 2, 3, 4"},
    {"name": "my-i16", "data": "-2, 32767, 0x10"},
    {"name": "my-tuple", "data": "tuple text"},
    {"name": "my-prefix", "data": "2001:db8:ff00::/41"},
    {"name": "my-psid", "data": "0/0"},
    {"name": "my-fqdn-rec", "data": "a.example, 7"},
    {"name": "my-bin-rec", "data": "9, 0A0b"},
    {"name": "my-i8", "data": "-128"},
    {"name": "my-u32", "data": "4294967295"},
    {"name": "my-bool", "data": "true, 0, FALSE, 1"},
    {"name": "my-ipv6", "data": "2001:db8::1, ignored"},
    {"name": "my-empty"},
]

# Kea 2.2 refuses these (checked with kea-dhcp4 -t); so must we.
REJECTED = [
    {"name": "routers", "data": "1.2.3"},
    {"name": "default-ip-ttl", "data": "256"},
    {"name": "ip-forwarding", "data": "yes"},
    {"name": "user-class", "data": "0X0102", "csv-format": False},
    {"name": "user-class", "data": "01::02", "csv-format": False},
    {"name": "user-class", "data": "0a 0b:0c", "csv-format": False},
    {"name": "subnet-mask", "data": "ffff", "csv-format": False},
    {"name": "uuid-guid", "data": "0"},
    {"name": "uuid-guid", "data": "0, 0x01"},
    {"name": "host-name", "data": ""},
    {"code": 200, "data": "1"},
]

DEFS = OptionDefs.standard(4).with_custom(CUSTOM_DEFS)


def ours(entry):
    return encode_option_data(DEFS, entry.get("space", "dhcp4"), entry.get("data", ""),
                              code=entry.get("code"), name=entry.get("name"),
                              csv_format=entry.get("csv-format", True))


@pytest.fixture(scope="module")
def kea_options():
    require_root()
    require_program("kea-dhcp4")
    from tests.codec.kea_peer import kea_offer
    offer = kea_offer(OPTION_DATA, CUSTOM_DEFS, [Option(125, bytes.fromhex("0000118b00"))])
    assert offer is not None, "kea-dhcp4 sent no OFFER"
    return offer.options


@pytest.mark.parametrize("entry", OPTION_DATA, ids=lambda e: e.get("name") or str(e["code"]))
def test_bytes_match_kea(kea_options, entry):
    defn = DEFS.lookup(entry.get("space", "dhcp4"), code=entry.get("code"),
                       name=entry.get("name"))
    payload = ours(entry)
    if defn.space == "acme":
        kea = kea_options.data(43)
        assert kea.startswith(bytes((defn.code, len(payload))) + payload)
        return
    if defn.encapsulate:  # the fixed fields; sub-options follow
        assert kea_options.data(defn.code).startswith(payload)
        return
    assert kea_options.data(defn.code) == payload


def kea_accepts(entry):
    config = {"Dhcp4": {"option-def": CUSTOM_DEFS, "option-data": [entry],
                        "subnet4": [], "lease-database": {"type": "memfile", "persist": False}}}
    with tempfile.TemporaryDirectory(prefix="keactl-kea-") as tmp:
        path = os.path.join(tmp, "kea.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(config, fh)
        env = dict(os.environ, KEA_PIDFILE_DIR=tmp, KEA_LOCKFILE_DIR=tmp)
        return subprocess.run(["kea-dhcp4", "-t", path], env=env, capture_output=True,
                              timeout=30).returncode == 0


def test_rejections_agree_with_kea():
    require_program("kea-dhcp4")
    for entry in REJECTED:
        assert not kea_accepts(entry), entry
        with pytest.raises(CodecError):
            ours(entry)


def test_rejected_entries_fail_without_kea():
    for entry in REJECTED:
        with pytest.raises(CodecError):
            ours(entry)
