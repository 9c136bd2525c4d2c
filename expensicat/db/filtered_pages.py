"""A page of customers in any sort, under any filters: one statement per shape, defined once
for both databases and compiled on first use.

The plain newest-first list and search keep their tuned ways in (postgres_pages.py,
sqlite_search.py). Every other order and filter has an index of its own (migration 0008),
whose expressions these conditions spell exactly as the index does, so the planner can use
it: lower(email), upper(replace(tax_id, ' ', '')).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Text, bindparam, func, literal_column, or_, select, tuple_
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import ColumnElement

from expensicat.db.compiled import Compiled, compile_for
from expensicat.db.queries import CUSTOMER, param
from expensicat.db.tables import customers

_c = customers.c
Condition = ColumnElement[bool]


def _archived() -> Condition:
    chosen: ColumnElement[str] = bindparam("archived", type_=Text())
    return or_(chosen == "any", _c.archived_at.is_(None) == (chosen == "false"))


def tax_id_key_sql() -> ColumnElement[Any]:
    """The tax id as matched, in SQL: without spaces, upper case (literals, as in the index)."""
    return func.upper(func.replace(_c.tax_id, literal_column("' '"), literal_column("''")))


# Each filter's condition on the parameter of its name.
FILTERS: dict[str, Callable[[], Condition]] = {
    "archived": _archived,
    "email": lambda: func.lower(_c.email) == bindparam("email"),
    "tax_id": lambda: tax_id_key_sql() == bindparam("tax_id"),
    "country_code": lambda: _c.country_code == bindparam("country_code"),
    "created_after": lambda: _c.created_at > param(_c.created_at, "created_after"),
    "created_before": lambda: _c.created_at < param(_c.created_at, "created_before"),
    "updated_after": lambda: _c.updated_at > param(_c.updated_at, "updated_after"),
    "updated_before": lambda: _c.updated_at < param(_c.updated_at, "updated_before"),
}


def like_pattern(search: str) -> str:
    """The LIKE pattern for names containing the term, its %, _ and \\ matching literally."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@lru_cache(maxsize=512)
def filtered_page(
    dialect: Dialect,
    column: str,
    descending: bool,
    filters: tuple[str, ...],
    after: bool,
    search: bool,
) -> Compiled:
    """Customers ordered by `column` then id, under the named `filters`, past the position
    `after_value`/`after_id` when `after`, whose folded name is LIKE `pattern` when `search`."""
    ordered = _c[column]
    conditions = [_c.organization_id == param(_c.organization_id)]
    conditions += [FILTERS[name]() for name in filters]
    if search:
        conditions.append(_c.name_search.like(bindparam("pattern"), escape="\\"))
    if after:
        position = tuple_(param(ordered, "after_value"), param(_c.id, "after_id"))
        key = tuple_(ordered, _c.id)
        conditions.append(key < position if descending else key > position)
    order = (ordered.desc(), _c.id.desc()) if descending else (ordered.asc(), _c.id.asc())
    statement = select(*CUSTOMER).where(*conditions).order_by(*order).limit(bindparam("limit"))
    return compile_for(statement, dialect)
