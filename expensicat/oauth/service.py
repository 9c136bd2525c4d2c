"""The authorization server's rules (OAuth 2.1, RFC 9700), independent of HTTP: which
authorization requests stand, and what each grant exchanges for what."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import uuid_utils
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from expensicat.auth.oauth2 import AccessTokens
from expensicat.auth.principal import InvalidToken
from expensicat.oauth.records import (
    OFFLINE_ACCESS,
    SCOPES,
    Authorization,
    Client,
    Code,
    RefreshToken,
)
from expensicat.oauth.store import OAuthStore, Successor
from expensicat.oauth.tokens import AccessTokenIssuer, digest, new_secret
from expensicat.timestamps import timestamp, utc_now

CODE_TTL = timedelta(seconds=60)
# RFC 7636 section 4.1: 43 to 128 unreserved characters.
CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
API_SCOPES = frozenset(SCOPES) - {OFFLINE_ACCESS}


class OAuthError(Exception):
    """An error as RFC 6749 names them (`invalid_grant`, ...), with a description."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class UntrustedRedirect(Exception):
    """No client by that id, or a redirect URI it did not register: the browser must not be
    sent there (RFC 6749 section 4.1.2.1), so the error is shown instead."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    scope: str
    state: str | None
    code_challenge: str


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            answer["refresh_token"] = self.refresh_token
        return answer


class AuthorizationServer:
    def __init__(
        self,
        store: OAuthStore,
        access_tokens: AccessTokenIssuer,
        verifier: AccessTokens,
        refresh_ttl: timedelta,
    ) -> None:
        self._store = store
        self._access_tokens = access_tokens
        self._verifier = verifier
        self._refresh_ttl = refresh_ttl

    async def redirect_target(self, client_id: str, redirect_uri: str) -> Client:
        """The client, if `redirect_uri` is one it registered, exactly; UntrustedRedirect
        otherwise."""
        client = await self._client(client_id)
        if client is None or redirect_uri not in client.redirect_uris:
            raise UntrustedRedirect
        return client

    async def authorization_request(self, params: dict[str, str]) -> AuthorizationRequest:
        """The request, checked; UntrustedRedirect, or OAuthError to send back to the
        client's redirect URI."""
        client = await self.redirect_target(
            params.get("client_id", ""), params.get("redirect_uri", "")
        )
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "Only response_type=code is served.")
        if params.get("code_challenge_method") != "S256":
            raise OAuthError(
                "invalid_request", "PKCE is required, with code_challenge_method=S256."
            )
        challenge = params.get("code_challenge", "")
        if not CODE_CHALLENGE.fullmatch(challenge):
            raise OAuthError("invalid_request", "code_challenge must be a S256 challenge.")
        return AuthorizationRequest(
            client=client,
            redirect_uri=params["redirect_uri"],
            scope=_scope(params.get("scope"), frozenset(SCOPES)),
            state=params.get("state"),
            code_challenge=challenge,
        )

    async def issue_code(
        self, request: AuthorizationRequest, organization_id: str, subject: str
    ) -> str:
        code = new_secret()
        authorization = Authorization(request.client.id, organization_id, subject, request.scope)
        await self._store.insert_code(
            Code(
                code_hash=digest(code),
                authorization=authorization,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
                expires_at=timestamp(utc_now() + CODE_TTL),
            )
        )
        return code

    async def authenticate(self, client_id: str, secret: str | None) -> Client:
        """The calling client: a confidential one must prove its secret, a public one
        must not claim one."""
        client = await self._client(client_id)
        if client is None:
            raise _invalid_client()
        if client.secret_hash is None:
            if secret is not None:
                raise _invalid_client()
        elif secret is None or not hmac.compare_digest(client.secret_hash, digest(secret)):
            raise _invalid_client()
        return client

    async def exchange_code(
        self, client: Client, code: str, redirect_uri: str, verifier: str
    ) -> Tokens:
        now = timestamp(utc_now())
        code_hash = digest(code)
        grant_id = str(uuid_utils.uuid7())
        found = await self._store.use_code(code_hash, grant_id, now)
        if found is None:
            # Used before: whatever that use was given is revoked (RFC 9700 section 4.5).
            await self._store.revoke_grants_of_code(code_hash, now)
            raise OAuthError("invalid_grant", "The code is unknown or was used already.")
        if found.authorization.client_id != client.id:
            raise OAuthError("invalid_grant", "The code was issued to another client.")
        if found.expires_at <= now:
            raise OAuthError("invalid_grant", "The code has expired.")
        if redirect_uri != found.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization's.")
        if not CODE_VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
            create_s256_code_challenge(verifier), found.code_challenge
        ):
            raise OAuthError("invalid_grant", "The code_verifier does not match the challenge.")
        return await self._granted(found.authorization, grant_id)

    async def refresh(self, client: Client, refresh_token: str, scope: str | None) -> Tokens:
        old_hash = digest(refresh_token)
        if scope is not None:
            # Only a narrower scope may be asked for: checked before the token is spent (an
            # unknown token is left for the rotation below to refuse).
            existing = await self._store.refresh_token(old_hash)
            if existing is not None:
                scope = _scope(scope, frozenset(existing.authorization.scope.split()))
        new = new_secret()
        now = utc_now()
        successor = Successor(digest(new), timestamp(now + self._refresh_ttl))
        authorization = await self._store.rotate_refresh_token(
            old_hash, client.id, successor, timestamp(now)
        )
        if authorization is None:
            await self._revoke_if_reused(old_hash, client)
            raise OAuthError("invalid_grant", "The refresh token is unknown, used or revoked.")
        scope = scope or authorization.scope
        access_token = await self._access_tokens.issue(authorization, scope)
        return Tokens(access_token, self._access_tokens.ttl_seconds, scope, new)

    async def client_credentials(self, client: Client, scope: str | None) -> Tokens:
        if client.secret_hash is None or client.organization_id is None:
            raise OAuthError(
                "unauthorized_client",
                "client_credentials is for confidential clients bound to an organization.",
            )
        granted = _scope(scope, API_SCOPES)
        authorization = Authorization(client.id, client.organization_id, client.id, granted)
        access_token = await self._access_tokens.issue(authorization, granted)
        return Tokens(access_token, self._access_tokens.ttl_seconds, granted)

    async def revoke(self, client: Client, token: str) -> None:
        """RFC 7009: a refresh token revokes its whole grant. Access tokens are not kept, so
        they run out on their own, within their short lifetime."""
        found = await self._store.refresh_token(digest(token))
        if found is not None and found.authorization.client_id == client.id:
            await self._store.revoke_grant(found.grant_id, timestamp(utc_now()))

    async def introspect(self, client: Client, token: str) -> dict[str, Any]:
        """RFC 7662, for the client's own tokens; anything else is simply inactive."""
        if client.secret_hash is None:
            raise _invalid_client("Only confidential clients may introspect tokens.")
        found = await self._store.refresh_token(digest(token))
        if found is not None:
            return _refresh_state(found, client)
        try:
            principal = await self._verifier.verify(token, jwt.get_unverified_header(token))
        except (InvalidToken, jwt.InvalidTokenError):
            return {"active": False}
        if principal.client_id != client.id:
            return {"active": False}
        return {
            "active": True,
            "token_type": "Bearer",
            "client_id": principal.client_id,
            "sub": principal.subject,
            "org_id": principal.organization_id,
            "scope": " ".join(sorted(principal.scopes)),
            "exp": int(principal.expires_at),
        }

    async def _client(self, client_id: str) -> Client | None:
        # An id with NUL, which no database compares as text, names no client.
        if not client_id or "\x00" in client_id:
            return None
        return await self._store.client(client_id)

    async def _granted(self, authorization: Authorization, grant_id: str) -> Tokens:
        """The tokens of a new grant: a refresh token too if offline access was granted."""
        refresh_token = None
        if OFFLINE_ACCESS in authorization.scope.split():
            refresh_token = new_secret()
            expires = timestamp(utc_now() + self._refresh_ttl)
            await self._store.insert_refresh_token(
                RefreshToken(digest(refresh_token), grant_id, authorization, expires)
            )
        access_token = await self._access_tokens.issue(authorization, authorization.scope)
        return Tokens(
            access_token, self._access_tokens.ttl_seconds, authorization.scope, refresh_token
        )

    async def _revoke_if_reused(self, token_hash: str, client: Client) -> None:
        """A refresh token presented after it was exchanged was stolen, or its successor
        was: the whole family is revoked (RFC 9700 section 4.14.2)."""
        found = await self._store.refresh_token(token_hash)
        if (
            found is not None
            and found.used_at is not None
            and found.authorization.client_id == client.id
        ):
            await self._store.revoke_grant(found.grant_id, timestamp(utc_now()))


def _scope(asked: str | None, allowed: frozenset[str]) -> str:
    """The scopes asked for, if every one is allowed, in a canonical order."""
    wanted = (asked or "").split()
    if not wanted:
        raise OAuthError("invalid_scope", "Name the scopes wanted, in scope.")
    unknown = sorted(set(wanted) - allowed)
    if unknown:
        raise OAuthError(
            "invalid_scope", f"Not a scope that can be granted here: {' '.join(unknown)}."
        )
    return " ".join(sorted(set(wanted)))


def _refresh_state(found: RefreshToken, client: Client) -> dict[str, Any]:
    authorization = found.authorization
    active = (
        authorization.client_id == client.id
        and found.used_at is None
        and not found.revoked
        and found.expires_at > timestamp(utc_now())
    )
    if not active:
        return {"active": False}
    return {
        "active": True,
        "token_type": "refresh_token",
        "client_id": authorization.client_id,
        "sub": authorization.subject,
        "org_id": authorization.organization_id,
        "scope": authorization.scope,
    }


def _invalid_client(description: str = "Client authentication failed.") -> OAuthError:
    return OAuthError("invalid_client", description, 401)
