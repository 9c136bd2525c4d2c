"""How PostgreSQL reads a page of customers: through the page-order index, or for a search
through the function search_customers (migrations 0005 and 0006).

The function finds the page's ids, planned for the very term (the trigram index for a rare
one, the page order for a common one); the statement that calls it has the same plan for
every term, so it is prepared once and cached like any other, and formats the rows.
"""

from __future__ import annotations

from sqlalchemy import Text, and_, bindparam, column, func, or_, select, tuple_

from expensicat.db.compiled import POSTGRES, compile_for
from expensicat.db.queries import CUSTOMER, param
from expensicat.db.spelling import Id
from expensicat.db.tables import customers

_c = customers.c
_ORGANIZATION = _c.organization_id == param(_c.organization_id)
_AFTER_CREATED_AT = param(_c.created_at, "after_created_at")
_AFTER_ID = param(_c.id, "after_id")
# Qualified columns, as SQLAlchemy writes them: the bare names would mean the formatted
# output columns, which no index delivers in order, and every page would sort the whole
# organization.
_PAGE_ORDER = (_c.created_at.desc(), _c.id.desc())

# Which customers: "false" the active ones, "true" the archived ones, "any" both. One
# condition for all three, so each statement keeps one cached plan; archived_at is in the
# page-order index (migration 0007), so a page is still read from the index alone.
_ARCHIVED = bindparam("archived", type_=Text())
_CHOSEN = or_(_ARCHIVED == "any", _c.archived_at.is_(None) == (_ARCHIVED == "false"))
_LIST = (
    select(*CUSTOMER).where(_ORGANIZATION, _CHOSEN).order_by(*_PAGE_ORDER).limit(bindparam("limit"))
)
FIRST_PAGE = compile_for(_LIST, POSTGRES)
# A row comparison is an index bound; the equivalent OR form is only a filter.
PAGE_AFTER = compile_for(
    _LIST.where(tuple_(_c.created_at, _c.id) < tuple_(_AFTER_CREATED_AT, _AFTER_ID)), POSTGRES
)

# Organization first, as the function takes it; no cursor is two NULLs.
_FOUND = (
    func.search_customers(
        param(_c.organization_id), bindparam("pattern"), bindparam("limit"),
        _AFTER_CREATED_AT, _AFTER_ID, _ARCHIVED,
    )
    .table_valued(column("page_id", Id()))
    .render_derived(name="page")
)  # fmt: skip
SEARCH = compile_for(
    select(*CUSTOMER)
    .select_from(_FOUND.join(customers, and_(_ORGANIZATION, _c.id == _FOUND.c.page_id)))
    .order_by(*_PAGE_ORDER),
    POSTGRES,
)
