"""A list request, parsed at the edge: page size, position, search, and which customers.

Every parameter is checked and every problem reported at once. A cursor is bound to the
whole query but its page size, spelled one way (`normalized`), so a cursor used with
another search, sort or choice of customers is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from expensicat.customers.fields import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH
from expensicat.customers.search import fold
from expensicat.customers.validation import NUL_MESSAGE
from expensicat.errors import ValidationFailed
from expensicat.paging import NEWEST_FIRST, InvalidCursor, Position

# "false": active customers only (the default), "true": archived ones only, "any": both.
ARCHIVED = ("false", "true", "any")
CURSOR_REFUSED = "Not a cursor this service issued for this query."


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int
    after: Position | None
    q: str
    archived: str = "false"
    sort: str = NEWEST_FIRST

    @property
    def search(self) -> str:
        """The search term as names are stored for it: folded."""
        return fold(self.q)

    @property
    def normalized(self) -> str:
        return normalized_query(self.q, self.archived, self.sort)


def normalized_query(q: str, archived: str = "false", sort: str = NEWEST_FIRST) -> str:
    """Everything a cursor is bound to, in one spelling."""
    return urlencode([("archived", archived), ("q", fold(q.strip())), ("sort", sort)])


def parse_list_query(
    params: Iterable[tuple[str, str]], read_cursor: Callable[[str, str], Position]
) -> ListQuery:
    """The list request from its (name, value) parameters; `read_cursor(cursor, normalized)`
    gives the position a cursor names, or raises InvalidCursor."""
    given = dict(params)
    problems: dict[str, list[str]] = {}
    limit = _limit(given.get("limit"), problems)
    q = _search(given.get("q", ""), problems)
    archived = given.get("archived", "false")
    if archived not in ARCHIVED:
        problems["archived"] = ["Must be false (the default), true or any."]
    after = None
    if given.get("cursor"):
        try:
            after = read_cursor(given["cursor"], normalized_query(q, archived))
        except InvalidCursor:
            problems["cursor"] = [CURSOR_REFUSED]
    if problems:
        raise ValidationFailed(problems)
    return ListQuery(limit=limit, after=after, q=q, archived=archived)


def _limit(raw: str | None, problems: dict[str, list[str]]) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE_SIZE:
        return int(raw)
    problems["limit"] = [f"Must be a whole number from 1 to {MAX_PAGE_SIZE}."]
    return 0


def _search(raw: str, problems: dict[str, list[str]]) -> str:
    # Counted as sent, before trimming, like every other length limit.
    messages = []
    if len(raw) > MAX_QUERY_LENGTH:
        messages.append(f"Must be at most {MAX_QUERY_LENGTH} characters.")
    q = raw.strip()
    if "\x00" in q:
        messages.append(NUL_MESSAGE)
    if messages:
        problems["q"] = messages
    return q
