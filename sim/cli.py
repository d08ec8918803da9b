"""``keactl perf``: perfdhcp's option letters on keactl's traffic engine."""
import ipaddress
import json
import sys

import click

from kea_tools.errors import UserError

MODES = ("relay", "client")


def _int(text, what, minimum=0):
    try:
        value = int(text)
    except ValueError:
        raise UserError(f"{what} must be an integer, got {text!r}") from None
    if value < minimum:
        raise UserError(f"{what} must be at least {minimum}, got {value}")
    return value


def _positive(text, what):
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{what} must be a number, got {text!r}") from None
    if not value > 0:
        raise UserError(f"{what} must be positive, got {text!r}")
    return value


def parse_max_drop(text):
    """-D: a count (> 0) or a percentage ``P%`` with 0 < P < 100."""
    if text.endswith("%"):
        value = _positive(text[:-1], "-D percentage")
        if value >= 100:
            raise UserError(f"-D percentage must be below 100, got {text!r}")
        return value, True
    return _int(text, "-D", 1), False


def parse_custom_option(text, family):
    """-o ``code,hexstring`` (perfdhcp's form)."""
    code, sep, hexdata = text.partition(",")
    if not sep:
        raise UserError(f"-o expects code,hexstring, got {text!r}")
    code = _int(code.strip(), "-o option code", 1)
    if code > (254 if family == 4 else 65535):
        raise UserError(f"-o option code {code} is out of range for DHCPv{family}")
    try:
        data = bytes.fromhex(hexdata.replace(":", "").replace(" ", ""))
    except ValueError:
        raise UserError(f"-o {text!r}: the value must be hex digits") from None
    return code, data


def parse_base(values):
    """-b mac=.. / ether=.. / duid=.. -> (mac bytes or None, duid bytes or None)."""
    from kea_tools.sim.identity import parse_duid, parse_mac

    mac = duid = None
    for value in values:
        kind, sep, rest = value.partition("=")
        try:
            if sep and kind.lower() in ("mac", "ether"):
                mac = parse_mac(rest)
            elif sep and kind.lower() == "duid":
                duid = parse_duid(rest)
            else:
                raise ValueError("expected mac=, ether= or duid=")
        except ValueError as err:
            raise UserError(f"-b {value}: {err}") from None
    return mac, duid


def parse_server(text):
    """``ADDR``, ``ADDR:PORT``, ``[V6ADDR]:PORT``, ``all`` or ``servers``
    -> (address or keyword, port or None, family or None)."""
    if text in ("all", "servers"):
        return text, None, None
    port = None
    host = text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise UserError(f"bad server address {text!r}")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise UserError(f"server must be an IP address (optionally :port), got {text!r}") from None
    if port is not None:
        port = _int(port, "server port", 1)
        if port > 65535:
            raise UserError(f"server port {port} is out of range")
    return str(addr), port, addr.version


def build_config(opts, server):
    """Turn the click options into a validated PerfConfig."""
    from kea_tools.sim.engine import PerfConfig, _interface_index

    if opts["v4"] and opts["v6"]:
        raise UserError("give -4 or -6, not both")
    family = 6 if opts["v6"] else 4 if opts["v4"] else None
    port = opts["remote_port"]
    if server is not None:
        server, sport, sfamily = parse_server(server)
        if family and sfamily and family != sfamily:
            raise UserError(f"server {server} is not an IPv{family} address")
        family = family or sfamily
        port = port or sport
    family = family or 4
    if server == "servers":
        if family != 6:
            raise UserError("server 'servers' (ff05::1:3) needs -6")
        server = "ff05::1:3"
    local = opts["local"]
    is_iface = bool(local) and bool(_interface_index(local))
    mode = opts["mode"]
    if mode is None:
        mode = "client" if is_iface and server in (None, "all") else "relay"
    if mode == "client" and not is_iface:
        raise UserError("client mode needs -l INTERFACE (an existing interface)")
    if mode == "relay" and server == "all":
        server = "255.255.255.255" if family == 4 else "ff02::1:2"
    if mode == "relay" and server is None:
        raise UserError("a server address is required without -l INTERFACE")
    num = tuple(_int(v, "-n", 1) for v in opts["num_requests"])
    drops = tuple(parse_max_drop(v) for v in opts["max_drop"])
    if len(num) > 2 or len(drops) > 2:
        raise UserError("-n and -D may be given at most twice")
    mac, duid = parse_base(opts["base"])
    cfg = PerfConfig(
        family=family, server=server, port=port, local=local,
        local_port=opts["local_port"], mode=mode,
        rate=opts["rate"], clients=opts["clients"], num_requests=num,
        period=opts["period"], max_drop=drops, drop_time=opts["drop_time"],
        exit_wait=None if opts["exit_wait"] is None else opts["exit_wait"] / 1e6,
        report_interval=opts["report_interval"], renew_rate=opts["renew_rate"] or 0,
        release_rate=opts["release_rate"] or 0, two_way=opts["two_way"],
        rapid_commit=opts["rapid_commit"], lease_type=opts["lease_type"],
        options=tuple(parse_custom_option(v, family) for v in opts["custom_options"]),
        base_mac=mac, base_duid=duid, seed=opts["seed"], identities=opts["identities"],
        progress=opts["progress"] if opts["progress"] is not None else sys.stderr.isatty(),
        relay_port=opts["relay_port"],
    )
    cfg.validate()
    return cfg


def _positive_number(ctx, param, value):
    if value is not None and not value > 0:
        raise click.BadParameter("must be positive")
    return value


@click.command("perf", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-4", "v4", is_flag=True, help="DHCPv4 (default; implied by an IPv4 server).")
@click.option("-6", "v6", is_flag=True, help="DHCPv6 (implied by an IPv6 server).")
@click.option("-r", "rate", type=click.IntRange(min=1), help="New exchanges per second "
              "(default: as fast as possible).")
@click.option("-R", "clients", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of distinct simulated clients.")
@click.option("-n", "num_requests", multiple=True, metavar="N",
              help="Stop after N DISCOVER/SOLICITs (a second -n: N REQUESTs).")
@click.option("-p", "period", type=float, callback=_positive_number,
              help="Test period in seconds.")
@click.option("-D", "max_drop", multiple=True, metavar="N|P%",
              help="Stop when N requests (or P percent) timed out; exit 3. Twice: stage 2.")
@click.option("-d", "drop_time", type=float, default=1.0, show_default=True,
              callback=_positive_number,
              help="Seconds after which an unanswered request counts as timed out.")
@click.option("-W", "exit_wait", type=click.IntRange(min=0),
              help="After the run, wait this many MICROseconds for outstanding answers "
              "(default: the drop time).")
@click.option("-t", "report_interval", type=float, callback=_positive_number,
              help="Print an intermediate report every N seconds.")
@click.option("-f", "renew_rate", type=click.IntRange(min=1), help="Renews per second.")
@click.option("-F", "release_rate", type=click.IntRange(min=1), help="Releases per second.")
@click.option("-i", "two_way", is_flag=True, help="Only DISCOVER-OFFER / SOLICIT-ADVERTISE.")
@click.option("-c", "rapid_commit", is_flag=True, help="DHCPv6 Rapid Commit in SOLICITs.")
@click.option("-e", "lease_type", default="address-only", show_default=True,
              type=click.Choice(["address-only", "prefix-only", "address-and-prefix"]),
              help="IA_NA, IA_PD or both in DHCPv6 SOLICITs.")
@click.option("-o", "custom_options", multiple=True, metavar="CODE,HEX",
              help="Add an option to every request (repeatable).")
@click.option("-l", "local", metavar="IFACE|ADDR",
              help="Interface (client mode when no server is given) or local address.")
@click.option("-L", "local_port", type=click.IntRange(1, 65535),
              help="Local port (relay: 67 / 547, or an unprivileged one without root; "
              "client: 68 / 546).")
@click.option("-N", "remote_port", type=click.IntRange(1, 65535),
              help="Server port (67 / 547).")
@click.option("-b", "base", multiple=True, metavar="mac=..|duid=..",
              help="Base MAC or DUID the sequential clients count from.")
@click.option("-s", "seed", type=click.IntRange(min=0), help="Seed for a reproducible run.")
@click.option("--mode", type=click.Choice(MODES),
              help="relay (giaddr / Relay-Forw, unicast) or client (broadcast / multicast "
              "on -l IFACE). Default: client when -l names an interface and no server is given.")
@click.option("--identities", type=click.Choice(["sequential", "faker"]),
              default="sequential", show_default=True,
              help="perfdhcp-style numbered clients, or realistic ones (vendor MACs, host "
              "names, vendor classes, DUIDs).")
@click.option("--relay-port/--no-relay-port", "relay_port", default=True, show_default=True,
              help="Relay mode from a port other than 67 / 547: add RFC 8357's relay "
              "source port option (82.19 / 135) so the server answers to that port. "
              "--no-relay-port sends perfdhcp's bytes.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option("--progress/--no-progress", default=None,
              help="Live progress line on stderr (default: when stderr is a terminal).")
@click.argument("server", required=False)
def perf(server, as_json, **opts):
    """Send DHCPv4 DORA / DHCPv6 SARR traffic at a server and measure it.

    SERVER is an address, ADDR:PORT, [V6ADDR]:PORT, or "all" (broadcast /
    ff02::1:2). Exit status: 0, 1 on errors, 3 when requests went unanswered
    (with -D: when its limit was reached). See keactl-perf(1).
    """
    from kea_tools.sim.engine import Simulator, open_socket

    cfg = build_config(opts, server)
    sock, dest, relay_addr = open_socket(cfg)
    try:
        sock.setblocking(False)
        # With --json, stdout carries only the JSON object: -t lines go to stderr.
        sim = Simulator(cfg, sock, dest, relay_addr, out=sys.stderr if as_json else None,
                        local_port=sock.getsockname()[1])
        stats = sim.run()
    finally:
        sock.close()
    if as_json:
        click.echo(json.dumps(stats.as_dict(), indent=2))
    else:
        click.echo(stats.report())
    code = sim.exit_code(stats)
    if code:
        sys.exit(code)
