"""The browser session: a cookie that the sign-in page sets and the consent page reads,
and the CSRF tokens bound to it.

The cookie holds a short HS256 JWT signed with a key of its own (derived from the session
secret), so it is never a bearer token the API accepts, nor an API token a cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from expensicat.auth.principal import InvalidToken, Principal
from expensicat.auth.session import SessionTokens, derive_key

COOKIE = "expensicat_session"
TTL_SECONDS = 8 * 3600
# A random value the sign-in page leaves in the browser, which its form must echo (as a
# MAC): another site cannot post the form with its own credentials to sign a victim in
# as the attacker (login CSRF), since a cross-site POST does not carry this cookie.
SIGNIN_COOKIE = "expensicat_signin"
SIGNIN_TTL_SECONDS = 3600
# Where a cookie without the Secure flag is still safe: the browser and server share a host.
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class BrowserSessions:
    def __init__(self, secret: str) -> None:
        self._tokens = SessionTokens(derive_key(secret, "browser session").hex())
        self._csrf_key = derive_key(secret, "csrf")

    def signed_in(self, request: Request) -> Principal | None:
        """The user signed in on this browser, and the organization they chose; None if
        no one is (or the cookie is expired or forged)."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            return self._tokens.verify(cookie)
        except InvalidToken:
            return None

    def start(self, request: Request, response: Response, user_id: str, organization: str) -> None:
        cookie = self._tokens.issue(organization, user_id, TTL_SECONDS)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=TTL_SECONDS,
            path="/",
            httponly=True,
            secure=_secure(request),
            samesite="lax",
        )

    def end(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, secure=_secure(request), samesite="lax"
        )

    def csrf_token(self, request: Request) -> str:
        """A token that only a page served to this browser session can know."""
        return self._mac("consent", request.cookies.get(COOKIE, ""))

    def csrf_holds(self, request: Request, token: str) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(request), token)

    def signin_nonce(self, request: Request) -> str:
        """The browser's sign-in nonce, or a new one (to `remember` in the answer)."""
        return request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(32)

    def remember(self, request: Request, response: Response, nonce: str) -> None:
        response.set_cookie(
            SIGNIN_COOKIE,
            nonce,
            max_age=SIGNIN_TTL_SECONDS,
            path="/signin",
            httponly=True,
            secure=_secure(request),
            samesite="lax",
        )

    def signin_token(self, nonce: str) -> str:
        return self._mac("signin", nonce)

    def signin_token_holds(self, request: Request, token: str) -> bool:
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        return bool(nonce and token) and hmac.compare_digest(self.signin_token(nonce), token)

    def _mac(self, purpose: str, value: str) -> str:
        message = f"{purpose} {value}".encode()
        digest = hmac.new(self._csrf_key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _secure(request: Request) -> bool:
    """Secure everywhere but on the loopback host, where plain http is how one develops."""
    return (request.url.hostname or "") not in LOOPBACK_HOSTS
