"""What the authorization server's store promises, asked directly on both databases: a
refresh token rotates once however many exchanges race for it, a code presented again
revokes its grant however soon, and housekeeping forgets what expired while keeping what
may still be used."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import create_engine, pool, select

from expensicat.config import Settings
from expensicat.db import open_store
from expensicat.db.migrate import sqlalchemy_url
from expensicat.db.store import Store
from expensicat.db.tables import oauth_grants
from expensicat.oauth.records import Authorization, Code, RefreshToken
from expensicat.oauth.store import Successor
from expensicat.timestamps import timestamp, utc_now

AUTHORIZATION = Authorization("ec_client", "org-a", "user-1", "invoices:read offline_access")


def _token(grant_id: str, expires_in: timedelta) -> RefreshToken:
    return RefreshToken(
        uuid.uuid4().hex, grant_id, AUTHORIZATION, timestamp(utc_now() + expires_in)
    )


def _code(expires_in: timedelta) -> Code:
    expires_at = timestamp(utc_now() + expires_in)
    return Code(uuid.uuid4().hex, AUTHORIZATION, "https://a.example/cb", "c" * 43, expires_at)


async def _granted(store: Store, made: datetime) -> str:
    """A grant, made as a code's first use makes it."""
    code, grant_id = _code(timedelta(minutes=1)), uuid.uuid4().hex
    await store.oauth.insert_code(code)
    assert await store.oauth.use_code(code.code_hash, grant_id, timestamp(made)) is not None
    return grant_id


def test_racing_exchanges_of_one_refresh_token_rotate_it_once(migrated: Settings) -> None:
    async def scenario() -> list[bool]:
        store = await open_store(migrated.database)
        try:
            grant_id = await _granted(store, utc_now())
            now = timestamp(utc_now())
            old = _token(grant_id, timedelta(days=1))
            await store.oauth.insert_refresh_token(old)
            expires = timestamp(utc_now() + timedelta(days=1))
            successors = [Successor(uuid.uuid4().hex, expires) for _ in range(8)]
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
    grant_ids: list[str] = []

    async def scenario() -> tuple[bool, bool, bool]:
        store = await open_store(migrated.database)
        try:
            now = utc_now()
            for _ in range(2):
                grant_ids.append(await _granted(store, now - timedelta(days=3)))
            spent, live = grant_ids
            expired = _token(spent, timedelta(days=-2))
            current = _token(live, timedelta(days=10))
            for token in (expired, current):
                await store.oauth.insert_refresh_token(token)
            code = _code(timedelta(days=-2))
            await store.oauth.insert_code(code)

            await store.purge_expired_grants(timestamp(now - timedelta(days=1)))

            return (
                await store.oauth.refresh_token(expired.token_hash) is None,
                await store.oauth.refresh_token(current.token_hash) is not None,
                await store.oauth.use_code(code.code_hash, "g", timestamp(now)) is None,
            )
        finally:
            await store.close()

    assert asyncio.run(scenario()) == (True, True, True)
    spent, live = grant_ids
    assert _grants(migrated, spent, live) == {live}


def test_a_code_presented_again_revokes_the_grant_its_first_use_made(
    migrated: Settings,
) -> None:
    async def scenario() -> tuple[bool, bool]:
        store = await open_store(migrated.database)
        try:
            now = timestamp(utc_now())
            code, grant_id = _code(timedelta(minutes=1)), uuid.uuid4().hex
            await store.oauth.insert_code(code)
            assert await store.oauth.use_code(code.code_hash, grant_id, now) is not None
            # Presented again before the first use has even issued its refresh token.
            again = await store.oauth.use_code(code.code_hash, uuid.uuid4().hex, now)
            await store.oauth.revoke_grants_of_code(code.code_hash, now)
            token = _token(grant_id, timedelta(days=1))
            await store.oauth.insert_refresh_token(token)
            successor = Successor(uuid.uuid4().hex, timestamp(utc_now() + timedelta(days=1)))
            rotated = await store.oauth.rotate_refresh_token(
                token.token_hash, "ec_client", successor, now
            )
            return again is None, rotated is None
        finally:
            await store.close()

    assert asyncio.run(scenario()) == (True, True)


def _grants(settings: Settings, *grant_ids: str) -> set[str]:
    """Which of these grants the database still holds."""
    engine = create_engine(sqlalchemy_url(settings.database.url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            query = select(oauth_grants.c.id).where(oauth_grants.c.id.in_(grant_ids))
            return {row[0] for row in connection.execute(query)}
    finally:
        engine.dispose()
