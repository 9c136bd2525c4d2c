"""The identity store (identity.store.IdentityStore) over a driver of either database."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, bindparam, func, literal_column, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import BindParameter, ColumnElement

from expensicat.db.compiled import compile_for
from expensicat.db.spelling import upsert
from expensicat.db.tables import memberships, users
from expensicat.db.unit_of_work import Plan
from expensicat.identity.store import User

if TYPE_CHECKING:
    from expensicat.db.store import Driver

Row = Sequence[Any]
# Memberships as one text per user, in order, for a sign-in's one read.
_SEPARATOR = "\n"


def param(column: Column[Any], name: str | None = None) -> BindParameter[Any]:
    return bindparam(name or column.key, type_=column.type)


def _user_select(dialect: Dialect) -> Any:
    # A literal: a parameter here would leave PostgreSQL unsure which string_agg is meant.
    separator: ColumnElement[str] = literal_column(f"'{_SEPARATOR}'")
    aggregate = func.group_concat if dialect.name == "sqlite" else func.string_agg
    organizations = select(aggregate(memberships.c.organization_id, separator))
    return select(
        users.c.id,
        users.c.email,
        users.c.password_hash,
        users.c.disabled_at,
        users.c.created_at,
        organizations.where(memberships.c.user_id == users.c.id).scalar_subquery(),
    )


class IdentityQueries:
    def __init__(self, dialect: Dialect) -> None:
        insert = upsert(dialect)
        self.insert_user = _plain(
            insert(users)
            .values({column.key: param(column) for column in users.c})
            .on_conflict_do_nothing(index_elements=[users.c.email])
            .returning(users.c.id),
            dialect,
        )
        self.join = _plain(
            insert(memberships)
            .values({column.key: param(column) for column in memberships.c})
            .on_conflict_do_nothing()
            .returning(memberships.c.user_id),
            dialect,
        )
        self.by_email = compile_for(
            _user_select(dialect).where(users.c.email == param(users.c.email)), dialect
        )
        self.every_user = compile_for(_user_select(dialect).order_by(users.c.email), dialect)
        self.set_password_hash = _plain(
            update(users)
            .values(password_hash=param(users.c.password_hash))
            .where(users.c.id == param(users.c.id))
            .returning(users.c.id),
            dialect,
        )
        self.disable = _plain(
            update(users)
            .values(disabled_at=param(users.c.disabled_at))
            .where(users.c.id == param(users.c.id), users.c.disabled_at.is_(None))
            .returning(users.c.id),
            dialect,
        )


def _plain(statement: Any, dialect: Dialect) -> Plan:
    return Plan(compile_for(statement, dialect))


identity_queries_for = cache(IdentityQueries)


class SqlIdentityStore:
    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._queries = identity_queries_for(driver.dialect)

    async def insert_user(self, user: User) -> bool:
        values = {
            "id": user.id,
            "email": user.email,
            "password_hash": user.password_hash,
            "disabled_at": None,
            "created_at": user.created_at,
        }
        if not await self._driver.write(self._queries.insert_user, values):
            return False
        for organization_id in user.organizations:
            await self.join(user.id, organization_id, user.created_at)
        return True

    async def user_by_email(self, email: str) -> User | None:
        rows = await self._driver.read(self._queries.by_email, {"email": email})
        return _user(rows[0]) if rows else None

    async def users(self) -> list[User]:
        return [_user(row) for row in await self._driver.read(self._queries.every_user, {})]

    async def join(self, user_id: str, organization_id: str, now: str) -> None:
        values = {"user_id": user_id, "organization_id": organization_id, "created_at": now}
        await self._driver.write(self._queries.join, values)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        values = {"id": user_id, "password_hash": password_hash}
        await self._driver.write(self._queries.set_password_hash, values)

    async def disable(self, user_id: str, now: str) -> None:
        await self._driver.write(self._queries.disable, {"id": user_id, "disabled_at": now})


def _user(row: Row) -> User:
    user_id, email, password_hash, disabled_at, created_at, organizations = row
    return User(
        id=user_id,
        email=email,
        password_hash=password_hash,
        disabled_at=disabled_at,
        created_at=created_at,
        organizations=tuple(sorted(organizations.split(_SEPARATOR))) if organizations else (),
    )
