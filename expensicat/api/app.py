"""The application factory: settings in, a ready ASGI app out. The composition root: the
one place that knows every feature, and hands each component what it needs."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from expensicat.api import health
from expensicat.api.cors import cors
from expensicat.api.docs import docs_routes
from expensicat.api.endpoint import Endpoint, routes
from expensicat.api.errors import (
    DOMAIN_ERRORS,
    ApiError,
    handle_api_error,
    handle_domain_error,
    handle_http_exception,
)
from expensicat.api.metrics import (
    Metrics,
    listen_apart,
    metrics_route,
    watching,
)
from expensicat.api.middleware import (
    CloseAfterUnreadBody,
    ErrorAnswers,
    RequestContextMiddleware,
)
from expensicat.api.openapi import build_openapi
from expensicat.api.ratelimit import RateLimitHeaders
from expensicat.api.shared import Shared
from expensicat.auth.oauth2 import AccessTokens, JwksCache
from expensicat.auth.session import SessionTokens, derive_key
from expensicat.auth.verifier import TokenVerifier
from expensicat.background import worker as background
from expensicat.changes import http as changes_http
from expensicat.changes.feed import ChangeFeed
from expensicat.config import OAuth2Settings, SessionSettings, Settings
from expensicat.customers import http as customers_http
from expensicat.customers.schemas import customer_schemas
from expensicat.customers.service import CustomerService
from expensicat.db import open_store
from expensicat.identity import http as identity_http
from expensicat.identity.cookies import BrowserSessions
from expensicat.identity.passwords import Passwords
from expensicat.identity.service import IdentityService
from expensicat.identity.throttle import SignInThrottle
from expensicat.logs import configure_logging
from expensicat.oauth import http as oauth_http
from expensicat.oauth.keys import SigningKeys
from expensicat.oauth.service import AuthorizationServer
from expensicat.oauth.tokens import AccessTokenIssuer
from expensicat.paging import CursorSigner
from expensicat.ratelimit import BUCKETS_FILE_NAME, build_limiter
from expensicat.sealing import Sealer
from expensicat.timestamps import utc_now
from expensicat.webhooks import http as webhooks_http
from expensicat.webhooks.delivery import Sender
from expensicat.webhooks.dispatch import Dispatcher
from expensicat.webhooks.service import WebhookService

logger = logging.getLogger("expensicat")

# The feed's path comes before /customers/{id}, which would take it.
ENDPOINTS: tuple[Endpoint, ...] = (
    *changes_http.ENDPOINTS,
    *customers_http.ENDPOINTS,
    *webhooks_http.ENDPOINTS,
    *identity_http.ENDPOINTS,
    *oauth_http.ENDPOINTS,
    *health.ENDPOINTS,
)


def schemas(settings: Settings) -> dict[str, Any]:
    """The document's schemas; what a webhook URL may be depends on the settings."""
    return {
        **customer_schemas(),
        **changes_http.change_schemas(),
        **webhooks_http.webhook_schemas(settings.webhooks.allow_http),
        **identity_http.SCHEMAS,
        **oauth_http.SCHEMAS,
        **health.SCHEMAS,
    }


def create_app(settings: Settings) -> Starlette:
    limiter = build_limiter(settings.rate_limit, settings.data_dir / BUCKETS_FILE_NAME)
    metrics = Metrics() if settings.metrics.enabled else None
    apart = settings.metrics.address
    duties = [] if metrics is None or apart is None else [partial(listen_apart, apart, metrics)]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Whatever started is released, in reverse, however far the start got.
        async with AsyncExitStack() as started:
            store = await open_store(settings.database)
            started.push_async_callback(store.close)
            if limiter is not None:
                await limiter.open()
                started.push_async_callback(limiter.close)
            secret = settings.resolve_session_secret()
            sealer = Sealer(derive_key(secret, "sealing"))
            authorization = settings.authorization_server
            keys = SigningKeys(store.oauth, sealer, authorization.access_token_ttl_seconds)
            own_tokens = AccessTokens(keys, authorization.issuer, authorization.issuer)
            app.state.shared = Shared(
                verifier=build_verifier(settings.session, settings.oauth2, secret, own_tokens),
                limiter=limiter,
                keys=store,
                max_body_bytes=settings.http.max_body_bytes,
                metrics=metrics,
            )
            app.state.oauth = oauth_http.OAuthParts(
                AuthorizationServer(
                    store.oauth,
                    AccessTokenIssuer(
                        keys, authorization.issuer, authorization.access_token_ttl_seconds
                    ),
                    own_tokens,
                    timedelta(days=authorization.refresh_token_ttl_days),
                ),
                keys,
                authorization.issuer,
            )
            app.state.database = store
            app.state.sign_in = identity_http.SignInParts(
                IdentityService(store.identity, Passwords(), SignInThrottle()),
                SessionTokens(secret, settings.session.issuer, settings.session.audience),
                BrowserSessions(secret),
            )
            cursors = CursorSigner(derive_key(secret, "cursor"))
            app.state.customers = CustomerService(store, cursors)
            app.state.changes = ChangeFeed(store, cursors, settings.changes.retention)
            sender = Sender(settings.webhooks.networks, settings.webhooks.timeout_seconds)
            started.push_async_callback(sender.close)
            app.state.webhooks = WebhookService(
                store.webhooks, sealer, sender, cursors, settings.webhooks.allow_http
            )
            dispatcher = None
            if settings.webhooks.worker:
                dispatcher = Dispatcher(store.webhooks, sender, sealer, settings.webhooks.policy)
            await started.enter_async_context(
                background.in_process(
                    settings.data_dir, store, settings.changes.retention, duties, dispatcher
                )
            )
            if metrics is not None:
                webhooks = store.webhooks
                await started.enter_async_context(
                    watching(metrics, store, lambda: webhooks.backlog(utc_now()))
                )
            # Everything loaded so far lives as long as the process: keep the collector off it.
            gc.freeze()
            logger.info("Application startup complete")
            yield
        logger.info("Application shutdown complete")

    app = _Service(
        routes=[
            *routes(ENDPOINTS),
            *identity_http.ROUTES,
            *oauth_http.ROUTES,
            *docs_routes(build_openapi(ENDPOINTS, schemas(settings))),
            *([metrics_route(metrics)] if metrics is not None and apart is None else []),
        ],
        middleware=_middleware(settings, limiter is not None, metrics),
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


class _Service(Starlette):
    """Starlette, with our error layers in place of its own two: RequestContextMiddleware
    turns a crash into a 500, and ErrorAnswers answers what routes raise."""

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = ErrorAnswers(self.router, self.exception_handlers)
        for middleware in reversed(self.user_middleware):
            app = middleware.cls(app, *middleware.args, **middleware.kwargs)
        return app


def _middleware(settings: Settings, limited: bool, metrics: Metrics | None) -> list[Middleware]:
    """Outermost first. Budget headers sit outside the request context middleware, so that
    even the 500 it writes carries the budget."""
    return [
        *cors(settings.http.allowed_origins, ENDPOINTS),
        Middleware(CloseAfterUnreadBody),
        *([Middleware(RateLimitHeaders)] if limited else []),
        Middleware(RequestContextMiddleware, metrics=metrics),
    ]


def create_app_from_env() -> Starlette:
    """The entry point server processes use: settings come from the environment."""
    settings = Settings.from_env()
    configure_logging(settings.log)
    return create_app(settings)


def build_verifier(
    session: SessionSettings, oauth2: OAuth2Settings, secret: str, own: AccessTokens
) -> TokenVerifier:
    """Session tokens, our own access tokens, and an external server's if one is set."""
    sessions = SessionTokens(secret, session.issuer, session.audience)
    access_tokens = [own]
    if oauth2.jwks_url and oauth2.issuer and oauth2.audience:
        external = AccessTokens(JwksCache(oauth2.jwks_url), oauth2.issuer, oauth2.audience)
        access_tokens.insert(0, external)
    return TokenVerifier(sessions, access_tokens)
