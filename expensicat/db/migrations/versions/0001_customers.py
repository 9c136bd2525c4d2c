"""customers table, keyset index and name search index

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Optional text columns and their maximum length, frozen as of this revision.
OPTIONAL_COLUMNS = {
    "email": 255,
    "phone": 255,
    "website": 255,
    "contact_person": 255,
    "address_line1": 255,
    "address_line2": 255,
    "country": 255,
    "city": 255,
    "state": 255,
    "postal_code": 255,
    "tax_id": 255,
    "notes": 10_000,
}

TIMESTAMP = sa.Text().with_variant(sa.DateTime(timezone=True), "postgresql")
CUSTOMER_ID = sa.Text().with_variant(postgresql.UUID(as_uuid=False), "postgresql")


def upgrade() -> None:
    is_postgres = op.get_bind().dialect.name == "postgresql"
    key_columns: list[sa.Column[object]] = []
    key_constraint: sa.Constraint
    if is_postgres:
        key_constraint = sa.PrimaryKeyConstraint("organization_id", "id")
    else:
        # An explicit rowid keeps row numbers stable for the full-text index across VACUUM.
        key_columns.append(sa.Column("seq", sa.Integer, primary_key=True))
        key_constraint = sa.UniqueConstraint("organization_id", "id", name="customers_key")
    op.create_table(
        "customers",
        *key_columns,
        sa.Column("organization_id", sa.Text, nullable=False),
        sa.Column("id", CUSTOMER_ID, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_search", sa.Text, nullable=False),
        *(sa.Column(column, sa.Text) for column in OPTIONAL_COLUMNS),
        sa.Column("country_code", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        key_constraint,
        sa.CheckConstraint(
            "length(organization_id) BETWEEN 1 AND 255", name="organization_id_length"
        ),
        sa.CheckConstraint("trim(name) <> '' AND length(name) <= 255", name="name_not_blank"),
        *(
            sa.CheckConstraint(
                f"{column} <> '' AND length({column}) <= {limit}", name=f"{column}_length"
            )
            for column, limit in OPTIONAL_COLUMNS.items()
        ),
        sa.CheckConstraint(
            "length(country_code) = 2 AND upper(country_code) = country_code",
            name="country_code_alpha2",
        ),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )
    op.create_index(
        "customers_newest_first",
        "customers",
        ["organization_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    if is_postgres:
        _create_postgres_search_index()
    else:
        _create_sqlite_search_index()


def _create_postgres_search_index() -> None:
    # btree_gin lets the trigram index lead with organization_id like every other index.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        "CREATE INDEX customers_name_trigrams ON customers "
        "USING gin (organization_id, name_search gin_trgm_ops)"
    )


def _create_sqlite_search_index() -> None:
    # An external-content FTS5 trigram index over the folded names, kept current by triggers.
    op.execute(
        "CREATE VIRTUAL TABLE customer_names USING fts5("
        "name_search, content='customers', content_rowid='seq', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER customer_names_insert AFTER INSERT ON customers BEGIN "
        "INSERT INTO customer_names(rowid, name_search) VALUES (new.seq, new.name_search); END"
    )
    op.execute(
        "CREATE TRIGGER customer_names_update AFTER UPDATE OF name_search ON customers BEGIN "
        "INSERT INTO customer_names(customer_names, rowid, name_search) "
        "VALUES ('delete', old.seq, old.name_search); "
        "INSERT INTO customer_names(rowid, name_search) VALUES (new.seq, new.name_search); END"
    )
    op.execute(
        "CREATE TRIGGER customer_names_delete AFTER DELETE ON customers BEGIN "
        "INSERT INTO customer_names(customer_names, rowid, name_search) "
        "VALUES ('delete', old.seq, old.name_search); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE customer_names")
    op.drop_table("customers")
