"""keactl serve against kea-dhcp6 2.2 with DDNS on, in a network namespace made
here: the same relayed SOLICIT/REQUEST exchanges with option 39 (tests/server/
ddns_kea6.py plays the relay and the D2 socket) go to each server in turn; the
option 39 answers, the addresses and the NCRs byte for byte must be the same."""
import json
import os
import sys

import pytest

from tests.conftest import ROOT, require_program, require_root
from tests.server.test_ddns import V6_ORACLE

SERVER_ID = {"type": "EN", "enterprise-id": 2495, "identifier": "6b6561637c6c",
             "persist": False}


def run_relay(ns, clients):
    out = ns.run([sys.executable, "-m", "tests.server.ddns_kea6", json.dumps(clients)],
                 cwd=str(ROOT), timeout=60).stdout
    return json.loads(out)


@pytest.mark.parametrize("name", list(V6_ORACLE))
def test_keactl_serve_option39_and_ncrs_equal_kea_dhcp6(name):
    require_root()
    require_program("kea-dhcp6", "ip")
    from tests.e2e.netns import NetLab, kea
    glob, options = V6_ORACLE[name]
    clients = [{"duid": (bytes.fromhex("00030001020000000b") + bytes((i,))).hex(),
                "fqdn": None if o is None else o.data.hex()} for i, o in enumerate(options)]
    config = {**glob,
              "interfaces-config": {"interfaces": ["lo/2001:db8:1::1"]},
              "dhcp-ddns": {"enable-updates": True},
              "server-id": SERVER_ID,
              "preferred-lifetime": 3000, "valid-lifetime": 4000,
              "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                           "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}]}
    with NetLab() as lab:
        ns = lab.namespace("ddns6e2e")
        for address in ("2001:db8:1::1/64", "2001:db8:1::2/64"):
            ns.add_address("lo", address)
        proc = kea(ns, 6, config, lab.tmp)
        theirs = run_relay(ns, clients)
        proc.stop()
        ours_conf = {**config, "lease-database": {"type": "memfile", "persist": False},
                     "data-directory": str(lab.tmp),
                     "loggers": [{"name": "kea-dhcp6", "severity": "INFO"}]}
        path = lab.tmp / "keactl6-ddns.json"
        path.write_text(json.dumps({"Dhcp6": ours_conf}))
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = ns.popen([sys.executable, "-m", "kea_tools.server", "-c", path], env=env,
                        name="keactl6")
        proc.wait_for(lambda: "DHCP6_STARTED" in proc.stderr(), 20, "DHCP6_STARTED")
        ours = run_relay(ns, clients)
        proc.stop()
    assert len(theirs) == len(options)
    for request, mine, kea_answer in zip(options, ours, theirs):
        assert mine == kea_answer, request
    assert any(r["ncrs"] for r in theirs)
