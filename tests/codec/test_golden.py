"""Golden packets from real peers (tests/codec/golden/*.jsonl, made by capture.py).

For every captured packet: build(parse(bytes)) == bytes, and our decode agrees with
tshark's dissection field by field - header fields, every option's code and raw
value (our OptionList), and for typed options the values that
``describe_packet`` renders in Kea's text form. The dissection stored with each
fixture is used always; when tshark is installed the same comparison also runs
against a live dissection of the fixture payloads.
"""
import ipaddress
import json
import re
from pathlib import Path

import pytest

from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Relay6, parse_packet6
from tests.codec.golden.dissect import pdml_dissections, write_pcap
from tests.conftest import require_program

GOLDEN = Path(__file__).resolve().parent / "golden"


def _load():
    recs = []
    for path in sorted(GOLDEN.glob("*.jsonl")):
        with open(path) as fh:
            recs.extend(json.loads(line) for line in fh if line.strip())
    return recs


FIXTURES = _load()
IDS = [f"{r['peer']}-{r['n']}" for r in FIXTURES]


def parse(rec):
    data = bytes.fromhex(rec["hex"])
    return Packet4.parse(data) if rec["family"] == 4 else parse_packet6(data)


# --- how tshark's fields compare with Kea's text form ------------------------------------

def _ip(tok, show, raw):
    return ipaddress.ip_address(tok) == ipaddress.ip_address(show)


def _int(tok, show, raw):
    return int(tok) == int(show, 0)


def _hexint(tok, show, raw):  # tshark prints IAIDs as bare hex
    return int(tok) == int(show, 16)


def _rawint(tok, show, raw):  # compare with the wire value, not tshark's unit
    return int(tok) == int.from_bytes(raw, "big")


def _str(tok, show, raw):
    return tok == show


def _fqdn(tok, show, raw):
    return tok.rstrip(".").lower() == show.rstrip(".").lower()


def _raw(tok, show, raw):
    return _hex(tok) == raw


def _tuple_in_binary(tok, show, raw):
    # Kea defines v6 vendor-class (16) as record(uint32, binary): the binary field
    # holds the opaque-data tuple with its 2-byte length, tshark shows the data.
    b = _hex(tok)
    return int.from_bytes(b[:2], "big") == len(raw) and b[2:] == raw


def _route121(tok, show, raw):
    # RFC 3442: width, the significant octets of the destination, the router.
    width = raw[0]
    n = (width + 7) // 8
    dest = ipaddress.IPv4Address(raw[1:1 + n].ljust(4, b"\0"))
    router = ipaddress.IPv4Address(raw[1 + n:5 + n])
    return " ".join(tok.split()) == f"{dest}/{width} - {router}"


KINDS = {
    # DHCPv4 (RFC 2132 and friends)
    "dhcp.option.subnet_mask": _ip, "dhcp.option.router": _ip,
    "dhcp.option.domain_name_server": _ip, "dhcp.option.broadcast_address": _ip,
    "dhcp.option.ntp_server": _ip, "dhcp.option.requested_ip_address": _ip,
    "dhcp.option.dhcp_server_id": _ip, "dhcp.option.hostname": _str,
    "dhcp.option.domain_name": _str, "dhcp.option.vendor_class_id": _str,
    "dhcp.option.interface_mtu": _int, "dhcp.option.time_offset": _int,
    "dhcp.option.ip_address_lease_time": _int, "dhcp.option.dhcp": _int,
    "dhcp.option.request_list_item": _int, "dhcp.option.dhcp_max_message_size": _int,
    "dhcp.option.renewal_time_value": _int, "dhcp.option.rebinding_time_value": _int,
    "dhcp.option.dhcp_dns_domain_search_list_fqdn": _fqdn,
    "dhcp.option.agent_information_option.agent_circuit_id": _raw,
    "dhcp.option.agent_information_option.agent_remote_id": _raw,
    "dhcp.option.classless_static_route": _route121, "dhcp.option.vi.enterprise": _int, "dhcp.option.vi.cl.tftp_server_addresses": _ip,
    # DHCPv6 (RFC 8415 and friends)
    "dhcpv6.duid.bytes": _raw, "dhcpv6.iaid": _hexint, "dhcpv6.iaid.t1": _int,
    "dhcpv6.iaid.t2": _int, "dhcpv6.iaaddr.ip": _ip, "dhcpv6.iaaddr.pref_lifetime": _int,
    "dhcpv6.iaaddr.valid_lifetime": _int, "dhcpv6.iaprefix.pref_lifetime": _int,
    "dhcpv6.iaprefix.valid_lifetime": _int, "dhcpv6.iaprefix.pref_len": _int,
    "dhcpv6.iaprefix.pref_addr": _ip, "dhcpv6.requested_option_code": _int,
    "dhcpv6.elapsed_time": _rawint, "dhcpv6.status_code": _int, "dhcpv6.status_msg": _str,
    "dhcpv6.vendorclass.enterprise": _int, "dhcpv6.vendorclass.data": _tuple_in_binary,
    "dhcpv6.vendoropts.enterprise": _int, "dhcpv6.cablelabs.ipv6_server": _ip,
    "dhcpv6.interface_id": _raw, "dhcpv6.dns_server": _ip, "dhcpv6.search_list_entry": _fqdn,
    "dhcpv6.sntp_server": _ip, "dhcpv6.remoteid.enterprise": _int,
    "dhcpv6.remoteid_enterprise_id": _raw, "dhcpv6.subscriber_id": _raw,
    "dhcpv6.client_fqdn_flags": _int, "dhcpv6.client_domain": _fqdn, "dhcpv6.tld": _fqdn,
}

# Kea types these as binary (describe gives hex) while tshark splits them into
# fields of its own: the whole payload is compared.
WHOLE_HEX = ("dhcp-client-identifier",)

# Nodes that are a (sub-)option of their own: compared against describe's nested
# "options", never searched for the parent's typed fields.
SUBOPTION_NODES = ("dhcpv6.option.type_str", "dhcp.option.agent_information_option.suboption",
                   "dhcp.option.vi.cl.suboption", "dhcpv6.cablelabs.opt")


def _hex(text):
    return bytes.fromhex(text.lower().removeprefix("0x").replace(":", "").replace(" ", ""))


def _tokens(value, count):
    """Split describe's value (", " joins fields, "\\," is a literal comma)."""
    parts = re.split(r"(?<!\\), ", value) if count > 1 else [value]
    return [p.replace("\\,", ",") for p in parts]


def _child(node, name):
    return next((k for k in node[4] if k[0] == name), None)


def _suboption(node, data):
    """(code, raw value) of a sub-option node, from the payload bytes."""
    name, show, pos = node[0], node[1], node[2]
    if name == "dhcpv6.option.type_str":
        code_f, len_f = node[4][0], node[4][1]
        start = code_f[2] + 4
        return int(code_f[1]), data[start:start + int(len_f[1])]
    if name == "dhcpv6.cablelabs.opt":
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        return int(show), data[pos + 4:pos + 4 + length]
    # v4 sub-options: tshark's node pos is not always the code byte; the length is.
    len_f = next(k for k in node[4] if k[0] == "dhcp.option.suboption_length")
    lp = len_f[2]
    return int(show), data[lp + 1:lp + 1 + data[lp]]


def _collect(node, leaves, subs, message):
    for kid in node[4]:
        if kid[0] in SUBOPTION_NODES:
            subs.append(kid)
        elif kid[0] == "dhcpv6":
            message.append(kid)
        else:
            if kid[0] in KINDS:
                leaves.append(kid)
            _collect(kid, leaves, subs, message)


class Mismatch(list):
    def check(self, ok, where, ours, theirs):
        if not ok:
            self.append(f"{where}: ours {ours!r}, tshark {theirs!r}")


def compare_option(node, raw, entry, data, where, bad):
    """One option (payload ``raw``): typed leaves vs describe's value, then nested
    options or the relayed message."""
    leaves, subs, message = [], [], []
    _collect(node, leaves, subs, message)
    leaves.sort(key=lambda f: f[2])
    value = entry["value"]
    if entry.get("name") is None or entry["name"] in WHOLE_HEX:
        # No definition (or a binary one): describe gives the payload as hex.
        bad.check(_hex(value) == raw, f"{where} hex", value, raw.hex())
    elif leaves:
        toks = _tokens(value, len(leaves))
        bad.check(len(toks) == len(leaves), f"{where} field count", toks,
                  [f[1] for f in leaves])
        for tok, leaf in zip(toks, leaves):
            raw = data[leaf[2]:leaf[2] + leaf[3]]
            try:
                ok = KINDS[leaf[0]](tok.strip(), leaf[1], raw)
            except ValueError:
                ok = False
            bad.check(ok, f"{where} {leaf[0]}", tok, leaf[1])
    if message:
        if "message" not in entry:
            bad.append(f"{where}: relay message not described")
        else:
            compare_message(message[0][4], entry["message"], data, f"{where}/message", bad)
    theirs = [_suboption(s, data) for s in subs]
    ours = entry.get("options", [])
    if not subs and _child(node, "dhcp.option.vendor.value") is not None:
        # tshark leaves option 43 opaque (the vendor is unknown to it): walk the
        # RFC 2132 section 8.4 TLVs of the raw value instead.
        theirs, i = [], 0
        while i + 1 < len(raw):
            theirs.append((raw[i], raw[i + 2:i + 2 + raw[i + 1]]))
            i += 2 + raw[i + 1]
        bad.check([c for c, _ in theirs] == [o["code"] for o in ours],
                  f"{where} sub-option codes (TLV walk)", [o["code"] for o in ours],
                  [c for c, _ in theirs])
        for (code, sub_raw), o in zip(theirs, ours):
            if o.get("name") is None:
                bad.check(_hex(o["value"]) == sub_raw, f"{where}.{code} hex", o["value"],
                          sub_raw.hex())
        return
    bad.check([c for c, _ in theirs] == [o["code"] for o in ours], f"{where} sub-option codes",
              [o["code"] for o in ours], [c for c, _ in theirs])
    for (_, sub_raw), sub, o in zip(theirs, subs, ours):
        compare_option(sub, sub_raw, o, data, f"{where}.{o['code']}", bad)


def _v4_options(fields, data):
    """tshark's top-level v4 options as (code, raw, node), same-code runs
    concatenated the way RFC 3396 says (and our parser does)."""
    out, seen = [], {}
    for f in fields:
        if f[0] != "dhcp.option.type":
            continue
        code = data[f[2]]
        if code in (0, 255):
            continue
        raw = data[f[2] + 2:f[2] + 2 + data[f[2] + 1]]
        if code in seen:
            i = seen[code]
            out[i] = (code, out[i][1] + raw, out[i][2])
        else:
            seen[code] = len(out)
            out.append((code, raw, f))
    return out


def _v6_options(fields, data):
    return [(*_suboption(f, data), f) for f in fields if f[0] == "dhcpv6.option.type_str"]


V4_HEADER = [("op", "dhcp.type", int), ("htype", "dhcp.hw.type", lambda s: int(s, 0)),
             ("hlen", "dhcp.hw.len", int), ("hops", "dhcp.hops", int),
             ("xid", "dhcp.id", lambda s: int(s, 16)), ("secs", "dhcp.secs", int),
             ("flags", "dhcp.flags", lambda s: int(s, 16)), ("ciaddr", "dhcp.ip.client", str),
             ("yiaddr", "dhcp.ip.your", str), ("siaddr", "dhcp.ip.server", str),
             ("giaddr", "dhcp.ip.relay", str)]


def compare_raw(pkt, fields, data, where="", bad=None):
    """Header fields and each option's code and raw bytes: our parse vs tshark."""
    bad = Mismatch() if bad is None else bad
    if isinstance(pkt, Packet4):
        top = {f[0]: f for f in reversed(fields)}
        for attr, name, conv in V4_HEADER:
            bad.check(getattr(pkt, attr) == conv(top[name][1]), f"{where}{attr}",
                      getattr(pkt, attr), top[name][1])
        mac = top.get("dhcp.hw.mac_addr")
        if mac is not None:
            bad.check(pkt.mac == _hex(mac[1]), f"{where}chaddr", pkt.mac.hex(), mac[1])
        theirs = _v4_options(fields, data)
    else:
        top = {f[0]: f for f in reversed(fields)}
        bad.check(pkt.msg_type == int(top["dhcpv6.msgtype"][1]), f"{where}msg-type",
                  pkt.msg_type, top["dhcpv6.msgtype"][1])
        if isinstance(pkt, Relay6):
            for attr, name, conv in (("hop_count", "dhcpv6.hopcount", int),
                                     ("link_address", "dhcpv6.linkaddr", ipaddress.ip_address),
                                     ("peer_address", "dhcpv6.peeraddr", ipaddress.ip_address)):
                ours = getattr(pkt, attr)
                ours = ipaddress.ip_address(ours) if conv is ipaddress.ip_address else ours
                bad.check(ours == conv(top[name][1]), f"{where}{attr}", ours, top[name][1])
        else:
            bad.check(pkt.transaction_id == int(top["dhcpv6.xid"][1], 16), f"{where}xid",
                      pkt.transaction_id, top["dhcpv6.xid"][1])
        theirs = _v6_options(fields, data)
    ours = [(o.code, o.data) for o in pkt.options]
    bad.check(ours == [(c, r) for c, r, _ in theirs], f"{where}options",
              [(c, r.hex()) for c, r in ours], [(c, r.hex()) for c, r, _ in theirs])
    if isinstance(pkt, Relay6) and pkt.inner is not None:
        relay_node = next(f for c, _, f in theirs if c == 9)
        inner = next(k for k in relay_node[4] if k[0] == "dhcpv6")
        compare_raw(pkt.inner, inner[4], data, f"{where}relay-msg/", bad)
    return bad


def compare_message(fields, desc, data, where, bad):
    """describe_packet's output vs tshark: header values and typed option values."""
    top = {f[0]: f for f in reversed(fields)}
    if desc["family"] == 4:
        for attr, name, conv in V4_HEADER:
            bad.check(desc[attr] == conv(top[name][1]), f"{where} {attr}", desc[attr],
                      top[name][1])
        bad.check(_hex(desc["chaddr"]) == _hex(top["dhcp.hw.mac_addr"][1])
                  if "dhcp.hw.mac_addr" in top else True, f"{where} chaddr", desc["chaddr"],
                  top.get("dhcp.hw.mac_addr", [None, None])[1])
        for key, name in (("sname", "dhcp.server"), ("file", "dhcp.file")):
            if name in top:
                bad.check(desc[key] == top[name][1], f"{where} {key}", desc[key], top[name][1])
        theirs = _v4_options(fields, data)
        msg53 = next((r for c, r, _ in theirs if c == 53), None)
        bad.check(desc["msg-type"] == (msg53[0] if msg53 else None), f"{where} msg-type",
                  desc["msg-type"], msg53)
    else:
        bad.check(desc["msg-type"] == int(top["dhcpv6.msgtype"][1]), f"{where} msg-type",
                  desc["msg-type"], top["dhcpv6.msgtype"][1])
        if desc["msg-type"] in (12, 13):
            bad.check(desc["hop-count"] == int(top["dhcpv6.hopcount"][1]), f"{where} hop-count",
                      desc["hop-count"], top["dhcpv6.hopcount"][1])
            for key, name in (("link-address", "dhcpv6.linkaddr"),
                              ("peer-address", "dhcpv6.peeraddr")):
                bad.check(ipaddress.ip_address(desc[key]) == ipaddress.ip_address(top[name][1]),
                          f"{where} {key}", desc[key], top[name][1])
        else:
            bad.check(desc["xid"] == int(top["dhcpv6.xid"][1], 16), f"{where} xid", desc["xid"],
                      top["dhcpv6.xid"][1])
        theirs = _v6_options(fields, data)
    codes = [o["code"] for o in desc["options"]]
    bad.check(codes == [c for c, _, _ in theirs], f"{where} option codes", codes,
              [c for c, _, _ in theirs])
    for (code, raw, node), entry in zip(theirs, desc["options"]):
        compare_option(node, raw, entry, data, f"{where} option {code}", bad)
    return bad


def compare_typed(rec, fields):
    from kea_tools.codec.describe import describe_packet
    data = bytes.fromhex(rec["hex"])
    return compare_message(fields, describe_packet(parse(rec)), data, rec["peer"], Mismatch())


# --- tests ---------------------------------------------------------------------------------

def test_fixtures_present():
    peers = {r["peer"] for r in FIXTURES}
    assert len(FIXTURES) >= 30
    assert {"dhclient4", "udhcpc", "dhcpcd4", "perfdhcp4", "dhclient6", "dhcpcd6",
            "perfdhcp6"} <= peers


@pytest.mark.parametrize("rec", FIXTURES, ids=IDS)
def test_build_parse_roundtrip(rec):
    data = bytes.fromhex(rec["hex"])
    assert parse(rec).build() == data


@pytest.mark.parametrize("rec", FIXTURES, ids=IDS)
def test_raw_fields_match_tshark(rec):
    bad = compare_raw(parse(rec), rec["tshark"], bytes.fromhex(rec["hex"]))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("rec", FIXTURES, ids=IDS)
def test_described_values_match_tshark(rec):
    bad = compare_typed(rec, rec["tshark"])
    assert not bad, "\n".join(bad)


def test_live_tshark_dissection(tmp_path):
    """Same comparisons against tshark run now on the fixture payloads."""
    require_program("tshark")
    pcap = tmp_path / "golden.pcap"
    write_pcap(pcap, [(r["family"], bytes.fromhex(r["hex"])) for r in FIXTURES])
    live = pdml_dissections(pcap)
    assert len(live) == len(FIXTURES)
    problems = []
    for rec, (payload, _info, fields) in zip(FIXTURES, live):
        assert payload.hex() == rec["hex"]
        where = f"{rec['peer']}-{rec['n']}"
        problems += [f"{where}: {m}" for m in compare_raw(parse(rec), fields, payload)]
        problems += [f"{where}: {m}" for m in compare_typed(rec, fields)]
    assert not problems, "\n".join(problems)


def test_comparison_catches_a_wrong_value():
    """The comparator is not vacuous: a changed byte in an option is reported."""
    rec = next(r for r in FIXTURES if r["family"] == 4 and "DHCP Offer" in r["summary"])
    pkt = parse(rec)
    router = pkt.options.get(3)
    router.data = bytes([router.data[0] ^ 1]) + router.data[1:]
    bad = compare_raw(pkt, rec["tshark"], bytes.fromhex(rec["hex"]))
    assert any("options" in m for m in bad)


def test_comparison_catches_a_wrong_typed_value():
    """A described value that disagrees with tshark (one router, one lifetime) is reported."""
    from kea_tools.codec.describe import describe_packet
    rec4 = next(r for r in FIXTURES if r["family"] == 4 and "DHCP ACK" in r["summary"])
    desc = describe_packet(parse(rec4))
    next(o for o in desc["options"] if o["code"] == 3)["value"] = "192.0.2.254"
    bad = compare_message(rec4["tshark"], desc, bytes.fromhex(rec4["hex"]), "t", Mismatch())
    assert any("dhcp.option.router" in m for m in bad)
    rec6 = next(r for r in FIXTURES if r["family"] == 6 and r["summary"].split(": ")[1]
                .startswith("Reply") and "IAA" in r["summary"])
    desc = describe_packet(parse(rec6))
    ia = next(o for o in desc["options"] if o["code"] == 3)
    addr = next(o for o in ia["options"] if o["code"] == 5)
    addr["value"] = addr["value"].rsplit(", ", 1)[0] + ", 1"
    bad = compare_message(rec6["tshark"], desc, bytes.fromhex(rec6["hex"]), "t", Mismatch())
    assert any("valid_lifetime" in m for m in bad)
