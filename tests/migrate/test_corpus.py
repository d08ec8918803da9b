"""keama's own test corpus (../shared/corpus/keama): every working test must give
a config that Kea 2.2 and ``keactl serve -t`` accept, with the same subnets, pools,
reservations, options and classes as keama's expected output; every error test
must fail with keama's message at keama's line. Nothing is copied from the corpus:
it is read in place and the tests skip when it is absent.
"""
import re
import shutil
import subprocess

import pytest

from kea_tools.errors import SourceError
from kea_tools.migrate.convert import Converter
from kea_tools.migrate.emit import render
from tests.conftest import require
from tests.migrate import keama_compare
from tests.migrate.corpus import KEAMA, error_cases, expected_message, working_cases

# Where keactl deliberately differs from keama's expected output, and why.
WORKING_DIFFERENCES = {
    "hostidentifier4": "flex-id needs the premium flex_id hook (absent from Debian's Kea); "
                       "keactl keeps that host as a comment",
    "ipaddrhost4": "needs DNS: www.isc.org resolved when keama's output was written",
    "suffixdx4": "keama folds suffix('www.example.com', 3) to '.example.com' (a keama bug, INDEX.md); "
                 "keactl gives ISC's 'com'",
}
WORKING = working_cases()
ERRORS = error_cases()


def _corpus():
    require((KEAMA / "INDEX.md").exists(), f"keama corpus not found at {KEAMA}")


def _convert(case):
    family = case.families[0]
    return Converter(family, isc_defaults="-D" in case.flags,
                     subnet_hosts_only="-N" in case.flags).convert_file(str(KEAMA / case.input))


@pytest.mark.parametrize("case", WORKING, ids=[c.name for c in WORKING])
def test_working_case_matches_keama(case):
    _corpus()
    if case.name in WORKING_DIFFERENCES:
        pytest.xfail(WORKING_DIFFERENCES[case.name])
    result = _convert(case)
    ours = keama_compare.summary(keama_compare.load(render(result.doc)))
    theirs = keama_compare.summary(keama_compare.load((KEAMA / case.expected).read_text()))
    assert keama_compare.differences(ours, theirs) == []


@pytest.mark.parametrize("case", WORKING, ids=[c.name for c in WORKING])
def test_working_case_accepted_by_keactl_serve(case, tmp_path):
    _corpus()
    from kea_tools.config.loader import load_file
    try:
        result = _convert(case)
    except SourceError as err:
        pytest.xfail(f"{case.name}: {WORKING_DIFFERENCES.get(case.name, err)}")
    path = tmp_path / "kea.json"
    path.write_text(render(result.doc).replace('"en0"', '"lo"'))
    load_file(str(path))


def test_working_cases_accepted_by_kea(tmp_path):
    """All working outputs in one pass through Debian's kea-dhcp4/6 -t."""
    _corpus()
    require(shutil.which("kea-dhcp4") and shutil.which("kea-dhcp6"), "needs kea-dhcp4 and kea-dhcp6")
    failures = []
    for case in WORKING:
        try:
            result = _convert(case)
        except SourceError:
            assert case.name in WORKING_DIFFERENCES
            continue
        path = tmp_path / f"{case.name}.json"
        # keama's inputs name interface en0; this machine has lo.
        path.write_text(render(result.doc).replace('"en0"', '"lo"'))
        proc = subprocess.run([f"kea-dhcp{case.families[0]}", "-t", str(path)],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            failures.append(f"{case.name}: {(proc.stdout + proc.stderr).strip().splitlines()[-1]}")
    assert failures == []


@pytest.mark.parametrize("case", ERRORS, ids=[c.name for c in ERRORS])
def test_error_case_fails_like_keama(case):
    _corpus()
    _file, line, message = expected_message(case)
    # keama prints ISC's internal token number for a string where dhcpd names it.
    message = re.sub(r"\(262\)", "(string)", message)
    with pytest.raises(SourceError) as info:
        _convert(case)
    err = info.value
    assert err.message == message
    assert err.file.endswith(case.input)
    assert err.line == line and err.col is not None


SAMPLES = [("example", 4), ("simple", 4), ("vmnet8", 4), ("test-a6", 6)]
SAMPLE_DIFFERENCES = {
    "simple": "keama keeps the host bits of 'subnet 10.14.8.195 netmask 255.255.255.0'; "
              "keactl writes the network, 10.14.8.0/24",
    "test-a6": "keactl maps host-identifier option dhcp6.client-id to a duid reservation "
               "(keama: flex-id, which needs a premium hook)",
}


@pytest.mark.parametrize("name,family", SAMPLES, ids=[n for n, _ in SAMPLES])
def test_sample_configs(name, family, tmp_path):
    _corpus()
    require(shutil.which(f"kea-dhcp{family}"), f"needs kea-dhcp{family}")
    # INDEX.md: the samples run with keama -N.
    result = Converter(family, subnet_hosts_only=True).convert_file(
        str(KEAMA / "samples" / f"{name}.conf"))
    path = tmp_path / "kea.json"
    path.write_text(render(result.doc))
    proc = subprocess.run([f"kea-dhcp{family}", "-t", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ours = keama_compare.summary(keama_compare.load(path.read_text()))
    theirs = keama_compare.summary(keama_compare.load((KEAMA / "samples" / f"{name}.json").read_text()))
    if name in SAMPLE_DIFFERENCES:
        pytest.xfail(SAMPLE_DIFFERENCES[name])
    assert keama_compare.differences(ours, theirs) == []
