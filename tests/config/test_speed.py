"""A modest load-time check; tests/bench/bench_config.py measures the full size."""
import importlib.util
import time

from kea_tools.config import load_file
from tests.conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_config",
                                                  ROOT / "tests" / "bench" / "bench_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_thousand_subnets_ten_thousand_reservations_load_quickly(tmp_path):
    path = tmp_path / "big.json"
    _bench().write_config(str(path), subnets=1000, reservations=10000)
    start = time.perf_counter()
    result = load_file(str(path))
    elapsed = time.perf_counter() - start
    assert len(result.config.subnets) == 1000
    assert sum(len(s.reservations) for s in result.config.subnets) == 10000
    # The full benchmark (5x this) must stay under 3 s; leave room for slow CI.
    assert elapsed < 1.5, f"{elapsed:.2f} s"
