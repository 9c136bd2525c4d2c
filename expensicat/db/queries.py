"""The store's statements, each defined once with SQLAlchemy Core and compiled per database.

Parameters are named after what they carry (mostly the column they are compared with or
written to); the store passes values by those names, and each compiled statement puts them
in its own order.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    Column,
    bindparam,
    delete,
    exists,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy import null as sql_null
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import (
    Delete,
    ReturningDelete,
    ReturningInsert,
    ReturningUpdate,
    Update,
    UpdateBase,
)
from sqlalchemy.sql.expression import FromClause

from expensicat.changes.records import ARCHIVED, CREATED, ERASED, RESTORED, UPDATED
from expensicat.customers.fields import PUBLIC_FIELDS, WRITABLE_FIELDS
from expensicat.db.changes import (
    FEED_PAGE,
    LAST_TO_PURGE,
    PURGE,
    PURGED_THROUGH,
    forget_customer,
    mark_purged,
    record_change,
)
from expensicat.db.compiled import compile_for
from expensicat.db.spelling import JustAfter, upsert
from expensicat.db.tables import customers
from expensicat.db.tables import idempotency_keys as keys
from expensicat.db.unit_of_work import Condition, Plan, UnitOfWork, insert_row, plan

AnyWrite = TypeVar("AnyWrite", Update, Delete)
# A customer as the API shows it, field by field in order, then its version.
CUSTOMER = tuple(customers.c[field] for field in PUBLIC_FIELDS)
STORED = (*CUSTOMER, customers.c.version)
INSERTED = (*PUBLIC_FIELDS, "name_search")
# What an update may change, in the order its SET list names them: one text per set of
# fields, whatever order a request gave them in.
UPDATABLE = {name: n for n, name in enumerate((*WRITABLE_FIELDS, "name_search"))}


def param(column: Column[Any], name: str | None = None) -> BindParameter[Any]:
    """A parameter of the column's type, named after the column unless told otherwise."""
    return bindparam(name or column.key, type_=column.type)


def _is_own(*columns: Column[Any]) -> list[Condition]:
    """Each column equal to the parameter named after it."""
    return [column == param(column) for column in columns]


_CUSTOMER_KEY = _is_own(customers.c.organization_id, customers.c.id)
_KEY = _is_own(keys.c.organization_id, keys.c.key)

FETCH = select(*STORED).where(*_CUSTOMER_KEY)
FIND_KEY = select(keys.c.request_hash, keys.c.response).where(*_KEY)
# Only a claim in flight is given up: a completed create keeps its key for retries.
RELEASE_KEY = delete(keys).where(*_KEY, keys.c.response.is_(None))
PURGE_KEYS = delete(keys).where(keys.c.created_at < param(keys.c.created_at, "created_before"))
# Records the created customer on its key while this request still holds it: the lease it
# claimed is still the key's, and no response was recorded meanwhile.
HOLD_KEY = (
    sql_update(keys)
    .values(response=param(keys.c.response))
    .where(
        *_KEY,
        keys.c.locked_until == param(keys.c.locked_until, "lease_until"),
        keys.c.response.is_(None),
    )
)


def insert_customer(when: Condition | None) -> ReturningInsert[Any]:
    return insert_row(customers, INSERTED, when).returning(customers.c.id, customers.c.version)


def create_customer(guard: Update | None) -> UnitOfWork:
    """Insert a customer and record its creation, with the customer as the caller gives it
    in JSON; with a guard, only while it holds."""
    return UnitOfWork(insert_customer, guard=guard, joined=(record_change(CREATED, "given"),))


def claim_key(dialect: Dialect) -> ReturningInsert[Any]:
    """Take a key that is new, held past its lease by a request presumed dead, or past its
    retention; returns a row only when taken."""
    claim = upsert(dialect)(keys).values(
        organization_id=param(keys.c.organization_id),
        key=param(keys.c.key),
        request_hash=param(keys.c.request_hash),
        created_at=param(keys.c.created_at, "now"),
        locked_until=param(keys.c.locked_until, "lease_until"),
    )
    new = claim.excluded
    abandoned = keys.c.response.is_(None) & (keys.c.locked_until < new.created_at)
    expired = keys.c.created_at < param(keys.c.created_at, "expired_before")
    return claim.on_conflict_do_update(
        index_elements=[keys.c.organization_id, keys.c.key],
        set_={
            "request_hash": new.request_hash,
            "response": sql_null(),
            "created_at": new.created_at,
            "locked_until": new.locked_until,
        },
        where=or_(abandoned, expired),
    ).returning(true())


def update_customer(fields: tuple[str, ...], conditional: bool) -> UnitOfWork:
    """Set `fields` from parameters named after them, bump the version, and move updated_at
    to `now` or just past its previous value; with `conditional`, only at `expected_version`."""

    def write(when: Condition | None) -> ReturningUpdate[Any]:
        changes = {name: param(customers.c[name]) for name in fields}
        return _only(_change(changes), conditional, when).returning(*STORED)

    return UnitOfWork(write, joined=(record_change(UPDATED),))


def _change(values: dict[str, Any]) -> Update:
    """A change to the customer the parameters name: `values`, the version moved on, and
    updated_at moved to `now` or just past its previous value."""
    return (
        sql_update(customers)
        .values(values)
        .values(
            version=customers.c.version + literal_column("1"),
            updated_at=JustAfter(customers.c.updated_at, param(customers.c.updated_at, "now")),
        )
        .where(*_CUSTOMER_KEY)
    )


def _only(statement: AnyWrite, conditional: bool, when: Condition | None) -> AnyWrite:
    """The write, at `expected_version` when `conditional`, and under `when` if given."""
    if conditional:
        statement = statement.where(customers.c.version == bindparam("expected_version"))
    if when is not None:
        statement = statement.where(when)
    return statement


def set_archived(archiving: bool, conditional: bool) -> UnitOfWork:
    """Archive (archived_at = `now`) or restore (archived_at = NULL) a customer that is not
    so already, as a change: the version moves on and so does updated_at."""

    archived_at = customers.c.archived_at
    new_value = param(archived_at, "now") if archiving else sql_null()
    state = archived_at.is_(None) if archiving else archived_at.is_not(None)

    def write(when: Condition | None) -> ReturningUpdate[Any]:
        change = _change({"archived_at": new_value}).where(state)
        return _only(change, conditional, when).returning(*STORED)

    return UnitOfWork(write, joined=(record_change(ARCHIVED if archiving else RESTORED),))


def erase_customer(conditional: bool) -> UnitOfWork:
    """Delete a customer, and in the same unit replace every recorded idempotent answer that
    names it and clear it from every change recorded of it: neither its values nor a hash
    of the request that carried them stay. The erasure is recorded as a change, by id."""

    def write(when: Condition | None) -> ReturningDelete[Any]:
        erase = delete(customers).where(*_CUSTOMER_KEY)
        return _only(erase, conditional, when).returning(customers.c.id)

    def scrub_keys(written: FromClause) -> UpdateBase:
        return (
            sql_update(keys)
            .values(response=bindparam("erased_response"), request_hash="")
            .where(
                keys.c.organization_id == param(keys.c.organization_id),
                keys.c.response.contains(bindparam("customer_id")),
                exists(select(literal_column("1")).select_from(written)),
            )
        )

    erased = record_change(ERASED, customer="none")
    return UnitOfWork(write, joined=(scrub_keys, forget_customer, erased))


class Queries:
    """Every statement of the store, compiled for one database."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.fetch = compile_for(FETCH, dialect)
        self.find_key = compile_for(FIND_KEY, dialect)
        self.insert = plan(create_customer(None), dialect)
        self.insert_holding_key = plan(create_customer(HOLD_KEY), dialect)
        self.claim_key = Plan(compile_for(claim_key(dialect), dialect))
        self.release_key = Plan(compile_for(RELEASE_KEY, dialect))
        self.purge_keys = Plan(compile_for(PURGE_KEYS, dialect))
        self.feed_page = compile_for(FEED_PAGE, dialect)
        self.purged_through = compile_for(PURGED_THROUGH, dialect)
        self.last_to_purge = compile_for(LAST_TO_PURGE, dialect)
        self.mark_purged = Plan(compile_for(mark_purged(dialect), dialect))
        self.purge = Plan(compile_for(PURGE.returning(true()), dialect))

    @cache  # noqa: B019 (one Queries per dialect, alive as long as the process)
    def set_archived(self, archiving: bool, conditional: bool) -> Plan:
        return plan(set_archived(archiving, conditional), self.dialect)

    @cache  # noqa: B019
    def erase(self, conditional: bool) -> Plan:
        return plan(erase_customer(conditional), self.dialect)

    def update(self, fields: tuple[str, ...], conditional: bool) -> Plan:
        """The update of these fields, compiled on first use."""
        return _update(self.dialect, tuple(sorted(fields, key=UPDATABLE.__getitem__)), conditional)


@lru_cache(maxsize=512)
def _update(dialect: Dialect, fields: tuple[str, ...], conditional: bool) -> Plan:
    # Bounded: a client choosing fields could ask for tens of thousands of shapes.
    return plan(update_customer(fields, conditional), dialect)


queries_for = cache(Queries)
