"""Outside programs the tests start for real (PostgreSQL, PgBouncer, redis-server)."""

from __future__ import annotations

import os
from typing import TypeVar

import pytest

T = TypeVar("T")


def required(found: T | None, missing: str) -> T:
    """What was found; when nothing was, a failure under CI, where every part must be there,
    and a skip on a workstation that lacks it."""
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return found
