"""a search page is found by a function that plans the query for its own term

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

A rare term is found fastest through the trigram index, a common one by walking the page
order and stopping after a page; only the term's value tells which. A statement prepared
once may settle on a generic plan that cannot see the value, so searches were prepared
anew each time: a round trip and a parse more than any other request. search_customers
runs the page query with EXECUTE ... USING, which PostgreSQL plans on every call with the
values known; the statement that calls it has the same plan for every term, so it can be
prepared once and cached like any other. It returns the page's ids in page order, from the
indexes alone when it can; the caller formats the rows. PostgreSQL only: on SQLite the
service picks the index itself.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SIGNATURE = "search_customers(text, text, integer, timestamptz, uuid)"

# Organization first, as in every index: the function can be distributed by it.
# ROWS: a page of the default size and the one more row that tells whether a next page exists.
FUNCTION = """
CREATE FUNCTION search_customers(
    organization_id text,
    name_pattern text,
    page_size integer,
    after_created_at timestamptz DEFAULT NULL,
    after_id uuid DEFAULT NULL
) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE ROWS 21
SET search_path = pg_catalog, {schema}, pg_temp
AS $function$
BEGIN
    -- A row comparison is an index bound; the equivalent OR form is only a filter.
    RETURN QUERY EXECUTE
        'SELECT id FROM customers WHERE organization_id = $1 AND name_search LIKE $2'
        || CASE WHEN after_id IS NULL THEN '' ELSE ' AND (created_at, id) < ($4, $5)' END
        || ' ORDER BY created_at DESC, id DESC LIMIT $3'
        USING organization_id, name_pattern, page_size, after_created_at, after_id;
END
$function$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # A fixed search path (the schema the table is in, temporary objects last), so no
    # caller's path can make the function read other tables or operators.
    schema = bind.exec_driver_sql(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'customers'::regclass"
    ).scalar_one()
    op.execute(FUNCTION.format(schema=schema))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {SIGNATURE}")
