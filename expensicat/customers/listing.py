"""A list request, parsed at the edge: page size, position, search, filters and sort.

Every parameter is checked and every problem reported at once. A cursor is bound to the
whole query but its page size, spelled one way (`normalized`), so a cursor used with other
filters, another sort or another search is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from urllib.parse import urlencode

from expensicat.customers.fields import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH
from expensicat.customers.search import fold
from expensicat.customers.validation import COUNTRY_CODES, NUL_MESSAGE
from expensicat.errors import ValidationFailed
from expensicat.paging import NEWEST_FIRST, InvalidCursor, Position
from expensicat.timestamps import timestamp

# Each sort: the column it orders by (then by id, the same way), and whether descending.
SORTS: dict[str, tuple[str, bool]] = {
    "-created_at": ("created_at", True),
    "created_at": ("created_at", False),
    "name": ("name_search", False),
    "-name": ("name_search", True),
    "updated_at": ("updated_at", False),
    "-updated_at": ("updated_at", True),
}
ARCHIVED = ("false", "true", "any")
MAX_FILTER_LENGTH = 255
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
TIME_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")


@dataclass(frozen=True, slots=True)
class Filters:
    """What a listed customer must be; None: no condition."""

    # "false": active customers only (the default), "true": archived only, "any": both.
    archived: str = "false"
    email: str | None = None  # the whole address, lower-cased
    tax_id: str | None = None  # without spaces, upper-cased
    country_code: str | None = None
    created_after: str | None = None  # RFC 3339 UTC with microseconds, as stored
    created_before: str | None = None
    updated_after: str | None = None
    updated_before: str | None = None


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int
    after: Position | None
    q: str
    sort: str = NEWEST_FIRST
    filters: Filters = Filters()

    @property
    def search(self) -> str:
        """The search term as names are stored for it: folded."""
        return fold(self.q)

    @property
    def normalized(self) -> str:
        return normalized_query(self.q, self.sort, self.filters)


def normalized_query(q: str, sort: str = NEWEST_FIRST, filters: Filters = Filters()) -> str:
    """Everything a cursor is bound to, in one spelling: search, sort and filters."""
    given = {f.name: getattr(filters, f.name) for f in fields(filters)}
    pairs = sorted((name, value) for name, value in given.items() if value is not None)
    return urlencode([("q", fold(q.strip())), ("sort", sort), *pairs])


class _Problems:
    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.details.setdefault(name, []).append(message)


def parse_list_query(
    params: Iterable[tuple[str, str]], read_cursor: Callable[[str, str], Position]
) -> ListQuery:
    """The list request from its (name, value) parameters; `read_cursor(cursor, normalized)`
    gives the position a cursor names, or raises InvalidCursor."""
    given = dict(params)
    problems = _Problems()
    limit = _limit(given.get("limit"), problems)
    q = _search(given.get("q", ""), problems)
    sort = given.get("sort", NEWEST_FIRST)
    if sort not in SORTS:
        problems.add("sort", f"Must be one of {', '.join(SORTS)}.")
    filters = _filters(given, problems)
    after = None
    if given.get("cursor") and not problems.details:
        try:
            after = read_cursor(given["cursor"], normalized_query(q, sort, filters))
        except InvalidCursor:
            problems.add("cursor", "Not a cursor this service issued for this query.")
    elif given.get("cursor"):
        problems.add("cursor", "Not a cursor this service issued for this query.")
    if problems.details:
        raise ValidationFailed(problems.details)
    return ListQuery(limit=limit, after=after, q=q, sort=sort, filters=filters)


def _limit(raw: str | None, problems: _Problems) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE:
        return int(raw)
    problems.add("limit", f"Must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return 0


def _search(raw: str, problems: _Problems) -> str:
    # Counted as sent, before trimming, like every other length limit.
    if len(raw) > MAX_QUERY_LENGTH:
        problems.add("q", f"Must be at most {MAX_QUERY_LENGTH} characters.")
    q = raw.strip()
    if "\x00" in q:
        problems.add("q", NUL_MESSAGE)
    return q


def _filters(given: dict[str, str], problems: _Problems) -> Filters:
    archived = given.get("archived", "false")
    if archived not in ARCHIVED:
        problems.add("archived", "Must be false (the default), true or any.")
    text = {name: _text(name, given.get(name), problems) for name in ("email", "tax_id")}
    country = _text("country_code", given.get("country_code"), problems)
    if country is not None and country.upper() not in COUNTRY_CODES:
        problems.add("country_code", "Must be an ISO 3166-1 alpha-2 country code, such as DE.")
    times = {name: _moment(name, given.get(name), problems) for name in TIME_FILTERS}
    return Filters(
        archived=archived,
        email=None if text["email"] is None else text["email"].lower(),
        tax_id=None if text["tax_id"] is None else tax_id_key(text["tax_id"]),
        country_code=None if country is None else country.upper(),
        **times,
    )


def tax_id_key(tax_id: str) -> str:
    """A tax id as it is matched: without whitespace, in upper case."""
    return "".join(tax_id.split()).upper()


def _text(name: str, raw: str | None, problems: _Problems) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    if not value or len(raw) > MAX_FILTER_LENGTH or "\x00" in value:
        problems.add(name, f"Must be 1 to {MAX_FILTER_LENGTH} characters.")
        return None
    return value


def _moment(name: str, raw: str | None, problems: _Problems) -> str | None:
    """An RFC 3339 date-time, as the UTC timestamp customers' times are stored in."""
    if raw is None:
        return None
    match = _RFC3339.fullmatch(raw.strip())
    if match is None:
        hint = " (in a URL, write + as %2B)" if " " in raw.strip() else ""
        problems.add(name, f"Must be an RFC 3339 date-time, such as 2026-11-28T07:32:27Z{hint}.")
        return None
    day, time, fraction, offset = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{day}T{time}.{micro}{zone}")
    except ValueError:
        problems.add(name, "Must be a real date and time.")
        return None
    return timestamp(moment.astimezone(UTC))
