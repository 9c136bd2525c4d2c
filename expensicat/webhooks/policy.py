"""How persistently events are delivered: how long a delivery may take, the retry schedule,
when an endpoint that only fails is disabled, and how many deliveries each endpoint may have
in flight."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# Roughly 5 s, 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h, 24 h: about three days in all.
DEFAULT_SCHEDULE = (5, 60, 300, 1800, 7200, 21600, 43200, 86400, 86400)
DEFAULT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    # An endpoint failing without one success for this long is disabled.
    disable_after: timedelta = timedelta(days=5)
    concurrency: int = 10
    # A delivery not answered within this many seconds failed.
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def lease(self) -> timedelta:
        """How long a worker holds a delivery it sends: longer than a delivery can take, so
        a live worker never loses it; a worker that dies frees its deliveries after it."""
        return timedelta(seconds=self.timeout * 3)

    def retry_at(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed ones; None once the schedule is spent.
        Jittered by a fifth either way, so that retries of many events spread out."""
        if attempts > len(self.schedule):
            return None
        delay = self.schedule[attempts - 1] * random.uniform(0.8, 1.2)
        return now + timedelta(seconds=delay)
