"""Every example Kea ships either loads or names the feature keactl lacks."""
import glob
import os
import re

import pytest

from kea_tools.config import load_file
from kea_tools.errors import SourceError
from tests.conftest import require

EXAMPLES = "/usr/share/doc/kea/examples"
UNSUPPORTED = re.compile(r"^unsupported: [a-z0-9-]+ \(Dhcp[46][^)]*\)$")


def examples():
    found = sorted(glob.glob(f"{EXAMPLES}/kea4/*.json") + glob.glob(f"{EXAMPLES}/kea6/*.json"))
    return found or [None]


@pytest.mark.parametrize("path", examples(),
                         ids=lambda p: "missing" if p is None else "/".join(p.split("/")[-2:]))
def test_example_loads_or_names_the_unsupported_feature(path):
    require(path is not None and os.path.isdir(EXAMPLES), f"needs Kea's examples in {EXAMPLES}")
    try:
        result = load_file(path)
    except SourceError as err:
        assert err.file == path and err.line > 0 and err.col > 0
        assert UNSUPPORTED.match(err.message), str(err)
        return
    assert result.family == (4 if "/kea4/" in path else 6)


def test_most_examples_load():
    require(os.path.isdir(EXAMPLES), f"needs Kea's examples in {EXAMPLES}")
    loaded = 0
    for path in examples():
        try:
            load_file(path)
            loaded += 1
        except SourceError:
            pass
    assert loaded >= 35
