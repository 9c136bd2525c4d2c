"""Opaque, tamper-evident page cursors, for every list that pages.

A cursor names where a page ended: the sort it was read in and the last row's key in that
sort. It is signed with a server key over the organization and a hash of the whole
normalized query (search, filters, sort), so a cursor cannot be forged, edited, or replayed
with another query or by another organization.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

_SIGNATURE_BYTES = 16
NEWEST_FIRST = "-created_at"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last row's value of the sort's column, then its id."""

    value: str
    id: str
    sort: str = NEWEST_FIRST


class InvalidCursor(Exception):
    """The cursor was not issued by this service for this query."""


class CursorSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, position: Position, organization_id: str, query: str) -> str:
        """A cursor for `position`, valid only for this organization and normalized query."""
        return self.seal(f"{position.sort}|{position.value}|{position.id}", organization_id, query)

    def decode(self, cursor: str, organization_id: str, query: str) -> Position:
        sort, value, row_id = self.open(cursor, organization_id, query).split("|", 2)
        return Position(value=value, id=row_id, sort=sort)

    def seal(self, text: str, organization_id: str, query: str) -> str:
        """A cursor carrying `text`, valid only for this organization and normalized query."""
        payload = text.encode()
        signature = self._sign(payload, organization_id, query)
        return _b64encode(signature + payload)

    def open(self, cursor: str, organization_id: str, query: str) -> str:
        """The text a cursor carries, if this service sealed it for this organization and
        query; else InvalidCursor."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor from None
        # The decoder skips stray characters and ignores the last character's spare bits:
        # only the very string this service issued is a cursor.
        if _b64encode(raw) != cursor:
            raise InvalidCursor
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        expected = self._sign(payload, organization_id, query)
        if not hmac.compare_digest(signature, expected):
            raise InvalidCursor
        return payload.decode()

    def _sign(self, payload: bytes, organization_id: str, query: str) -> bytes:
        query_hash = hashlib.sha256(query.encode()).digest()
        message = b"\x00".join((organization_id.encode(), query_hash, payload))
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def page_size(raw: str | None, default: int, maximum: int, problems: dict[str, list[str]]) -> int:
    """The `limit` parameter: a whole number from 1 to `maximum`, never clamped; a problem
    is added to `problems` otherwise."""
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum:
        return int(raw)
    problems["limit"] = [f"Must be a whole number from 1 to {maximum}."]
    return 0


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
