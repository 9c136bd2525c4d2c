"""Opaque, tamper-evident page cursors.

A cursor names the last customer of a page by its sort key (created_at, id). It is signed
with a server key over the organization and the folded search term as well, so a cursor
cannot be forged, edited, or replayed with another query or by another organization.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

_SIGNATURE_BYTES = 16


@dataclass(frozen=True, slots=True)
class Position:
    """The sort key of the last customer on a page."""

    created_at: str
    id: str


class InvalidCursor(Exception):
    """The cursor was not issued by this service for this query."""


class CursorSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, position: Position, organization_id: str, search: str) -> str:
        payload = f"{position.created_at}|{position.id}".encode()
        signature = self._sign(payload, organization_id, search)
        return _b64encode(signature + payload)

    def decode(self, cursor: str, organization_id: str, search: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor from None
        # The decoder skips stray characters and ignores the last character's spare bits:
        # only the very string this service issued is a cursor.
        if _b64encode(raw) != cursor:
            raise InvalidCursor
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        expected = self._sign(payload, organization_id, search)
        if not hmac.compare_digest(signature, expected):
            raise InvalidCursor
        created_at, _, customer_id = payload.decode().partition("|")
        return Position(created_at=created_at, id=customer_id)

    def _sign(self, payload: bytes, organization_id: str, search: str) -> bytes:
        message = b"\x00".join((organization_id.encode(), search.encode(), payload))
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
