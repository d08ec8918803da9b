"""Kea's statistics model: each name holds a list of (value, timestamp) samples.

Kea keeps up to ``statistic-default-sample-count`` samples per statistic (20 by
default), newest first, and reports them as ``[[value, "YYYY-MM-DD
HH:MM:SS.ffffff"], ...]``. Counters go up by adding a new sample whose value is
the previous one plus the increment, exactly as Kea's StatsMgr::addValue does.
The hot path (``add``) touches one dict entry and one deque; timestamps are
formatted only when a command asks for them.
"""
import time
from collections import deque
from datetime import datetime

DEFAULT_SAMPLE_COUNT = 20

# Statistics kea-dhcp4 2.2 creates at start-up with value 0 (statistic-get-all
# on a fresh server lists exactly these, plus the per-subnet ones below).
GLOBAL_V4 = (
    "pkt4-received", "pkt4-discover-received", "pkt4-offer-received",
    "pkt4-request-received", "pkt4-ack-received", "pkt4-nak-received",
    "pkt4-release-received", "pkt4-decline-received", "pkt4-inform-received",
    "pkt4-unknown-received", "pkt4-sent", "pkt4-offer-sent", "pkt4-ack-sent",
    "pkt4-nak-sent", "pkt4-parse-failed", "pkt4-receive-drop",
    "cumulative-assigned-addresses", "declined-addresses",
    "reclaimed-declined-addresses", "reclaimed-leases",
    "v4-allocation-fail", "v4-allocation-fail-shared-network", "v4-allocation-fail-subnet",
    "v4-allocation-fail-no-pools", "v4-allocation-fail-classes", "v4-reservation-conflicts",
)
SUBNET_V4 = (
    "total-addresses", "assigned-addresses", "cumulative-assigned-addresses",
    "declined-addresses", "reclaimed-declined-addresses", "reclaimed-leases",
    "v4-reservation-conflicts",
)


def subnet_stat(subnet_id, name):
    return f"subnet[{subnet_id}].{name}"


def format_timestamp(ts):
    """Kea's sample time: local time with microseconds."""
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S.%f")


class Statistics:
    """name -> samples (newest first), with Kea's command semantics."""

    def __init__(self, clock=time.time, max_samples=DEFAULT_SAMPLE_COUNT):
        self._clock = clock
        self.max_samples = max_samples
        self._samples = {}
        # name -> seconds: statistics limited by sample age instead of count
        # (statistic-sample-age-set); "*" applies to every statistic.
        self._ages = {}

    # --- updates ------------------------------------------------------------
    def set(self, name, value):
        samples = self._samples.get(name)
        if samples is None:
            samples = self._samples[name] = self._new()
        samples.appendleft((value, self._clock()))
        if self._ages:
            self._prune(name, samples)

    def add(self, name, delta=1):
        samples = self._samples.get(name)
        if samples is None:
            samples = self._samples[name] = self._new()
            samples.appendleft((delta, self._clock()))
        else:
            samples.appendleft((samples[0][0] + delta, self._clock()))
        if self._ages:
            self._prune(name, samples)

    def _new(self):
        return deque(maxlen=None if "*" in self._ages else self.max_samples)

    def _prune(self, name, samples):
        age = self._ages.get(name, self._ages.get("*"))
        if age is None:
            return
        cutoff = samples[0][1] - age
        while len(samples) > 1 and samples[-1][1] < cutoff:
            samples.pop()

    def init(self, names):
        """Create statistics at 0 (as Kea does at start-up) unless present."""
        for name in names:
            if name not in self._samples:
                self.set(name, 0)

    # --- reads --------------------------------------------------------------
    def value(self, name, default=0):
        samples = self._samples.get(name)
        return samples[0][0] if samples else default

    def __contains__(self, name):
        return name in self._samples

    def names(self):
        return sorted(self._samples)

    def get(self, name):
        """``{name: [[value, time], ...]}``, or ``{}`` for an unknown name (as Kea)."""
        samples = self._samples.get(name)
        if samples is None:
            return {}
        return {name: [[v, format_timestamp(t)] for v, t in samples]}

    def get_all(self):
        out = {}
        for name in sorted(self._samples):
            out.update(self.get(name))
        return out

    # --- commands -----------------------------------------------------------
    def reset(self, name):
        """Set back to the neutral value; False if there is no such statistic."""
        samples = self._samples.get(name)
        if samples is None:
            return False
        neutral = 0.0 if isinstance(samples[0][0], float) else 0
        samples.clear()
        samples.appendleft((neutral, self._clock()))
        return True

    def remove(self, name):
        return self._samples.pop(name, None) is not None

    def reset_all(self):
        for name in list(self._samples):
            self.reset(name)

    def remove_all(self):
        self._samples.clear()

    def set_max_samples(self, name, count):
        samples = self._samples.get(name)
        if samples is None:
            return False
        self._samples[name] = deque(samples, maxlen=count)
        return True

    def set_max_samples_all(self, count):
        self.max_samples = count
        self._ages.clear()
        for name in list(self._samples):
            self.set_max_samples(name, count)

    def set_max_age(self, name, seconds):
        """Keep samples younger than ``seconds`` (the count limit no longer applies)."""
        samples = self._samples.get(name)
        if samples is None:
            return False
        self._ages[name] = seconds
        self._samples[name] = deque(samples, maxlen=None)
        self._prune(name, self._samples[name])
        return True

    def set_max_age_all(self, seconds):
        self._ages = {"*": seconds}
        for name in list(self._samples):
            self._samples[name] = deque(self._samples[name], maxlen=None)
            self._prune(name, self._samples[name])

    def remove_matching(self, prefix):
        """Drop every statistic whose name starts with ``prefix`` (a removed subnet)."""
        for name in [n for n in self._samples if n.startswith(prefix)]:
            del self._samples[name]
