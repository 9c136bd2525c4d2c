"""Password hashing with argon2id (argon2-cffi): its parameters, checks and upgrades.

The parameters are RFC 9106's second recommended option (argon2-cffi's default): 64 MiB of
memory, 3 passes, 4 lanes. A hash made with older parameters is replaced at the next
sign-in that proves the password, so raising them upgrades every active account.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Checked:
    matches: bool
    # A new hash to store: the password matched a hash made with older parameters.
    rehashed: str | None = None


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Checked against when there is no such user, so that an unknown email costs the
        # same time as a wrong password and the answer's timing tells nothing.
        self._dummy = self._hasher.hash("not a password anyone has")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def check(self, stored: str | None, password: str) -> Checked:
        """Whether `password` matches `stored` (None: no user; it is checked all the same)."""
        try:
            self._hasher.verify(stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Checked(False)
        if stored is None:
            return Checked(False)
        if self._hasher.check_needs_rehash(stored):
            return Checked(True, self._hasher.hash(password))
        return Checked(True)


def password_problems(password: str) -> list[str]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"At least {MIN_PASSWORD_LENGTH} characters."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"At most {MAX_PASSWORD_LENGTH} characters."]
    return []
