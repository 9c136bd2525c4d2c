"""What a change record is: its types, who made it, and how the feed shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

import orjson
import uuid_utils

CREATED = "customer.created"
UPDATED = "customer.updated"
ARCHIVED = "customer.archived"
RESTORED = "customer.restored"
ERASED = "customer.erased"
TYPES = (CREATED, UPDATED, ARCHIVED, RESTORED, ERASED)

ActorType = Literal["user", "client"]


class Actor(TypedDict):
    """Who made a change: a user with a session token (its `sub`), or the OAuth2 client
    whose access token it was (its client_id)."""

    type: ActorType
    id: str


# A change as the JSON text it was recorded as ({"id", "type", "occurred_at", "customer_id",
# "customer", "actor"}; the customer as it stood after the change, null for an erasure and
# once the customer is erased): sent on as it is, never parsed again.
ChangeJson = orjson.Fragment


@dataclass(frozen=True, slots=True)
class ChangeStamp:
    """What a write records of itself beside its type and time: an id for the change, which
    every consumer sees (a webhook's id too), and who made it."""

    id: str
    actor: Actor

    @classmethod
    def by(cls, actor: Actor) -> ChangeStamp:
        return cls(id=str(uuid_utils.uuid7()), actor=actor)
