"""The authorization server's store (oauth.store.OAuthStore) over a driver of either
database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from expensicat.db.oauth import oauth_queries_for
from expensicat.oauth.records import Authorization, Client, Code, RefreshToken, SigningKey
from expensicat.oauth.store import Successor

if TYPE_CHECKING:
    from expensicat.db.store import Driver

Row = Sequence[Any]


class SqlOAuthStore:
    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._queries = oauth_queries_for(driver.dialect)

    async def insert_client(self, client: Client) -> None:
        values = {
            "id": client.id,
            "name": client.name,
            "secret_hash": client.secret_hash,
            "redirect_uris": orjson.dumps(list(client.redirect_uris)).decode(),
            "organization_id": client.organization_id,
            "created_at": client.created_at,
        }
        await self._driver.write(self._queries.insert_client, values)

    async def client(self, client_id: str) -> Client | None:
        rows = await self._driver.read(self._queries.client, {"id": client_id})
        return _client(rows[0]) if rows else None

    async def clients(self) -> list[Client]:
        return [_client(row) for row in await self._driver.read(self._queries.clients, {})]

    async def delete_client(self, client_id: str) -> bool:
        return bool(await self._driver.write(self._queries.delete_client, {"id": client_id}))

    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool:
        values = {"id": client_id, "secret_hash": secret_hash}
        return bool(await self._driver.write(self._queries.set_client_secret, values))

    async def insert_code(self, code: Code) -> None:
        values = {
            "code_hash": code.code_hash,
            **_authorization_values(code.authorization),
            "redirect_uri": code.redirect_uri,
            "code_challenge": code.code_challenge,
            "expires_at": code.expires_at,
            "used_at": None,
        }
        await self._driver.write(self._queries.insert_code, values)

    async def use_code(self, code_hash: str, grant_id: str, now: str) -> Code | None:
        values = {"code_hash": code_hash, "grant_id": grant_id, "now": now}
        rows = await self._driver.write(self._queries.use_code, values)
        if not rows:
            return None
        code_hash, client_id, organization_id, subject, scope, redirect_uri, challenge, expires = (
            rows[0]
        )
        authorization = Authorization(client_id, organization_id, subject, scope)
        return Code(code_hash, authorization, redirect_uri, challenge, expires)

    async def revoke_grants_of_code(self, code_hash: str, now: str) -> None:
        values = {"code_hash": code_hash, "now": now}
        await self._driver.write(self._queries.revoke_grants_of_code, values)

    async def insert_refresh_token(self, token: RefreshToken) -> None:
        values = {
            "token_hash": token.token_hash,
            "grant_id": token.grant_id,
            **_authorization_values(token.authorization),
            "expires_at": token.expires_at,
            "used_at": None,
        }
        await self._driver.write(self._queries.insert_refresh_token, values)

    async def rotate_refresh_token(
        self, old_hash: str, client_id: str, new: Successor, now: str
    ) -> Authorization | None:
        values = {
            "old_hash": old_hash,
            "client_id": client_id,
            "now": now,
            "new_hash": new.token_hash,
            "new_expires_at": new.expires_at,
        }
        rows = await self._driver.write(self._queries.rotate, values)
        if not rows:
            return None
        _, *authorization = rows[0]
        return Authorization(*authorization)

    async def refresh_token(self, token_hash: str) -> RefreshToken | None:
        rows = await self._driver.read(self._queries.refresh_token, {"token_hash": token_hash})
        if not rows:
            return None
        token_hash, grant_id, client_id, organization_id, subject, scope, expires, used, revoked = (
            rows[0]
        )
        authorization = Authorization(client_id, organization_id, subject, scope)
        return RefreshToken(token_hash, grant_id, authorization, expires, used, bool(revoked))

    async def revoke_grant(self, grant_id: str, now: str) -> None:
        await self._driver.write(self._queries.revoke_grant, {"id": grant_id, "now": now})

    async def revoke_grants_of_subject(self, subject: str, now: str) -> None:
        values = {"subject": subject, "now": now}
        await self._driver.write(self._queries.revoke_grants_of_subject, values)

    async def purge(self, before: str) -> None:
        """Forget codes and refresh tokens that expired before `before`, and grants made
        before it that no refresh token is left of."""
        for plan_ in (
            self._queries.purge_codes,
            self._queries.purge_refresh_tokens,
            self._queries.purge_grants,
        ):
            await self._driver.write(plan_, {"before": before})

    async def insert_signing_key(self, key: SigningKey) -> None:
        values = {
            "kid": key.kid,
            "private_key": key.sealed_private_key,
            "public_key": key.public_key,
            "created_at": key.created_at,
        }
        await self._driver.write(self._queries.insert_signing_key, values)

    async def signing_keys(self) -> list[SigningKey]:
        rows = await self._driver.read(self._queries.signing_keys, {})
        return [SigningKey(*row) for row in rows]


def _authorization_values(authorization: Authorization) -> dict[str, str]:
    return {
        "client_id": authorization.client_id,
        "organization_id": authorization.organization_id,
        "subject": authorization.subject,
        "scope": authorization.scope,
    }


def _client(row: Row) -> Client:
    client_id, name, redirect_uris, organization_id, created_at, secret_hash = row
    return Client(
        client_id,
        name,
        tuple(orjson.loads(redirect_uris)),
        organization_id,
        created_at,
        secret_hash,
    )
