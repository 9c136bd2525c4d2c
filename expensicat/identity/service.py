"""Users and sign-in, independent of how they are served (HTTP, the command line)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uuid_utils
from email_validator import EmailNotValidError, validate_email

from expensicat.auth.principal import MAX_ORGANIZATION_ID_LENGTH
from expensicat.errors import NotFound, ValidationFailed
from expensicat.identity.passwords import Passwords, password_problems
from expensicat.identity.store import IdentityStore, User
from expensicat.identity.throttle import SignInThrottle
from expensicat.timestamps import timestamp, utc_now

# The one answer to every failed sign-in: which part was wrong is not said.
SIGN_IN_FAILED = "The email, password or organization is not right."


class SignInFailed(Exception):
    """Unknown user, wrong password, disabled account or no such membership: one failure."""


class TooManyTries(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after


class NoSuchUser(NotFound):
    resource = "user"


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: str
    organization_id: str
    organizations: tuple[str, ...]


class IdentityService:
    def __init__(
        self, store: IdentityStore, passwords: Passwords, throttle: SignInThrottle
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._throttle = throttle

    async def create_user(self, email: str, password: str, organizations: list[str]) -> User:
        problems = {
            **_problems("email", _email_problems(email)),
            **_problems("password", password_problems(password)),
            **_problems("org", [p for org in organizations for p in _organization_problems(org)]),
        }
        if problems:
            raise ValidationFailed(problems)
        user = User(
            id=str(uuid_utils.uuid7()),
            email=normalized(email),
            password_hash=await asyncio.to_thread(self._passwords.hash, password),
            disabled_at=None,
            created_at=timestamp(utc_now()),
            organizations=tuple(sorted(set(organizations))),
        )
        if not await self._store.insert_user(user):
            raise ValidationFailed({"email": ["A user with this email already exists."]})
        return user

    async def users(self) -> list[User]:
        return await self._store.users()

    async def join(self, email: str, organization_id: str) -> None:
        problems = _organization_problems(organization_id)
        if problems:
            raise ValidationFailed({"org": problems})
        user = await self._existing(email)
        await self._store.join(user.id, organization_id, timestamp(utc_now()))

    async def disable(self, email: str) -> User:
        user = await self._existing(email)
        await self._store.disable(user.id, timestamp(utc_now()))
        return user

    async def set_password(self, email: str, password: str) -> None:
        problems = password_problems(password)
        if problems:
            raise ValidationFailed({"password": problems})
        user = await self._existing(email)
        hashed = await asyncio.to_thread(self._passwords.hash, password)
        await self._store.set_password_hash(user.id, hashed)

    async def sign_in(
        self, email: str, password: str, organization_id: str | None, address: str
    ) -> SignedIn:
        """The user and organization these credentials name; SignInFailed or TooManyTries."""
        account = normalized(email)
        wait = self._throttle.wait(account, address)
        if wait > 0:
            raise TooManyTries(wait)
        # An address with NUL, which no database stores as text, names no one.
        user = None if "\x00" in account else await self._store.user_by_email(account)
        # Hashed whatever was found, so that every failure takes the same time.
        checked = await asyncio.to_thread(
            self._passwords.check, None if user is None else user.password_hash, password
        )
        chosen = _organization(user, organization_id)
        if user is None or not checked.matches or user.disabled_at is not None or chosen is None:
            self._throttle.failed(account, address)
            raise SignInFailed(SIGN_IN_FAILED)
        self._throttle.succeeded(account)
        if checked.rehashed is not None:
            await self._store.set_password_hash(user.id, checked.rehashed)
        return SignedIn(user.id, chosen, user.organizations)

    async def _existing(self, email: str) -> User:
        user = await self._store.user_by_email(normalized(email))
        if user is None:
            raise NoSuchUser
        return user


def normalized(email: str) -> str:
    return email.strip().lower()


def _organization(user: User | None, asked: str | None) -> str | None:
    """The organization to sign in to: the one asked for if the user belongs to it, else
    the first of theirs."""
    if user is None or not user.organizations:
        return None
    if asked is None:
        return user.organizations[0]
    return asked if asked in user.organizations else None


def _email_problems(email: str) -> list[str]:
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        return [str(error)]
    return []


def _organization_problems(organization_id: str) -> list[str]:
    if not organization_id.strip() or not organization_id.isprintable():
        return ["An organization id must be printable and not blank."]
    if len(organization_id) > MAX_ORGANIZATION_ID_LENGTH:
        return [f"At most {MAX_ORGANIZATION_ID_LENGTH} characters."]
    return []


def _problems(field: str, messages: list[str]) -> dict[str, list[str]]:
    return {field: messages} if messages else {}
