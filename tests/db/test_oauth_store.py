"""What the authorization server's store promises, asked directly on both databases: a
refresh token rotates once however many exchanges race for it, and housekeeping forgets
what expired while keeping what may still be used."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import create_engine, pool, select

from expensicat.config import Settings
from expensicat.db import open_store
from expensicat.db.migrate import sqlalchemy_url
from expensicat.db.tables import oauth_grants
from expensicat.oauth.records import Authorization, Code, RefreshToken
from expensicat.timestamps import timestamp, utc_now

AUTHORIZATION = Authorization("ec_client", "org-a", "user-1", "invoices:read offline_access")


def _token(grant_id: str, expires_in: timedelta) -> RefreshToken:
    return RefreshToken(
        uuid.uuid4().hex, grant_id, AUTHORIZATION, timestamp(utc_now() + expires_in)
    )


def test_racing_exchanges_of_one_refresh_token_rotate_it_once(migrated: Settings) -> None:
    async def scenario() -> list[bool]:
        store = await open_store(migrated.database)
        try:
            grant_id = uuid.uuid4().hex
            now = timestamp(utc_now())
            await store.oauth.insert_grant(grant_id, AUTHORIZATION, None, now)
            old = _token(grant_id, timedelta(days=1))
            await store.oauth.insert_refresh_token(old)
            successors = [_token("", timedelta(days=1)) for _ in range(8)]
            rotated = await asyncio.gather(
                *(
                    store.oauth.rotate_refresh_token(old.token_hash, "ec_client", new, now)
                    for new in successors
                )
            )
            return [found is not None for found in rotated]
        finally:
            await store.close()

    assert sorted(asyncio.run(scenario())) == [False] * 7 + [True]


def test_housekeeping_forgets_what_expired_and_keeps_the_rest(migrated: Settings) -> None:
    spent, live = uuid.uuid4().hex, uuid.uuid4().hex

    async def scenario() -> tuple[bool, bool, bool]:
        store = await open_store(migrated.database)
        try:
            now = utc_now()
            for grant_id in (spent, live):
                await store.oauth.insert_grant(
                    grant_id, AUTHORIZATION, None, timestamp(now - timedelta(days=3))
                )
            expired = _token(spent, timedelta(days=-2))
            current = _token(live, timedelta(days=10))
            for token in (expired, current):
                await store.oauth.insert_refresh_token(token)
            code = Code(uuid.uuid4().hex, AUTHORIZATION, "https://a.example/cb", "c" * 43,
                        timestamp(now - timedelta(days=2)))  # fmt: skip
            await store.oauth.insert_code(code)

            await store.purge_expired_grants(timestamp(now - timedelta(days=1)))

            return (
                await store.oauth.refresh_token(expired.token_hash) is None,
                await store.oauth.refresh_token(current.token_hash) is not None,
                await store.oauth.use_code(code.code_hash, timestamp(now)) is None,
            )
        finally:
            await store.close()

    assert asyncio.run(scenario()) == (True, True, True)
    assert _grants(migrated, spent, live) == {live}


def _grants(settings: Settings, *grant_ids: str) -> set[str]:
    """Which of these grants the database still holds."""
    engine = create_engine(sqlalchemy_url(settings.database.url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            query = select(oauth_grants.c.id).where(oauth_grants.c.id.in_(grant_ids))
            return {row[0] for row in connection.execute(query)}
    finally:
        engine.dispose()
