"""The delivery worker: queues each endpoint's new events, leases the due ones, sends them
with at most `concurrency` in flight per endpoint, and records every attempt.

Nothing is lost to a crash: a delivery is queued in the transaction that moves its
endpoint's place in the feed, and stays pending until an attempt is recorded; a lease that
dies with its worker runs out, and the delivery is sent again (at least once: a receiver
tells repeats apart by webhook-id). A slow endpoint holds only its own slots.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import uuid_utils

from expensicat.background.jobs import stopped_within
from expensicat.sealing import Sealer
from expensicat.timestamps import timestamp, utc_now
from expensicat.webhooks.delivery import Outcome, Sender
from expensicat.webhooks.messages import event_body, signing_secrets
from expensicat.webhooks.policy import DeliveryPolicy
from expensicat.webhooks.records import DELIVERED, FAILED, PENDING, Attempt
from expensicat.webhooks.signing import signed_headers
from expensicat.webhooks.store import Claimed, Destination, Finished, Finishing, WebhookStore

log = logging.getLogger("expensicat.webhooks")
QUEUE_BATCH = 500
IDLE_SECONDS = 0.05
DISABLE_CHECK_SECONDS = 30.0


class Dispatcher:
    def __init__(
        self,
        store: WebhookStore,
        sender: Sender,
        sealer: Sealer,
        policy: DeliveryPolicy,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._sender = sender
        self._sealer = sealer
        self._policy = policy
        self._clock = clock
        self._in_flight: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        # Set when a delivery ends, so that its slot is filled at once rather than at the
        # next poll.
        self._slot_freed = asyncio.Event()
        # Outcomes waiting to be written, and whether a write is under way.
        self._unrecorded: list[tuple[Finishing, asyncio.Future[None]]] = []
        self._recording = False
        # The endpoints as of the last time new events were queued for them.
        self._destinations: list[Destination] = []
        self._queued_at = float("-inf")
        # What this worker last recorded of each endpoint's health, to write only changes.
        self._failing: dict[str, bool] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then let the deliveries in flight finish."""
        checked = 0.0
        every = min(DISABLE_CHECK_SECONDS, self._policy.disable_after.total_seconds() / 4)
        while not stop.is_set():
            try:
                busy = await self.tick()
                if time.monotonic() - checked > every:
                    await self._disable_failing()
                    checked = time.monotonic()
            except Exception:
                log.exception("Webhook delivery failed to run; trying again shortly")
                busy = False
                await stopped_within(stop, 1.0)
            if not busy:
                await self._idle(stop)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self._policy.timeout + 1)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait for a freed slot, for `stop`, or for the next poll, whichever comes first."""
        self._slot_freed.clear()
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self._slot_freed.wait())]
        try:
            await asyncio.wait(waits, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def tick(self) -> bool:
        """Queue what is new (every IDLE_SECONDS at most), and start what is due; whether
        there was anything. A freed slot is filled by a claim alone, without queuing."""
        busy = False
        now = self._clock()
        if time.monotonic() - self._queued_at >= IDLE_SECONDS:
            self._queued_at = time.monotonic()
            self._destinations = await self._store.destinations()
            for destination in self._destinations:
                queued = await self._store.queue(destination, QUEUE_BATCH, timestamp(now))
                busy |= bool(queued)
        for destination in self._destinations:
            free = self._policy.concurrency - self._in_flight[destination.id]
            if free <= 0:
                continue
            lease_until = timestamp(now + self._policy.lease)
            claimed = await self._store.claim(destination, free, timestamp(now), lease_until)
            for delivery in claimed:  # in the order the changes were made
                self._start(destination, delivery, lease_until)
            busy |= bool(claimed)
        return busy

    def _start(self, destination: Destination, delivery: Claimed, lease_until: str) -> None:
        self._in_flight[destination.id] += 1
        task = asyncio.create_task(self._deliver(destination, delivery, lease_until))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, destination: Destination, delivery: Claimed, lease_until: str) -> None:
        slot_held = True
        try:
            outcome = await self._send(destination, delivery)
            if outcome.delivered:
                # The receiver is done with it: the next event can go while this one is
                # recorded. Until then the delivery stays leased, and a crash sends it again.
                self._free_slot(destination)
                slot_held = False
            finished = self._finished(delivery, outcome)
            await self._record(Finishing(destination, delivery, lease_until, finished))
            await self._note_health(destination, outcome.delivered)
            if not outcome.delivered:
                log.info(
                    "Webhook %s to endpoint %s: %s",
                    delivery.change_id,
                    destination.id,
                    outcome.error,
                )
        except Exception:
            log.exception("Webhook %s to endpoint %s failed", delivery.change_id, destination.id)
        finally:
            if slot_held:
                self._free_slot(destination)

    async def _record(self, finishing: Finishing) -> None:
        """Record an outcome, together with those that finish while a write is under way:
        the first to find no write running writes batches until none is left waiting."""
        recorded = asyncio.get_running_loop().create_future()
        self._unrecorded.append((finishing, recorded))
        if not self._recording:
            self._recording = True
            try:
                while self._unrecorded:
                    batch, self._unrecorded = self._unrecorded, []
                    await self._write(batch)
            finally:
                self._recording = False
        await recorded

    async def _write(self, batch: list[tuple[Finishing, asyncio.Future[None]]]) -> None:
        try:
            await self._store.finish([finishing for finishing, _ in batch])
        except Exception as error:
            for _, recorded in batch:
                recorded.set_exception(error)
        else:
            for _, recorded in batch:
                recorded.set_result(None)

    def _free_slot(self, destination: Destination) -> None:
        """Give the endpoint's slot back, and wake the loop to fill it."""
        self._in_flight[destination.id] -= 1
        self._slot_freed.set()

    async def _send(self, destination: Destination, delivery: Claimed) -> Outcome:
        event = delivery.event
        if event is None:
            return Outcome(None, "the change is past its retention", 0)
        body = event_body(event)
        now = self._clock()
        secrets = signing_secrets(self._sealer, destination, now)
        headers = signed_headers(delivery.change_id, now, body, secrets)
        return await self._sender.send(destination.url, headers, body)

    def _finished(self, delivery: Claimed, outcome: Outcome) -> Finished:
        now = self._clock()
        attempts = delivery.attempts + 1
        retry_at = None if outcome.delivered else self._policy.retry_at(attempts, now)
        status = DELIVERED if outcome.delivered else PENDING if retry_at else FAILED
        attempt: Attempt = {
            "id": str(uuid_utils.uuid7()),
            "event_id": delivery.change_id,
            "type": delivery.type,
            "attempted_at": timestamp(now),
            "status_code": outcome.status_code,
            "duration_ms": outcome.duration_ms,
            "error": outcome.error,
            "next_attempt_at": None if retry_at is None else timestamp(retry_at),
        }
        next_at = timestamp(retry_at or now)
        return Finished(status=status, attempts=attempts, next_attempt_at=next_at, attempt=attempt)

    async def _note_health(self, destination: Destination, delivered: bool) -> None:
        failing = not delivered
        if self._failing.get(destination.id) == failing:
            return
        await self._store.set_failing(destination, failing, timestamp(self._clock()))
        self._failing[destination.id] = failing

    async def _disable_failing(self) -> None:
        now = self._clock()
        since = now - self._policy.disable_after
        reason = f"Every delivery failed for {self._policy.disable_after} without one success."
        disabled = await self._store.disable_failing(timestamp(since), reason, timestamp(now))
        if disabled:
            log.warning("Disabled %d webhook endpoints: %s", disabled, reason)
            self._failing.clear()
