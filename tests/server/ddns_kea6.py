"""Play a DHCPv6 relay against kea-dhcp6 and collect its answers and NCRs.

Runs inside a network namespace made by the test (``ip netns exec NS python -m
tests.server.ddns_kea6 JSON``): kea-dhcp6 listens on lo/2001:db8:1::1 there, we
relay from [2001:db8:1::2]:547 and receive Kea's NCRs on 127.0.0.1:53001 (its
dhcp-ddns default).  Input: a JSON list of clients {"duid": hex, "fqdn": hex or
null}; output: a JSON list of {"address", "advertise39", "reply39", "ncrs"}.
"""
import json
import socket
import sys
import time

from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.v6 import Packet6, Relay6, parse_options6, parse_packet6

SERVER = "2001:db8:1::1"
RELAY = "2001:db8:1::2"
SOLICIT, ADVERTISE, REQUEST, REPLY = 1, 2, 3, 7


def ask(sock, msg, want, xid):
    wire = Relay6.wrap(msg, link_address=RELAY, peer_address="fe80::1").build()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sock.sendto(wire, (SERVER, 547))
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                break
            inner = parse_packet6(data).innermost()
            if inner.msg_type == want and inner.transaction_id == xid:
                return inner
    raise SystemExit("kea-dhcp6 did not answer")


def first_address(ia_na):
    for opt in parse_options6(ia_na[12:]):
        if opt.code == 5:
            return socket.inet_ntop(socket.AF_INET6, opt.data[:16])
    return None


def ncrs(sock, grace=0.4):
    out = []
    end = time.monotonic() + grace
    while time.monotonic() < end:
        try:
            out.append(sock.recvfrom(65535)[0].decode("latin-1"))
        except socket.timeout:
            pass
    return out


def main(clients):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind((RELAY, 547))
    sock.settimeout(0.1)
    ncr_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ncr_sock.bind(("127.0.0.1", 53001))
    ncr_sock.settimeout(0.05)
    results = []
    for i, client in enumerate(clients):
        base = [Option(1, bytes.fromhex(client["duid"])),
                Option(3, (i + 1).to_bytes(4, "big") + bytes(8))]
        if client["fqdn"] is not None:
            base.append(Option(39, bytes.fromhex(client["fqdn"])))
        xid = 0x100 + i * 2
        adv = ask(sock, Packet6(SOLICIT, xid, OptionList(base)), ADVERTISE, xid)
        req = [o for o in base if o.code != 3]
        req += [Option(2, adv.options.data(2)), Option(3, adv.options.data(3))]
        rep = ask(sock, Packet6(REQUEST, xid + 1, OptionList(req)), REPLY, xid + 1)
        results.append({
            "address": first_address(rep.options.data(3)),
            "advertise39": (adv.options.data(39) or b"").hex() if 39 in adv.options else None,
            "reply39": rep.options.data(39).hex() if 39 in rep.options else None,
            "ncrs": ncrs(ncr_sock),
        })
    print(json.dumps(results))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
