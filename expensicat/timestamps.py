"""The one timestamp format: RFC 3339 UTC with microseconds, e.g. 2026-11-28T07:16:53.123456Z.

Fixed width, so timestamps sort as text, which is how SQLite stores and compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """`moment` in UTC, in FORMAT, the year always in four digits (strftime drops the
    leading zeros of years before 1000)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
