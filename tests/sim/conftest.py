"""tests/sim: share the namespace lab fixture."""
from tests.e2e.netns import netlab  # noqa: F401  (pytest fixture)
