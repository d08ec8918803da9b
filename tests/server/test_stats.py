import json
from pathlib import Path

from kea_tools.server.stats import GLOBAL_V4, Statistics, format_timestamp
from tests.server.helpers import Clock

REFERENCE = Path(__file__).parent / "data" / "kea22-control-responses.txt"


def test_counters_keep_newest_first_samples():
    clock = Clock(1000)
    st = Statistics(clock=clock, max_samples=3)
    for i in range(5):
        clock.now += 1
        st.add("pkt4-received")
    assert st.value("pkt4-received") == 5
    samples = st.get("pkt4-received")["pkt4-received"]
    assert [v for v, _ in samples] == [5, 4, 3]
    assert samples[0][1] == format_timestamp(1005)


def test_unknown_name_is_empty_and_reset_remove():
    st = Statistics()
    assert st.get("nope") == {}
    assert not st.reset("nope") and not st.remove("nope")
    st.add("x", 7)
    assert st.reset("x") and st.value("x") == 0
    assert st.remove("x") and "x" not in st


def test_global_names_match_kea_22():
    """The statistics a fresh kea-dhcp4 2.2 lists (captured from the real server)."""
    text = REFERENCE.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith('=> { "arguments": { "cumulative'))
    kea = json.loads(line[3:])["arguments"]
    kea_globals = {n for n in kea if not n.startswith("subnet[")}
    assert kea_globals == set(GLOBAL_V4)


def test_sample_age_limit_replaces_count_limit():
    clock = Clock(1000)
    st = Statistics(clock=clock, max_samples=2)
    for _ in range(5):
        clock.now += 10
        st.add("x")
    assert len(st.get("x")["x"]) == 2
    assert st.set_max_age("x", 25)
    for _ in range(5):
        clock.now += 10
        st.add("x")
    assert [v for v, _ in st.get("x")["x"]] == [10, 9, 8]
    st.set_max_samples_all(1)
    st.add("x")
    assert len(st.get("x")["x"]) == 1
