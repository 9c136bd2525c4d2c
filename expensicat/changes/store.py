"""What the changes feed needs from storage; the database layer provides it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import orjson

# A change's place in its organization's feed: two integers, compared in order.
Place = tuple[int, int]
# Before every change.
START: Place = (0, 0)


@dataclass(frozen=True, slots=True)
class StoredChange:
    place: Place
    # The change as the feed lists it: JSON, in UTF-8, made when the change was recorded.
    entry: bytes

    def occurred_at(self) -> str:
        moment: str = orjson.loads(self.entry)["occurred_at"]
        return moment


class ChangeStore(Protocol):
    async def feed_page(
        self, organization_id: str, after: Place, limit: int
    ) -> tuple[Place, list[StoredChange]]:
        """The horizon, before which every change is final and after which none is yet
        listed; and up to `limit` of the organization's changes after `after` and up to the
        horizon, in order."""

    async def purged_through(self) -> Place | None:
        """The place of the last change the retention purge deleted, if it ever has."""

    async def purge_changes(self, occurred_before: str) -> int:
        """Delete the changes that occurred before that moment, first marking the place of
        the last; how many were deleted."""
