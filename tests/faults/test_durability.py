"""No write answered with 2xx is ever lost: PostgreSQL is killed (SIGKILL, every process at
once) in the middle of a create load, restarted, and every acknowledged customer is there."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from tests.faults.conftest import TIMEOUT_SECONDS, service_on
from tests.faults.load import CreateLoad, Outcome, assert_acknowledged_are_stored, stored_customers
from tests.support.postgres import PostgresServer
from tests.support.server import ApiServer

pytestmark = pytest.mark.slow

ACKNOWLEDGED_BEFORE = 150
ACKNOWLEDGED_AFTER = 150
OUTAGE_SECONDS = 1.0
PHASE_SECONDS = 30
# Under a full load on a shared machine; what matters here is that no request hangs.
HANG_SECONDS = 5.0


async def crash_under_load(service: ApiServer, server: PostgresServer, org: str) -> list[Outcome]:
    """Create, crash the database mid-load, keep creating through the outage, restart it,
    and go on until the service has acknowledged plenty more."""
    async with CreateLoad(service.url, org) as load:
        await load.until(lambda: len(load.acknowledged()) >= ACKNOWLEDGED_BEFORE, PHASE_SECONDS)
        await asyncio.to_thread(server.kill)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(server.start)
        target = len(load.acknowledged()) + ACKNOWLEDGED_AFTER
        await load.until(lambda: len(load.acknowledged()) >= target, PHASE_SECONDS)
    return load.outcomes


class TestDatabaseCrashUnderLoad:
    def test_every_acknowledged_create_survives_a_crash_and_the_outage_is_503(
        self, crashable: PostgresServer, tmp_path: Path
    ) -> None:
        org = f"org-{uuid.uuid4().hex[:12]}"
        timeout = {"statement_timeout_ms": str(int(TIMEOUT_SECONDS * 1000))}
        with service_on(crashable.url("faults"), tmp_path, timeout) as service:
            outcomes = asyncio.run(crash_under_load(service, crashable, org))
            # The same process served before, during and after: it recovered by itself.
            assert service.running()
            stored = stored_customers(service.url, org)

        errors = [o.error for o in outcomes if o.response is None]
        assert errors == [], errors[:3]
        statuses = {o.status for o in outcomes}
        assert statuses == {201, 503}, statuses
        for outcome in outcomes:
            assert outcome.seconds < HANG_SECONDS, outcome
            if outcome.status == 503:
                assert outcome.response is not None
                assert outcome.response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
                assert "Retry-After" in outcome.response.headers
        assert_acknowledged_are_stored(outcomes, stored)
        # Loss would show as fewer records than acknowledgements, whatever the cause.
        assert len(stored) >= len([o for o in outcomes if o.status == 201])
