"""Mangled configurations give SourceError, never another exception."""
import copy
import json
import random

from kea_tools.config import load_file
from kea_tools.errors import SourceError

BASE = {
    "Dhcp4": {
        "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
        "option-def": [{"name": "site", "code": 224, "type": "record",
                        "record-types": "uint8, string"}],
        "option-data": [{"name": "routers", "data": "10.0.0.1"},
                        {"code": 224, "data": "1, text"}],
        "client-classes": [{"name": "c", "test": "option[60].hex == 'x'",
                            "next-server": "10.0.0.2"}],
        "shared-networks": [{"name": "n", "relay": {"ip-addresses": ["10.0.0.3"]},
                             "subnet4": [{"subnet": "10.1.0.0/24",
                                          "pools": [{"pool": "10.1.0.10 - 10.1.0.20"}]}]}],
        "subnet4": [{"id": 5, "subnet": "10.0.0.0/24",
                     "pools": [{"pool": "10.0.0.128/25", "client-class": "c"}],
                     "reservations": [{"hw-address": "01:02:03:04:05:06",
                                       "ip-address": "10.0.0.5", "hostname": "h"}]}],
        "reservations": [{"client-id": "'cid'", "hostname": "g"}],
        "interfaces-config": {"interfaces": ["lo"]},
        "lease-database": {"type": "memfile", "persist": False},
        "control-socket": {"socket-type": "unix", "socket-name": "/tmp/s"},
        "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}]}],
    }
}
REPLACEMENTS = [None, True, 0, -1, 2 ** 40, 0.5, "", "x", "10.0.0.999", "1::/200",
                "a - b", "zz:zz", [], [1], {}, {"x": 1}]


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


def test_base_loads(tmp_path):
    path = tmp_path / "kea.json"
    path.write_text(json.dumps(BASE))
    assert load_file(str(path)).config.subnets


def test_every_value_replaced_by_junk_fails_cleanly(tmp_path):
    rng = random.Random(2131)
    targets = [p for p in paths(BASE) if len(p) > 1]
    path = tmp_path / "kea.json"
    for target in targets:
        for junk in rng.sample(REPLACEMENTS, 4):
            cfg = copy.deepcopy(BASE)
            node = cfg
            for step in target[:-1]:
                node = node[step]
            node[target[-1]] = junk
            path.write_text(json.dumps(cfg, indent=1))
            try:
                load_file(str(path))
            except SourceError as err:
                assert err.line >= 1 and err.col >= 1, (target, junk, err)


def test_truncated_and_garbled_text_fails_cleanly(tmp_path):
    rng = random.Random(8415)
    text = "// comment\n" + json.dumps(BASE, indent=1)
    path = tmp_path / "kea.json"
    for _ in range(150):
        cut = rng.randrange(len(text))
        garbled = text[:cut] + rng.choice(["", "}", "#", "/*", ",", '"', "<?include", "\\"]) + \
            text[cut + rng.randrange(3):]
        path.write_text(garbled)
        try:
            load_file(str(path))
        except SourceError as err:
            assert err.line >= 1, garbled
