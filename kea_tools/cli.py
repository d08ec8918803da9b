"""The ``keactl`` command: a click group whose subcommands live in their packages.

Subcommands are named here and imported only when used, so ``keactl --help`` stays
fast and the library does not import the applications at import time.
"""
import importlib
import sys

import click

from kea_tools import __version__
from kea_tools.errors import UserError

# name -> "module:attribute" of a click command or group. One line per working
# subcommand; nothing is listed before it works.
SUBCOMMANDS = {
    "decode": "kea_tools.codec.cli:decode",
    "eval": "kea_tools.classify.cli:eval_command",
    "migrate": "kea_tools.migrate.cli:migrate",
    "perf": "kea_tools.sim.cli:perf",
    "leases": "kea_tools.leases.cli:leases", "db": "kea_tools.leases.cli:db",
    "serve": "kea_tools.server.cli:serve",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(SUBCOMMANDS))

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is not None or name not in SUBCOMMANDS:
            return cmd
        module, _, attr = SUBCOMMANDS[name].partition(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="keactl")
def cli():
    """keactl: a DHCPv4/DHCPv6 toolkit and server that speaks ISC Kea's languages.

    See keactl(8) and `keactl COMMAND --help`.
    """


def main(argv=None):
    """Entry point: run the CLI, turning user errors into one line and an exit code."""
    try:
        # Without standalone mode click returns the code of ctx.exit(n) instead of
        # raising it.
        rc = cli.main(args=argv, prog_name="keactl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.exceptions.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
    except UserError as err:
        click.echo(f"keactl: {err}" if not hasattr(err, "file") else str(err), err=True)
        sys.exit(err.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(rc if isinstance(rc, int) else 0)
