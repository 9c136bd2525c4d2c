"""Saturating load with wrk: a Lua script per scenario, one result line out of each run."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.databases import BenchError

SCRIPTS = Path(__file__).parent
RESULT = re.compile(r"^BENCH_RESULT (.*)$", re.MULTILINE)
# A request slower than this counts as an error (a timeout) rather than a latency.
REQUEST_TIMEOUT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Load:
    """How hard and how long to push: seconds, open connections, wrk threads."""

    seconds: int
    connections: int
    threads: int
    warmup_seconds: int


@dataclass(frozen=True, slots=True)
class Measurement:
    """Errors are non-2xx answers and socket errors; timeouts are requests not answered
    within the timeout. Latencies count those as infinitely slow: p99 is inf when more
    than one request in a hundred timed out."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    timeouts: int
    walks: int = 0
    # CPU seconds the server used while measured, when it was probed.
    cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds * 1000 / self.requests

    @property
    def failed(self) -> bool:
        """Some request failed, or none was answered in time."""
        return self.errors > 0 or self.requests <= self.timeouts


def run(
    script: str,
    url: str,
    load: Load,
    env: dict[str, str],
    cpu: Callable[[], float] | None = None,
) -> Measurement:
    """Warm up, then measure; `env` passes the token and inputs to the Lua script. With
    `cpu` (the server's CPU seconds so far), the measured phase's CPU time is kept."""
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    if load.warmup_seconds:
        _wrk(script, url, load.warmup_seconds, load, env)
    if cpu is None:
        return _wrk(script, url, load.seconds, load, env)
    before = cpu()
    measured = _wrk(script, url, load.seconds, load, env)
    return replace(measured, cpu_seconds=cpu() - before)


def _wrk(script: str, url: str, seconds: int, load: Load, env: dict[str, str]) -> Measurement:
    argv = [
        "wrk", f"--threads={load.threads}", f"--connections={load.connections}",
        f"--duration={seconds}s", f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
        f"--script={script}", url,
    ]  # fmt: skip
    # The scripts load base.lua by a relative path.
    result = subprocess.run(
        argv,
        cwd=SCRIPTS,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    found = RESULT.search(result.stdout)
    if result.returncode != 0 or found is None:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return _parse(found.group(1))


def _milliseconds(microseconds: int) -> float:
    """-1 stands for "beyond the request timeout"."""
    return math.inf if microseconds < 0 else microseconds / 1000


def _parse(line: str) -> Measurement:
    values = {key: int(value) for key, value in (pair.split("=") for pair in line.split())}
    errors = sum(values[key] for key in ("connect", "read", "write", "status"))
    return Measurement(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50_ms=_milliseconds(values["p50_us"]),
        p99_ms=_milliseconds(values["p99_us"]),
        errors=errors,
        timeouts=values["timeout"],
        walks=values["walks"],
    )
