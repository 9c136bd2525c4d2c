"""customer rules the validation code enforces, as database constraints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Stored strings are trimmed the way Python's str.strip() trims (so a blank name cannot be
stored either), hold no NUL (SQLite's length() stops at one, which let over-long values past
the length checks), and the values with a format keep it: emails have a local part and a
domain, websites a http(s) scheme, country codes two letters. On SQLite, where ids and
timestamps are text, those keep their canonical form too. PostgreSQL gets CHECK
constraints; SQLite cannot add them to a table, so triggers refuse the same rows there.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The characters str.isspace() accepts, frozen as of this revision.
WHITESPACE = (
    9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760,
    *range(8192, 8203), 8232, 8233, 8239, 8287, 12288,
)  # fmt: skip
TEXT_COLUMNS = (
    "name",
    "email",
    "phone",
    "website",
    "contact_person",
    "address_line1",
    "address_line2",
    "country",
    "city",
    "state",
    "postal_code",
    "tax_id",
    "notes",
    "country_code",
)
_HEX = "[0-9a-f]"
_DIGIT = "[0-9]"
SQLITE_UUID = "-".join(_HEX * n for n in (8, 4, 4, 4, 12))
SQLITE_TIMESTAMP = (
    f"{_DIGIT * 4}-{_DIGIT * 2}-{_DIGIT * 2}T{_DIGIT * 2}:{_DIGIT * 2}:{_DIGIT * 2}.{_DIGIT * 6}Z"
)

Column = Callable[[str], str]


def rules(is_postgres: bool, column: Column) -> dict[str, str]:
    """Each rule's name and condition; `column` spells a column in the rule's context."""
    if is_postgres:
        # One constant (a Unicode escape literal), not a chain of chr() calls that every
        # insert would have to fold again for each of the fifteen columns.
        spaces = "".join(f"\\{code:04X}" for code in WHITESPACE)
        trimmed = f"btrim({{}}, U&'{spaces}')"
    else:
        trimmed = f"trim({{}}, char({', '.join(map(str, WHITESPACE))}))"
    org = column("organization_id")
    found: dict[str, str] = {
        "organization_id_not_blank": f"{trimmed.format(org)} <> ''",
        **{
            f"{name}_trimmed": f"{column(name)} = {trimmed.format(column(name))}"
            for name in TEXT_COLUMNS
        },
        "email_address": f"{column('email')} LIKE '_%@_%'",
        "website_http": (
            f"lower(substr({column('website')}, 1, 7)) = 'http://' "
            f"OR lower(substr({column('website')}, 1, 8)) = 'https://'"
        ),
        "updated_after_created": f"{column('updated_at')} >= {column('created_at')}",
    }
    if is_postgres:
        found["country_code_letters"] = f"{column('country_code')} ~ '^[A-Z]{{2}}$'"
        return found
    found["country_code_letters"] = f"{column('country_code')} GLOB '[A-Z][A-Z]'"
    found["id_canonical"] = f"{column('id')} GLOB '{SQLITE_UUID}'"
    for name in ("created_at", "updated_at"):
        found[f"{name}_rfc3339"] = f"{column(name)} GLOB '{SQLITE_TIMESTAMP}'"
    for name in ("organization_id", "name_search", *TEXT_COLUMNS):
        found[f"{name}_no_nul"] = f"instr({column(name)}, char(0)) = 0"
    return found


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, condition in rules(True, lambda column: column).items():
            op.create_check_constraint(name, "customers", condition)
        return
    for event in ("insert", "update"):
        checks = " ".join(
            f"SELECT RAISE(ABORT, 'CHECK constraint failed: {name}') WHERE NOT ({condition});"
            for name, condition in rules(False, lambda column: f"new.{column}").items()
        )
        op.execute(
            f"CREATE TRIGGER customers_rules_{event} BEFORE {event.upper()} ON customers "
            f"BEGIN {checks} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in rules(True, lambda column: column):
            op.drop_constraint(name, "customers", type_="check")
        return
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER customers_rules_{event}")
