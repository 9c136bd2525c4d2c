"""The results: one table of every scenario, then the ratios and the memory of each worker."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.wrk import REQUEST_TIMEOUT_SECONDS, Measurement

RSS_LIMIT_MB = 150
# Memory a worker may gain between the soak's first minute and its last.
SOAK_GROWTH_LIMIT_MB = 5
DEPTH_LIMIT = 1.2
# Get by id with a self-issued access token, against a session token: within 5%.
OAUTH_GET_LIMIT = 1.05
SCALE_LIMIT = 2.0
# A common term's search after a bulk import of other names, against before it: at least half
# the rate, that is at most twice the cost.
IMPORT_LIMIT = 2.0
# A term no name holds costs what a sparse one does (within 10%).
ABSENT_LIMIT = 1.1
SEED_LIMIT_SECONDS = 60
# Creates with one subscribed endpoint within 15% of the rate with none: a cost of 1/0.85.
WEBHOOK_CREATE_LIMIT = 1.18
WEBHOOK_RATE_TARGET = 1000


@dataclass(frozen=True, slots=True)
class Target:
    """What a scenario should reach with the default data set: a rate, a p99, and a share of
    the static floor's rate measured in the same run (CPU per request, whatever the machine's
    speed that day)."""

    min_rate: float | None = None
    max_p99_ms: float | None = None
    min_of_floor: float | None = None

    def met(self, measured: Measurement, floor: Measurement) -> bool:
        return (
            not measured.failed
            and measured.timeouts == 0
            and (self.min_rate is None or measured.rate >= self.min_rate)
            and (self.max_p99_ms is None or measured.p99_ms <= self.max_p99_ms)
            and (self.min_of_floor is None or measured.rate >= self.min_of_floor * floor.rate)
        )

    def __str__(self) -> str:
        parts = []
        if self.min_rate is not None:
            parts.append(f">={self.min_rate:,.0f}/s")
        if self.min_of_floor is not None:
            parts.append(f">={self.min_of_floor:.2f}x floor")
        if self.max_p99_ms is not None:
            parts.append(f"p99<={self.max_p99_ms:g}ms")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    measured: Measurement
    floor: Measurement
    target: Target | None = None


@dataclass(slots=True)
class BackendReport:
    backend: str
    customers: int
    seeding_seconds: float
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [row.label for row in self.rows if row.measured.failed]


HEADER = (
    "backend", "scenario", "req/s", "x floor", "p50 ms", "x floor", "p99 ms", "x floor",
    "errors", "timeouts", "CPU ms/req", "target", "met",
)  # fmt: skip


def table(reports: list[BackendReport]) -> str:
    return grid(
        [HEADER] + [_cells(report.backend, row) for report in reports for row in report.rows]
    )


def grid(lines: list[tuple[str, ...]]) -> str:
    """Aligned columns under a rule: the first two (backend, scenario) to the left, the
    figures to the right."""
    widths = [max(len(line[n]) for line in lines) for n in range(len(lines[0]))]
    text = [
        "  ".join(
            cell.ljust(width) if n < 2 else cell.rjust(width)
            for n, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    text.insert(1, "-" * len(text[0]))
    return "\n".join(text)


def _cells(backend: str, row: Row) -> tuple[str, ...]:
    measured, floor = row.measured, row.floor
    met = "" if row.target is None else ("yes" if row.target.met(measured, floor) else "no")
    return (
        backend,
        row.label,
        f"{measured.rate:,.0f}",
        _ratio(measured.rate, floor.rate),
        milliseconds(measured.p50_ms),
        _ratio(measured.p50_ms, floor.p50_ms),
        milliseconds(measured.p99_ms),
        _ratio(measured.p99_ms, floor.p99_ms),
        f"{measured.errors:,}",
        f"{measured.timeouts:,}",
        _cpu(measured),
        "" if row.target is None else str(row.target),
        met,
    )


def milliseconds(value: float) -> str:
    return f"{value:.2f}" if math.isfinite(value) else f">{REQUEST_TIMEOUT_SECONDS * 1000}"


def _cpu(measured: Measurement) -> str:
    """The server's CPU time per request (its processes only, not the database's)."""
    cost = measured.cpu_ms_per_request
    return "" if cost is None else f"{cost:.3f}"


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor and math.isfinite(value / floor) else "-"


def verdict(value: float, limit: float, *compared: Measurement) -> str:
    """Whether `value` is within `limit`; a ratio of failing runs says nothing."""
    if any(measured.failed or measured.timeouts for measured in compared):
        return "NOT met, requests failed or timed out"
    return "met" if value <= limit else "NOT met"


def cost_note(
    what: str, than: str, measured: Measurement, baseline: Measurement, limit: float
) -> str:
    """How many times `baseline`'s cost (time per request at saturation) `measured` costs."""
    cost = baseline.rate / measured.rate if measured.rate else math.inf
    return (
        f"{what} costs {cost:.2f}x {than} (p50 {milliseconds(measured.p50_ms)} vs "
        f"{milliseconds(baseline.p50_ms)} ms; limit {limit}x: "
        f"{verdict(cost, limit, measured, baseline)})"
    )


def combined(samples: list[Measurement]) -> Measurement:
    """One figure for consecutive runs: totals, the median p50 and the worst p99."""
    return Measurement(
        requests=sum(sample.requests for sample in samples),
        seconds=sum(sample.seconds for sample in samples),
        p50_ms=sorted(sample.p50_ms for sample in samples)[len(samples) // 2],
        p99_ms=max(sample.p99_ms for sample in samples),
        errors=sum(sample.errors for sample in samples),
        timeouts=sum(sample.timeouts for sample in samples),
        cpu_seconds=sum(sample.cpu_seconds or 0.0 for sample in samples),
    )


def soak_note(rss_by_minute: list[list[float]]) -> str:
    """Each worker's memory minute by minute, and its growth after the first minute."""
    workers = zip(*rss_by_minute, strict=True)
    series = [" ".join(f"{mb:.0f}" for mb in worker) for worker in workers]
    growth = max(
        last - first for first, last in zip(rss_by_minute[0], rss_by_minute[-1], strict=True)
    )
    return (
        f"soak: worker RSS each minute (MB): {' | '.join(series)}; most grown after the "
        f"first minute: {growth:+.1f} MB (limit {SOAK_GROWTH_LIMIT_MB} MB: "
        f"{verdict(growth, SOAK_GROWTH_LIMIT_MB)})"
    )
