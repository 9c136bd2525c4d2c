"""The authorization server's store (oauth.store.OAuthStore) over a driver of either database.

A refresh is one unit of work: the old token is marked used only if it is still unused,
unexpired, the client's own and its grant unrevoked, and its successor is inserted from
what that update returned, so that two refreshes racing with one token cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Column, Insert, bindparam, delete, exists, insert, select, update
from sqlalchemy import null as sql_null
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.expression import BindParameter, FromClause

from expensicat.db.compiled import compile_for
from expensicat.db.tables import oauth_clients as clients
from expensicat.db.tables import oauth_codes as codes
from expensicat.db.tables import oauth_grants as grants
from expensicat.db.tables import oauth_refresh_tokens as refresh_tokens
from expensicat.db.tables import oauth_signing_keys as keys
from expensicat.db.unit_of_work import Condition, Plan, UnitOfWork, plan
from expensicat.oauth.records import Authorization, Client, Code, RefreshToken, SigningKey

if TYPE_CHECKING:
    from expensicat.db.store import Driver

Row = Sequence[Any]
AUTHORIZATION = ("client_id", "organization_id", "subject", "scope")


def param(column: Column[Any], name: str | None = None) -> BindParameter[Any]:
    return bindparam(name or column.key, type_=column.type)


def _insert_all(table: Any) -> Any:
    return insert(table).values({column.key: param(column) for column in table.c})


def _rotate() -> UnitOfWork:
    def write(when: Condition | None) -> ReturningUpdate[Any]:
        revoked = exists().where(
            grants.c.id == refresh_tokens.c.grant_id, grants.c.revoked_at.is_not(None)
        )
        conditions = [
            refresh_tokens.c.token_hash == param(refresh_tokens.c.token_hash, "old_hash"),
            refresh_tokens.c.client_id == param(refresh_tokens.c.client_id),
            refresh_tokens.c.used_at.is_(None),
            refresh_tokens.c.expires_at > param(refresh_tokens.c.expires_at, "now"),
            ~revoked,
        ]
        if when is not None:
            conditions.append(when)
        return (
            update(refresh_tokens)
            .values(used_at=param(refresh_tokens.c.used_at, "now"))
            .where(*conditions)
            .returning(
                refresh_tokens.c.grant_id, *(refresh_tokens.c[name] for name in AUTHORIZATION)
            )
        )

    def successor(written: FromClause) -> Insert:
        row = select(
            param(refresh_tokens.c.token_hash, "new_hash"),
            written.c.grant_id,
            *(written.c[name] for name in AUTHORIZATION),
            param(refresh_tokens.c.expires_at, "new_expires_at"),
            sql_null(),
        )
        return insert(refresh_tokens).from_select([c.key for c in refresh_tokens.c], row)

    return UnitOfWork(write, joined=(successor,))


CLIENT = (
    clients.c.id,
    clients.c.name,
    clients.c.redirect_uris,
    clients.c.organization_id,
    clients.c.created_at,
    clients.c.secret_hash,
)
CODE = (
    codes.c.code_hash,
    *(codes.c[name] for name in AUTHORIZATION),
    codes.c.redirect_uri,
    codes.c.code_challenge,
    codes.c.expires_at,
)
REFRESH = (
    refresh_tokens.c.token_hash,
    refresh_tokens.c.grant_id,
    *(refresh_tokens.c[name] for name in AUTHORIZATION),
    refresh_tokens.c.expires_at,
    refresh_tokens.c.used_at,
    exists()
    .where(grants.c.id == refresh_tokens.c.grant_id, grants.c.revoked_at.is_not(None))
    .label("revoked"),
)


class OAuthQueries:
    def __init__(self, dialect: Dialect) -> None:
        def plain(statement: Any) -> Plan:
            return Plan(compile_for(statement, dialect))

        self.insert_client = plain(_insert_all(clients))
        self.client = compile_for(
            select(*CLIENT).where(clients.c.id == param(clients.c.id)), dialect
        )
        self.clients = compile_for(select(*CLIENT).order_by(clients.c.created_at), dialect)
        self.delete_client = plain(
            delete(clients).where(clients.c.id == param(clients.c.id)).returning(clients.c.id)
        )
        self.set_client_secret = plain(
            update(clients)
            .values(secret_hash=param(clients.c.secret_hash))
            .where(clients.c.id == param(clients.c.id), clients.c.secret_hash.is_not(None))
            .returning(clients.c.id)
        )
        self.insert_code = plain(_insert_all(codes))
        self.use_code = plain(
            update(codes)
            .values(used_at=param(codes.c.used_at, "now"))
            .where(codes.c.code_hash == param(codes.c.code_hash), codes.c.used_at.is_(None))
            .returning(*CODE)
        )
        self.revoke_grants_of_code = plain(
            update(grants)
            .values(revoked_at=param(grants.c.revoked_at, "now"))
            .where(grants.c.code_hash == param(grants.c.code_hash), grants.c.revoked_at.is_(None))
            .returning(grants.c.id)
        )
        self.insert_grant = plain(_insert_all(grants))
        self.insert_refresh_token = plain(_insert_all(refresh_tokens))
        self.rotate = plan(_rotate(), dialect)
        self.refresh_token = compile_for(
            select(*REFRESH).where(
                refresh_tokens.c.token_hash == param(refresh_tokens.c.token_hash)
            ),
            dialect,
        )
        self.revoke_grant = plain(
            update(grants)
            .values(revoked_at=param(grants.c.revoked_at, "now"))
            .where(grants.c.id == param(grants.c.id), grants.c.revoked_at.is_(None))
            .returning(grants.c.id)
        )
        self.insert_signing_key = plain(_insert_all(keys))
        self.signing_keys = compile_for(
            select(keys.c.kid, keys.c.private_key, keys.c.public_key, keys.c.created_at).order_by(
                keys.c.created_at, keys.c.kid
            ),
            dialect,
        )

        # What can no longer be used, nor tell of a theft: codes and refresh tokens past
        # their expiry, and grants left with neither.
        self.purge_codes = plain(
            delete(codes)
            .where(codes.c.expires_at < param(codes.c.expires_at, "before"))
            .returning(codes.c.code_hash)
        )
        self.purge_refresh_tokens = plain(
            delete(refresh_tokens)
            .where(refresh_tokens.c.expires_at < param(refresh_tokens.c.expires_at, "before"))
            .returning(refresh_tokens.c.token_hash)
        )
        self.purge_grants = plain(
            delete(grants)
            .where(
                grants.c.created_at < param(grants.c.created_at, "before"),
                ~exists().where(refresh_tokens.c.grant_id == grants.c.id),
            )
            .returning(grants.c.id)
        )


oauth_queries_for = cache(OAuthQueries)


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

    async def use_code(self, code_hash: str, now: str) -> Code | None:
        values = {"code_hash": code_hash, "now": now}
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

    async def insert_grant(
        self, grant_id: str, authorization: Authorization, code_hash: str | None, now: str
    ) -> None:
        values = {
            "id": grant_id,
            **_authorization_values(authorization),
            "code_hash": code_hash,
            "revoked_at": None,
            "created_at": now,
        }
        await self._driver.write(self._queries.insert_grant, values)

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
        self, old_hash: str, client_id: str, new: RefreshToken, now: str
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
