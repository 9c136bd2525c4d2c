"""the search index's keys are computed by one query, with every name qualified

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

Migration 0012's search_keys called search_trigrams, each a PL/pgSQL function running a
query of its own, under a SET search_path that PostgreSQL saves and restores on every call:
16.6 µs a name, paid by every row of a bulk load and by every create and rename. One query
with its schemas written out costs 10.9 µs. The keys are the same, so the index built with
the old function stays as it is.
"""

from __future__ import annotations

from alembic import op

from expensicat.db.migrate import revision_module

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The trigrams inside words, as search_trigrams gives them, each hashed with the seed of the
# customer's organization and month: what migration 0012's search_keys returns. Every name
# and operator is qualified, so that no search path of the caller's can change a key.
SEARCH_KEYS = """
CREATE OR REPLACE FUNCTION {schema}.search_keys(
    organization_id text, name_search text, created_at timestamptz
)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $keys$
DECLARE
    seed bigint := {schema}.search_seed(organization_id, {schema}.search_month(created_at));
BEGIN
    RETURN ARRAY(
        SELECT pg_catalog.hashtextextended(trigram, seed)
        FROM pg_catalog.unnest({trgm_schema}.show_trgm(name_search)) AS trigram
        WHERE pg_catalog.strpos(trigram, ' ') OPERATOR(pg_catalog.=) 0
    );
END
$keys$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    previous = revision_module("0012_search_by_month.py")
    op.execute(
        SEARCH_KEYS.format(schema=previous._schema(bind), trgm_schema=previous._trgm_schema(bind))
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    previous = revision_module("0012_search_by_month.py")
    helpers = previous.HELPERS.format(
        schema=previous._schema(bind),
        trgm_schema=previous._trgm_schema(bind),
        month_seconds=previous.MONTH_SECONDS,
    )
    _, keys, function = helpers.partition("CREATE FUNCTION search_keys")
    assert keys, "migration 0012's helpers changed"
    op.execute("CREATE OR REPLACE FUNCTION search_keys" + function)
