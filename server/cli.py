"""``keactl serve``: the DHCP server's command line, shaped like kea-dhcp4/kea-dhcp6.

``-c FILE`` runs the server (:mod:`kea_tools.server.daemon`) with kea-dhcpN's
``-p`` / ``-P`` / ``-d``; ``-t FILE`` (or ``-t -c FILE``) checks a configuration
the way ``kea-dhcp4 -t`` does and exits. The Dhcp4 or Dhcp6 object in the file
decides the family.
"""
import click

from kea_tools.config import load_file


def summary(result):
    """One line describing a loaded configuration."""
    cfg = result.config
    pools = sum(len(s.pools) for s in cfg.subnets)
    reservations = len(cfg.reservations) + sum(len(s.reservations) for s in cfg.subnets)
    parts = [
        f"Dhcp{result.family}",
        _count(len(cfg.subnets), "subnet"),
        _count(len(cfg.shared_networks), "shared network"),
        _count(pools, "pool"),
    ]
    if result.family == 6:
        parts.append(_count(sum(len(s.pd_pools) for s in cfg.subnets), "pd-pool"))
    parts += [
        _count(reservations, "reservation"),
        _count(len(cfg.client_classes), "client class", "client classes"),
        _count(len(cfg.option_defs), "option definition"),
    ]
    return "configuration ok: " + ", ".join(parts)


def _count(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-c", "--config", "config_file", metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Kea configuration file (JSON with comments and <?include?>).")
@click.option("-t", "--test", "test", metavar="[FILE]", is_flag=False, flag_value="",
              default=None,
              help="Check the configuration and exit: 0 if it is valid, 1 with "
                   "file:line:col: message if not. FILE may be given here instead of -c.")
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=None, metavar="PORT",
              help="Server port (default 67 for DHCPv4, 547 for DHCPv6).")
@click.option("-P", "--client-port", type=click.IntRange(1, 65535), default=None,
              metavar="PORT", help="Send every direct reply to this port (a testing aid, as "
                                   "kea-dhcp4 -P).")
@click.option("-d", "--debug", is_flag=True, help="Log at debug level (one line per decision).")
def serve(config_file, test, port, client_port, debug):
    """Serve DHCP from a Kea configuration (Dhcp4 or Dhcp6 object).

    \b
    keactl serve -c FILE         run the server until SIGTERM or "shutdown"
    keactl serve -c FILE -p 6767 on another port (no root needed on loopback)
    keactl serve -t FILE         check FILE as kea-dhcp4 -t / kea-dhcp6 -t do
    keactl serve -t -c FILE      the same

    SIGHUP re-reads FILE; a configuration that fails is refused and the
    running one keeps serving. See keactl-serve(8).
    """
    path = test or config_file
    if test is None:
        if not config_file:
            raise click.UsageError("no configuration file: use -c FILE")
        from kea_tools.server.daemon import run
        code = run(config_file, port=port, client_port=client_port, debug=debug)
        click.get_current_context().exit(code or 0)
    if not path:
        raise click.UsageError("no configuration file: use -t FILE or -c FILE")
    if test and config_file and test != config_file:
        raise click.UsageError("-t FILE and -c FILE name different files")
    result = load_file(path)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    # The dhcp-ddns connectivity values and each subnet's hostname-char-set are
    # checked as the server would at start-up.
    from kea_tools.server.daemon import prepare_ddns
    prepare_ddns(result.config, result.raw, result.family, test_only=True)
    click.echo(summary(result))
