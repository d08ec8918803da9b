"""Python hook libraries at Kea's callout points, including the worked example."""
from pathlib import Path

import pytest

from kea_tools.server.hooks import HookError, HooksManager
from tests.server.helpers import SERVER, dora, exchange, mac, packet, server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hooks" / "mac_policy.py"


def write_hook(tmp_path, body, name="hook.py"):
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def test_worked_example(tmp_path):
    log = tmp_path / "leases.log"
    hooks = HooksManager.from_config([{"library": str(EXAMPLE), "parameters": {
        "blocked-macs": [mac(66).hex(":")], "lease-log": str(log), "motd": "hi"}}])
    pipe = server(hooks=hooks)
    offer, ack = dora(pipe, mac(1))
    assert ack.options.data(252) == b"hi" and offer.options.data(252) == b"hi"
    assert log.read_text() == f"{ack.yiaddr} {mac(1).hex(':')}\n"
    assert exchange(pipe, packet(1, mac(66)))[0] == []
    assert hooks.commands["mac-policy-get"](None)["arguments"]["dropped"] == 1
    hooks.unload()


def test_each_load_gets_fresh_state(tmp_path):
    params = {"blocked-macs": [mac(66).hex(":")]}
    a = HooksManager.from_config([{"library": str(EXAMPLE), "parameters": params}])
    b = HooksManager.from_config([{"library": str(EXAMPLE), "parameters": {}}])
    assert a.libraries[0].module is not b.libraries[0].module
    assert b.libraries[0].module.blocked == set()


def test_lease4_select_can_change_lease_and_skip(tmp_path):
    path = write_hook(tmp_path, """
def lease4_select(handle):
    lease = handle.get_argument("lease4")
    if handle.get_argument("fake_allocation"):
        return
    if lease.hwaddr[-1] == 9:
        handle.set_status(1)  # SKIP: no lease for this one
    else:
        lease.hostname = "set-by-hook"
""")
    pipe = server(hooks=HooksManager.from_config([{"library": path}]))
    _, ack = dora(pipe, mac(1))
    assert pipe.leases.backend.get(ack.yiaddr).hostname == "set-by-hook"
    (offer,), _ = exchange(pipe, packet(1, mac(9)))
    (nak,), _ = exchange(pipe, packet(3, mac(9), requested=offer.yiaddr, server_id=SERVER))
    assert nak.msg_type == 6


def test_buffer4_receive_drop_subnet4_select_and_buffer4_send(tmp_path):
    path = write_hook(tmp_path, """
seen = []
def buffer4_receive(handle):
    if handle.get_argument("query4")[:4] == b"JUNK":
        handle.set_status(2)
def subnet4_select(handle):
    subnets = handle.get_argument("subnet4collection")
    handle.set_argument("subnet4", subnets[-1])
def buffer4_send(handle):
    seen.append(len(handle.get_argument("response4")))
""")
    from tests.server.helpers import subnet
    hooks = HooksManager.from_config([{"library": path}])
    pipe = server([subnet(1), subnet(2, "198.51.100.0/24", pools=(("198.51.100.5", "198.51.100.9"),))],
                  hooks=hooks)
    (offer,), _ = exchange(pipe, packet(1, mac(1)))
    assert offer.yiaddr == "198.51.100.5"
    assert hooks.libraries[0].module.seen
    pipe.process([__import__("tests.server.helpers", fromlist=["incoming"]).incoming(b"JUNK" * 80)])
    assert pipe.stats.value("pkt4-receive-drop") == 1
    assert pipe.stats.value("pkt4-parse-failed") == 0


def test_release_and_decline_skip_keep_lease(tmp_path):
    path = write_hook(tmp_path, """
def lease4_release(handle):
    handle.set_status(1)
def lease4_decline(handle):
    handle.set_status(2)
""")
    pipe = server(hooks=HooksManager.from_config([{"library": path}]))
    _, ack = dora(pipe, mac(1))
    exchange(pipe, packet(7, mac(1), ciaddr=ack.yiaddr, server_id=SERVER))
    exchange(pipe, packet(4, mac(1), requested=ack.yiaddr, server_id=SERVER))
    assert pipe.leases.backend.get(ack.yiaddr).state == 0


def test_leases4_committed_drop_and_failing_callout(tmp_path):
    path = write_hook(tmp_path, """
def leases4_committed(handle):
    handle.set_status(2)
def pkt4_send(handle):
    raise RuntimeError("bug in a hook")
""")
    pipe = server(hooks=HooksManager.from_config([{"library": path}]))
    (offer,), _ = exchange(pipe, packet(1, mac(1)))  # pkt4_send raising: logged, sent
    acks, _ = exchange(pipe, packet(3, mac(1), requested=offer.yiaddr, server_id=SERVER))
    assert acks == []  # dropped by leases4_committed...
    assert pipe.leases.backend.get(offer.yiaddr) is not None  # ...after the lease was stored


def test_library_errors(tmp_path):
    with pytest.raises(HookError, match="does not support"):
        HooksManager.from_config([{"library": "/usr/lib/kea/hooks/libdhcp_ha.so"}])
    with pytest.raises(HookError, match="no such"):
        HooksManager.from_config([{"library": str(tmp_path / "missing.py")}])
    with pytest.raises(HookError, match="no such Python module"):
        HooksManager.from_config([{"library": "no_such_module_xyz"}])
    bad = write_hook(tmp_path, "def load(lib):\n    raise ValueError('nope')\n")
    with pytest.raises(HookError, match="load\\(\\) failed: ValueError: nope"):
        HooksManager.from_config([{"library": bad}])
    ok = HooksManager.from_config([{"library": "libdhcp_lease_cmds.so"},
                                   {"library": "/x/libdhcp_stat_cmds.so"}])
    assert ok.builtins == {"lease_cmds", "stat_cmds"}
