"""Minting tokens for tests: sessions with the app's secret, and helpers for forged ones."""

from __future__ import annotations

import time
from typing import Any

import jwt

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def session_token(org: str, user: str = "user-1", ttl: int = 3600, **extra: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user, "org_id": org, "iat": now, "exp": now + ttl}
    claims.update(extra)
    claims = {key: value for key, value in claims.items() if value is not None}
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
