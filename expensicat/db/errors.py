"""Database failures the HTTP layer answers with 503 rather than 500."""

from __future__ import annotations

import logging

_log = logging.getLogger("expensicat.db")


class DatabaseUnavailable(Exception):
    """The database cannot be reached or did not answer in time."""


def unavailable(cause: BaseException) -> DatabaseUnavailable:
    """The error to raise for `cause`, logged here so that every 503 has its reason on record."""
    _log.warning("database unavailable: %r", cause)
    return DatabaseUnavailable(type(cause).__name__)
