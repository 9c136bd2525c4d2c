"""Retention: the purge deletes changes older than EXPENSICAT_CHANGES_RETENTION_DAYS; a
cursor is refused (410 CURSOR_EXPIRED) only when changes after it were purged, never
earlier. Changes are written through the store with old times, as a clock would have."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import orjson
from starlette.testclient import TestClient

from expensicat.auth.session import derive_key
from expensicat.background.worker import jobs
from expensicat.changes.feed import ChangeFeed
from expensicat.changes.records import ChangeStamp
from expensicat.config import Settings
from expensicat.customers.fields import PUBLIC_FIELDS, customer_from
from expensicat.db import open_store
from expensicat.paging import CursorSigner
from expensicat.timestamps import timestamp, utc_now
from tests.support.contract import assert_error
from tests.support.tokens import TEST_SECRET, bearer, session_token

RETENTION = timedelta(days=30)
CHANGES = "/api/v1/customers/changes"


def test_old_changes_are_purged_and_only_cursors_behind_them_expire(
    backend_settings: Settings, client: TestClient
) -> None:
    org = f"org-{uuid.uuid4().hex[:12]}"
    now = utc_now()

    async def scenario() -> tuple[str, str, str, list[str]]:
        store = await open_store(backend_settings.database)
        feed = ChangeFeed(store, CursorSigner(derive_key(TEST_SECRET, "cursor")), RETENTION)
        try:
            for days_ago in (45, 40, 35, 10):
                customer = dict.fromkeys(PUBLIC_FIELDS)
                moment = timestamp(now - timedelta(days=days_ago))
                customer.update(
                    id=str(uuid.uuid4()), organization_id=org, name=f"{days_ago} days ago",
                    created_at=moment, updated_at=moment,
                )  # fmt: skip
                stamp = ChangeStamp.by({"type": "user", "id": "user-1"})
                await store.insert(customer_from(customer), "x", stamp)
            behind = (await feed.read(org, [("limit", "1")])).next_cursor
            last_old = (await feed.read(org, [("limit", "3")])).next_cursor
            head = (await feed.read(org, [("from", "now")])).next_cursor
            for job in jobs(store, RETENTION):
                await job.run()
            changes = (await feed.read(org, [])).changes
            # As the feed sends them: the customer is recorded JSON, spliced in.
            sent = orjson.loads(orjson.dumps(changes))
            kept = [change["customer"]["name"] for change in sent]
            return behind, last_old, head, kept
        finally:
            await store.close()

    behind, last_old, head, kept = asyncio.run(scenario())

    assert kept == ["10 days ago"]
    headers = bearer(session_token(org))
    expired = client.get(CHANGES, params={"cursor": behind}, headers=headers)
    assert_error(expired, 410, "CURSOR_EXPIRED")
    assert "resync" in expired.json()["error"]["message"]
    # Nothing after these was purged: they read on, however old their last change.
    after_old = client.get(CHANGES, params={"cursor": last_old}, headers=headers)
    assert after_old.status_code == 200
    assert [change["customer"]["name"] for change in after_old.json()["data"]] == ["10 days ago"]
    at_head = client.get(CHANGES, params={"cursor": head}, headers=headers)
    assert at_head.status_code == 200
    assert at_head.json()["data"] == []
