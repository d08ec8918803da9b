"""Per-exchange counters and the reports built from them (tables and JSON).

The counters follow perfdhcp's definitions (sent, received, drops = sent - received
at the end, orphans, rejected leases, non-unique addresses, min/avg/max/std delay),
with the additions keactl makes: NAKs and mismatched replies are counted apart from
drops, and requests that timed out after the drop time are counted as ``collected``.
"""
import math
from dataclasses import dataclass

from tabulate import tabulate

# perfdhcp's exchange names, in its report order (v4 then v6 families).
EXCHANGES_V4 = ("DISCOVER-OFFER", "REQUEST-ACK", "REQUEST-ACK (renewal)", "RELEASE")
EXCHANGES_V6 = ("SOLICIT-ADVERTISE", "REQUEST-REPLY", "RENEW-REPLY", "RELEASE-REPLY")
# Counters shown per exchange: (JSON / attribute key, table heading).
COUNTERS = (
    ("sent", "sent"), ("received", "received"), ("drops", "drops"),
    ("drops-ratio", "drops %"), ("collected", "timed out"), ("orphans", "orphans"),
    ("rejected", "rejected"), ("naks", "NAKs"), ("mismatched", "mismatched"),
    ("non-unique", "non-unique"),
)


@dataclass(slots=True)
class ExchangeStats:
    """Counters of one exchange type. ``expects_reply`` is False for DHCPv4
    RELEASE, which has no answer (perfdhcp shows it as 100 % drops)."""

    name: str
    expects_reply: bool = True
    sent: int = 0
    received: int = 0
    collected: int = 0
    orphans: int = 0
    rejected: int = 0
    naks: int = 0
    mismatched: int = 0
    non_unique: int = 0
    delay_min: float = math.inf
    delay_max: float = 0.0
    delay_sum: float = 0.0
    delay_sq: float = 0.0

    def add_delay(self, d):
        self.received += 1
        self.delay_sum += d
        self.delay_sq += d * d
        if d < self.delay_min:
            self.delay_min = d
        if d > self.delay_max:
            self.delay_max = d

    @property
    def drops(self):
        return max(self.sent - self.received, 0) if self.expects_reply else 0

    @property
    def drops_ratio(self):
        return 100.0 * self.drops / self.sent if self.sent else 0.0

    def delays_ms(self):
        """min / avg / max / std (population, like perfdhcp) in ms, or None each."""
        n = self.received
        if not n:
            return {"min": None, "avg": None, "max": None, "std": None}
        avg = self.delay_sum / n
        var = max(self.delay_sq / n - avg * avg, 0.0)
        return {"min": self.delay_min * 1e3, "avg": avg * 1e3, "max": self.delay_max * 1e3,
                "std": math.sqrt(var) * 1e3}

    def as_dict(self):
        return {
            "sent": self.sent, "received": self.received if self.expects_reply else None,
            "drops": self.drops, "drops-ratio": round(self.drops_ratio, 3),
            "collected": self.collected, "orphans": self.orphans, "rejected": self.rejected,
            "naks": self.naks, "mismatched": self.mismatched, "non-unique": self.non_unique,
            "delays": {k: (None if v is None else round(v, 3))
                       for k, v in self.delays_ms().items()},
        }


@dataclass(slots=True)
class RunStats:
    """Everything one run measured."""

    exchanges: list                       # ExchangeStats, in report order
    expected_rate: float | None = None
    duration: float = 0.0                 # seconds from first send to the end
    malformed: int = 0
    exit_reason: str = ""
    # Exchanges completed (answers to the last stage: REQUEST-ACK, or
    # DISCOVER-OFFER with -i, or a Rapid Commit Reply); the rate counts these.
    completed: int = 0
    last_stage: int = 0

    @property
    def rate(self):
        return self.completed / self.duration if self.duration > 0 else 0.0

    def as_dict(self):
        return {
            "rate": round(self.rate, 3),
            "completed": self.completed,
            "expected-rate": self.expected_rate,
            "duration": round(self.duration, 3),
            "malformed": self.malformed,
            "exit-reason": self.exit_reason,
            "exchanges": {ex.name: ex.as_dict() for ex in self.exchanges},
        }

    def report(self, tablefmt="simple"):
        """The human report: a rate line, a counters table and a delays table."""
        label = ("4-way exchanges" if self.last_stage else
                 f"{self.exchanges[0].name} exchanges")
        lines = [f"Rate: {self.rate:.2f} {label}/second"
                 + (f", expected rate: {self.expected_rate:g}" if self.expected_rate else "")
                 + f"  ({self.duration:.2f} s, {self.exit_reason})",
                 f"Malformed packets: {self.malformed}", ""]
        rows = []
        for ex in self.exchanges:
            d = ex.as_dict()
            row = [ex.name]
            for key, _ in COUNTERS:
                value = d[key]
                if key == "drops-ratio":
                    value = f"{value:.3f}"
                row.append("n/a" if value is None else value)
            rows.append(row)
        lines.append(tabulate(rows, headers=["exchange"] + [h for _, h in COUNTERS],
                              tablefmt=tablefmt, disable_numparse=True))
        lines.append("")
        drows = []
        for ex in self.exchanges:
            if not ex.expects_reply:
                continue
            dl = ex.delays_ms()
            drows.append([ex.name] + ["n/a" if dl[k] is None else f"{dl[k]:.3f}"
                                      for k in ("min", "avg", "max", "std")])
        lines.append(tabulate(drows, headers=["delay (ms)", "min", "avg", "max", "std"],
                              tablefmt=tablefmt, disable_numparse=True))
        return "\n".join(lines)

    def interval_line(self):
        """perfdhcp's ``-t`` line: values per exchange joined by '/'."""
        def joined(attr):
            return "/".join(str(getattr(ex, attr)) for ex in self.exchanges)
        return (f"sent: {joined('sent')}; received: {joined('received')}; "
                f"drops: {joined('drops')}; rejected: {joined('rejected')}")
