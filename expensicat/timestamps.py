"""The one timestamp format: RFC 3339 UTC with microseconds, e.g. 2026-11-28T07:16:53.123456Z.

Fixed width, so timestamps sort as text, which is how SQLite stores and compares them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """`moment` in UTC, in FORMAT, the year always in four digits (strftime drops the
    leading zeros of years before 1000)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_moment(raw: str) -> str:
    """An RFC 3339 date-time given by a client, as a timestamp in FORMAT; ValueError with a
    message for the client otherwise."""
    match = _RFC3339.fullmatch(raw.strip())
    if match is None:
        # A + left unencoded in a URL arrives as a space.
        hint = " (in a URL, write + as %2B)" if " " in raw.strip() else ""
        raise ValueError(f"Must be an RFC 3339 date-time, such as 2026-11-28T07:32:27Z{hint}.")
    day, time, fraction, offset = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{day}T{time}.{micro}{zone}").astimezone(UTC)
    except (ValueError, OverflowError):  # no such day, or past year 1 or 9999 in UTC
        raise ValueError("Must be a real date and time, from year 1 to 9999 in UTC.") from None
    return timestamp(moment)
