"""Access tokens as RFC 9068 says (typ at+jwt), signed ES256 by joserfc with our newest
key; and the random secrets (codes, refresh tokens, client secrets) we keep as digests."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

from joserfc import jwt

from expensicat.oauth.keys import ALGORITHM, SigningKeys
from expensicat.oauth.records import Authorization

ACCESS_TOKEN_TYPE = "at+jwt"


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a random secret: guessing one from it is as hard as guessing the
    secret itself, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessTokenIssuer:
    def __init__(self, keys: SigningKeys, issuer: str, ttl_seconds: int) -> None:
        self._keys = keys
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds

    async def issue(self, authorization: Authorization, scope: str) -> str:
        kid, key = await self._keys.signer()
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            # The API is served under the issuer's own URL: the one audience there is.
            "aud": self.issuer,
            "sub": authorization.subject,
            "client_id": authorization.client_id,
            "scope": scope,
            "org_id": authorization.organization_id,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": kid}
        return jwt.encode(header, claims, key)
