"""Codec throughput: DHCPv4/DHCPv6 parse and build per second.

Run as a script: ``python tests/bench/bench_codec.py [seconds-per-case]``.
Not collected by the default test run (bench_*.py).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kea_tools.codec.describe import describe_packet  # noqa: E402
from kea_tools.codec.option import Option, OptionList  # noqa: E402
from kea_tools.codec.v4 import Packet4  # noqa: E402
from kea_tools.codec.v6 import Packet6, Relay6, parse_packet6  # noqa: E402


def discover():
    pkt = Packet4(xid=0x12345678, chaddr=bytes.fromhex("001122334455") + bytes(10))
    pkt.msg_type = 1
    pkt.options.extend([
        Option(61, bytes.fromhex("01001122334455")), Option(50, bytes.fromhex("c0000264")),
        Option(12, b"client-host"), Option(60, b"MSFT 5.0"),
        Option(55, bytes((1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252))),
        Option(57, b"\x05\xdc"), Option(82, bytes.fromhex("0104000100020206001122334455")),
    ])
    pkt.padding = bytes(20)
    return pkt


def offer():
    pkt = Packet4(op=2, xid=0x12345678, yiaddr="192.0.2.100", giaddr="192.0.2.1",
                  chaddr=bytes.fromhex("001122334455") + bytes(10))
    pkt.msg_type = 2
    pkt.options.extend([
        Option(54, bytes.fromhex("c0000201")), Option(51, bytes.fromhex("00000e10")),
        Option(58, bytes.fromhex("00000708")), Option(59, bytes.fromhex("00000c4e")),
        Option(1, bytes.fromhex("ffffff00")), Option(3, bytes.fromhex("c0000201")),
        Option(6, bytes.fromhex("c0000202c0000203")), Option(15, b"example.org"),
        Option(82, bytes.fromhex("0104000100020206001122334455")),
    ])
    return pkt


def solicit_relayed():
    sol = Packet6(1, 0xABCDEF, OptionList([
        Option(1, bytes.fromhex("000100012a2b2c2d001122334455")),
        Option(3, bytes.fromhex("000000010000000000000000")), Option(8, b"\0\0"),
        Option(6, bytes.fromhex("001700180027"))]))
    return Relay6.wrap(sol, "2001:db8::1", "fe80::1", [Option(18, b"eth0")])


def rate(func, seconds):
    n, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            func()
        n += 200
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def main(seconds=1.0):
    disc, off, rel = discover(), offer(), solicit_relayed()
    disc_wire, off_wire, rel_wire = disc.build(), off.build(), rel.build()
    big = offer()
    big.options.append(Option(43, bytes(400)))
    cases = [
        ("v4 parse DISCOVER", lambda: Packet4.parse(disc_wire)),
        ("v4 build OFFER", off.build),
        ("v4 build OFFER max_size=576 (overload)", lambda: big.build(max_size=576)),
        ("v4 parse+option lookups", lambda: Packet4.parse(disc_wire).options.data(61)),
        ("v6 parse relayed SOLICIT", lambda: parse_packet6(rel_wire)),
        ("v6 build relayed SOLICIT", rel.build),
        ("describe v4 DISCOVER (typed, not hot path)", lambda: describe_packet(disc)),
    ]
    for name, func in cases:
        print(f"{name:45s} {rate(func, seconds):>12,.0f} /s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
