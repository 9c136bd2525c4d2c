"""The changes feed's statements: recording a change with the write that made it, reading
the feed in order, clearing an erased customer from it, and purging old changes.

A change's place is (tx, seq). The hard part of any feed read by position is a write that
takes a low position and commits late, after a reader has already passed it. Here a reader
only goes as far as the horizon, the place before which every change is final:

- PostgreSQL: tx is the id of the writing transaction. Ids are handed out in increasing
  order, and the oldest one still running (the snapshot's xmin) bounds them: every change
  of a lower tx has committed or never will, and every later change will have a tx at or
  above it. So the feed lists changes below it only, and a reader that went up to it never
  sees a change appear behind it. Writers never wait for each other, as a counter would
  make them.
- SQLite: one writer at a time, so changes commit in the order their rowid (seq) is given;
  tx is 0 and the horizon is the last seq issued.

Two changes to one customer come in the order they were made: a customer's row is the first
thing each unit of work writes, and a transaction takes its id when it first writes, so the
second writer, which waits on the first's row lock, takes the higher id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BindParameter,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    tuple_,
)
from sqlalchemy import null as sql_null
from sqlalchemy import update as sql_update
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.expression import ColumnElement, FromClause, Select
from sqlalchemy.sql.functions import coalesce

from expensicat.customers.fields import PUBLIC_FIELDS
from expensicat.db.spelling import (
    CURRENT_TRANSACTION,
    HORIZON_SEQ,
    HORIZON_TX,
    JsonObject,
    PlaceBetween,
    as_text,
    json_string,
    upsert,
    utf8_bytes,
)
from expensicat.db.tables import customer_changes as changes
from expensicat.db.tables import purged_changes
from expensicat.db.unit_of_work import Joined

PLACE = tuple_(changes.c.tx, changes.c.seq)
# The keys either side of the customer in a change's entry.
CUSTOMER_AT = literal_column("""',"customer":'""", Text)
ACTOR_AT = literal_column("""',"actor":'""", Text)


def _param(name: str, like: Any) -> BindParameter[Any]:
    return bindparam(name, type_=like.type)


def _text(name: str) -> BindParameter[str]:
    """A parameter as the text the store gives, without its column's conversion."""
    return bindparam(name, type_=Text())


def _piece(text: str) -> ColumnElement[str]:
    return literal_column(f"'{text}'", Text)


def change_entry(
    change_type: str, customer_id: ColumnElement[Any], customer: ColumnElement[Any]
) -> ColumnElement[str]:
    """The change as the feed lists it, as JSON text, made once when it is recorded, so
    that a page of the feed is its entries, joined. The ids, the type and the time are
    spliced in as they are: uuids, a type of ours and the one timestamp format need no
    escaping. The actor's id, which a token gave, is quoted."""
    parts: list[ColumnElement[Any]] = [
        _piece('{"id":"'), _text("change_id"),
        _piece(f'","type":"{change_type}","occurred_at":"'), _text("now"),
        _piece('","customer_id":"'), customer_id, _piece('"'),
        CUSTOMER_AT, coalesce(customer, _piece("null")),
        ACTOR_AT, _piece('{"type":"'), _text("actor_type"),
        _piece('","id":'), json_string(_text("actor_id")), _piece("}}"),
    ]  # fmt: skip
    entry = parts[0]
    for part in parts[1:]:
        entry = entry.concat(part)
    return entry


def record_change(change_type: str, customer: str = "written") -> Joined:
    """A joined write (unit_of_work) that records the change of `change_type` to the written
    customer, and the customer as it now stands: built from the written row ("written"),
    given as JSON by the caller in `customer_json` ("given": a creation, whose every value
    the caller has), or none ("none": an erasure)."""

    def joined(written: FromClause) -> Insert:
        source = written
        recorded: Any = sql_null()
        version: Any = sql_null()
        if customer == "written":
            fields = {field: as_text(written.c[field]) for field in PUBLIC_FIELDS}
            # Made once, for the record and for its entry.
            source = select(
                written.c.id, JsonObject(fields).label("recorded"), written.c.version
            ).subquery("recorded")
            recorded, version = source.c.recorded, source.c.version
        elif customer == "given":
            recorded, version = _text("customer_json"), literal(1)
        row = select(
            _param("organization_id", changes.c.organization_id),
            CURRENT_TRANSACTION,
            _param("change_id", changes.c.id),
            literal(change_type),
            _param("now", changes.c.occurred_at),
            source.c.id,
            recorded,
            version,
            _param("actor_type", changes.c.actor_type),
            _param("actor_id", changes.c.actor_id),
            change_entry(change_type, as_text(source.c.id), recorded),
        )
        columns = ["organization_id", "tx", "id", "type", "occurred_at", "customer_id",
                   "customer", "customer_version", "actor_type", "actor_id", "entry"]  # fmt: skip
        return insert(changes).from_select(columns, row)

    return joined


def forget_customer(written: FromClause) -> Update:
    """A joined write that clears the erased customer from every change recorded of it, in
    its entry too, where the customer's JSON stands between the only two keys so named."""
    recorded = CUSTOMER_AT.concat(changes.c.customer).concat(ACTOR_AT)
    forgotten = CUSTOMER_AT.concat(_piece("null")).concat(ACTOR_AT)
    return (
        sql_update(changes)
        .values(customer=sql_null(), entry=func.replace(changes.c.entry, recorded, forgotten))
        .where(
            changes.c.organization_id == _param("organization_id", changes.c.organization_id),
            changes.c.customer_id.in_(select(written.c.id)),
            changes.c.customer.is_not(None),
        )
    )


def _feed_page() -> Select[Any]:
    """Up to `limit` of an organization's changes after the place (after_tx, after_seq) and
    up to the horizon, in order; and the horizon, also when there are none."""
    horizon = select(HORIZON_TX.label("tx"), HORIZON_SEQ.label("seq")).subquery("horizon")
    after = (_param("after_tx", changes.c.tx), _param("after_seq", changes.c.seq))
    page = (
        select(changes.c.tx, changes.c.seq, utf8_bytes(changes.c.entry).label("entry"))
        .where(
            changes.c.organization_id == _param("organization_id", changes.c.organization_id),
            PlaceBetween((changes.c.tx, changes.c.seq), after, (HORIZON_TX, HORIZON_SEQ)),
        )
        .order_by(changes.c.tx, changes.c.seq)
        .limit(bindparam("limit"))
        .subquery("page")
    )
    return (
        select(horizon.c.tx, horizon.c.seq, *page.c)
        .select_from(horizon.outerjoin(page, true()))
        .order_by(page.c.tx, page.c.seq)
    )


FEED_PAGE = _feed_page()
PURGED_THROUGH = select(purged_changes.c.tx, purged_changes.c.seq)
_OLD = changes.c.occurred_at < _param("horizon", changes.c.occurred_at)
LAST_TO_PURGE = (
    select(changes.c.tx, changes.c.seq)
    .where(_OLD)
    .order_by(changes.c.tx.desc(), changes.c.seq.desc())
    .limit(1)
)
PURGE = delete(changes).where(
    _OLD, tuple_(_param("tx", changes.c.tx), _param("seq", changes.c.seq)) >= PLACE
)


def mark_purged(dialect: Any) -> Insert:
    """Move the purge's mark forward to (tx, seq), never back."""
    mark = upsert(dialect)(purged_changes).values(
        id=1,
        tx=_param("tx", purged_changes.c.tx),
        seq=_param("seq", purged_changes.c.seq),
    )
    new = mark.excluded
    return mark.on_conflict_do_update(
        index_elements=[purged_changes.c.id],
        set_={"tx": new.tx, "seq": new.seq},
        where=tuple_(purged_changes.c.tx, purged_changes.c.seq) < tuple_(new.tx, new.seq),
    )
