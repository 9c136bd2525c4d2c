"""The application factory: settings in, a ready ASGI app out."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from expensicat.api.docs import docs_routes
from expensicat.api.errors import (
    DOMAIN_ERRORS,
    ApiError,
    handle_api_error,
    handle_domain_error,
    handle_http_exception,
)
from expensicat.api.middleware import CloseAfterUnreadBody, RequestContextMiddleware
from expensicat.api.ratelimit import RateLimitMiddleware
from expensicat.api.routes import Services, routes
from expensicat.auth.oauth2 import AccessTokens, JwksCache
from expensicat.auth.session import SessionTokens
from expensicat.auth.verifier import TokenVerifier
from expensicat.config import OAuth2Settings, SessionSettings, Settings
from expensicat.customers.cursor import CursorSigner
from expensicat.customers.service import CustomerService
from expensicat.db import open_store
from expensicat.db.errors import DatabaseUnavailable
from expensicat.logs import configure_logging
from expensicat.ratelimit import BUCKETS_FILE_NAME, build_limiter

HOUSEKEEPING_INTERVAL_SECONDS = 3600
logger = logging.getLogger("expensicat")


def create_app(settings: Settings) -> Starlette:
    limiter = build_limiter(settings.rate_limit, settings.data_dir / BUCKETS_FILE_NAME)
    # Outside the request context middleware, so that even the 500 it writes carries the budget.
    middleware = [] if limiter is None else [Middleware(RateLimitMiddleware, limiter=limiter)]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store(settings.database)
        if limiter is not None:
            await limiter.open()
        secret = settings.resolve_session_secret()
        app.state.services = Services(
            customers=CustomerService(store, CursorSigner(_derive_key(secret, "cursor"))),
            verifier=build_verifier(settings.session, settings.oauth2, secret),
            store=store,
            max_body_bytes=settings.http.max_body_bytes,
        )
        housekeeping = asyncio.create_task(_forget_expired_keys(app.state.services.customers))
        # Everything loaded so far lives as long as the process: keep the collector off it.
        gc.freeze()
        logger.info("Application startup complete")
        try:
            yield
        finally:
            housekeeping.cancel()
            await store.close()
            if limiter is not None:
                await limiter.close()
            logger.info("Application shutdown complete")

    app = Starlette(
        routes=[*routes, *docs_routes()],
        middleware=[
            Middleware(CloseAfterUnreadBody),
            *middleware,
            Middleware(RequestContextMiddleware),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            **dict.fromkeys(DOMAIN_ERRORS, handle_domain_error),
        },
        lifespan=lifespan,
    )
    # Paths are exact: "/api/v1/customers/" is no route (a 404), not a redirect.
    app.router.redirect_slashes = False
    return app


def create_app_from_env() -> Starlette:
    """The entry point server processes use: settings come from the environment."""
    settings = Settings.from_env()
    configure_logging(settings.log.level)
    return create_app(settings)


def build_verifier(session: SessionSettings, oauth2: OAuth2Settings, secret: str) -> TokenVerifier:
    sessions = SessionTokens(secret, session.issuer, session.audience)
    access_tokens = None
    if oauth2.jwks_url and oauth2.issuer and oauth2.audience:
        access_tokens = AccessTokens(JwksCache(oauth2.jwks_url), oauth2.issuer, oauth2.audience)
    return TokenVerifier(sessions, access_tokens)


async def _forget_expired_keys(customers: CustomerService) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_SECONDS)
        try:
            await customers.forget_expired_keys()
        except DatabaseUnavailable:
            logger.warning("could not purge expired idempotency keys: database unavailable")


def _derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, so that a cursor signature is never a valid token signature."""
    return hmac.new(secret.encode(), f"expensicat {purpose}".encode(), hashlib.sha256).digest()
