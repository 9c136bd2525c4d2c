"""The comparison: per backend and scenario, the old and new commit's medians over the
rounds, each round's figures, and whether the new one is within noise of the old."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.report import grid, milliseconds
from bench.wrk import Measurement

# Differences smaller than this are noise on a shared machine, not a slowdown.
NOISE = 0.03
ROLES = ("old", "new")


@dataclass(slots=True)
class Comparison:
    """One scenario on one backend: each commit's measurements, one per round."""

    backend: str
    label: str
    rounds: dict[str, list[Measurement]] = field(default_factory=lambda: {r: [] for r in ROLES})

    @property
    def failed(self) -> bool:
        return any(m.failed for measured in self.rounds.values() for m in measured)

    def rates(self, role: str) -> list[float]:
        return [m.rate for m in self.rounds[role]]

    def p99s(self, role: str) -> list[float]:
        return [m.p99_ms for m in self.rounds[role]]

    @property
    def rate_ratio(self) -> float:
        """New over old, of the median req/s: below 1 is slower."""
        return _ratio(statistics.median(self.rates("new")), statistics.median(self.rates("old")))

    @property
    def p99_ratio(self) -> float:
        """New over old, of the median p99: above 1 is slower."""
        return _ratio(statistics.median(self.p99s("new")), statistics.median(self.p99s("old")))

    @property
    def rate_within(self) -> bool:
        return not self.failed and self.rate_ratio >= 1 - NOISE

    @property
    def p99_within(self) -> bool:
        return not self.failed and self.p99_ratio <= 1 + NOISE


HEADER = (
    "backend", "scenario", "old req/s", "new req/s", "new/old", "within 3%",
    "old p99 ms", "new p99 ms", "new/old", "within 3%",
)  # fmt: skip


def table(comparisons: list[Comparison]) -> str:
    return grid([HEADER] + [_cells(comparison) for comparison in comparisons])


def summary(comparisons: list[Comparison]) -> list[str]:
    """One line for throughput and one for p99: within noise, or where it is not."""
    slower = [
        f"{c.backend} {c.label} ({_times(c.rate_ratio)})" for c in comparisons if not c.rate_within
    ]
    higher = [
        f"{c.backend} {c.label} ({_times(c.p99_ratio)})" for c in comparisons if not c.p99_within
    ]
    return [
        "req/s: " + (f"NOT within 3% in {'; '.join(slower)}" if slower else "within 3% in all"),
        "p99:   " + (f"NOT within 3% in {'; '.join(higher)}" if higher else "within 3% in all"),
    ]


def _cells(comparison: Comparison) -> tuple[str, ...]:
    rates = {role: _figures(comparison.rates(role), lambda v: f"{v:,.0f}") for role in ROLES}
    p99s = {role: _figures(comparison.p99s(role), milliseconds) for role in ROLES}
    return (
        comparison.backend,
        comparison.label,
        rates["old"],
        rates["new"],
        _times(comparison.rate_ratio),
        _verdict(comparison, comparison.rate_within),
        p99s["old"],
        p99s["new"],
        _times(comparison.p99_ratio),
        _verdict(comparison, comparison.p99_within),
    )


def _figures(values: list[float], show: Callable[[float], str]) -> str:
    """The median, then each round's figure in brackets (when there is more than one)."""
    median = show(statistics.median(values))
    return median if len(values) == 1 else f"{median} ({' '.join(show(v) for v in values)})"


def _verdict(comparison: Comparison, within: bool) -> str:
    if comparison.failed:
        return "failed"
    return "yes" if within else "NO"


def _ratio(new: float, old: float) -> float:
    """inf over a figure is inf, a figure over inf is 0, inf over inf says nothing (nan)."""
    return new / old if old else math.nan


def _times(ratio: float) -> str:
    return f"{ratio:.3f}x" if math.isfinite(ratio) else "-"
