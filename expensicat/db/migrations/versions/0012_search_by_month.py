"""a sparse search reads the term's matches month by month, newest first

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

The trigram index on (organization_id, name_search) answers "which names contain the term"
for the whole organization at once, so a term absent from the newest customers (after a
bulk import of other names, say) had every match in the organization fetched and sorted,
or the page order walked through the import: 3 to 12 ms a page at 140,000 customers.

Its keys now carry the organization and the month a customer was created in: one key per
(organization, month, trigram), hashed to 64 bits. The matches of one month are one small
posting list, so the function reads the months newest first, in windows that double (1, 2,
4, ... months), and stops as soon as the page is full: the page costs what its own matches
cost, whatever lies above them. A hash collision only adds a candidate, which the organization
and the LIKE filter drop. Terms without a three-letter piece are walked as before.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from expensicat.db.migrate import revision_module

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# An average Gregorian month, in seconds.
MONTH_SECONDS = 2629746

HELPERS = """
CREATE FUNCTION search_month(created_at timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
-- The epoch does not depend on the session's time zone, so the month is immutable.
RETURN floor(extract(epoch FROM created_at) / {month_seconds})::bigint;

CREATE FUNCTION search_seed(organization_id text, month bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtext(organization_id)::bigint << 32) | month;

-- The trigrams inside words, without pg_trgm's padded word edges: those of a term are
-- among those of every name that contains it. PL/pgSQL, and pg_trgm named by its schema:
-- a SQL function or a fixed search path here would cost more than the rest of the keys.
CREATE FUNCTION search_trigrams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $trigrams$
BEGIN
    RETURN ARRAY(
        SELECT trigram FROM unnest({trgm_schema}.show_trgm(name)) AS trigram
        WHERE strpos(trigram, ' ') = 0
    );
END
$trigrams$;

CREATE FUNCTION search_keys(organization_id text, name_search text, created_at timestamptz)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, {schema}, pg_temp
AS $keys$
DECLARE
    seed bigint := search_seed(organization_id, search_month(created_at));
BEGIN
    RETURN ARRAY(
        SELECT hashtextextended(trigram, seed) FROM unnest(search_trigrams(name_search)) AS trigram
    );
END
$keys$;
"""

INDEX = (
    "CREATE INDEX customers_search_keys ON customers "
    "USING gin (search_keys(organization_id, name_search, created_at))"
)

# Migration 0007's function keeps its walk; after it, a sparse term is read month by month.
DECLARED = """    found uuid[];
    trigrams text[];
    seed bigint;
    newest bigint;
    oldest bigint;
    latest bigint;
    earliest bigint;
    span integer := 1;
"""
SPARSE_TERM = """    trigrams := search_trigrams(name_pattern);
    IF cardinality(trigrams) = 0 THEN
        -- No piece to look up: planned for its value, walking on.
        RETURN QUERY EXECUTE
            'SELECT id FROM customers WHERE organization_id = $1 AND name_search LIKE $2 '
            || 'AND ($6 = ''any'' OR (archived_at IS NULL) = ($6 = ''false''))'
            || CASE WHEN after_id IS NULL THEN '' ELSE ' AND (created_at, id) < ($4, $5)' END
            || ' ORDER BY created_at DESC, id DESC LIMIT $3'
            USING organization_id, name_pattern, page_size, after_created_at, after_id, archived;
        RETURN;
    END IF;
    -- Three pieces at most (the first, a middle and the last), each a condition: a name
    -- must hold all three in the same month.
    trigrams := ARRAY[
        trigrams[1], trigrams[(cardinality(trigrams) + 1) / 2], trigrams[cardinality(trigrams)]
    ];
    SELECT search_month(min(created_at)), search_month(max(created_at)) INTO oldest, newest
    FROM customers WHERE organization_id = search_customers.organization_id;
    IF after_id IS NOT NULL THEN
        newest := least(newest, search_month(after_created_at));
    END IF;
    seed := search_seed(organization_id, 0);
    found := '{}';
    latest := newest;
    WHILE latest >= oldest AND cardinality(found) < page_size LOOP
        earliest := greatest(latest - span + 1, oldest);
        found := found || ARRAY(
            -- Materialized, so that the planner reads only the month keys' posting lists,
            -- never the organization's whole stretch of another index.
            WITH candidates AS MATERIALIZED (
                SELECT id, organization_id, created_at, name_search, archived_at
                FROM customers
                WHERE search_keys(organization_id, name_search, created_at) && ARRAY(
                        SELECT hashtextextended(trigrams[1], seed | m)
                        FROM generate_series(earliest, latest) AS m)
                    AND search_keys(organization_id, name_search, created_at) && ARRAY(
                        SELECT hashtextextended(trigrams[2], seed | m)
                        FROM generate_series(earliest, latest) AS m)
                    AND search_keys(organization_id, name_search, created_at) && ARRAY(
                        SELECT hashtextextended(trigrams[3], seed | m)
                        FROM generate_series(earliest, latest) AS m)
            )
            SELECT id FROM candidates
            WHERE candidates.organization_id = search_customers.organization_id
                AND name_search LIKE name_pattern
                AND (archived = 'any'
                    OR (candidates.archived_at IS NULL) = (archived = 'false'))
                AND (after_id IS NULL OR (created_at, id) < (after_created_at, after_id))
            ORDER BY created_at DESC, id DESC LIMIT page_size - cardinality(found));
        latest := earliest - 1;
        span := span * 2;
    END LOOP;
    RETURN QUERY SELECT unnest(found);
END
$function$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(
        HELPERS.format(
            schema=_schema(bind), trgm_schema=_trgm_schema(bind), month_seconds=MONTH_SECONDS
        )
    )
    op.execute(INDEX)
    op.execute("DROP INDEX customers_name_trigrams")
    op.execute(_function(bind))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(_archive_function(bind))
    op.execute(
        "CREATE INDEX customers_name_trigrams ON customers "
        "USING gin (organization_id, name_search gin_trgm_ops)"
    )
    op.execute("DROP INDEX customers_search_keys")
    for helper in (
        "search_keys(text, text, timestamptz)",
        "search_trigrams(text)",
        "search_seed(text, bigint)",
        "search_month(timestamptz)",
    ):
        op.execute(f"DROP FUNCTION {helper}")


def _archive_function(bind: Connection) -> str:
    """Migration 0007's function, written to replace the one in place."""
    function: str = revision_module("0007_archive.py")._function(bind)
    return function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _function(bind: Connection) -> str:
    """Migration 0007's function: the same walk, then SPARSE_TERM in place of its tail."""
    function = _archive_function(bind)
    head, tail, _ = function.partition("    -- A sparse term:")
    assert tail, "migration 0007's function changed"
    declared = "    found uuid[];\n"
    assert declared in head, "migration 0007's function changed"
    return head.replace(declared, DECLARED, 1) + SPARSE_TERM


def _schema(bind: Connection) -> str:
    """The schema the customers table is in, for the functions' fixed search path."""
    schema: str = bind.exec_driver_sql(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'customers'::regclass"
    ).scalar_one()
    return schema


def _trgm_schema(bind: Connection) -> str:
    """The schema pg_trgm is in, to name its functions by."""
    schema: str = bind.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar_one()
    return schema
