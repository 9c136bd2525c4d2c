"""How the SQLite store reads a page of customers, and which index a name search takes.

A search has two ways in. Walking the organization's customers in page order, through the
index that carries the folded name, costs what it takes to fill the page: little while
matches are dense, the whole organization when they are sparse. Looking the term up in
the FTS5 trigram index costs one row lookup per name containing it, over every
organization: little while those names are few.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

from expensicat.customers.fields import PUBLIC_FIELDS, Customer
from expensicat.db.store import PageRequest

COLUMNS = ", ".join(PUBLIC_FIELDS)
# Trigrams need three characters; shorter terms are matched by walking the page order.
MIN_INDEXED_SEARCH = 3
# Fewer names than this containing a term (over all organizations) make it rare: looked
# up by name from the start.
RARE_MATCHES = 1000
# A walk that outgrew its budget has met a term that is sparse in this organization. With
# fewer names than this over all organizations, looking each up (about 1.5 µs a name)
# beats walking on (about 0.2 µs a customer, however many the organization has).
FEW_MATCHES = 20_000


def read_page(db: sqlite3.Connection, page: PageRequest, by_name: bool) -> list[Customer]:
    """The page, through the trigram index (`by_name`) or else in page order."""
    conditions = ["organization_id = ?"]
    args: list[Any] = [page.organization_id]
    if page.after is not None:
        conditions.append("(created_at, id) < (?, ?)")
        args += [page.after.value, page.after.id]
    if by_name:
        conditions.append("seq IN (SELECT rowid FROM customer_names WHERE customer_names MATCH ?)")
        args.append(_phrase(page.search))
    if page.search:
        conditions.append("instr(name_search, ?) > 0")
        args.append(page.search)
    if page.archived != "any":
        # From the page-order index too, which carries archived_at (migration 0007).
        is_archived = "NOT NULL" if page.archived == "true" else "NULL"
        conditions.append(f"archived_at IS {is_archived}")
    # The page's rows are picked from the page-order index alone (it carries the
    # folded name), or among the term's matches, then fetched by rowid.
    sql = (
        f"SELECT {COLUMNS} FROM customers WHERE seq IN (SELECT seq FROM customers "
        f"WHERE {' AND '.join(conditions)} ORDER BY created_at DESC, id DESC LIMIT ?) "
        "ORDER BY created_at DESC, id DESC"
    )
    rows = db.execute(sql, (*args, page.limit))
    return cast(list[Customer], [dict(zip(PUBLIC_FIELDS, row, strict=True)) for row in rows])


def few_names(db: sqlite3.Connection, search: str, fewer_than: int) -> bool:
    """Whether fewer than `fewer_than` names over all organizations contain the term,
    counted in the trigram index up to that many (so bounded); never for short terms."""
    if len(search) < MIN_INDEXED_SEARCH:
        return False
    (matches,) = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM customer_names WHERE customer_names MATCH ? LIMIT ?)",
        (_phrase(search), fewer_than),
    ).fetchone()
    return bool(matches < fewer_than)


class RarityCache:
    """Recent answers to "is this term rare?", each kept for a while.

    Counting reads up to a thousand index entries on every search otherwise, while a term's
    rarity over the whole file changes slowly. A stale answer costs time, never a wrong
    page: both ways in find the same names. Only the event loop's thread uses it.
    """

    def __init__(
        self, seconds: float = 60.0, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._answers: OrderedDict[str, tuple[float, bool]] = OrderedDict()

    def get(self, term: str) -> bool | None:
        answer = self._answers.get(term)
        if answer is None:
            return None
        expires, rare = answer
        if self._clock() >= expires:
            del self._answers[term]
            return None
        self._answers.move_to_end(term)
        return rare

    def put(self, term: str, rare: bool) -> None:
        self._answers[term] = (self._clock() + self._seconds, rare)
        self._answers.move_to_end(term)
        if len(self._answers) > self._size:
            self._answers.popitem(last=False)


def _phrase(search: str) -> str:
    """An FTS5 phrase query: with the trigram tokenizer, a substring match."""
    return '"' + search.replace('"', '""') + '"'
