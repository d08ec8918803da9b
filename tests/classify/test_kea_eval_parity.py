"""Values as Kea 2.2 computes them: kea-dhcp4 runs in a network namespace with one
client class per (packet, expression); each class tests that Kea's value of the
expression equals ours (as a hex literal), and Kea's EVAL_RESULT log lines say
whether it does. Boolean expressions are compared directly, evaluation failures
with Kea's logged errors."""
import re

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
    "addrtotext(option[3].hex)", "option[81].text", "option[124].text", "option[125].text",
    "option[124].hex", "option[125].hex", "option[125].option[2].text",
    "option[125].option[1].hex", "option[125].option[7].text",
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
              (93, b"\x00\x07"), (81, b"\x05\x00\x00\x04host\x07example\x00"), (224, b"\xab\xcd"),
              (43, tlv4((1, b"pxe"))), (124, vivco),
              (125, vivso + bytes([len(subs)]) + subs),
              (82, tlv4((1, b"eth0/1"), (2, b"\x00\x11\x22"))),
              xid=0x0A0B0C0D, chaddr=bytes.fromhex("525400123456") + bytes(10),
              flags=0x8000)
    small = v4((61, b"\x01\x52\x54\x00\x00\x00\x01"), (57, b"\x02\x40"), xid=7,
               chaddr=bytes.fromhex("5254000000") + bytes(11), hlen=5)
    return [full, small]


def _cases(packets, strings, bools, universe, queries):
    """(class name, test, expected Kea result, expression) per packet."""
    out = []
    for n, (pkt, query) in enumerate(zip(packets, queries)):
        cases = []
        for i, text in enumerate(strings):
            try:
                value = compile_expression(text, universe, "string")(query)
            except EvalError:
                cases.append((f"p{n}s{i}", f"{text} == ''", "error", text))
                continue
            literal = f"0x{value.hex()}" if value else "''"
            cases.append((f"p{n}s{i}", f"{text} == {literal}", "true", text))
        for i, text in enumerate(bools):
            try:
                got = "true" if compile_expression(text, universe, "bool")(query) else "false"
            except EvalError:
                got = "error"
            cases.append((f"p{n}b{i}", text, got, text))
        out.append(cases)
    return out


_RESULT = re.compile(r"EVAL_RESULT Expression (\S+) evaluated to (.*)$", re.M)


def _run(netlab, lab, universe, cases, send):
    """Start Kea with the classes of ``cases``, send each packet with ``send(n)``
    and compare Kea's verdicts with ours."""
    classes = [{"name": name, "test": test} for per in cases for name, test, _, _ in per]
    subnet = {"id": 1, "subnet": "192.0.2.0/24",
              "pools": [{"pool": "192.0.2.100 - 192.0.2.200"}]} if universe == 4 else \
        {"id": 1, "subnet": "2001:db8:1::/64", "interface": lab.server_if,
         "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}
    # DHCPv6 relayed traffic arrives by unicast: Kea listens for it only when
    # the interface is given with its unicast address.
    listen = lab.server_if if universe == 4 else f"{lab.server_if}/{SERVER6}"
    config = {
        "interfaces-config": {"interfaces": [listen]},
        "client-classes": classes,
        f"subnet{universe}": [subnet],
        "loggers": [{"name": f"kea-dhcp{universe}", "severity": "DEBUG", "debuglevel": 50,
                     "output_options": [{"output": "stdout"}]}],
    }
    server = kea(lab.server, universe, config, netlab.tmp)
    results = {}
    for n in range(len(cases)):
        send(n)
        want = len(classes) * (n + 1)
        server.wait_for(lambda: len(_RESULT.findall(server.stdout())) >= want, 15,
                        f"EVAL_RESULT for packet {n}")
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


_SEND = ("import socket,sys;f=socket.AF_INET6 if ':' in sys.argv[2] else socket.AF_INET;"
         "s=socket.socket(f,socket.SOCK_DGRAM);"
         "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
         "a=socket.getaddrinfo(sys.argv[2],int(sys.argv[3]),f,socket.SOCK_DGRAM)[0][4];"
         "b=socket.getaddrinfo(sys.argv[4],int(sys.argv[5]),f,socket.SOCK_DGRAM)[0][4];"
         "s.bind(a);s.sendto(bytes.fromhex(sys.argv[1]),b)")


def test_values_match_kea4(netlab):
    lab = two_hosts_topology(netlab, client_addresses=(f"{CLIENT}/24",))
    packets = _packets()
    queries = []
    for pkt in packets:
        query = Query(pkt, iface="s0", src=CLIENT, dst=SERVER)
        query.add_class("ALL")
        if pkt.options.data(60):
            query.add_class("VENDOR_CLASS_docsis3.0")
        queries.append(query)
    cases = _cases(packets, STRINGS, BOOLS, 4, queries)
    _run(netlab, lab, 4, cases, lambda n: lab.client.run(
        ["python3", "-c", _SEND, packets[n].build().hex(), CLIENT, 68, SERVER, 67]))


CLIENT6 = "2001:db8:1::2"
SERVER6 = "2001:db8:1::1"
STRINGS6 = [
    "option[1].hex", "option[1].text", "option[6].text", "option[8].text", "option[8].hex",
    "option[3].hex", "option[3].option[5].hex", "option[3].option[13].hex",
    "option[16].text", "option[17].text", "option[17].hex", "option[15].text",
    "option[23].text", "option[99].text",
    "vendor.enterprise", "vendor[4491].option[2].hex", "vendor[4491].option[2].text",
    "vendor[4491].option[32].text", "vendor-class[*].data", "vendor-class[4491].data[1]",
    "vendor-class.enterprise",
    "relay6[0].option[18].hex", "relay6[1].option[18].hex", "relay6[-1].option[37].hex",
    "relay6[0].option[37].hex", "relay6[2].option[18].hex", "relay6[0].option[18].text",
    "relay6[0].peeraddr", "relay6[0].linkaddr", "relay6[-1].peeraddr", "relay6[-2].linkaddr",
    "relay6[5].peeraddr", "relay6[-9].linkaddr",
    "pkt6.msgtype", "pkt6.transid", "pkt.len", "pkt.src", "pkt.dst", "pkt.iface",
    "addrtotext(relay6[0].linkaddr)", "hexstring(substring(option[1].hex, 0, 4), ':')",
    "option[17].option[2].text", "option[17].option[32].text",
]
BOOLS6 = [
    "option[3].exists", "option[3].option[5].exists", "relay6[0].option[9].exists",
    "relay6[1].option[37].exists", "relay6[3].option[18].exists", "vendor[4491].exists",
    "vendor[4491].option[2].exists", "vendor-class[4491].exists", "vendor-class[1].exists",
    "member('VENDOR_CLASS_eRouter1.0')", "member('ALL')",
]


def _packets6():
    from tests.classify.packets import relayed, tlv6, v6
    iaaddr = bytes.fromhex("20010db8000100000000000000000042") + bytes(8)
    vclass = (4491).to_bytes(4, "big") + b"".join(
        len(t).to_bytes(2, "big") + t for t in (b"foo", b"eRouter1.0"))
    vopts = (4491).to_bytes(4, "big") + tlv6((2, b"CM"), (32, bytes(15) + b"\x01"))
    solicit = v6((1, bytes.fromhex("000100012b3c4d5e525400123456")), (8, b"\x00\x64"),
                 (6, b"\x00\x17\x00\x18"), (3, (7).to_bytes(4, "big") + bytes(8)
                                                + tlv6((5, iaaddr))),
                 (16, vclass), (17, vopts), (15, b"\x00\x03abc"),
                 transaction_id=0xABCDEF)
    inner = v6((1, bytes.fromhex("00030001525400abcdef")), (8, b"\x00\x00"),
               msg_type=1, transaction_id=0x010203)
    chain = relayed(inner,
                    ("2001:db8:9::1", "fe80::c1", [(18, b"port-7"), (37, b"\x00\x00\x00\x09rid")]),
                    (SERVER6.replace("::1", "::"), "fe80::b", [(18, b"agg-1")]))
    return [solicit, chain]


def test_values_match_kea6(netlab):
    lab = two_hosts_topology(netlab, client_addresses=(f"{CLIENT6}/64",))
    packets = _packets6()
    link_local = lab.client.link_local(lab.client_if)
    server_ll = lab.server.link_local(lab.server_if)
    sources = [f"{link_local}%{lab.client_if}", CLIENT6]
    targets = [f"ff02::1:2%{lab.client_if}", SERVER6]
    queries = []
    for n, pkt in enumerate(packets):
        dst = "ff02::1:2" if n == 0 else SERVER6
        src = link_local if n == 0 else CLIENT6
        query = Query(pkt, iface="s0", src=src, dst=dst)
        query.add_class("ALL")
        if n == 0:
            query.add_class("VENDOR_CLASS_eRouter1.0")
        queries.append(query)
    del server_ll
    cases = _cases(packets, STRINGS6, BOOLS6, 6, queries)
    _run(netlab, lab, 6, cases, lambda n: lab.client.run(
        ["python3", "-c", _SEND, packets[n].build().hex(), sources[n], 546, targets[n], 547]))


@pytest.fixture(autouse=True)
def _root_only():
    from tests.conftest import require_program, require_root
    require_root()
    require_program("kea-dhcp4", "kea-dhcp6", "ip")
