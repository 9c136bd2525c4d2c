"""What identity needs from storage; the database layer provides it. Passwords arrive here
hashed; emails lower-cased."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    password_hash: str
    disabled_at: str | None
    created_at: str
    organizations: tuple[str, ...]


class IdentityStore(Protocol):
    async def insert_user(self, user: User) -> bool:
        """Store a new user and their memberships; False if the email is taken."""

    async def user_by_email(self, email: str) -> User | None: ...

    async def users(self) -> list[User]:
        """Every user, by email."""

    async def join(self, user_id: str, organization_id: str, now: str) -> None:
        """Make the user a member of the organization (again: no change)."""

    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    async def disable(self, user_id: str, now: str) -> None: ...
