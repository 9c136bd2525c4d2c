"""One entry point for every bearer token: pick the right verifier, remember the answer."""

from __future__ import annotations

import time
from collections.abc import Sequence

import jwt

from expensicat.auth.oauth2 import ACCESS_TOKEN_TYPES, AccessTokens
from expensicat.auth.principal import InvalidToken, Principal
from expensicat.auth.session import SessionTokens

# Verified tokens are remembered so a busy client pays for the signature check once,
# not on every request. Entries are dropped when the token expires.
CACHE_SIZE = 10_000


class TokenVerifier:
    def __init__(self, sessions: SessionTokens, access_tokens: Sequence[AccessTokens]) -> None:
        """`access_tokens`: a verifier for each trusted authorization server (ours, and an
        external one if configured), told apart by the token's `iss`."""
        self._sessions = sessions
        self._access_tokens = {verifier.issuer: verifier for verifier in access_tokens}
        self._verified: dict[str, Principal] = {}

    async def verify(self, token: str) -> Principal:
        principal = self._verified.get(token)
        if principal is not None and principal.expires_at > time.time():
            return principal
        principal = await self._verify_signature(token)
        if len(self._verified) >= CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = principal
        return principal

    async def _verify_signature(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("The token is not a well-formed JWT.") from None
        # RFC 9068 marks access tokens with typ at+jwt; anything else can only be a session.
        if str(header.get("typ", "")).lower() in ACCESS_TOKEN_TYPES:
            return await self._access_tokens_of(token).verify(token, header)
        return self._sessions.verify(token)

    def _access_tokens_of(self, token: str) -> AccessTokens:
        """The verifier of the server the token names as its issuer; the signature, checked
        next with that server's keys, decides whether it really is."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            raise InvalidToken("The token is not a well-formed JWT.") from None
        verifier = self._access_tokens.get(issuer) if isinstance(issuer, str) else None
        if verifier is None:
            raise InvalidToken("The access token's issuer is not trusted here.")
        return verifier
