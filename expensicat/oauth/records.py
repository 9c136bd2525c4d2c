"""What the authorization server keeps: clients, codes, grants, refresh tokens and keys.
Timestamps are text in the one format of expensicat.timestamps."""

from __future__ import annotations

from dataclasses import dataclass

from expensicat.auth.principal import (
    READ_SCOPE,
    WEBHOOKS_READ_SCOPE,
    WEBHOOKS_WRITE_SCOPE,
    WRITE_SCOPE,
)

OFFLINE_ACCESS = "offline_access"
# Every scope a client may ask for, in the words the consent page shows a person.
SCOPES = {
    READ_SCOPE: "Read your organization's customers",
    WRITE_SCOPE: "Create, change, archive and erase your organization's customers",
    WEBHOOKS_READ_SCOPE: "See the webhook endpoints that receive your customer changes",
    WEBHOOKS_WRITE_SCOPE: "Add, change and remove webhook endpoints",
    OFFLINE_ACCESS: "Keep this access while you are away, until it is revoked",
}


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    redirect_uris: tuple[str, ...]
    # The client_credentials organization of a confidential client; None otherwise.
    organization_id: str | None
    created_at: str
    # SHA-256 of the secret; None for a public client.
    secret_hash: str | None = None

    @property
    def confidential(self) -> bool:
        return self.secret_hash is not None


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a person allowed a client: who, in which organization, to do what."""

    client_id: str
    organization_id: str
    subject: str
    scope: str


@dataclass(frozen=True, slots=True)
class Code:
    code_hash: str
    authorization: Authorization
    redirect_uri: str
    code_challenge: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class RefreshToken:
    token_hash: str
    grant_id: str
    authorization: Authorization
    expires_at: str
    used_at: str | None = None
    revoked: bool = False  # its grant was revoked


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    sealed_private_key: str
    public_key: str  # the public JWK, as JSON
    created_at: str
