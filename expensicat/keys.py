"""Idempotency keys as the store keeps them: the contract between the HTTP component that
uses them (api/idempotency.py) and the database layer that stores them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What claiming a key found: ours now, or someone's earlier request."""

    claimed: bool
    request_hash: str = ""
    # The earlier request's recorded answer; None while that request is in flight.
    response: str | None = None


@dataclass(frozen=True, slots=True)
class KeyHold:
    """A claimed key, and the answer to record on it in the write's own transaction."""

    key: str
    lease_until: str
    response: str


class KeyStore(Protocol):
    async def claim_key(
        self,
        organization_id: str,
        key: str,
        request_hash: str,
        now: str,
        lease_until: str,
        expired_before: str,
    ) -> KeyClaim:
        """Claim a key unless another request holds it or already completed with it.

        A claim in flight past its lease, or a key created before `expired_before`, is free.
        """

    async def release_key(self, organization_id: str, key: str) -> None:
        """Give up an in-flight claim after the write failed, so a retry may run again."""

    async def purge_keys(self, created_before: str) -> None:
        """Forget keys created before the given moment."""
