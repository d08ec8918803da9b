"""``keactl eval``: evaluate a classification expression against a captured packet."""
import re
import socket
import sys

import click

from kea_tools.classify.compiler import compile_expression
from kea_tools.classify.errors import EvalError, ExpressionError
from kea_tools.classify.query import Query
from kea_tools.codec.errors import CodecError
from kea_tools.errors import UserError

_V4_COOKIE = b"\x63\x82\x53\x63"
_V = {None: "", 4: "v4", 6: "v6"}


def _packet_bytes(text):
    cleaned = re.sub(r"[\s:.-]", "", text)
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    if not cleaned or not re.fullmatch(r"[0-9A-Fa-f]*", cleaned) or len(cleaned) % 2:
        raise UserError("--packet: expected an even number of hex digits")
    return bytes.fromhex(cleaned)


def guess_universe(data):
    """4 if ``data`` looks like a BOOTP/DHCPv4 message, else 6."""
    return 4 if len(data) >= 240 and data[236:240] == _V4_COOKIE else 6


def decode_packet(data, universe):
    from kea_tools.codec.v4 import Packet4
    from kea_tools.codec.v6 import parse_packet6
    try:
        return Packet4.parse(data) if universe == 4 else parse_packet6(data)
    except CodecError as err:
        raise UserError(f"cannot decode the packet as DHCPv{universe}: {err}") from None


def _printable(value):
    return "".join(chr(b) if 32 <= b < 127 and b != 0x5C else f"\\x{b:02x}" for b in value)


def render(expression, value):
    """The lines ``keactl eval`` prints for a result."""
    if expression.kind == "bool":
        return ["true" if value else "false"]
    return [f"text: {_printable(value)}", f"hex:  0x{value.hex()}" if value else "hex:  (empty)"]


def compile_for_cli(text, universe, kind):
    """Compile as a boolean, else as a string expression; on failure report the
    error of the kind that got further (or the one asked for)."""
    kinds = [kind] if kind else ["bool", "string"]
    errors = []
    for k in kinds:
        try:
            return compile_expression(text, universe, k)
        except ExpressionError as err:
            errors.append(err)
    best = max(errors, key=lambda e: (e.line, e.col)) if len(errors) > 1 else errors[0]
    raise best


def _compile_or_exit(text, universe, kind, cache):
    if universe not in cache:
        try:
            cache[universe] = compile_for_cli(text, universe, kind)
        except ExpressionError as err:
            # The error line, then the expression with a caret under the column.
            click.echo(f"keactl eval: {err}", err=True)
            click.echo(err.caret(), err=True)
            sys.exit(1)
    return cache[universe]


def _address(text, option):
    """An address from --src/--dst or a capture ("a.b.c.d:port", "[v6]:port")."""
    if not text:
        return ""
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, text)
        except OSError:
            pass
    raise UserError(f"{option}: not an IP address: {text}")


def _evaluate(expr, packet, iface, src, dst, classes):
    # pkt.len is left to Kea's own computation from the parsed packet.
    query = Query(packet, iface=iface, src=_address(src, "--src"), dst=_address(dst, "--dst"))
    for name in classes:
        query.add_class(name)
    # Like Kea's late passes: option 43 counts as unpacked.
    query.deferred_unpacked = True
    try:
        return expr.evaluate(query)
    except EvalError as err:
        raise UserError(f"evaluation failed: {err}") from None


def _frames(path, wanted, family):
    from kea_tools.codec.pcap import read_dhcp_frames
    try:
        frames = [f for f in read_dhcp_frames(path)
                  if (wanted is None or f.number == wanted) and family in (None, f.family)]
    except CodecError as err:
        raise UserError(f"{path}: {err}") from None
    except OSError as err:
        raise UserError(f"{path}: {err.strerror}") from None
    if wanted is not None and not frames:
        raise UserError(f"{path}: frame {wanted} is not a DHCP{_V[family]} packet "
                        f"(or does not exist)")
    if not frames:
        raise UserError(f"{path}: no DHCP{_V[family]} packets in the capture")
    return frames


@click.command("eval", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-4", "universe", flag_value=4, help="The packet is DHCPv4.")
@click.option("-6", "universe", flag_value=6, help="The packet is DHCPv6.")
@click.argument("expression")
@click.option("--packet", "packet_hex", metavar="HEX",
              help="The packet as hex (a UDP payload; spaces and colons are ignored).")
@click.option("--pcap", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="Take the packets from a pcap or pcapng capture.")
@click.option("--frame", type=click.IntRange(min=1), metavar="N",
              help="With --pcap: only frame N (numbered from 1, as in Wireshark).")
@click.option("--iface", default="", metavar="NAME", help="Value of pkt.iface.")
@click.option("--src", default="", metavar="ADDR",
              help="Value of pkt.src (default: the capture's, else 0.0.0.0 or ::).")
@click.option("--dst", default="", metavar="ADDR",
              help="Value of pkt.dst (default: the capture's, else 0.0.0.0 or ::).")
@click.option("--class", "classes", multiple=True, metavar="NAME",
              help="Treat the packet as a member of NAME (for member()); repeatable.")
@click.option("--string", "as_string", is_flag=True,
              help="Parse EXPRESSION as a string expression, not a boolean test.")
def eval_command(universe, expression, packet_hex, pcap, frame, iface, src, dst, classes,
                 as_string):
    """Evaluate a Kea classification EXPRESSION against a captured packet.

    Prints true or false for a boolean expression (a class test), otherwise the
    value as text and as hex. The packet is given as hex with --packet, or taken
    from a capture with --pcap: every DHCP frame is evaluated (only DHCPv4 ones
    with -4, DHCPv6 ones with -6), or only frame N with --frame N. Without -4/-6 the family is the capture's, or for --packet
    guessed from the bytes (a DHCPv4 magic cookie at offset 236 means DHCPv4).

    \b
    Examples:
      keactl eval "substring(option[61].hex,0,3) == 'foo'" --packet 0101060...
      keactl eval "hexstring(pkt4.mac, ':')" --pcap dhcp.pcap --frame 1
    """
    kind = "string" if as_string else None
    compiled = {}
    if (packet_hex is None) == (pcap is None):
        raise UserError("give the packet with either --packet HEX or --pcap FILE")
    if frame is not None and pcap is None:
        raise UserError("--frame needs --pcap")
    if packet_hex is not None:
        data = _packet_bytes(packet_hex)
        fam = universe or guess_universe(data)
        expr = _compile_or_exit(expression, fam, kind, compiled)
        value = _evaluate(expr, decode_packet(data, fam), iface, src, dst, classes)
        for line in render(expr, value):
            click.echo(line)
        return
    frames = _frames(pcap, frame, universe)
    for item in frames:
        fam = universe or item.family
        expr = _compile_or_exit(expression, fam, kind, compiled)
        value = _evaluate(expr, decode_packet(item.payload, fam), iface, src or item.src,
                          dst or item.dst, classes)
        lines = render(expr, value)
        if len(frames) == 1 and frame is not None:
            for line in lines:
                click.echo(line)
        else:
            click.echo(f"frame {item.number}: " + "  ".join(lines))
