"""OAuth2 access tokens (RFC 9068 JWTs), signed by an external authorization server (its
keys fetched from its JWKS) or by our own (its keys read from the database)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import httpx
import jwt

from expensicat.auth.principal import InvalidToken, Principal, organization_of, subject_of
from expensicat.ratelimit.gcra import MICROSECONDS, Policy, spend

ACCESS_TOKEN_TYPES = {"at+jwt", "application/at+jwt"}
ALGORITHMS = ["RS256", "ES256", "EdDSA"]
ASYMMETRIC_KEY_TYPES = {"RSA", "EC", "OKP"}
LEEWAY_SECONDS = 60
# An unknown `kid` triggers a refresh: a few back to back, so that a key rotated in just
# after the last fetch is found at once, then one every 12 s at most, so that forged
# tokens cannot turn us into a flood against the authorization server.
REFRESH_BURST = 5
REFRESH_POLICY = Policy(REFRESH_BURST, 12 * MICROSECONDS, REFRESH_BURST * 12 * MICROSECONDS)
FETCH_TIMEOUT_SECONDS = 5.0


class KeySource(Protocol):
    async def key(self, kid: str) -> jwt.PyJWK:
        """The public key named `kid`; InvalidToken if there is none."""


class KeysUnavailable(Exception):
    """The authorization server's JWKS could not be fetched."""


class JwksCache:
    """Signing keys by `kid`, fetched on first use and again when an unknown `kid` appears."""

    def __init__(self, url: str, policy: Policy = REFRESH_POLICY) -> None:
        self._url = url
        self._policy = policy
        self._keys: dict[str, jwt.PyJWK] = {}
        self._refreshes_full_at = 0  # when the refresh budget is full again (gcra's TAT)
        self._fetched_at = float("-inf")
        self._failed = False
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            await self._refresh(asked_at=time.monotonic())
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken("The token's signing key is unknown.") from None

    async def _refresh(self, asked_at: float) -> None:
        async with self._lock:
            if self._fetched_at >= asked_at:
                return  # fetched while this request waited: one fetch serves them all
            allowed, self._refreshes_full_at = spend(
                self._policy, self._refreshes_full_at, int(time.monotonic() * MICROSECONDS)
            )
            if not allowed:
                if self._failed:
                    raise KeysUnavailable("JWKS fetch failed, and retried too often to retry")
                return
            try:
                self._keys = await self._fetch()
            except KeysUnavailable:
                self._failed = True
                raise
            self._failed = False
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as client:
                response = await client.get(self._url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise KeysUnavailable(f"JWKS fetch failed: {type(error).__name__}") from None
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("kty") not in ASYMMETRIC_KEY_TYPES:
                continue
            try:
                keys[str(entry["kid"])] = jwt.PyJWK(entry)
            except (KeyError, jwt.PyJWKError):
                continue  # one bad key must not hide the good ones
        return keys


class AccessTokens:
    def __init__(self, jwks: KeySource, issuer: str, audience: str) -> None:
        self._jwks = jwks
        self.issuer = issuer
        self._audience = audience

    async def verify(self, token: str, header: dict[str, Any]) -> Principal:
        algorithm = header.get("alg")
        kid = header.get("kid")
        if algorithm not in ALGORITHMS:
            raise InvalidToken("Access tokens must be signed with RS256, ES256 or EdDSA.")
        if not isinstance(kid, str):
            raise InvalidToken("The access token has no kid header.")
        key = await self._jwks.key(kid)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"The access token is invalid: {error}") from None
        if not isinstance(claims.get("client_id"), str):
            raise InvalidToken("The access token has no client_id claim.")
        scope = claims.get("scope", "")
        return Principal(
            organization_id=organization_of(claims),
            subject=subject_of(claims),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            expires_at=float(claims["exp"]),
            client_id=claims["client_id"],
        )
