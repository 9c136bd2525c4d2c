"""The webhook store's statements: endpoints, the deliveries they owe, and the attempt log.

An endpoint reads its organization's changes feed from its own place. Queuing moves that
place forward only from where it was read, and inserts a delivery for each change in
between that the endpoint subscribes to, in the same unit of work: two workers queuing the
same endpoint at once cannot both move it, so every change is queued once.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    and_,
    any_,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy import null as sql_null
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Delete, Insert, ReturningDelete, ReturningUpdate, Update
from sqlalchemy.sql.expression import FromClause, Select
from sqlalchemy.sql.functions import coalesce

from expensicat.db.compiled import compile_for
from expensicat.db.spelling import HORIZON_SEQ, HORIZON_TX, PlaceBetween
from expensicat.db.tables import customer_changes as changes
from expensicat.db.tables import webhook_attempts as attempts
from expensicat.db.tables import webhook_deliveries as deliveries
from expensicat.db.tables import webhook_endpoints as endpoints
from expensicat.db.unit_of_work import Condition, Plan, UnitOfWork, plan
from expensicat.webhooks.records import PENDING

PUBLIC = (
    endpoints.c.id,
    endpoints.c.organization_id,
    endpoints.c.url,
    endpoints.c.events,
    endpoints.c.description,
    endpoints.c.enabled,
    endpoints.c.disabled_reason,
    endpoints.c.created_at,
    endpoints.c.updated_at,
)
# What the worker needs of an endpoint to deliver to it.
DISPATCHED = (
    endpoints.c.organization_id,
    endpoints.c.id,
    endpoints.c.url,
    endpoints.c.secret,
    endpoints.c.previous_secret,
    endpoints.c.previous_secret_until,
    endpoints.c.after_tx,
    endpoints.c.after_seq,
)
ATTEMPT = (
    attempts.c.id,
    attempts.c.change_id,
    attempts.c.type,
    attempts.c.attempted_at,
    attempts.c.status_code,
    attempts.c.duration_ms,
    attempts.c.error,
    attempts.c.next_attempt_at,
)


def param(column: Column[Any], name: str | None = None) -> BindParameter[Any]:
    return bindparam(name or column.key, type_=column.type)


_ENDPOINT = (
    endpoints.c.organization_id == param(endpoints.c.organization_id),
    endpoints.c.id == param(endpoints.c.id),
)
_OF_ENDPOINT = (
    deliveries.c.organization_id == param(deliveries.c.organization_id),
    deliveries.c.endpoint_id == param(deliveries.c.endpoint_id),
)

INSERT_ENDPOINT = insert(endpoints).values(
    {
        **{
            column.key: param(column)
            for column in endpoints.c
            if column.key not in ("after_tx", "after_seq", "enabled")
        },
        "enabled": true(),
        # From the head of the feed: an endpoint hears of changes made after it exists.
        "after_tx": HORIZON_TX,
        "after_seq": HORIZON_SEQ,
    }
)
FETCH_ENDPOINT = select(*PUBLIC).where(*_ENDPOINT)
FETCH_SECRETS = select(*DISPATCHED).where(*_ENDPOINT)
DISPATCHABLE = select(*DISPATCHED).where(endpoints.c.enabled == true())


def _endpoint_page(after: bool) -> Select[Any]:
    """An organization's endpoints, newest first (ids are time-ordered)."""
    query = select(*PUBLIC).where(endpoints.c.organization_id == param(endpoints.c.organization_id))
    if after:
        query = query.where(endpoints.c.id < param(endpoints.c.id, "after_id"))
    return query.order_by(endpoints.c.id.desc()).limit(bindparam("limit"))


def update_endpoint(fields: tuple[str, ...]) -> Update:
    values = {name: param(endpoints.c[name]) for name in fields}
    return (
        sql_update(endpoints)
        .values(values)
        .values(updated_at=param(endpoints.c.updated_at, "now"))
        .where(*_ENDPOINT)
    )


def _delete_endpoint() -> UnitOfWork:
    """An endpoint, with what it still owed and its log."""

    def write(when: Condition | None) -> ReturningDelete[Any]:
        return delete(endpoints).where(*_ENDPOINT).returning(endpoints.c.id)

    def owed(written: FromClause) -> Delete:
        return delete(deliveries).where(
            deliveries.c.organization_id == param(endpoints.c.organization_id),
            deliveries.c.endpoint_id.in_(select(written.c.id)),
        )

    def logged(written: FromClause) -> Delete:
        return delete(attempts).where(
            attempts.c.organization_id == param(endpoints.c.organization_id),
            attempts.c.endpoint_id.in_(select(written.c.id)),
        )

    return UnitOfWork(write, joined=(owed, logged))


def _queue() -> UnitOfWork:
    """Move the endpoint's place from (old_tx, old_seq), where it was read, to (new_tx,
    new_seq), and queue a delivery of each change in between that it subscribes to."""

    def write(when: Condition | None) -> ReturningUpdate[Any]:
        return (
            sql_update(endpoints)
            .values(
                after_tx=param(endpoints.c.after_tx, "new_tx"),
                after_seq=param(endpoints.c.after_seq, "new_seq"),
            )
            .where(
                *_ENDPOINT,
                endpoints.c.after_tx == param(endpoints.c.after_tx, "old_tx"),
                endpoints.c.after_seq == param(endpoints.c.after_seq, "old_seq"),
            )
            .returning(endpoints.c.events)
        )

    def queued(written: FromClause) -> Insert:
        subscribed = or_(
            written.c.events == literal(",*,"),
            written.c.events.like(literal("%,") + changes.c.type + literal(",%")),
        )
        place = (changes.c.tx, changes.c.seq)
        old = (param(changes.c.tx, "old_tx"), param(changes.c.seq, "old_seq"))
        new = (param(changes.c.tx, "new_tx"), param(changes.c.seq, "new_seq"))
        row = (
            select(
                param(deliveries.c.organization_id),
                param(deliveries.c.endpoint_id, "id"),
                changes.c.id,
                changes.c.tx,
                changes.c.seq,
                changes.c.type,
                literal(PENDING),
                literal_column("0"),
                param(deliveries.c.next_attempt_at, "now"),
                sql_null(),
                param(deliveries.c.created_at, "now"),
            )
            .select_from(changes.join(written, true()))
            .where(
                changes.c.organization_id == param(deliveries.c.organization_id),
                PlaceBetween(place, old, new),
                subscribed,
            )
        )
        return insert(deliveries).from_select([column.key for column in deliveries.c], row)

    return UnitOfWork(write, joined=(queued,))


def _places_ahead() -> Select[Any]:
    """The horizon of the feed, and the places of up to `limit` changes of the organization
    after (old_tx, old_seq), in order."""
    horizon = select(HORIZON_TX.label("tx"), HORIZON_SEQ.label("seq")).subquery("horizon")
    old = (param(changes.c.tx, "old_tx"), param(changes.c.seq, "old_seq"))
    ahead = (
        select(changes.c.tx, changes.c.seq)
        .where(
            changes.c.organization_id == param(changes.c.organization_id),
            PlaceBetween((changes.c.tx, changes.c.seq), old, (HORIZON_TX, HORIZON_SEQ)),
        )
        .order_by(changes.c.tx, changes.c.seq)
        .limit(bindparam("limit"))
        .subquery("ahead")
    )
    return (
        select(horizon.c.tx, horizon.c.seq, ahead.c.tx, ahead.c.seq)
        .select_from(horizon.outerjoin(ahead, true()))
        .order_by(ahead.c.tx, ahead.c.seq)
    )


def _claim(postgres: bool) -> ReturningUpdate[Any]:
    """Lease up to `limit` of an endpoint's due deliveries, oldest change first, stopping at
    the first that waits for its retry: none overtakes an earlier one, so after an outage
    they go out in order again. On PostgreSQL, rows another worker holds are skipped rather
    than waited for."""
    due = deliveries.alias("due")
    # On PostgreSQL, the rows chosen go by their physical address (locked, it cannot move):
    # whatever the statistics were when the one generic plan was made (db/postgres.py), the
    # update then reads those rows alone. Planned by key, it once joined the whole table,
    # and once read every delivery of the endpoint for the few it wanted.
    picked = literal_column("due.ctid") if postgres else due.c.change_id
    line = (
        select(picked.label("picked"), due.c.tx, due.c.seq, due.c.next_attempt_at)
        .where(
            due.c.organization_id == param(deliveries.c.organization_id),
            due.c.endpoint_id == param(deliveries.c.endpoint_id),
            due.c.status == PENDING,
            or_(
                due.c.locked_until.is_(None),
                due.c.locked_until < param(due.c.locked_until, "now"),
            ),
        )
        .order_by(due.c.tx, due.c.seq)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .subquery("line")
    )
    # The latest retry among a delivery and those before it: a delivery is due when every
    # one ahead of it in the line is.
    line_due_at = func.max(line.c.next_attempt_at).over(order_by=(line.c.tx, line.c.seq))
    in_line = select(line.c.picked, line_due_at.label("due_at")).subquery("in_line")
    chosen = select(in_line.c.picked).where(
        in_line.c.due_at <= param(deliveries.c.next_attempt_at, "now")
    )
    one_of_chosen = (
        literal_column("webhook_deliveries.ctid") == any_(func.array(chosen.scalar_subquery()))
        if postgres
        else and_(*_OF_ENDPOINT, deliveries.c.change_id.in_(chosen))
    )
    return (
        sql_update(deliveries)
        .values(locked_until=param(deliveries.c.locked_until, "lease_until"))
        .where(one_of_chosen)
        .returning(
            deliveries.c.change_id,
            deliveries.c.tx,
            deliveries.c.seq,
            deliveries.c.type,
            deliveries.c.attempts,
        )
    )


def _claim_with_events() -> Select[Any]:
    """The claim, and the change each claimed delivery announces, in one statement (a
    data-modifying CTE, which PostgreSQL has)."""
    claimed = _claim(postgres=True).cte("claimed")
    change = and_(
        changes.c.organization_id == param(changes.c.organization_id),
        changes.c.tx == claimed.c.tx,
        changes.c.seq == claimed.c.seq,
    )
    return select(*claimed.c, *EVENT.selected_columns).select_from(
        claimed.outerjoin(changes, change)
    )


EVENT = select(
    changes.c.type,
    changes.c.occurred_at,
    changes.c.customer_id,
    changes.c.customer,
    changes.c.customer_version,
).where(
    changes.c.organization_id == param(changes.c.organization_id),
    changes.c.tx == param(changes.c.tx),
    changes.c.seq == param(changes.c.seq),
)


def _finish() -> UnitOfWork:
    """Record how an attempt went, on the delivery this worker still leases, and in the
    log."""

    def write(when: Condition | None) -> ReturningUpdate[Any]:
        return (
            sql_update(deliveries)
            .values(
                status=param(deliveries.c.status),
                attempts=param(deliveries.c.attempts),
                next_attempt_at=param(deliveries.c.next_attempt_at),
                locked_until=sql_null(),
            )
            .where(
                *_OF_ENDPOINT,
                deliveries.c.change_id == param(deliveries.c.change_id),
                deliveries.c.locked_until == param(deliveries.c.locked_until, "lease_until"),
            )
            .returning(deliveries.c.change_id)
        )

    return UnitOfWork(write, joined=(_logged,))


def _logged(written: FromClause) -> Insert:
    row = select(
        param(attempts.c.organization_id),
        param(attempts.c.endpoint_id),
        param(attempts.c.id, "attempt_id"),
        written.c.change_id,
        param(attempts.c.type),
        param(attempts.c.attempted_at),
        param(attempts.c.status_code),
        param(attempts.c.duration_ms),
        param(attempts.c.error),
        param(attempts.c.next_attempt_at, "retry_at"),
    ).select_from(written)
    return insert(attempts).from_select([column.key for column in attempts.c], row)


LOG_ATTEMPT = insert(attempts).values({column.key: param(column) for column in attempts.c})
MARK_FAILING = (
    sql_update(endpoints)
    .values(
        failing_since=coalesce(endpoints.c.failing_since, param(endpoints.c.failing_since, "now"))
    )
    .where(*_ENDPOINT)
)
MARK_HEALTHY = (
    sql_update(endpoints)
    .values(failing_since=sql_null())
    .where(*_ENDPOINT, endpoints.c.failing_since.is_not(None))
)
DISABLE_FAILING = (
    sql_update(endpoints)
    .values(
        enabled=false(),
        disabled_reason=param(endpoints.c.disabled_reason),
        updated_at=param(endpoints.c.updated_at, "now"),
    )
    .where(
        endpoints.c.enabled == true(),
        endpoints.c.failing_since < param(endpoints.c.failing_since, "failing_before"),
    )
    .returning(endpoints.c.organization_id, endpoints.c.id)
)


def _attempt_page(after: bool) -> Select[Any]:
    query = select(*ATTEMPT).where(
        attempts.c.organization_id == param(attempts.c.organization_id),
        attempts.c.endpoint_id == param(attempts.c.endpoint_id),
    )
    if after:
        place = tuple_(attempts.c.attempted_at, attempts.c.id)
        bound = tuple_(param(attempts.c.attempted_at, "after_at"), param(attempts.c.id, "after_id"))
        query = query.where(place < bound)
    return query.order_by(attempts.c.attempted_at.desc(), attempts.c.id.desc()).limit(
        bindparam("limit")
    )


def _redeliver(one: bool) -> ReturningUpdate[Any]:
    """Send events again: one by id, or every one queued since a moment."""
    which = (
        deliveries.c.change_id == param(deliveries.c.change_id)
        if one
        else deliveries.c.created_at >= param(deliveries.c.created_at, "since")
    )
    return (
        sql_update(deliveries)
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=param(deliveries.c.next_attempt_at, "now"),
            locked_until=sql_null(),
        )
        .where(*_OF_ENDPOINT, which)
        .returning(deliveries.c.change_id)
    )


# Served by the partial index of what is owed (migration 0010).
BACKLOG = select(func.count(), func.min(deliveries.c.created_at)).where(
    deliveries.c.status == literal_column(f"'{PENDING}'")
)
PURGE_ATTEMPTS = delete(attempts).where(
    attempts.c.attempted_at < param(attempts.c.attempted_at, "before")
)
PURGE_DELIVERIES = delete(deliveries).where(
    deliveries.c.created_at < param(deliveries.c.created_at, "before"),
    deliveries.c.status != PENDING,
)


class WebhookQueries:
    """Every webhook statement, compiled for one database."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.insert_endpoint = _plain(INSERT_ENDPOINT, dialect)
        self.fetch_endpoint = compile_for(FETCH_ENDPOINT, dialect)
        self.fetch_secrets = compile_for(FETCH_SECRETS, dialect)
        self.first_endpoints = compile_for(_endpoint_page(False), dialect)
        self.endpoints_after = compile_for(_endpoint_page(True), dialect)
        self.delete_endpoint = plan(_delete_endpoint(), dialect)
        self.dispatchable = compile_for(DISPATCHABLE, dialect)
        self.places_ahead = compile_for(_places_ahead(), dialect)
        self.queue = plan(_queue(), dialect)
        # SQLite has no data-modifying CTE: its claim reads the changes after, on its own
        # thread, where a read costs little.
        self.claim_reads_events = dialect.name == "postgresql"
        self.claim = _plain(
            _claim_with_events() if self.claim_reads_events else _claim(postgres=False), dialect
        )
        self.event = compile_for(EVENT, dialect)
        self.finish = plan(_finish(), dialect)
        self.log_attempt = _plain(LOG_ATTEMPT, dialect)
        self.mark_failing = _plain(MARK_FAILING, dialect)
        self.mark_healthy = _plain(MARK_HEALTHY, dialect)
        self.disable_failing = _plain(DISABLE_FAILING, dialect)
        self.first_attempts = compile_for(_attempt_page(False), dialect)
        self.attempts_after = compile_for(_attempt_page(True), dialect)
        self.redeliver_one = _plain(_redeliver(True), dialect)
        self.redeliver_since = _plain(_redeliver(False), dialect)
        self.backlog = compile_for(BACKLOG, dialect)
        self.purge_attempts = _plain(PURGE_ATTEMPTS, dialect)
        self.purge_deliveries = _plain(PURGE_DELIVERIES, dialect)

    def update_endpoint(self, fields: tuple[str, ...]) -> Plan:
        return _update(self.dialect, tuple(sorted(fields)))


def _plain(statement: Any, dialect: Dialect) -> Plan:
    return Plan(compile_for(statement, dialect))


@lru_cache(maxsize=64)
def _update(dialect: Dialect, fields: tuple[str, ...]) -> Plan:
    return _plain(update_endpoint(fields).returning(*PUBLIC), dialect)


webhook_queries_for = cache(WebhookQueries)
