"""``keactl decode``: DHCPv4/DHCPv6 packets from hex or a capture file, shown by
Kea option names or as JSON (one object per packet per line)."""
import json
import re
import sys

import click

from kea_tools.codec.describe import describe_packet, format_packet
from kea_tools.codec.errors import CodecError
from kea_tools.codec.pcap import read_dhcp_frames
from kea_tools.codec.v4 import MAGIC_COOKIE, HEADER_LEN, Packet4
from kea_tools.codec.v6 import parse_packet6
from kea_tools.errors import UserError

_HEX = frozenset("0123456789abcdefABCDEF")


def parse_hex(text):
    """Hex digits; whitespace, ':', '-' and '.' separate, and each word may
    start with 0x. UserError names the character offset of a bad digit."""
    digits = []
    for match in re.finditer(r"\S+", text):
        word, start = match.group(), match.start()
        if word[:2] in ("0x", "0X"):
            word, start = word[2:], start + 2
        for i, ch in enumerate(word):
            if ch in _HEX:
                digits.append(ch)
            elif ch not in ":-.":
                raise UserError(f"bad hex digit {ch!r} at offset {start + i}")
    if len(digits) % 2:
        raise UserError(f"odd number of hex digits ({len(digits)})")
    return bytes.fromhex("".join(digits))


def guess_family(data):
    """4 when the data has the BOOTP header and the DHCP magic cookie (or is a
    bare BOOTP message), else 6."""
    if len(data) >= HEADER_LEN + 4 and data[HEADER_LEN:HEADER_LEN + 4] == MAGIC_COOKIE:
        return 4
    if len(data) == HEADER_LEN and data[0] in (1, 2):
        return 4
    return 6


def decode_packet(data, family):
    return Packet4.parse(data) if family == 4 else parse_packet6(data)


def _emit(pkt, as_json, label=None):
    desc = describe_packet(pkt)
    if as_json:
        if label is not None:
            desc = {"frame": label[0], "src": label[1], "dst": label[2], **desc}
        click.echo(json.dumps(desc, ensure_ascii=False))
        return
    if label is not None:
        click.echo(f"frame {label[0]}: {label[1]} -> {label[2]}")
    click.echo(format_packet(desc))


def _describe_error(family, err):
    return f"malformed DHCPv{family} packet: {err}"


@click.command("decode")
@click.option("-4", "family", flag_value=4, help="Decode as DHCPv4 (default: guess).")
@click.option("-6", "family", flag_value=6, help="Decode as DHCPv6 (default: guess).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per packet per line.")
@click.option("--pcap", "pcap", type=click.Path(exists=True, dir_okay=False),
              help="Read packets from a pcap or pcapng capture (UDP ports 67/68/546/547).")
@click.argument("hexdata", nargs=-1)
def decode(family, as_json, pcap, hexdata):
    """Decode DHCPv4/DHCPv6 packets and show their options by Kea name.

    HEXDATA is one packet in hex (arguments are joined; spaces, ':' and 0x
    prefixes are allowed). With no HEXDATA and no --pcap, each non-empty line of
    standard input is one packet. In --pcap mode a frame that does not parse is
    reported on stderr and decoding goes on; the exit status is then 1.
    """
    if pcap:
        if hexdata:
            raise UserError("give either --pcap or hex data, not both")
        try:
            frames = list(read_dhcp_frames(pcap))
        except CodecError as err:
            raise UserError(f"{pcap}: {err}") from None
        except OSError as err:
            raise UserError(f"{pcap}: {err.strerror}") from None
        failed = 0
        for frame in frames:
            fam = family or frame.family
            try:
                pkt = decode_packet(frame.payload, fam)
            except CodecError as err:
                failed += 1
                click.echo(f"{pcap}: frame {frame.number}: {_describe_error(fam, err)}",
                           err=True)
                continue
            _emit(pkt, as_json, (frame.number, frame.src, frame.dst))
            if not as_json:
                click.echo()
        if failed:
            sys.exit(1)
        return
    packets = [" ".join(hexdata)] if hexdata else \
        [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not packets:
        raise UserError("no packet given (hex arguments, standard input or --pcap)")
    for n, text in enumerate(packets, 1):
        where = f"packet {n}: " if len(packets) > 1 else ""
        try:
            data = parse_hex(text)
        except UserError as err:
            raise UserError(f"{where}{err}") from None
        fam = family or guess_family(data)
        try:
            pkt = decode_packet(data, fam)
        except CodecError as err:
            raise UserError(f"{where}{_describe_error(fam, err)}") from None
        _emit(pkt, as_json)
        if not as_json and n < len(packets):
            click.echo()
