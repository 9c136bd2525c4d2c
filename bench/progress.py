"""Progress lines, stamped with the seconds since the benchmark started."""

from __future__ import annotations

import time

STARTED = time.monotonic()


def say(backend: str, message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.0f} s {backend}] {message}", flush=True)
