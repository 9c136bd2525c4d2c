"""Session JWTs: HS256, signed with the deployment's own secret."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import jwt

from expensicat.auth.principal import (
    READ_SCOPE,
    WEBHOOKS_READ_SCOPE,
    WEBHOOKS_WRITE_SCOPE,
    WRITE_SCOPE,
    InvalidToken,
    Principal,
    organization_of,
    subject_of,
)

ALGORITHM = "HS256"
LEEWAY_SECONDS = 60
SESSION_SCOPES = frozenset({READ_SCOPE, WRITE_SCOPE, WEBHOOKS_READ_SCOPE, WEBHOOKS_WRITE_SCOPE})


class SessionTokens:
    def __init__(self, secret: str, issuer: str | None = None, audience: str | None = None):
        self._secret = secret
        self._issuer = issuer
        self._audience = audience

    def issue(
        self,
        organization_id: str,
        user_id: str,
        ttl_seconds: int,
        scopes: frozenset[str] | None = None,
    ) -> str:
        """A session token; with `scopes`, restricted to those (a `scope` claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "org_id": organization_id,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        if self._issuer is not None:
            claims["iss"] = self._issuer
        if self._audience is not None:
            claims["aud"] = self._audience
        if scopes is not None:
            claims["scope"] = " ".join(sorted(scopes))
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"The session token is invalid: {error}") from None
        return Principal(
            organization_id=organization_of(claims),
            subject=subject_of(claims),
            scopes=_scopes(claims),
            expires_at=float(claims["exp"]),
        )


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """Full access, unless the token names the scopes it is restricted to."""
    if "scope" not in claims:
        return SESSION_SCOPES
    scope = claims["scope"]
    if not isinstance(scope, str):
        raise InvalidToken("The token's scope claim must be a string.")
    return frozenset(scope.split()) & SESSION_SCOPES


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose from the session secret, so that a cursor signature is never a
    valid token signature, nor a sealing key anything else."""
    return hmac.new(secret.encode(), f"expensicat {purpose}".encode(), hashlib.sha256).digest()
