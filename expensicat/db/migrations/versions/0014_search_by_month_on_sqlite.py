"""on SQLite, a sparse search reads the term's matches month by month, newest first

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

The trigram index over every organization's names (migration 0001) could only say which
names in the file hold a term, so a term absent from an organization's newest customers
(after a bulk import of other names, say) had the page order walked through all of them:
at 1,000,000 customers, 5.6 ms a page of `q=acm` in an organization of 100,000 after 40,000
imported customers, 17.6 ms for a term in no name.

It is now a contentless trigram index whose rowid puts each name where a search wants it:
the organization, then the month the customer was created in, then the customer's seq,

    rowid = organization number (16 bits) << 47 | month (10 bits) << 37 | seq (37 bits)

so one organization's months are one range of rowids each, read in a single step of the
index. The organization number comes from customer_search_organizations, one row per
organization ever seen; past 65,536 organizations two share a range, which only adds
candidates that the organization filter drops. Months count from January 2000, held to
0..1023 (until 2085): a clamped month only widens a window. A seq fits 37 bits (137
billion customers). Contentless, the index keeps no copy of the names, and detail=none
keeps only which rows hold each trigram: a search checks the name itself.
"""

from __future__ import annotations

from alembic import op

from expensicat.db.migrate import revision_module

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ORGANIZATIONS = (
    "CREATE TABLE customer_search_organizations ("
    "number INTEGER PRIMARY KEY, organization_id TEXT NOT NULL UNIQUE)"
)
INDEX = (
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "name_search, content='', detail=none, columnsize=0, tokenize='trigram')"
)
# Leaves of 500 bytes rather than 4,050: a common trigram's rowids span many more of them,
# so reading one organization's month skips to its leaf instead of decoding the rowids of
# every organization before it (0.035 ms rather than 0.15 for `acm` at 1,000,000 names).
PAGE_SIZE = "INSERT INTO customer_search(customer_search, rank) VALUES ('pgsz', 500)"


def key(row: str) -> str:
    """The index rowid of `row` ("new", "old" or a table's name), as an SQL expression."""
    month = (
        f"(CAST(substr({row}.created_at, 1, 4) AS INTEGER) - 2000) * 12 "
        f"+ CAST(substr({row}.created_at, 6, 2) AS INTEGER) - 1"
    )
    number = (
        "(SELECT number FROM customer_search_organizations "
        f"WHERE organization_id = {row}.organization_id)"
    )
    return f"(({number} & 65535) << 47) | (max(0, min(1023, {month})) << 37) | {row}.seq"


def _noting_organization(row: str) -> str:
    return (
        "INSERT OR IGNORE INTO customer_search_organizations(organization_id) "
        f"VALUES ({row}.organization_id);"
    )


def _adding(row: str) -> str:
    values = f"{key(row)}, {row}.name_search"
    return f"INSERT INTO customer_search(rowid, name_search) VALUES ({values});"


def _removing(row: str) -> str:
    # A contentless index forgets a row when told the very values it was given.
    return (
        "INSERT INTO customer_search(customer_search, rowid, name_search) "
        f"VALUES ('delete', {key(row)}, {row}.name_search);"
    )


TRIGGERS = (
    "CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN "
    f"{_noting_organization('new')} {_adding('new')} END",
    "CREATE TRIGGER customer_search_update "
    "AFTER UPDATE OF organization_id, created_at, name_search ON customers BEGIN "
    f"{_removing('old')} {_noting_organization('new')} {_adding('new')} END",
    f"CREATE TRIGGER customer_search_delete AFTER DELETE ON customers BEGIN {_removing('old')} END",
)

# Rows added to the index in rowid order are written in one sorted run, five times faster
# than in the order of the table. `seq > ?` leaves out the rows already indexed.
INDEX_ROWS = (
    "INSERT OR IGNORE INTO customer_search_organizations(organization_id) "
    "SELECT DISTINCT organization_id FROM customers WHERE seq > ?1 ORDER BY organization_id",
    f"INSERT INTO customer_search(rowid, name_search) SELECT {key('customers')}, name_search "
    "FROM customers WHERE seq > ?1 ORDER BY 1",
)
INSERT_TRIGGER = "customer_search_insert"

_OLD_TRIGGERS = ("customer_names_insert", "customer_names_update", "customer_names_delete")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for trigger in _OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE customer_names")
    op.execute(ORGANIZATIONS)
    op.execute(INDEX)
    op.execute(PAGE_SIZE)
    for statement in INDEX_ROWS:
        op.get_bind().exec_driver_sql(statement, (0,))
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    for change in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER customer_search_{change}")
    op.execute("DROP TABLE customer_search")
    op.execute("DROP TABLE customer_search_organizations")
    revision_module("0001_customers.py")._create_sqlite_search_index()
    op.execute("INSERT INTO customer_names(customer_names) VALUES ('rebuild')")
