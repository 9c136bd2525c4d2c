"""The changes feed: an organization's changes in order, read with a cursor that always
points somewhere to poll from, and refused only once changes after it were purged."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from expensicat.changes.records import ChangeJson
from expensicat.changes.store import START, ChangeStore, Place
from expensicat.errors import Expired, ValidationFailed
from expensicat.paging import CursorSigner, InvalidCursor, page_size
from expensicat.timestamps import timestamp, utc_now

DEFAULT_FEED_PAGE = 100
MAX_FEED_PAGE = 100
# What a feed cursor is bound to: no other query takes it, and it takes no other.
FEED_QUERY = "changes"
FROM = ("now",)


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Where a reader stands: a place, and the moment up to which it has seen every change
    (its last change's time, or the time of the read that took it to the horizon)."""

    place: Place
    seen_until: str

    def text(self) -> str:
        return f"feed|{self.place[0]}|{self.place[1]}|{self.seen_until}"

    @classmethod
    def from_text(cls, text: str) -> FeedCursor:
        kind, tx, seq, seen_until = text.split("|")
        if kind != "feed":
            raise InvalidCursor
        return cls(place=(int(tx), int(seq)), seen_until=seen_until)


@dataclass(frozen=True, slots=True)
class FeedPage:
    changes: list[ChangeJson]
    next_cursor: str
    has_more: bool


@dataclass(frozen=True, slots=True)
class FeedQuery:
    limit: int
    after: FeedCursor | None
    from_now: bool


class ChangeFeed:
    def __init__(
        self,
        store: ChangeStore,
        cursors: CursorSigner,
        retention: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._cursors = cursors
        self._retention = retention
        self._clock = clock

    async def read(self, organization_id: str, params: Iterable[tuple[str, str]]) -> FeedPage:
        query = self._parse(organization_id, params)
        now = self._clock()
        after = START if query.after is None else query.after.place
        if query.after is not None:
            await self._refuse_if_purged(query.after, now)
        # One more than asked for tells whether there are more; none, with `from=now`, gives
        # the horizon alone.
        limit = 0 if query.from_now else query.limit + 1
        horizon, found = await self._store.feed_page(organization_id, after, limit)
        page = found[: query.limit]
        if len(found) > query.limit:
            last = page[-1]
            cursor = FeedCursor(last.place, last.occurred_at())
        else:  # everything up to the horizon has been seen
            cursor = FeedCursor(max(horizon, after), timestamp(now))
        return FeedPage(
            changes=[ChangeJson(stored.entry) for stored in page],
            next_cursor=self._cursors.seal(cursor.text(), organization_id, FEED_QUERY),
            has_more=len(found) > query.limit,
        )

    async def _refuse_if_purged(self, cursor: FeedCursor, now: datetime) -> None:
        """Expired when changes after the cursor were purged. Only changes older than the
        retention are, so only a cursor that has seen nothing for about as long is looked
        at (half of it: a change can commit a little after the moment it records)."""
        if cursor.seen_until >= timestamp(now - self._retention / 2):
            return
        purged = await self._store.purged_through()
        if purged is not None and cursor.place < purged:
            raise Expired

    def _parse(self, organization_id: str, params: Iterable[tuple[str, str]]) -> FeedQuery:
        given = dict(params)
        problems: dict[str, list[str]] = {}
        limit = page_size(given.get("limit"), DEFAULT_FEED_PAGE, MAX_FEED_PAGE, problems)
        start = given.get("from")
        if start is not None and start not in FROM:
            problems["from"] = ["Must be now: the feed's head, to poll from."]
        elif start is not None and given.get("cursor"):
            problems["from"] = ["Give either from or cursor, not both."]
        after = None
        if given.get("cursor"):
            try:
                text = self._cursors.open(given["cursor"], organization_id, FEED_QUERY)
                after = FeedCursor.from_text(text)
            except (InvalidCursor, ValueError):
                problems["cursor"] = ["Not a cursor this service issued for the changes feed."]
        if problems:
            raise ValidationFailed(problems)
        return FeedQuery(limit=limit, after=after, from_now=start is not None)
