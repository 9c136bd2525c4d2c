"""identity: users and their organizations, OAuth2 clients, grants, codes and signing keys

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

Secrets are never stored as they were given: passwords as argon2id hashes, client secrets,
authorization codes and refresh tokens as SHA-256 digests (they are random and long, so a
digest is as good as a slow hash for them), private signing keys sealed (AES-GCM).

A grant is what one consent (or one client_credentials exchange) gave a client: every
refresh token descends from it, so revoking the grant revokes the whole family, and the
code it came from names it, so a code used twice revokes what the first use issued.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMP = sa.Text().with_variant(sa.DateTime(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text, primary_key=True),
        # Lower-cased, so that an address signs in however it is typed.
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled_at", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("organization_id", sa.Text, primary_key=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        # NULL for a public client, which has no secret.
        sa.Column("secret_hash", sa.Text),
        # A JSON array, matched exactly.
        sa.Column("redirect_uris", sa.Text, nullable=False),
        # The one organization a confidential client acts for with client_credentials.
        sa.Column("organization_id", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("organization_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("code_hash", sa.Text),
        sa.Column("revoked_at", TIMESTAMP),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("oauth_grants_by_code", "oauth_grants", ["code_hash"])
    op.create_table(
        "oauth_codes",
        sa.Column("code_hash", sa.Text, primary_key=True),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("code_challenge", sa.Text, nullable=False),
        sa.Column("organization_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP),
    )
    op.create_index("oauth_codes_by_expiry", "oauth_codes", ["expires_at"])
    # Each row carries what its grant gave, so that a rotation is one statement.
    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("grant_id", sa.Text, nullable=False),
        sa.Column("client_id", sa.Text, nullable=False),
        sa.Column("organization_id", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        # Set when the token is exchanged: presented again, it revokes its grant.
        sa.Column("used_at", TIMESTAMP),
    )
    op.create_index("oauth_refresh_tokens_by_grant", "oauth_refresh_tokens", ["grant_id"])
    op.create_table(
        "oauth_signing_keys",
        sa.Column("kid", sa.Text, primary_key=True),
        # The private JWK, sealed with the key id as its context.
        sa.Column("private_key", sa.Text, nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "oauth_signing_keys",
        "oauth_refresh_tokens",
        "oauth_codes",
        "oauth_grants",
        "oauth_clients",
        "memberships",
        "users",
    ):
        op.drop_table(table)
