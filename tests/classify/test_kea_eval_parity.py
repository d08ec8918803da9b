"""Values as Kea 2.2 computes them: kea-dhcp4 runs in a network namespace with one
client class per (packet, expression); each class tests that Kea's value of the
expression equals ours (as a hex literal), and Kea's EVAL_RESULT log lines say
whether it does. Boolean expressions are compared directly, evaluation failures
with Kea's logged errors."""
import re
import time

import pytest

from kea_tools.classify import EvalError, Query, compile_expression
from tests.classify.packets import tlv4, v4
from tests.e2e.netns import kea, netlab, two_hosts_topology  # noqa: F401 (fixture)

CLIENT = "192.0.2.2"
SERVER = "192.0.2.1"

STRINGS = [
    "option[1].hex", "option[1].text", "option[3].text", "option[12].hex", "option[12].text",
    "option[19].text", "option[43].hex", "option[43].text", "option[43].option[1].hex",
    "option[51].text", "option[55].text", "option[57].text", "option[60].text",
    "option[61].hex", "option[61].text", "option[81].hex", "option[82].text",
    "option[93].text", "option[224].text", "option[99].text", "option[99].hex",
    "relay4[1].hex", "relay4[1].text", "relay4[2].text", "option[82].option[9].hex",
    "vendor.enterprise", "vendor[4491].option[1].hex", "vendor[4491].option[2].text",
    "vendor[*].option[5].hex", "vendor[4491].option[0].hex",
    "vendor-class.enterprise", "vendor-class[4491].data", "vendor-class[*].data[1]",
    "vendor-class[4491].data[2]",
    "pkt.len", "pkt.src", "pkt.dst", "pkt.iface", "pkt4.mac", "pkt4.hlen", "pkt4.htype",
    "pkt4.ciaddr", "pkt4.giaddr", "pkt4.yiaddr", "pkt4.siaddr", "pkt4.msgtype",
    "pkt4.transid",
    "substring(option[61].hex, -2, all)", "substring(option[61].hex, 1, -5)",
    "split(option[12].hex, '.', 2)", "split(option[12].hex, '.', 9)",
    "hexstring(pkt4.mac, '-')", "addrtotext(pkt.src)", "uint16totext(option[57].hex)",
    "int32totext(option[51].hex)", "uint8totext(substring(option[55].hex, 1, 1))",
    "ifelse(option[60].exists, option[60].hex, 'none')", "concat(pkt.iface, 0x00)",
    "addrtotext(option[3].hex)",
]
BOOLS = [
    "option[99].exists", "option[60].exists", "relay4[2].exists", "relay4[3].exists",
    "vendor[*].exists", "vendor[4491].exists", "vendor[3561].exists",
    "vendor[4491].option[1].exists", "vendor-class[*].exists", "vendor-class[9].exists",
    "option[43].option[1].exists", "member('ALL')", "member('VENDOR_CLASS_docsis3.0')",
    "not option[1].exists or option[61].exists and pkt4.msgtype == 1",
]


def _packets():
    vivso = (4491).to_bytes(4, "big")
    subs = tlv4((1, b"docsis3.0"), (2, bytes([10, 0, 0, 9])))
    vivco_block = b"docsis3.0"
    vivco = ((4491).to_bytes(4, "big") + bytes([len(vivco_block)]) + vivco_block
             + (4491).to_bytes(4, "big") + b"\x02xy")
    full = v4((61, b"\x01\x52\x54\x00\x12\x34\x56"), (60, b"docsis3.0"),
              (12, b"host.example\x00"), (55, bytes([1, 3, 6, 15, 51])), (57, b"\x05\xdc"),
              (51, b"\x00\x00\x0e\x10"), (1, bytes([255, 255, 255, 0])),
              (3, bytes([192, 0, 2, 254, 192, 0, 2, 253])), (19, b"\x01"),
              (93, b"\x00\x07"), (81, b"\x01\x00\x00\x04host\x00"), (224, b"\xab\xcd"),
              (43, tlv4((1, b"pxe"))), (124, vivco),
              (125, vivso + bytes([len(subs)]) + subs),
              (82, tlv4((1, b"eth0/1"), (2, b"\x00\x11\x22"))),
              xid=0x0A0B0C0D, chaddr=bytes.fromhex("525400123456") + bytes(10),
              flags=0x8000)
    small = v4((61, b"\x01\x52\x54\x00\x00\x00\x01"), (57, b"\x02\x40"), xid=7,
               chaddr=bytes.fromhex("5254000000") + bytes(11), hlen=5)
    return [full, small]


def _cases(packets):
    """(class name, test, expected Kea result kind) per packet."""
    out = []
    for n, pkt in enumerate(packets):
        query = Query(pkt, iface="s0", src=CLIENT, dst=SERVER)
        query.add_class("ALL")
        query.add_class("VENDOR_CLASS_docsis3.0") if pkt.options.data(60) else None
        cases = []
        for i, text in enumerate(STRINGS):
            try:
                value = compile_expression(text, 4, "string")(query)
            except EvalError:
                cases.append((f"p{n}s{i}", f"{text} == ''", "error", text))
                continue
            literal = f"0x{value.hex()}" if value else "''"
            cases.append((f"p{n}s{i}", f"{text} == {literal}", "true", text))
        for i, text in enumerate(BOOLS):
            try:
                got = "true" if compile_expression(text, 4, "bool")(query) else "false"
            except EvalError:
                got = "error"
            cases.append((f"p{n}b{i}", text, got, text))
        out.append(cases)
    return out


_RESULT = re.compile(r"EVAL_RESULT Expression (\S+) evaluated to (.*)$", re.M)


def test_values_match_kea(netlab):
    lab = two_hosts_topology(netlab, client_addresses=(f"{CLIENT}/24",))
    packets = _packets()
    cases = _cases(packets)
    classes = [{"name": name, "test": test} for per in cases for name, test, _, _ in per]
    config = {
        "interfaces-config": {"interfaces": [lab.server_if]},
        "client-classes": classes,
        "subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
                     "pools": [{"pool": "192.0.2.100 - 192.0.2.200"}]}],
        "loggers": [{"name": "kea-dhcp4", "severity": "DEBUG", "debuglevel": 55,
                     "output_options": [{"output": "stdout"}]}],
    }
    server = kea(lab.server, 4, config, netlab.tmp)
    sender = ("import socket,sys;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
              "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
              f"s.bind(('{CLIENT}',68));s.sendto(bytes.fromhex(sys.argv[1]),('{SERVER}',67))")
    results = {}
    for n, pkt in enumerate(packets):
        lab.client.run(["python3", "-c", sender, pkt.build().hex()])
        want = len(classes) * (n + 1)
        server.wait_for(lambda: len(_RESULT.findall(server.stdout())) >= want, 15,
                        f"EVAL_RESULT for packet {n}")
        time.sleep(0.05)
        batch = _RESULT.findall(server.stdout())[len(classes) * n:want]
        results.update({name: verdict for name, verdict in batch if name.startswith(f"p{n}")})
    mismatches = []
    for per in cases:
        for name, test, expected, text in per:
            # Kea 2.2 logs the boolean as 1/0, an evaluation failure as its message.
            got = {"1": "true", "0": "false"}.get(results[name], "error")
            if got != expected:
                mismatches.append(f"{name}: {text}: kea {results[name]!r}, we say {expected}"
                                  f" ({test})")
    assert not mismatches, "\n".join(mismatches)


@pytest.fixture(autouse=True)
def _root_only():
    from tests.conftest import require_program, require_root
    require_root()
    require_program("kea-dhcp4", "ip")
