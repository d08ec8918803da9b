"""``keactl migrate``: exit codes, output files, --strict, errors without tracebacks."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

GOOD = "subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.10 10.0.0.20; }\n"
PARTIAL = GOOD + "ping-check true;\n"
BROKEN = "subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.10;\n  bogus-thing 1;\n}\n"


def keactl(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kea_tools", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)


@pytest.fixture
def conf(tmp_path):
    def make(text, name="dhcpd.conf"):
        path = tmp_path / name
        path.write_text(text)
        return path
    return make


def test_complete_migration_exits_0(conf, tmp_path):
    out = tmp_path / "kea.json"
    proc = keactl("migrate", conf(GOOD), "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert '"subnet": "10.0.0.0/24"' in out.read_text()


def test_partial_migration_exits_3_and_lists_issues(conf, tmp_path):
    out = tmp_path / "kea.json"
    path = conf(PARTIAL)
    proc = keactl("migrate", "-4", path, "-o", out)
    assert proc.returncode == 3
    assert f"{path}:2: ping-check" in proc.stderr
    assert f"// {path}:2: not translated: ping-check" in out.read_text()


def test_strict_turns_issues_into_failure_and_writes_nothing(conf, tmp_path):
    out = tmp_path / "kea.json"
    proc = keactl("migrate", conf(PARTIAL), "--strict", "-o", out)
    assert proc.returncode == 3
    assert not out.exists()
    assert "Traceback" not in proc.stderr


def test_syntax_error_is_one_line_and_leaves_no_file(conf, tmp_path):
    out = tmp_path / "kea.json"
    out.write_text("previous")
    path = conf(BROKEN)
    proc = keactl("migrate", path, "-o", out)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{path}:3:3: expecting a parameter or declaration"
    assert out.read_text() == "previous"
    assert list(tmp_path.glob(".keactl-migrate-*")) == []


def test_stdout_and_v6(conf):
    proc = keactl("migrate", "-6", conf("subnet6 2001:db8::/64 { range6 2001:db8::10 2001:db8::20; }\n"))
    assert proc.returncode == 0
    assert '"Dhcp6"' in proc.stdout


def test_missing_file_is_a_user_error(tmp_path):
    proc = keactl("migrate", tmp_path / "nope.conf")
    assert proc.returncode == 1 and "No such file" in proc.stderr and "Traceback" not in proc.stderr


def test_help():
    proc = keactl("migrate", "--help")
    assert proc.returncode == 0 and "leases" in proc.stdout
    assert keactl("migrate", "conf", "--help").returncode == 0
    assert keactl("migrate", "leases", "--help").returncode == 0


def test_man_page_documents_exit_codes():
    text = (ROOT / "man" / "keactl-migrate.1").read_text()
    assert ".SH EXIT STATUS" in text and "partial" in text
