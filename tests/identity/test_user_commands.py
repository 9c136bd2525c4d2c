"""`expensicat user ...`, `oauth client ...` and `keys rotate` as an operator runs them: real
processes acting on the database that EXPENSICAT_DATABASE_URL names, SQLite and PostgreSQL,
and a server on that database that then honours what they did."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.config import Settings
from tests.conftest import make_settings
from tests.support.cli import environment, run
from tests.support.oauth import (
    Pkce,
    assert_oauth_error,
    code_for,
    exchange,
    register,
    signed_in,
    token_request,
    tokens,
)
from tests.support.tokens import TEST_SECRET

PASSWORD = "a long enough password"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("commands")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'expensicat.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return make_settings(url, data_dir)


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[TestClient]:
    """A server on the same database as the commands, started after the first of them
    migrated it."""
    command(settings, "user", "list")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def command(settings: Settings, *args: str, stdin: str | None = None) -> str:
    env = environment(
        database_url=settings.database.url,
        data_dir=str(settings.data_dir),
        session_secret=TEST_SECRET,
    )
    result = run(*args, env=env, cwd=settings.data_dir, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


def sign_in(server: TestClient, address: str, password: str = PASSWORD) -> int:
    response = server.post("/api/auth/session", json={"email": address, "password": password})
    return response.status_code


class TestUserCommands:
    def test_a_created_user_signs_in_to_each_of_their_organizations(
        self, settings: Settings, server: TestClient
    ) -> None:
        address = email()
        shown = json.loads(
            command(settings, "user", "create", "--org", "acme", "--org", "beta",
                    "--email", address, "--password-stdin", stdin=PASSWORD + "\n")
        )  # fmt: skip

        assert shown["organizations"] == ["acme", "beta"]
        listed = [json.loads(line) for line in command(settings, "user", "list").splitlines()]
        assert address in {user["email"] for user in listed}
        for org in ("acme", "beta"):
            response = server.post(
                "/api/auth/session",
                json={"email": address, "password": PASSWORD, "organization_id": org},
            )
            assert response.json()["data"]["organization_id"] == org

    def test_a_disabled_user_cannot_sign_in(self, settings: Settings, server: TestClient) -> None:
        address = email()
        command(settings, "user", "create", "--org", "acme", "--email", address,
                "--password-stdin", stdin=PASSWORD)  # fmt: skip

        command(settings, "user", "disable", "--email", address)

        assert sign_in(server, address) == 401

    def test_disabling_a_user_stops_the_apps_they_allowed_from_refreshing(
        self, settings: Settings, server: TestClient
    ) -> None:
        address = email()
        command(settings, "user", "create", "--org", "acme", "--email", address,
                "--password-stdin", stdin=PASSWORD)  # fmt: skip
        app, pkce = register(server), Pkce()
        code = code_for(server, signed_in(server, address, PASSWORD), app, pkce)
        refresh_token = tokens(exchange(server, app, code, pkce))["refresh_token"]

        command(settings, "user", "disable", "--email", address)

        refreshed = token_request(
            server, app, grant_type="refresh_token", refresh_token=refresh_token
        )
        assert_oauth_error(refreshed, 400, "invalid_grant")

    def test_set_password_replaces_the_old_one(
        self, settings: Settings, server: TestClient
    ) -> None:
        address = email()
        command(settings, "user", "create", "--org", "acme", "--email", address,
                "--password-stdin", stdin=PASSWORD)  # fmt: skip

        command(settings, "user", "set-password", "--email", address, "--password-stdin",
                stdin="another long password")  # fmt: skip

        assert sign_in(server, address) == 401
        assert sign_in(server, address, "another long password") == 200

    def test_a_short_password_or_a_taken_email_is_refused(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        address = email()
        command(settings, "user", "create", "--org", "acme", "--email", address,
                "--password-stdin", stdin=PASSWORD)  # fmt: skip
        env = environment(database_url=settings.database.url, data_dir=str(settings.data_dir))

        again = run("user", "create", "--org", "acme", "--email", address, "--password-stdin",
                    env=env, cwd=tmp_path)  # fmt: skip

        assert again.returncode == 1
        assert "Error:" in again.stderr


class TestClientCommands:
    def test_create_prints_the_secret_once_and_list_never(
        self, settings: Settings, server: TestClient
    ) -> None:
        created = json.loads(
            command(settings, "oauth", "client", "create", "--name", "Sync", "--org", "acme")
        )

        assert created["client_secret"]
        listed = command(settings, "oauth", "client", "list")
        assert created["client_id"] in listed
        assert created["client_secret"] not in listed
        answer = server.post(
            "/api/auth/oauth2/token",
            data={"grant_type": "client_credentials", "scope": "invoices:read"},
            auth=(created["client_id"], created["client_secret"]),
        )
        assert answer.status_code == 200, answer.text

    def test_rotate_secret_retires_the_old_one_and_delete_the_client(
        self, settings: Settings, server: TestClient
    ) -> None:
        created = json.loads(
            command(settings, "oauth", "client", "create", "--name", "Sync", "--org", "acme")
        )
        rotated = json.loads(
            command(settings, "oauth", "client", "rotate-secret", created["client_id"])
        )

        def token_status(secret: str) -> int:
            return server.post(
                "/api/auth/oauth2/token",
                data={"grant_type": "client_credentials", "scope": "invoices:read"},
                auth=(created["client_id"], secret),
            ).status_code

        assert token_status(created["client_secret"]) == 401
        assert token_status(rotated["client_secret"]) == 200
        command(settings, "oauth", "client", "delete", created["client_id"])
        assert token_status(rotated["client_secret"]) == 401

    def test_a_public_client_has_no_secret(self, settings: Settings) -> None:
        created = json.loads(
            command(settings, "oauth", "client", "create", "--name", "App", "--public",
                    "--redirect-uri", "http://127.0.0.1:9000/callback")
        )  # fmt: skip

        assert "client_secret" not in created
        assert created["type"] == "public"

    def test_keys_rotate_adds_a_key_the_server_publishes(
        self, settings: Settings, server: TestClient
    ) -> None:
        kid = json.loads(command(settings, "keys", "rotate"))["kid"]

        # As a minute passing would make it (RELOAD_SECONDS).
        server.app.state.oauth.keys._loaded_at = float("-inf")  # type: ignore[attr-defined]
        published = server.get("/.well-known/jwks.json").json()["keys"]
        assert kid in {key["kid"] for key in published}
