"""tests/sim: make kea_tools.sim importable from a checkout, share the lab fixtures."""
from pathlib import Path

import kea_tools

# sim/ installs as kea_tools.sim; in a checkout it sits beside kea_tools/ (as
# bin/keactl arranges), so let the package find it when it is not installed.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in kea_tools.__path__:
    kea_tools.__path__.append(_ROOT)

from tests.e2e.netns import netlab  # noqa: E402,F401  (pytest fixture)
