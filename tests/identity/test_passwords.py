"""argon2id hashes: made with the parameters chosen, upgraded at the next sign-in that
proves the password, on each backend."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher, extract_parameters
from starlette.testclient import TestClient

from expensicat.identity.passwords import Passwords
from expensicat.identity.service import IdentityService
from expensicat.identity.throttle import SignInThrottle
from tests.support.accounts import PASSWORD, store

# What an older release might have used: cheaper than today's parameters.
OLDER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class TestPasswords:
    def test_hashes_are_argon2id_with_the_chosen_parameters(self) -> None:
        parameters = extract_parameters(Passwords().hash(PASSWORD))

        assert parameters.type.name == "ID"
        assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
            3,
            64 * 1024,
            4,
        )

    def test_a_match_with_older_parameters_answers_a_new_hash(self) -> None:
        checked = Passwords().check(OLDER.hash(PASSWORD), PASSWORD)

        assert checked.matches
        assert checked.rehashed is not None
        assert extract_parameters(checked.rehashed).memory_cost == 64 * 1024

    def test_a_wrong_password_or_no_user_never_matches(self) -> None:
        passwords = Passwords()

        assert not passwords.check(passwords.hash(PASSWORD), "something else").matches
        assert not passwords.check(None, PASSWORD).matches

    def test_signing_in_upgrades_a_hash_made_with_older_parameters(
        self, client: TestClient, org: str
    ) -> None:
        email = f"old-{uuid.uuid4().hex[:12]}@example.com"
        older = IdentityService(store(client).identity, Passwords(OLDER), SignInThrottle())
        assert client.portal is not None
        client.portal.call(older.create_user, email, PASSWORD, [org])

        response = client.post("/api/auth/session", json={"email": email, "password": PASSWORD})

        assert response.status_code == 200
        user = client.portal.call(store(client).identity.user_by_email, email)
        assert user is not None
        assert extract_parameters(user.password_hash).memory_cost == 64 * 1024
