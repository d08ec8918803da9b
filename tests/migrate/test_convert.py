"""dhcpd.conf -> Kea translation: grammar, expressions, topology, hosts, classes."""
import subprocess

import pytest

from kea_tools.errors import SourceError
from kea_tools.migrate import grammar
from kea_tools.migrate.convert import Converter
from kea_tools.migrate.emit import Note, Skipped, plain, render
from kea_tools.migrate.exprgrammar import parse_expression
from kea_tools.migrate.exprkea import fold
from tests.conftest import require_program
from tests.migrate import keama_compare


def convert(text, family=4, **kw):
    return Converter(family, **kw).convert_text(text, "test.conf")


def dhcp(result):
    return plain(result.doc)["Dhcp4" if "Dhcp4" in result.doc else "Dhcp6"]


def expr(text):
    stmts = grammar.parse_text(f"x {text};", "e")
    return parse_expression(stmts[0].words[1:])


def kea_check(tmp_path, result, family=4):
    require_program(f"kea-dhcp{family}")
    path = tmp_path / "kea.json"
    path.write_text(render(result.doc))
    proc = subprocess.run([f"kea-dhcp{family}", "-t", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- grammar and expressions -----------------------------------------------------

def test_isc_precedence_plus_binds_tighter_than_times():
    # tree.c op_val: '+' (2) binds tighter than '*' (1): a * b + c is a * (b + c).
    assert fold(expr("2 * 3 + 4")) == 14
    assert fold(expr("(2 * 3) + 4")) == 10


def test_isc_precedence_equality_binds_tighter_than_and_or():
    e = expr('option host-name = "a" or option host-name = "b" and exists routers')
    assert e[0] == "binop" and e[1] == "and"          # (a or b) and c: same level, left to right
    assert e[2][1] == "or" and e[2][2][1] == "="


def test_not_takes_only_the_next_term():
    assert expr('not exists routers')[0] == "not"
    assert expr('not option host-name = "x"')[1] == "="


def test_constant_folding_follows_isc():
    assert fold(expr('suffix("www.example.com", 3)')) == b"com"
    assert fold(expr('substring("foobar", 1, 3)')) == b"oob"
    assert fold(expr('concat("a", 01:02)')) == b"a\x01\x02"
    assert fold(expr("encode-int(258, 16)")) == b"\x01\x02"
    assert fold(expr('binary-to-ascii(16, 8, ":", 0a:0b)')) == b"a:b"
    assert fold(expr("reverse(1, 01:02:03)")) == b"\x03\x02\x01"


def test_record_type_braces_are_not_a_block():
    stmts = grammar.parse_text("option space s;\noption s.x code 1 = { boolean, text };\n", "f")
    assert len(stmts) == 2 and stmts[1].body is None


def test_unbalanced_braces_is_a_located_error():
    with pytest.raises(SourceError) as info:
        convert("subnet 10.0.0.0 netmask 255.0.0.0 {\n  range 10.0.0.1 10.0.0.2;\n")
    assert info.value.file == "test.conf" and info.value.line == 2


def test_semicolon_after_block_rejected_except_for_key():
    with pytest.raises(SourceError, match="expecting a declaration"):
        convert("subnet 10.0.0.0 netmask 255.0.0.0 { };\n")
    convert('key k { algorithm hmac-md5; secret "LSWXnfkKZjdPJI5QxlpnfQ=="; };\n')


def test_error_carries_file_line_col():
    with pytest.raises(SourceError) as info:
        convert("\n\n  subnet 10.5.5.0 netmask 255.255.255.96 { }\n")
    err = info.value
    assert (err.line, err.col) == (3, 3)
    assert str(err) == "test.conf:3:3: can't get a prefix from 10.5.5.0 mask 255.255.255.96"


# -- topology -----------------------------------------------------------------------

def test_subnet_pools_options_and_lifetimes(tmp_path):
    result = convert("""
default-lease-time 600; max-lease-time 7200;
option domain-name-servers 10.0.0.1, 10.0.0.2;
subnet 10.0.0.0 netmask 255.255.255.0 {
  option routers 10.0.0.1;
  range 10.0.0.10 10.0.0.20;
  pool { range 10.0.0.100 10.0.0.199; option domain-name "pool.example"; }
  next-server 10.0.0.5; filename "pxelinux.0"; server-name "boot";
  authoritative;
}
""")
    d = dhcp(result)
    assert d["valid-lifetime"] == 600 and d["max-valid-lifetime"] == 7200
    sub = d["subnet4"][0]
    assert sub["subnet"] == "10.0.0.0/24" and sub["id"] == 1
    assert [p["pool"] for p in sub["pools"]] == ["10.0.0.10 - 10.0.0.20", "10.0.0.100 - 10.0.0.199"]
    assert sub["pools"][1]["option-data"][0]["name"] == "domain-name"
    assert (sub["next-server"], sub["boot-file-name"], sub["server-hostname"]) == \
        ("10.0.0.5", "pxelinux.0", "boot")
    assert sub["authoritative"] is True
    assert result.issues == []
    kea_check(tmp_path, result)


def test_group_parameters_flow_into_subnets_and_hosts():
    d = dhcp(convert("""
group { default-lease-time 99; option routers 10.0.0.1;
  subnet 10.0.0.0 netmask 255.255.255.0 { }
  host h { hardware ethernet 0:1:2:3:4:5; fixed-address 10.0.0.9; }
}"""))
    sub = d["subnet4"][0]
    assert sub["valid-lifetime"] == 99 and sub["option-data"][0]["data"] == "10.0.0.1"
    res = sub["reservations"][0]
    assert res["hw-address"] == "00:01:02:03:04:05" and res["option-data"][0]["code"] == 3


def test_shared_network_with_pools_at_network_level(tmp_path):
    result = convert("""
shared-network "campus" {
  option domain-name "campus.example";
  subnet 10.1.0.0 netmask 255.255.255.0 { }
  subnet 10.2.0.0 netmask 255.255.255.0 { }
  pool { range 10.1.0.10 10.1.0.20; range 10.2.0.10 10.2.0.20; }
}""")
    net = dhcp(result)["shared-networks"][0]
    assert net["name"] == "campus"
    assert [s["pools"][0]["pool"] for s in net["subnet4"]] == ["10.1.0.10 - 10.1.0.20", "10.2.0.10 - 10.2.0.20"]
    kea_check(tmp_path, result)


def test_v6_pools_pd_pools_hosts_and_server_duid(tmp_path):
    result = convert("""
server-duid llt ethernet 213982198 00:16:6f:49:7d:9b;
preferred-lifetime 3000;
subnet6 2001:db8:1::/64 {
  range6 2001:db8:1::100 2001:db8:1::1ff;
  prefix6 2001:db8:1:100:: 2001:db8:1:1ff:: /64;
  option dhcp6.name-servers 2001:db8::53;
}
host h6 { host-identifier option dhcp6.client-id 00:01:00:01:0c:00:a1:41:00:06:5b:50:99:f6;
          fixed-address6 2001:db8:1::5; }
""", family=6)
    d = dhcp(result)
    sub = d["subnet6"][0]
    assert sub["pools"] == [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]
    assert sub["pd-pools"] == [{"prefix": "2001:db8:1:100::", "prefix-len": 56, "delegated-len": 64}]
    assert sub["option-data"][0]["name"] == "dns-servers"
    assert sub["reservations"][0]["duid"].startswith("00:01:00:01")
    assert d["server-id"] == {"type": "LLT", "htype": 1, "time": 213982198, "identifier": "00166f497d9b"}
    kea_check(tmp_path, result, 6)


# -- hosts ----------------------------------------------------------------------------

def test_hosts_go_to_the_subnet_of_their_address_or_global(tmp_path):
    result = convert("""
subnet 10.0.0.0 netmask 255.255.255.0 { }
host a { hardware ethernet 00:00:00:00:00:0a; fixed-address 10.0.0.10; }
host b { uid "\\001abc"; }
host c { host-identifier option agent.circuit-id "eth0/1"; fixed-address 10.0.0.12; }
host d { hardware fddi 00:00:00:00:00:0d; }
""")
    d = dhcp(result)
    subres = d["subnet4"][0]["reservations"]
    assert [r["hostname"] for r in subres] == ["a", "c"]
    assert subres[1]["circuit-id"] == "65:74:68:30:2f:31"
    assert d["reservations"] == [{"hostname": "b", "client-id": "01:61:62:63"}]
    assert d["reservations-global"] is True
    assert any("fddi" in i.message for i in result.issues)
    kea_check(tmp_path, result)


def test_duplicate_hosts_are_kept_as_comments(tmp_path):
    result = convert("""
subnet 10.0.0.0 netmask 255.255.255.0 { }
host a { hardware ethernet 00:00:00:00:00:0a; fixed-address 10.0.0.10; }
host a2 { hardware ethernet 00:00:00:00:00:0a; fixed-address 10.0.0.11; }
""")
    res = result.doc["Dhcp4"]["subnet4"][0]["reservations"]
    assert isinstance(res[1], Skipped)
    assert "duplicates host a" in result.issues[0].message
    kea_check(tmp_path, result)


# -- classes, permits ---------------------------------------------------------------------

def test_classes_subclasses_and_pool_permits(tmp_path):
    result = convert("""
class "phones" { match if substring(option vendor-class-identifier, 0, 5) = "phone"; }
class "byhw" { match hardware; option domain-name "hw.example"; }
subclass "byhw" 1:00:11:22:33:44:55;
subnet 10.0.0.0 netmask 255.255.255.0 {
  pool { range 10.0.0.10 10.0.0.20; allow members of "phones"; }
  pool { range 10.0.0.30 10.0.0.40; deny members of "phones"; allow known-clients; }
}""")
    d = dhcp(result)
    classes = {c["name"]: c for c in d["client-classes"]}
    assert classes["phones"]["test"] == "substring(option[60].hex, 0, 5) == 'phone'"
    assert classes["sub#byhw#0"]["test"] == \
        "concat(substring(pkt4.htype, -1, all), pkt4.mac) == 0x01001122334455"
    assert classes["sub#byhw#0"]["option-data"][0]["data"] == "hw.example"
    pools = d["subnet4"][0]["pools"]
    assert pools[0]["client-class"] == "phones"
    gen = classes[pools[1]["client-class"]]
    assert gen["test"] == "(member('KNOWN')) and (not member('phones'))"
    kea_check(tmp_path, result)


def test_untranslatable_expression_is_a_commented_issue():
    result = convert('class "re" { match if option host-name ~= "^a.*"; }\n')
    assert "regular expression" in result.issues[0].message
    text = render(result.doc)
    assert "test.conf:1: not translated" in text
    assert '"test"' not in text


def test_conditional_expressions_are_parsed():
    with pytest.raises(SourceError) as info:
        convert('\nif (option host-name = "a" {\n}\n')
    assert (info.value.line, info.value.col, info.value.message) == (2, 28, "unexpected end of expression")


def test_executable_statements_are_commented_in_place():
    result = convert('if option host-name = "x" { option domain-name "y"; } else { log("z"); }\n')
    assert [i.line for i in result.issues] == [1, 1]
    assert render(result.doc).count("// test.conf:1: not translated") == 2


# -- options and definitions ------------------------------------------------------------------

def test_option_definitions_and_values(tmp_path):
    result = convert("""
option space acme;
option acme.flag code 1 = boolean;
option acme.pair code 2 = { ip-address, unsigned integer 16 };
option acme.list code 3 = array of unsigned integer 8;
option local-proxy code 252 = text;
option vendor-encapsulated-options 01:02:03;
option acme.flag on;
option acme.pair 10.0.0.1 8080;
option acme.list 1, 2, 3;
option local-proxy "http://wpad/wpad.dat";
option domain-search "a.example", "b.example";
option dhcp-client-identifier "id,1";
""")
    d = dhcp(result)
    defs = {x["name"]: x for x in d["option-def"]}
    assert defs["pair"]["type"] == "record" and defs["pair"]["record-types"] == "ipv4-address, uint16"
    assert defs["list"]["array"] is True and defs["local-proxy"]["code"] == 252
    data = {o["name"]: o for o in d["option-data"]}
    assert data["flag"]["data"] == "true" and data["pair"]["data"] == "10.0.0.1, 8080"
    assert data["domain-search"]["data"] == "a.example, b.example"
    assert data["vendor-encapsulated-options"]["data"] == "010203"
    assert data["dhcp-client-identifier"] == {"space": "dhcp4", "name": "dhcp-client-identifier",
                                              "code": 61, "csv-format": False, "data": "69642c31"}
    kea_check(tmp_path, result)


def test_unknown_option_is_an_error():
    with pytest.raises(SourceError, match="unknown option dhcp.no-such-option"):
        convert("option no-such-option 1;\n")


# -- failover, ddns ------------------------------------------------------------------------------

FAILOVER = """
failover peer "fo" { primary; address 10.0.0.1; peer address 10.0.0.2;
  max-response-delay 30; max-unacked-updates 10; mclt 1800; split 128; }
subnet 10.0.0.0 netmask 255.255.255.0 {
  pool { failover peer "fo"; range 10.0.0.10 10.0.0.109; }
}
"""


def test_failover_becomes_ha_hook_with_split_pools(tmp_path):
    result = convert(FAILOVER)
    d = dhcp(result)
    ha = d["hooks-libraries"][1]["parameters"]["high-availability"][0]
    assert ha["mode"] == "load-balancing" and ha["max-response-delay"] == 30000
    assert [p["role"] for p in ha["peers"]] == ["primary", "secondary"]
    pools = d["subnet4"][0]["pools"]
    assert pools == [{"pool": "10.0.0.10 - 10.0.0.59", "client-class": "HA_fo-primary"},
                     {"pool": "10.0.0.60 - 10.0.0.109", "client-class": "HA_fo-secondary"}]
    kea_check(tmp_path, result)


def test_ddns_globals_and_d2_config():
    result = convert("""
ddns-update-style standard; ddns-updates on; ddns-domainname "example.org.";
ignore client-updates;
key k { algorithm hmac-sha256; secret "LSWXnfkKZjdPJI5QxlpnfQ=="; }
zone example.org. { primary 10.0.0.53; key k; }
""", d2=True)
    d = dhcp(result)
    assert d["dhcp-ddns"] == {"enable-updates": True}
    assert d["ddns-qualifying-suffix"] == "example.org." and d["ddns-override-client-update"] is True
    assert result.issues == []
    d2 = result.d2["DhcpDdns"]
    assert d2["tsig-keys"] == [{"name": "k", "algorithm": "HMAC-SHA256", "secret": "LSWXnfkKZjdPJI5QxlpnfQ=="}]
    assert d2["forward-ddns"]["ddns-domains"][0]["dns-servers"] == [{"ip-address": "10.0.0.53"}]


def test_include_is_read_in_place(tmp_path):
    (tmp_path / "inc.conf").write_text("option routers 10.0.0.1;\n")
    (tmp_path / "main.conf").write_text(
        f'subnet 10.0.0.0 netmask 255.255.255.0 {{ include "{tmp_path}/inc.conf"; }}\n')
    d = dhcp(Converter(4).convert_file(str(tmp_path / "main.conf")))
    assert d["subnet4"][0]["option-data"][0]["code"] == 3


def test_comment_markers_render_as_valid_kea_json():
    doc = {"Dhcp4": {Note("n"): None, "a": 1, "b": Skipped({"x": 1}, "why"), "c": [Note("m"), 2]}}
    assert keama_compare.load(render(doc)) == {"Dhcp4": {"a": 1, "c": [2]}}


def test_big_config_is_quick(tmp_path):
    import time
    lines = [f"subnet 10.{i // 256}.{i % 256}.0 netmask 255.255.255.0 {{ range 10.{i // 256}.{i % 256}.10 "
             f"10.{i // 256}.{i % 256}.20; }}" for i in range(50)]
    lines += [f"host h{i} {{ hardware ethernet 00:00:00:00:{i // 256:02x}:{i % 256:02x}; "
              f"fixed-address 10.0.{i % 50}.{100 + i // 50}; }}" for i in range(2000)]
    start = time.process_time()
    d = dhcp(convert("\n".join(lines)))
    assert sum(len(s.get("reservations", [])) for s in d["subnet4"]) == 2000
    assert time.process_time() - start < 5


def test_subnet_hosts_only_is_keamas_minus_n(tmp_path):
    """Without -N a host in no subnet is a global reservation; with -N (keama's
    placement) reservations stay inside subnets: an address-less host goes into the
    last declared subnet, and one with no subnet at all is kept as a comment."""
    text = ("host lone { hardware ethernet 00:0b:fd:32:e6:fa; }\n")
    assert dhcp(convert(text))["reservations"][0]["hw-address"] == "00:0b:fd:32:e6:fa"
    placed = convert(text, subnet_hosts_only=True)
    assert not dhcp(placed).get("reservations")
    assert any("lone" in str(issue) for issue in placed.issues)
    assert "not translated: host in no declared subnet" in render(placed.doc)
    with_subnets = convert("subnet 10.0.0.0 netmask 255.255.255.0 { }\n"
                           "subnet 10.0.1.0 netmask 255.255.255.0 { }\n" + text,
                           subnet_hosts_only=True)
    last = dhcp(with_subnets)["subnet4"][-1]
    assert [r["hw-address"] for r in last["reservations"]] == ["00:0b:fd:32:e6:fa"]
