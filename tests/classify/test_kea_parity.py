"""The parser accepts exactly what Kea 2.2 accepts, and rejects the rest with
Kea's message at Kea's location (golden verdicts from kea_capture.py)."""
import json
from pathlib import Path

import pytest

from kea_tools.classify import ExpressionError, compile_expression, is_builtin
from tests.classify.kea_capture import PRIOR_CLASSES, kea_verdict
from tests.conftest import require_program

VERDICTS = json.loads((Path(__file__).parent / "data" / "kea22_parse.json").read_text())


def verdict(expr, universe):
    try:
        compile_expression(expr, universe, "bool",
                           class_defined=lambda n: is_builtin(n) or n in PRIOR_CLASSES,
                           kea_2_2_only=True)
    except ExpressionError as err:
        where = f"{err.line}.{err.col}" + (f"-{err.end_col}" if err.end_col != err.col else "")
        return False, f"<string>:{where}: {err.message}"
    return True, ""


@pytest.mark.parametrize("case", VERDICTS, ids=lambda c: f"v{c['universe']}:{c['expression']}")
def test_same_verdict_as_kea(case):
    assert verdict(case["expression"], case["universe"]) == (case["accepted"], case["message"])


def test_golden_verdicts_match_installed_kea(tmp_path):
    """A sample re-checked against the installed kea-dhcp4/kea-dhcp6, so the golden
    file cannot drift from what Kea says."""
    require_program("kea-dhcp4", "kea-dhcp6")
    sample = VERDICTS[::12]
    for case in sample:
        got = kea_verdict(case["expression"], case["universe"], tmp_path)
        assert got == (case["accepted"], case["message"]), case["expression"]
