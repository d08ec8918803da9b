"""keactl decode: hex and captures (written by scapy, an independent writer)."""
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from kea_tools.codec.cli import decode, guess_family, parse_hex
from kea_tools.codec.errors import CodecError
from kea_tools.codec.option import Option, OptionList
from kea_tools.codec.pcap import read_dhcp_frames
from kea_tools.codec.v4 import Packet4
from kea_tools.codec.v6 import Packet6
from kea_tools.errors import UserError
from tests.conftest import ROOT

scapy = pytest.importorskip("scapy.all")


def v4_wire():
    pkt = Packet4(xid=0x42, chaddr=bytes.fromhex("020000000001") + bytes(10))
    pkt.msg_type = 1
    pkt.options.append(Option(55, bytes((1, 3, 6))))
    return pkt.build()


def v6_wire():
    return Packet6(1, 0x77, OptionList([Option(1, bytes.fromhex("00030001020000000001")),
                                        Option(8, b"\0\0")])).build()


def frames():
    s = scapy
    udp4 = s.IP(src="0.0.0.0", dst="255.255.255.255") / s.UDP(sport=68, dport=67) / s.Raw(v4_wire())
    udp6 = s.IPv6(src="fe80::1", dst="ff02::1:2") / s.UDP(sport=546, dport=547) / s.Raw(v6_wire())
    return [
        s.Ether() / udp4,
        s.Ether() / s.Dot1Q(vlan=5) / udp6,
        s.Ether() / s.IP() / s.TCP(sport=67, dport=68) / s.Raw(b"x"),   # not UDP: skipped
        s.Ether() / s.IP() / s.UDP(sport=53, dport=53) / s.Raw(b"x"),   # not DHCP: skipped
        s.Ether() / s.IPv6(src="fe80::1", dst="ff02::1:2") / s.IPv6ExtHdrHopByHop()
        / s.UDP(sport=546, dport=547) / s.Raw(v6_wire()),
        s.Ether() / s.IP(dst="10.0.0.1") / s.UDP(sport=67, dport=67) / s.Raw(v4_wire()[:100]),
    ]


@pytest.mark.parametrize("writer", ["pcap", "pcapng"])
def test_ethernet_captures(tmp_path, writer):
    path = tmp_path / f"cap.{writer}"
    cls = scapy.PcapWriter if writer == "pcap" else scapy.PcapNgWriter
    with cls(str(path)) as out:
        for frame in frames():
            out.write(frame)
    found = list(read_dhcp_frames(path))
    assert [(f.number, f.family) for f in found] == [(1, 4), (2, 6), (5, 6), (6, 4)]
    assert found[0].payload == v4_wire() and found[1].payload == v6_wire()
    assert found[0].src == "0.0.0.0:68" and found[1].dst == "[ff02::1:2]:547"


@pytest.mark.parametrize("link", ["sll", "sll2", "raw"])
def test_cooked_and_raw_link_types(tmp_path, link):
    s = scapy
    ip = s.IP(src="10.0.0.1", dst="10.0.0.2") / s.UDP(sport=67, dport=68) / s.Raw(v4_wire())
    frame = {"sll": s.CookedLinux(proto=0x0800) / ip,
             "sll2": s.CookedLinuxV2(proto=0x0800) / ip, "raw": ip}[link]
    linktype = {"sll": 113, "sll2": 276, "raw": 101}[link]
    path = tmp_path / "cap.pcap"
    with scapy.PcapWriter(str(path), linktype=linktype) as out:
        out.write(frame)
    (found,) = read_dhcp_frames(path)
    assert found.payload == v4_wire()


def test_not_a_capture(tmp_path):
    path = tmp_path / "x.pcap"
    path.write_bytes(b"hello world")
    with pytest.raises(CodecError):
        list(read_dhcp_frames(path))


def test_parse_hex_and_guess():
    assert parse_hex("0x0102 03:04-05 06") == bytes(range(1, 7))
    with pytest.raises(UserError, match="offset 4"):
        parse_hex("01 0g")
    with pytest.raises(UserError):
        parse_hex("012")
    assert guess_family(v4_wire()) == 4 and guess_family(v6_wire()) == 6


def run(*args, stdin=None):
    return CliRunner().invoke(decode, list(args), input=stdin)


def test_decode_hex_text_and_json():
    result = run(v4_wire().hex())
    assert result.exit_code == 0
    assert "DHCPDISCOVER (1)" in result.output
    assert "type=055 dhcp-parameter-request-list: 1, 3, 6" in result.output
    result = run("--json", v6_wire().hex())
    desc = json.loads(result.output)
    assert desc["family"] == 6 and desc["xid"] == 0x77


def test_decode_stdin_one_packet_per_line():
    result = run("--json", stdin=f"{v4_wire().hex()}\n\n{v6_wire().hex()}\n")
    assert [json.loads(line)["family"] for line in result.output.splitlines()] == [4, 6]


def test_decode_pcap_reports_bad_frames_and_goes_on(tmp_path):
    path = tmp_path / "cap.pcap"
    with scapy.PcapWriter(str(path)) as out:
        for frame in frames():
            out.write(frame)
    result = run("--json", "--pcap", str(path))
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [d["frame"] for d in lines] == [1, 2, 5]
    assert result.exit_code == 1
    assert "frame 6: malformed DHCPv4 packet" in result.output


def keactl(*args):
    return subprocess.run([sys.executable, "-m", "kea_tools", "decode", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args,message", [
    (["zz"], "bad hex digit 'z' at offset 0"),
    (["-4", "0101"], "malformed DHCPv4 packet"),
    (["-6", "0c00"], "offset"),
])
def test_user_errors_are_one_line(args, message):
    proc = keactl(*args)
    assert proc.returncode == 1
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_help():
    proc = keactl("--help")
    assert proc.returncode == 0 and "--pcap" in proc.stdout
