"""The background worker: waits for the host's lease, then runs the jobs until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from expensicat.api.idempotency import KEY_RETENTION
from expensicat.background.jobs import Job, run_jobs, stopped_within
from expensicat.background.lease import HostLease
from expensicat.timestamps import timestamp, utc_now
from expensicat.webhooks.dispatch import Dispatcher

LEASE_FILE_NAME = "background.lock"
DELIVERY_LOG_RETENTION = timedelta(days=30)
# Expired codes and refresh tokens are kept a day, then forgotten with their spent grants.
GRANT_RETENTION = timedelta(days=1)
HOUSEKEEPING_SECONDS = 3600
# How often a process without the lease asks for it again.
LEASE_RETRY_SECONDS = 5.0
log = logging.getLogger("expensicat.background")


class Housekeeping(Protocol):
    async def purge_keys(self, created_before: str) -> None: ...

    async def purge_changes(self, occurred_before: str) -> int: ...

    async def purge_delivery_log(self, before: str) -> None: ...

    async def purge_expired_grants(self, before: str) -> None: ...


def jobs(store: Housekeeping, changes_retention: timedelta) -> list[Job]:
    async def forget_expired_keys() -> None:
        await store.purge_keys(timestamp(utc_now() - KEY_RETENTION))

    async def purge_old_changes() -> None:
        purged = await store.purge_changes(timestamp(utc_now() - changes_retention))
        if purged:
            log.info("Purged %d changes older than %s", purged, changes_retention)

    async def purge_old_deliveries() -> None:
        await store.purge_delivery_log(timestamp(utc_now() - DELIVERY_LOG_RETENTION))

    async def purge_expired_grants() -> None:
        await store.purge_expired_grants(timestamp(utc_now() - GRANT_RETENTION))

    return [
        Job("forget expired idempotency keys", HOUSEKEEPING_SECONDS, forget_expired_keys),
        Job("purge expired OAuth2 grants", HOUSEKEEPING_SECONDS, purge_expired_grants),
        Job("purge changes past their retention", HOUSEKEEPING_SECONDS, purge_old_changes),
        Job("purge the webhook delivery log", HOUSEKEEPING_SECONDS, purge_old_deliveries),
    ]


# Something else the lease holder runs (such as a metrics listener): started once the lease
# is taken, it returns how to stop it.
Duty = Callable[[], Callable[[], None]]


async def run_worker(
    data_dir: Path,
    store: Housekeeping,
    changes_retention: timedelta,
    stop: asyncio.Event,
    duties: Sequence[Duty] = (),
    dispatcher: Dispatcher | None = None,
) -> None:
    """Run the jobs, and deliver webhooks with `dispatcher`, while this process holds the
    host's lease, until `stop` is set."""
    lease = HostLease(data_dir / LEASE_FILE_NAME)
    stops: list[Callable[[], None]] = []
    try:
        while not lease.try_take():
            if await stopped_within(stop, LEASE_RETRY_SECONDS):
                return
        log.info("Background work runs in this process")
        stops = [start() for start in duties]
        work = [run_jobs(jobs(store, changes_retention), stop)]
        if dispatcher is not None:
            work.append(dispatcher.run(stop))
        await asyncio.gather(*work)
    finally:
        for stop_duty in stops:
            stop_duty()
        lease.release()


@asynccontextmanager
async def in_process(
    data_dir: Path,
    store: Housekeeping,
    changes_retention: timedelta,
    duties: Sequence[Duty] = (),
    dispatcher: Dispatcher | None = None,
) -> AsyncIterator[None]:
    """Offer to run the background work in this process for as long as the block runs."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(data_dir, store, changes_retention, stop, duties, dispatcher)
    )
    try:
        yield
    finally:
        stop.set()
        await task
