"""How the SQLite store reads a page of customers, and how a name search finds its page.

A search first walks the organization's customers in page order, through the index that
carries the folded name, for up to WALKED_PER_ROW customers per row of the page: a term in
many names fills its page there. A sparser term is then looked up in the trigram index of
migration 0014, whose rowids hold an organization's names month by month: the months are
read newest first, in windows that double (1, 2, 4, ... months), until the page is full. A
page costs what its own matches cost, whatever lies above them, such as a bulk import of
other names.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from expensicat.customers.fields import PUBLIC_FIELDS, Customer
from expensicat.db.store import PageRequest, customers_in_order
from expensicat.paging import Position

COLUMNS = ", ".join(PUBLIC_FIELDS)
_PAGE_ORDER = "ORDER BY created_at DESC, id DESC"
# Trigrams need three characters; shorter terms are matched by walking the page order.
MIN_INDEXED_SEARCH = 3
# How many customers a search walks per row of its page before it looks the term up. The
# walk costs about 0.13 µs a customer; a month read costs about 1.5 µs per match in it, and
# a month of a bulk import can hold thousands of a common word: a term in 2% of names
# fills its page walking.
WALKED_PER_ROW = 50

# The index's rowid, as migration 0014 lays it out: organization number, month, seq.
_MONTH_SHIFT = 37
_ORGANIZATION_SHIFT = 47
_ORGANIZATIONS = 1 << 16
_MONTHS = 1 << 10
_SEQ_MASK = (1 << _MONTH_SHIFT) - 1

_BOUNDS = (
    "SELECT number, (SELECT min(created_at) FROM customers WHERE organization_id = ?1), "
    "(SELECT max(created_at) FROM customers WHERE organization_id = ?1) "
    "FROM customer_search_organizations WHERE organization_id = ?1"
)


def read_page(db: sqlite3.Connection, page: PageRequest) -> list[Customer]:
    """The page: walked in page order, or for a sparse term, read month by month."""
    if len(page.search) < MIN_INDEXED_SEARCH:
        return _walk(db, page)
    conditions, args = _after(page)
    # The customer WALKED_PER_ROW per row down from where the page starts: the walk stops
    # there. With no such customer, the walk reads to the end, as few as they are.
    last = db.execute(
        f"SELECT created_at, id FROM customers WHERE {conditions} {_PAGE_ORDER} LIMIT 1 OFFSET ?",
        (*args, page.limit * WALKED_PER_ROW - 1),
    ).fetchone()
    found = _walk(db, page, last)
    if len(found) == page.limit or last is None:
        return found
    # Every match down to `last` is in hand: the months give the rest, from below it.
    rest = replace(page, limit=page.limit - len(found), after=Position(*last))
    return found + _by_month(db, rest)


def _walk(
    db: sqlite3.Connection, page: PageRequest, last: tuple[str, str] | None = None
) -> list[Customer]:
    """The page in page order, down to the customer `last` if given."""
    conditions, args = _chosen(page)
    if last is not None:
        conditions += " AND (created_at, id) >= (?, ?)"
        args += last
    # The page's rows are picked from the page-order index alone (it carries the folded
    # name and archived_at), then fetched by rowid.
    sql = (
        f"SELECT {COLUMNS} FROM customers WHERE seq IN (SELECT seq FROM customers "
        f"WHERE {conditions} {_PAGE_ORDER} LIMIT ?) {_PAGE_ORDER}"
    )
    return customers_in_order(db.execute(sql, (*args, page.limit)).fetchall())


def _by_month(db: sqlite3.Connection, page: PageRequest) -> list[Customer]:
    """The page, from the term's matches in the organization's months, newest first."""
    bounds = db.execute(_BOUNDS, (page.organization_id,)).fetchone()
    if bounds is None or bounds[1] is None:
        return []
    number, oldest, newest = bounds
    latest = _month(newest if page.after is None else min(newest, page.after.value))
    first = _month(oldest)
    conditions, args = _chosen(page)
    # The term's matches in a window of months, then each customer by its seq.
    sql = (
        f"SELECT {COLUMNS} FROM (SELECT rowid & ? AS found FROM customer_search "
        "WHERE customer_search MATCH ? AND rowid BETWEEN ? AND ?) "
        f"CROSS JOIN customers ON seq = found WHERE {conditions} {_PAGE_ORDER} LIMIT ?"
    )
    organization = (number % _ORGANIZATIONS) << _ORGANIZATION_SHIFT
    match = _trigrams(page.search)
    found: list[Customer] = []
    span = 1
    while latest >= first and len(found) < page.limit:
        earliest = max(latest - span + 1, first)
        # Added, not or-ed: the last month's bound reaches the organization's last rowid.
        window = (
            organization + (earliest << _MONTH_SHIFT),
            organization + ((latest + 1) << _MONTH_SHIFT) - 1,
        )
        left = page.limit - len(found)
        found += customers_in_order(
            db.execute(sql, (_SEQ_MASK, match, *window, *args, left)).fetchall()
        )
        latest = earliest - 1
        span *= 2
    return found


def _after(page: PageRequest) -> tuple[str, list[Any]]:
    """The organization, and past the cursor if there is one."""
    if page.after is None:
        return "organization_id = ?", [page.organization_id]
    after = page.after
    return "organization_id = ? AND (created_at, id) < (?, ?)", [
        page.organization_id,
        after.value,
        after.id,
    ]


def _chosen(page: PageRequest) -> tuple[str, list[Any]]:
    """Past the cursor, the customers with the term, archived or not as asked."""
    conditions, args = _after(page)
    if page.search:
        conditions += " AND instr(name_search, ?) > 0"
        args.append(page.search)
    if page.archived != "any":
        is_archived = "NOT NULL" if page.archived == "true" else "NULL"
        conditions += f" AND archived_at IS {is_archived}"
    return conditions, args


def _month(timestamp: str) -> int:
    """The month of an RFC 3339 timestamp, counted as the index counts it."""
    month = (int(timestamp[:4]) - 2000) * 12 + int(timestamp[5:7]) - 1
    return max(0, min(_MONTHS - 1, month))


def _trigrams(search: str) -> str:
    """An FTS5 query for names holding the term's first, middle and last trigrams: every
    name that contains the term, and a few that do not, which the name check drops."""
    pieces = [search[i : i + 3] for i in range(len(search) - 2)]
    chosen = dict.fromkeys((pieces[0], pieces[(len(pieces) - 1) // 2], pieces[-1]))
    return " AND ".join('"' + piece.replace('"', '""') + '"' for piece in chosen)
