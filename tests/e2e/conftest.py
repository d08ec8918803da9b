"""e2e session setup: remove namespaces left behind by crashed earlier runs."""
import os

import pytest

from tests.e2e.netns import netlab, remove_stale_namespaces, two_hosts  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def _stale_namespaces():
    if os.geteuid() == 0:
        remove_stale_namespaces()
    yield
