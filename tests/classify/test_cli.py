"""``keactl eval``."""
import socket
import struct

import pytest

from kea_tools.cli import main
from tests.classify.packets import relayed, tlv4, v4, v6


def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(["eval", *args])
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.fixture
def hex4():
    return v4((61, b"foobar"), (82, tlv4((1, b"eth0")))).build().hex()


def test_boolean_expression(capsys, hex4):
    assert run(capsys, "substring(option[61].hex,0,3) == 'foo'", "--packet", hex4) == \
        (0, "true\n", "")
    assert run(capsys, "relay4[1].hex == 'eth1'", "--packet", hex4) == (0, "false\n", "")


def test_string_expression_prints_text_and_hex(capsys, hex4):
    code, out, _ = run(capsys, "option[61].hex + 0x00", "--packet", hex4)
    assert code == 0
    assert out == "text: foobar\\x00\nhex:  0x666f6f62617200\n"
    code, out, _ = run(capsys, "option[99].hex", "--packet", hex4)
    assert out == "text: \nhex:  (empty)\n"


def test_metadata_and_classes(capsys, hex4):
    args = ["--packet", hex4, "--iface", "eth9", "--src", "10.0.0.7", "--class", "gold"]
    assert run(capsys, "pkt.iface == 'eth9' and pkt.src == 10.0.0.7 and member('gold')",
               *args)[:2] == (0, "true\n")


def test_hex_with_separators_and_v6_guess(capsys):
    pkt = relayed(v6((1, b"\x00\x01\x02")), ("2001:db8::1", "fe80::1", [(37, b"rid")]))
    spaced = " ".join(f"{b:02x}" for b in pkt.build())
    assert run(capsys, "relay6[0].option[37].hex == 'rid' and pkt6.msgtype == 1",
               "--packet", spaced)[:2] == (0, "true\n")
    assert run(capsys, "-6", "option[1].hex", "--string", "--packet", spaced)[1] == \
        "text: \\x00\\x01\\x02\nhex:  0x000102\n"


def test_bad_expression_points_at_the_column(capsys, hex4):
    code, out, err = run(capsys, "option[61].hex == 'foo' and", "--packet", hex4)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "keactl eval: <expression>:1:28: syntax error, unexpected end of file",
        "option[61].hex == 'foo' and",
        "                           ^",
    ]
    code, _, err = run(capsys, "pkt6.msgtype == 1", "-4", "--packet", hex4)
    assert code == 1 and "pkt6 can only be used in DHCPv6." in err


def test_user_errors_are_one_line(capsys, hex4):
    for args in (["'a' == 'a'"], ["'a' == 'a'", "--packet", "zz"],
                 ["'a' == 'a'", "--packet", "00"], ["'a' == 'a'", "--packet", hex4, "--frame", "1"],
                 ["addrtotext(0x01) == ''", "--packet", hex4]):
        code, out, err = run(capsys, *args)
        assert code == 1 and out == ""
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _pcap(path, frames):
    """A classic pcap of Ethernet/IPv4|IPv6/UDP frames: (family, src, dst, sport,
    dport, payload)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for family, src, dst, sport, dport, payload in frames:
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        if family == 4:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             socket.inet_aton(src), socket.inet_aton(dst)) + udp
            eth = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + ip
        else:
            ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64,
                             socket.inet_pton(socket.AF_INET6, src),
                             socket.inet_pton(socket.AF_INET6, dst)) + udp
            eth = b"\x33\x33\x00\x01\x00\x02" + b"\x02" * 6 + b"\x86\xdd" + ip
        out.append(struct.pack("<IIII", 0, 0, len(eth), len(eth)) + eth)
    path.write_bytes(b"".join(out))
    return str(path)


def test_pcap_all_frames_and_one_frame(capsys, tmp_path):
    path = _pcap(tmp_path / "c.pcap", [
        (4, "0.0.0.0", "255.255.255.255", 68, 67, v4((60, b"PXEClient")).build()),
        (6, "fe80::1", "ff02::1:2", 546, 547, v6((16, b"\x00\x00\x11\x8b\x00\x01x")).build()),
        (4, "10.0.0.9", "10.0.0.1", 68, 67, v4((60, b"MSFT 5.0")).build()),
    ])
    code, out, _ = run(capsys, "pkt.src == 10.0.0.9", "-4", "--pcap", path)
    assert (code, out.splitlines()) == (0, ["frame 1: false", "frame 3: true"])
    code, out, _ = run(capsys, "vendor-class[4491].data == 'x'", "-6", "--pcap", path)
    assert (code, out.splitlines()) == (0, ["frame 2: true"])
    code, out, _ = run(capsys, "hexstring(pkt.src, '')", "--pcap", path)
    assert out.splitlines() == [
        "frame 1: text: 00000000  hex:  0x" + b"00000000".hex(),
        "frame 2: text: fe800000000000000000000000000001  hex:  0x"
        + b"fe800000000000000000000000000001".hex(),
        "frame 3: text: 0a000009  hex:  0x" + b"0a000009".hex(),
    ]
    code, out, _ = run(capsys, "option[60].hex", "--pcap", path, "--frame", "3")
    assert out == "text: MSFT 5.0\nhex:  0x4d53465420352e30\n"
    code, _, err = run(capsys, "option[60].exists", "--pcap", path, "--frame", "7")
    assert code == 1 and "frame 7" in err


def test_help_and_registration(capsys):
    with pytest.raises(SystemExit) as done:
        main(["eval", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--packet" in out and "--pcap" in out and "--frame" in out
