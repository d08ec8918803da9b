"""Shared test fixtures.

Tests that need root, network namespaces, Debian peers (kea, dhclient, perfdhcp,
tshark, ...) or PostgreSQL call :func:`require`: on a plain laptop they skip with
the reason; with KEACTL_REQUIRE_E2E=1 (set by .ci/run) they fail instead, so CI
can never go green by skipping.
"""
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Test corpora live in ../shared beside the checkout (never copied in).
SHARED = Path(os.environ.get("KEACTL_SHARED", ROOT.parent / "shared"))
REQUIRE_E2E = os.environ.get("KEACTL_REQUIRE_E2E") == "1"


def require(condition, reason):
    """Skip (or, under KEACTL_REQUIRE_E2E=1, fail) unless ``condition`` holds."""
    if condition:
        return
    if REQUIRE_E2E:
        pytest.fail(f"prerequisite missing (KEACTL_REQUIRE_E2E=1): {reason}", pytrace=False)
    pytest.skip(reason)


def require_root():
    require(os.geteuid() == 0, "needs root")


def require_program(*names):
    for name in names:
        require(shutil.which(name) is not None, f"needs {name} (Debian package)")


@pytest.fixture
def shared_dir():
    return SHARED
