"""Background work: one process per host runs it, it forgets expired idempotency keys, and
`expensicat worker` runs it alone until told to stop."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from expensicat.background.jobs import Job, run_jobs
from expensicat.background.lease import HostLease
from expensicat.background.worker import LEASE_FILE_NAME, jobs, run_worker
from expensicat.config import Settings
from expensicat.db import open_store
from expensicat.db.migrate import upgrade
from tests.conftest import make_settings
from tests.support.cli import environment, expensicat
from tests.support.tokens import TEST_SECRET


class TestHostLease:
    def test_one_holder_at_a_time_and_free_again_once_released(self, tmp_path: Path) -> None:
        first, second = HostLease(tmp_path / "lock"), HostLease(tmp_path / "lock")

        assert first.try_take()
        assert not second.try_take()
        first.release()
        assert second.try_take()
        second.release()


class TestJobs:
    def test_each_job_runs_on_its_schedule_until_stopped(self) -> None:
        runs: list[str] = []

        async def scenario() -> None:
            stop = asyncio.Event()

            async def record() -> None:
                runs.append("ran")
                if len(runs) == 3:
                    stop.set()

            await asyncio.wait_for(run_jobs([Job("record", 0.01, record)], stop), 5)

        asyncio.run(scenario())
        assert runs == ["ran"] * 3

    def test_a_failing_job_is_tried_again_and_does_not_stop_the_others(self) -> None:
        async def scenario() -> int:
            stop = asyncio.Event()
            calls = 0

            async def broken() -> None:
                nonlocal calls
                calls += 1
                if calls == 3:
                    stop.set()
                raise RuntimeError("a bug")

            await asyncio.wait_for(run_jobs([Job("broken", 0.01, broken)], stop), 5)
            return calls

        assert asyncio.run(scenario()) == 3


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    settings = make_settings(f"sqlite:///{tmp_path / 'expensicat.db'}", tmp_path)
    upgrade(settings.database)
    return settings


class TestHousekeeping:
    def test_forgets_keys_past_their_retention_and_keeps_the_others(
        self, sqlite_settings: Settings
    ) -> None:
        async def scenario() -> tuple[bool, bool]:
            store = await open_store(sqlite_settings.database)
            try:
                old = "2000-01-01T00:00:00.000000Z"
                await store.claim_key("org", "old", "h", old, old, expired_before=old)
                now = "2999-01-01T00:00:00.000000Z"
                await store.claim_key("org", "new", "h", now, now, expired_before=old)
                for job in jobs(store, timedelta(days=30)):
                    await job.run()
                retry_old = await store.claim_key("org", "old", "other", now, now, old)
                retry_new = await store.claim_key("org", "new", "other", now, now, old)
                return retry_old.claimed, retry_new.claimed
            finally:
                await store.close()

        assert asyncio.run(scenario()) == (True, False)

    def test_a_second_process_waits_while_one_holds_the_lease(
        self, sqlite_settings: Settings
    ) -> None:
        held = HostLease(sqlite_settings.data_dir / LEASE_FILE_NAME)
        assert held.try_take()

        async def scenario() -> bool:
            store = await open_store(sqlite_settings.database)
            stop = asyncio.Event()
            worker = asyncio.create_task(
                run_worker(sqlite_settings.data_dir, store, timedelta(days=30), stop)
            )
            await asyncio.sleep(0.2)
            waiting = not worker.done()
            stop.set()
            await asyncio.wait_for(worker, 10)
            await store.close()
            return waiting

        try:
            assert asyncio.run(scenario())
        finally:
            held.release()


@pytest.mark.slow
class TestWorkerCommand:
    def test_runs_until_sigterm_then_exits_cleanly(self, sqlite_settings: Settings) -> None:
        env = environment(
            database_url=sqlite_settings.database.url,
            data_dir=str(sqlite_settings.data_dir),
            session_secret=TEST_SECRET,
        )
        process = subprocess.Popen(
            [expensicat(), "worker"], env=env, stderr=subprocess.PIPE, text=True
        )
        lease = HostLease(sqlite_settings.data_dir / LEASE_FILE_NAME)
        deadline = time.monotonic() + 15
        while lease.try_take():  # free until the worker has started and taken it
            lease.release()
            assert time.monotonic() < deadline, "the worker never took the lease"
            time.sleep(0.05)

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
        assert lease.try_take()
        lease.release()
