"""The keactl command group: every listed subcommand works and is documented."""
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kea_tools import __version__
from kea_tools.cli import SUBCOMMANDS, cli, main

ROOT = Path(__file__).resolve().parent.parent


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_subcommand():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_subcommand_has_help_and_man_page(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    pages = list((ROOT / "man").glob(f"keactl-{name}.[178]"))
    assert pages, f"no man page man/keactl-{name}.(1|7|8)"


def test_top_level_man_page_names_every_subcommand():
    page = (ROOT / "man" / "keactl.8").read_text()
    for name in SUBCOMMANDS:
        assert f"keactl-{name}" in page


def test_unknown_subcommand_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "kea_tools", "no-such-command"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_user_error_is_one_line_without_traceback(capsys, monkeypatch):
    from kea_tools.errors import SourceError

    @cli.command("explode-for-test")
    def explode():
        raise SourceError("bad thing", "f.json", 3, 7)

    try:
        with pytest.raises(SystemExit) as exc:
            main(["explode-for-test"])
    finally:
        cli.commands.pop("explode-for-test")
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == "f.json:3:7: bad thing"


def test_launcher_runs_from_checkout():
    proc = subprocess.run([sys.executable, str(ROOT / "bin" / "keactl"), "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert __version__ in proc.stdout
