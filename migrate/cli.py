"""``keactl migrate``: dhcpd.conf -> Kea JSON, and ``keactl migrate leases``.

``keactl migrate [-4|-6] dhcpd.conf [-o kea.json]`` converts a configuration
(the ``conf`` subcommand is implied when the first argument is not a subcommand);
``keactl migrate leases dhcpd.leases --db URL|-c kea.json`` imports leases.

Exit status (keactl-migrate(1)): 0 complete, 3 partial (output written, some
statements kept only as comments and listed on stderr), 1 failed (nothing written).
"""
import os
import sys
import tempfile

import click
from tabulate import tabulate

from kea_tools.errors import UserError

EXIT_COMPLETE = 0
EXIT_FAILED = 1
EXIT_PARTIAL = 3


class PartialMigration(UserError):
    """Untranslated statements under --strict (or the partial exit status)."""

    exit_code = EXIT_PARTIAL


class MigrateGroup(click.Group):
    """A group whose default subcommand is ``conf`` (``keactl migrate FILE``)."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["conf", *args]
        return super().parse_args(ctx, args)


@click.group(cls=MigrateGroup, context_settings={"help_option_names": ["-h", "--help"]})
def migrate():
    """Move from ISC DHCP: convert dhcpd.conf, import dhcpd.leases.

    \b
      keactl migrate [-4|-6] dhcpd.conf [-o kea.json]
      keactl migrate leases dhcpd.leases (--db URL | -o kea-leases4.csv) [-c kea.json]
    """


def _write_atomically(path, text):
    """Write ``text`` to ``path`` via a temporary file: no partial output on failure."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".keactl-migrate-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@migrate.command("conf", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("dhcpd_conf", type=click.Path(dir_okay=False))
@click.option("-4", "family", flag_value=4, default=True, help="DHCPv4 (dhcpd -4), the default.")
@click.option("-6", "family", flag_value=6, help="DHCPv6 (dhcpd -6).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the Kea config here (default: stdout).")
@click.option("--strict", is_flag=True, help="Fail (write nothing) when anything cannot be translated.")
@click.option("-D", "--isc-defaults", is_flag=True,
              help="Set ISC DHCP's built-in lifetimes (43200/300/86400 s) where none is configured.")
@click.option("-N", "--subnet-hosts-only", is_flag=True,
              help="As keama -N: reservations only inside subnets (a host without a fixed "
                   "address goes into the last declared subnet); a host no subnet takes is "
                   "left as a comment instead of becoming a global reservation.")
@click.option("--no-resolve", is_flag=True, help="Do not resolve host names in fixed-address (error instead).")
@click.option("--d2", "d2_output", type=click.Path(dir_okay=False),
              help="Write key and zone statements as a kea-dhcp-ddns (DhcpDdns) config to this file.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list untranslated statements on stderr.")
def conf(dhcpd_conf, family, output, strict, isc_defaults, subnet_hosts_only, no_resolve,
         d2_output, quiet):
    """Convert DHCPD_CONF (ISC dhcpd.conf) to a Kea 2.2 configuration."""
    from kea_tools.migrate.convert import Converter
    from kea_tools.migrate.emit import render

    if not os.path.exists(dhcpd_conf):
        raise UserError(f"{dhcpd_conf}: No such file or directory")
    result = Converter(family, resolve=not no_resolve, isc_defaults=isc_defaults,
                       d2=bool(d2_output),
                       subnet_hosts_only=subnet_hosts_only).convert_file(dhcpd_conf)
    issues = result.issues
    if issues and not quiet:
        for issue in issues:
            click.echo(f"{issue}", err=True)
    if strict and issues:
        raise PartialMigration(f"{len(issues)} statement(s) cannot be translated (--strict); nothing written")
    text = render(result.doc)
    if output:
        _write_atomically(output, text)
    else:
        click.echo(text, nl=False)
    if d2_output and result.d2 is not None:
        _write_atomically(d2_output, render(result.d2))
    if issues:
        if not quiet:
            click.echo(f"keactl migrate: {len(issues)} statement(s) not translated (kept as comments)",
                       err=True)
        sys.exit(EXIT_PARTIAL)


@migrate.command("leases", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("lease_file", type=click.Path(dir_okay=False))
@click.option("--db", "db_url", help="Lease back end URL (memfile:PATH, sqlite:///PATH, postgresql://...).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write a Kea memfile CSV (same as --db memfile:PATH).")
@click.option("-c", "--config", "kea_config", type=click.Path(dir_okay=False),
              help="Kea config whose subnets give the subnet ids (and, without --db, the lease-database).")
@click.option("--dhcpd-conf", type=click.Path(dir_okay=False),
              help="Take subnet ids from this dhcpd.conf, numbered as keactl migrate numbers them.")
@click.option("-4", "family", flag_value=4, default=None, help="The file is a DHCPv4 lease file.")
@click.option("-6", "family", flag_value=6, help="The file is a DHCPv6 lease file.")
@click.option("--all", "all_states", is_flag=True, help="Also import free/expired/released/backup leases (as expired-reclaimed).")
@click.option("--dry-run", is_flag=True, help="Show what would be imported; write nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def leases(lease_file, db_url, output, kea_config, dhcpd_conf, family, all_states, dry_run, no_progress):
    """Import LEASE_FILE (ISC dhcpd.leases or dhcpd6.leases) into a Kea lease back end."""
    run_import(lease_file, db_url=db_url, output=output, kea_config=kea_config, dhcpd_conf=dhcpd_conf,
               family=family, all_states=all_states, dry_run=dry_run, progress=not no_progress)


def _sniff_family(path):
    with open(path, encoding="latin-1") as fh:
        head = fh.read(1 << 16)
    if "ia-na " in head or "ia-pd " in head or "ia-ta " in head or "server-duid" in head:
        return 6
    return 4


def run_import(lease_file, *, db_url=None, output=None, kea_config=None, dhcpd_conf=None, family=None,
               all_states=False, dry_run=False, progress=True):
    from kea_tools.migrate.leases_import import import_isc_leases, load_kea_config

    if not os.path.exists(lease_file):
        raise UserError(f"{lease_file}: No such file or directory")
    family = family or _sniff_family(lease_file)
    config = None
    spec = db_url or (f"memfile:{output}" if output else None)
    config_dir = None
    if kea_config:
        config = load_kea_config(kea_config)
        section = config.get("Dhcp4" if family == 4 else "Dhcp6", {})
        if spec is None and "lease-database" in section:
            spec = section["lease-database"]
            config_dir = os.path.dirname(os.path.abspath(kea_config))
    elif dhcpd_conf:
        from kea_tools.migrate.convert import Converter
        from kea_tools.migrate.emit import plain
        config = plain(Converter(family).convert_file(dhcpd_conf).doc)
    if spec is None and not dry_run:
        raise UserError("say where the leases go: --db URL, -o FILE.csv, or -c with a lease-database")
    backend = None
    if not dry_run:
        from kea_tools.leases import open_backend
        backend = open_backend(spec, family, config_dir=config_dir, append_only=True)
    bar = None
    size = os.path.getsize(lease_file)
    if progress and size > (8 << 20) and sys.stderr.isatty():
        bar = click.progressbar(length=size, label="reading leases", file=sys.stderr)
        bar.__enter__()
    last = [0]

    def tick(done, total):
        if bar is not None:
            bar.update(done - last[0])
            last[0] = done

    try:
        summary = import_isc_leases(lease_file, backend, config=config, all_states=all_states,
                                    dry_run=dry_run, family=family, progress=tick)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        if backend is not None:
            backend.close()
    print_summary(summary)
    return summary


def print_summary(summary):
    for address in summary.outside[:20]:
        click.echo(f"keactl migrate leases: {address}: outside every subnet, not imported", err=True)
    if len(summary.outside) > 20:
        click.echo(f"keactl migrate leases: ... and {len(summary.outside) - 20} more outside every subnet",
                   err=True)
    for line, text in summary.corrupt[:20]:
        click.echo(f"keactl migrate leases: line {line}: skipped: {text}", err=True)
    if summary.inferred_subnets:
        click.echo("keactl migrate leases: no config given: subnet ids inferred (/24 or /64 networks "
                   "numbered in address order); pass -c kea.json for the real ids", err=True)
    rows = summary.rows()
    click.echo(tabulate(rows, headers=["DHCPv%d leases" % summary.family, "count"]))
    if summary.per_subnet:
        click.echo()
        click.echo(tabulate(sorted(summary.per_subnet.items()), headers=["subnet-id", "leases"]))
    click.echo(f"\n{summary.seconds:.1f} s")
