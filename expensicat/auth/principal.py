"""Who is calling, on behalf of which organization, allowed to do what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

READ_SCOPE = "invoices:read"
WRITE_SCOPE = "invoices:write"
WEBHOOKS_READ_SCOPE = "webhooks:read"
WEBHOOKS_WRITE_SCOPE = "webhooks:write"
# Writing includes reading.
SCOPES_THAT_GRANT = {
    READ_SCOPE: {READ_SCOPE, WRITE_SCOPE},
    WRITE_SCOPE: {WRITE_SCOPE},
    WEBHOOKS_READ_SCOPE: {WEBHOOKS_READ_SCOPE, WEBHOOKS_WRITE_SCOPE},
    WEBHOOKS_WRITE_SCOPE: {WEBHOOKS_WRITE_SCOPE},
}

MAX_ORGANIZATION_ID_LENGTH = 255


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, without echoing the token."""


@dataclass(frozen=True, slots=True)
class Principal:
    organization_id: str
    subject: str
    scopes: frozenset[str]
    expires_at: float
    # The OAuth2 client acting for the subject; None for a session (a user's own token).
    client_id: str | None = None

    def may(self, scope: str) -> bool:
        return not self.scopes.isdisjoint(SCOPES_THAT_GRANT[scope])


def organization_of(claims: dict[str, Any]) -> str:
    """The `org_id` claim, which every accepted token must carry."""
    organization_id = claims.get("org_id")
    if not isinstance(organization_id, str) or not organization_id.strip():
        raise InvalidToken("The token has no org_id claim.")
    if len(organization_id) > MAX_ORGANIZATION_ID_LENGTH:
        raise InvalidToken("The token's org_id claim is too long.")
    # Control characters, NUL and lone surrogates cannot be stored as the organization.
    if not organization_id.isprintable():
        raise InvalidToken("The token's org_id claim has characters that are not printable.")
    return organization_id


def subject_of(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("The token has no sub claim.")
    return subject
