"""``keactl serve -t``: exit codes and one-line messages, as kea-dhcp4 -t."""
import subprocess
import sys

from click.testing import CliRunner

from kea_tools.server.cli import serve
from tests.conftest import ROOT

GOOD = '{"Dhcp4": {"subnet4": [{"subnet": "192.0.2.0/24", "pools": [{"pool": "192.0.2.10 - 192.0.2.20"}]}]}}'


def keactl(*args):
    return subprocess.run([sys.executable, str(ROOT / "bin" / "keactl"), *args],
                          capture_output=True, text=True, timeout=60)


def test_ok_summary_and_both_spellings(tmp_path):
    path = tmp_path / "kea.json"
    path.write_text(GOOD)
    for args in (["-t", str(path)], ["-t", "-c", str(path)], ["-c", str(path), "-t"]):
        result = CliRunner().invoke(serve, args)
        assert result.exit_code == 0, result.output
        assert result.output == ("configuration ok: Dhcp4, 1 subnet, 0 shared networks, 1 pool, "
                                 "0 reservations, 0 client classes, 0 option definitions\n")


def test_error_is_one_line_without_traceback(tmp_path):
    path = tmp_path / "kea.json"
    path.write_text('{"Dhcp4": {\n  "subnet4": [{"subnet": "192.0.2.0/24", "pool": []}]}}')
    done = keactl("serve", "-t", str(path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (f'{path}:2:42: got unexpected keyword "pool" in subnet4 map '
                           "(Dhcp4.subnet4[0].pool)\n")


def test_warnings_go_to_stderr(tmp_path):
    path = tmp_path / "kea.json"
    path.write_text('{"Control-agent": {}, "Dhcp4": {"valid-lifetime": 10, },}')
    done = keactl("serve", "-t", str(path))
    assert done.returncode == 0
    assert done.stdout.startswith("configuration ok: Dhcp4, 0 subnets")
    assert "warning: Control-agent: ignored" in done.stderr
    assert "Extraneous comma" in done.stderr


def test_missing_file_and_usage_errors(tmp_path):
    done = keactl("serve", "-t", str(tmp_path / "none.json"))
    assert done.returncode == 1 and done.stderr.strip().endswith("configuration file not found")
    assert "Traceback" not in done.stderr
    done = keactl("serve", "-c", str(tmp_path / "none.json"))
    assert done.returncode == 1 and done.stderr.strip().endswith("configuration file not found")
    assert "Traceback" not in done.stderr
    result = CliRunner().invoke(serve, ["-t"])
    assert result.exit_code == 2 and "no configuration file" in result.output


def test_help():
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0 and "-t, --test" in result.output
