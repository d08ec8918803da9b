"""`pip install .` gives a working keactl with the applications under kea_tools."""
import subprocess
import sys
import venv

import pytest

from tests.conftest import ROOT

# A DHCPDISCOVER from chaddr 00:11:22:33:44:55 with only option 53.
DISCOVER = ("010106000000123400000000" + "00" * 16 + "001122334455" + "00" * 10
            + "00" * 192 + "63825363" + "350101" + "ff")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv (seeing this interpreter's packages, so no downloads) with keactl
    installed from the checkout, not in editable mode."""
    env = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env)
    python = env / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--no-build-isolation", "-q", str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    if "no such option: --python" in proc.stderr:
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps",
                               "--no-build-isolation", "-q", "--prefix", str(env), str(ROOT)],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return env


def run(env, *args):
    return subprocess.run([str(env / "bin" / "keactl"), *args], capture_output=True,
                          text=True, timeout=60, cwd=env)


def test_console_script_and_subcommands(installed):
    proc = run(installed, "--help")
    assert proc.returncode == 0, proc.stderr
    for name in ("serve", "decode", "leases", "migrate", "perf", "eval"):
        assert name in proc.stdout


def test_applications_live_under_kea_tools(installed):
    code = ("import kea_tools.server, kea_tools.migrate, kea_tools.sim, kea_tools.codec.optiondefs as d;"
            "print(kea_tools.server.__file__); d.OptionDefs.standard()")
    proc = subprocess.run([str(installed / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, cwd=installed, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "site-packages/kea_tools/server/__init__.py" in proc.stdout


def test_decode_uses_installed_option_table(installed):
    proc = run(installed, "decode", DISCOVER)
    assert proc.returncode == 0, proc.stderr
    assert "dhcp-message-type" in proc.stdout


def test_man_pages_installed(installed):
    pages = {p.name for p in installed.glob("share/man/man*/*")}
    assert {"keactl.8", "keactl-serve.8", "keactl-leases.1", "keactl-hooks.7"} <= pages
