"""What the authorization server needs from storage; the database layer provides it.
Secrets arrive here hashed (client secrets, codes, refresh tokens) or sealed (keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from expensicat.oauth.records import Authorization, Client, Code, RefreshToken, SigningKey


@dataclass(frozen=True, slots=True)
class Successor:
    """A refresh token to replace another: its grant and authorization are its
    predecessor's, taken over in the store."""

    token_hash: str
    expires_at: str


class OAuthStore(Protocol):
    async def insert_client(self, client: Client) -> None: ...

    async def client(self, client_id: str) -> Client | None: ...

    async def clients(self) -> list[Client]: ...

    async def delete_client(self, client_id: str) -> bool: ...

    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool:
        """Replace a confidential client's secret; False if there is no such client."""

    async def insert_code(self, code: Code) -> None: ...

    async def use_code(self, code_hash: str, grant_id: str, now: str) -> Code | None:
        """Mark the code used, record the grant `grant_id` it makes, and return it; None if
        it is unknown or was used already."""

    async def revoke_grants_of_code(self, code_hash: str, now: str) -> None:
        """A code presented twice: revoke whatever its first use was given."""

    async def insert_refresh_token(self, token: RefreshToken) -> None: ...

    async def rotate_refresh_token(
        self, old_hash: str, client_id: str, new: Successor, now: str
    ) -> Authorization | None:
        """Use the old token (once, unexpired, of this client, its grant not revoked) and
        store the new one with the same grant, in one unit of work; None if it cannot be."""

    async def refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    async def revoke_grant(self, grant_id: str, now: str) -> None: ...

    async def revoke_grants_of_subject(self, subject: str, now: str) -> None:
        """Revoke everything granted on behalf of the user (or client) `subject`."""

    async def insert_signing_key(self, key: SigningKey) -> None: ...

    async def signing_keys(self) -> list[SigningKey]:
        """Every signing key, oldest first."""
