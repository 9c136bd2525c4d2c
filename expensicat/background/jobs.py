"""Periodic jobs, each on its own schedule, until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from expensicat.db.errors import DatabaseUnavailable

log = logging.getLogger("expensicat.background")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[None]]


async def run_jobs(jobs: Sequence[Job], stop: asyncio.Event) -> None:
    """Run each job every so often until `stop` is set; a job that fails waits its turn."""
    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(_repeat(job, stop))


async def _repeat(job: Job, stop: asyncio.Event) -> None:
    while not await stopped_within(stop, job.every_seconds):
        try:
            await job.run()
        except DatabaseUnavailable:
            log.warning("%s skipped: database unavailable", job.name)
        except Exception:
            # A failing job must not stop the others; it is tried again on its schedule.
            log.exception("%s failed", job.name)


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `stop`; whether it was set."""
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True
