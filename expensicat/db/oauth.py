"""The authorization server's statements: clients, codes, grants, refresh tokens and keys.

A refresh is one unit of work: the old token is marked used only if it is still unused,
unexpired, the client's own and its grant unrevoked, and its successor is inserted from
what that update returned, so that two refreshes racing with one token cannot both win.
"""

from __future__ import annotations

from functools import cache
from typing import Any

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

AUTHORIZATION = ("client_id", "organization_id", "subject", "scope")


def param(column: Column[Any], name: str | None = None) -> BindParameter[Any]:
    return bindparam(name or column.key, type_=column.type)


def _revoke_grants(key: Column[Any]) -> ReturningUpdate[Any]:
    """Revoke the grants, not yet revoked, whose `key` is the parameter named after it."""
    return (
        update(grants)
        .values(revoked_at=param(grants.c.revoked_at, "now"))
        .where(key == param(key), grants.c.revoked_at.is_(None))
        .returning(grants.c.id)
    )


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


def _use_code() -> UnitOfWork:
    """Spend the code, and record the grant it makes in the same unit of work: a second
    presentation of the code, however soon, finds that grant to revoke."""

    def write(when: Condition | None) -> ReturningUpdate[Any]:
        conditions = [codes.c.code_hash == param(codes.c.code_hash), codes.c.used_at.is_(None)]
        if when is not None:
            conditions.append(when)
        return (
            update(codes)
            .values(used_at=param(codes.c.used_at, "now"))
            .where(*conditions)
            .returning(*CODE)
        )

    def grant(written: FromClause) -> Insert:
        row = select(
            param(grants.c.id, "grant_id"),
            *(written.c[name] for name in AUTHORIZATION),
            written.c.code_hash,
            sql_null(),
            param(grants.c.created_at, "now"),
        )
        return insert(grants).from_select([c.key for c in grants.c], row)

    return UnitOfWork(write, joined=(grant,))


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
        self.use_code = plan(_use_code(), dialect)
        self.revoke_grants_of_code = plain(_revoke_grants(grants.c.code_hash))
        self.insert_refresh_token = plain(_insert_all(refresh_tokens))
        self.rotate = plan(_rotate(), dialect)
        self.refresh_token = compile_for(
            select(*REFRESH).where(
                refresh_tokens.c.token_hash == param(refresh_tokens.c.token_hash)
            ),
            dialect,
        )
        self.revoke_grant = plain(_revoke_grants(grants.c.id))
        self.revoke_grants_of_subject = plain(_revoke_grants(grants.c.subject))
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
