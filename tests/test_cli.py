"""The `expensicat` command: mint session tokens, migrate a database, serve the API."""

from __future__ import annotations

import socket
import stat
import uuid
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

import httpx2
import jwt
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from starlette.testclient import TestClient

from expensicat.cli import main
from expensicat.config import Settings
from expensicat.db.migrate import MIGRATIONS, sqlalchemy_url, upgrade
from tests.support.apps import serving
from tests.support.cli import environment, overrides, run
from tests.support.contract import CUSTOMERS, assert_customer, customer_url
from tests.support.postgres import PostgresServer, free_port
from tests.support.server import CLEAN_EXIT, STOP_SECONDS, ApiServer
from tests.support.tokens import TEST_SECRET, bearer


def token_create(*args: str, **settings: str) -> str:
    """`expensicat token create ...` in-process, with only `settings` configured."""
    result = CliRunner().invoke(main, ["token", "create", *args], env=overrides(**settings))
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def serve_in(cwd: Path, settings: Mapping[str, str] | None = None) -> ApiServer:
    """`expensicat serve` started in `cwd`, logging at INFO so that its shutdown shows."""
    env = {"log_level": "INFO", **(settings or {})}
    return ApiServer(cwd / "serve.log", env=env, cwd=cwd)


def stop_cleanly(server: ApiServer) -> None:
    """SIGTERM, as a service manager sends; the server must finish its shutdown and exit
    with a status a service manager counts as a clean stop."""
    server.terminate()
    assert server.wait(STOP_SECONDS) == CLEAN_EXIT, server.output()
    assert "Application shutdown complete" in server.output()


def unverified_claims(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


@pytest.fixture(params=["sqlite", "postgres", "postgres-socket"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """EXPENSICAT_* settings naming an empty database: a new SQLite file, or a PostgreSQL
    database reached over TCP or over the server's Unix socket."""
    if request.param == "sqlite":
        return {"data_dir": str(tmp_path / "data")}
    server = request.getfixturevalue("postgres_server")
    name = f"cli_{uuid.uuid4().hex[:12]}"
    server.create_database(name)
    url = server.socket_url(name) if request.param == "postgres-socket" else server.url(name)
    return {"database_url": url, "session_secret": TEST_SECRET}


class TestTokenCreate:
    def test_prints_a_session_token_the_server_accepts(
        self, client: TestClient, backend_settings: Settings, org: str
    ) -> None:
        token = token_create(
            "--org", org, "--user", "user-7", session_secret=TEST_SECRET,
            database_url=backend_settings.database.url,
        )  # fmt: skip

        response = client.post(CUSTOMERS, json={"name": "Acme"}, headers=bearer(token))

        assert response.status_code == 201
        assert response.json()["data"]["organization_id"] == org

    def test_claims_name_the_organization_user_and_lifetime(self) -> None:
        token = token_create(
            "--org", "org-1", "--user", "user-7", "--ttl", "120", session_secret=TEST_SECRET
        )

        claims = unverified_claims(token)
        assert (claims["org_id"], claims["sub"]) == ("org-1", "user-7")
        assert claims["exp"] == claims["iat"] + 120  # type: ignore[operator]

    def test_carries_the_configured_issuer_and_audience(self) -> None:
        token = token_create(
            "--org", "org-1", "--user", "u", session_secret=TEST_SECRET,
            session_issuer="https://issuer.test", session_audience="customers",
        )  # fmt: skip

        claims = unverified_claims(token)
        assert (claims["iss"], claims["aud"]) == ("https://issuer.test", "customers")

    def test_generated_secret_is_the_one_the_server_uses(self, tmp_path: Path) -> None:
        settings = Settings.from_env({"EXPENSICAT_DATA_DIR": str(tmp_path)})
        upgrade(settings.database)

        with serving(settings) as client:
            token = token_create("--org", "org-1", "--user", "u", data_dir=str(tmp_path))
            response = client.get(CUSTOMERS, headers=bearer(token))

        assert response.status_code == 200

    def test_with_no_secret_anywhere_it_refuses_and_says_where_it_looked(
        self, tmp_path: Path
    ) -> None:
        result = CliRunner().invoke(
            main,
            ["token", "create", "--org", "o", "--user", "u"],
            env=overrides(data_dir=str(tmp_path)),
        )

        assert result.exit_code == 1
        assert f"{tmp_path / 'session-secret'} does not exist" in result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "session-secret").exists()

    def test_says_which_secret_it_signed_with(self, tmp_path: Path) -> None:
        configured = CliRunner().invoke(
            main,
            ["token", "create", "--org", "o", "--user", "u"],
            env=overrides(session_secret=TEST_SECRET),
        )
        Settings.from_env({"EXPENSICAT_DATA_DIR": str(tmp_path)}).resolve_session_secret()
        from_file = CliRunner().invoke(
            main,
            ["token", "create", "--org", "o", "--user", "u"],
            env=overrides(data_dir=str(tmp_path)),
        )

        assert "Signed with the session secret from EXPENSICAT_SESSION_SECRET." in configured.stderr
        assert f"Signed with the session secret from {tmp_path / 'session-secret'}." in (
            from_file.stderr
        )
        assert from_file.stdout.count(".") == 2  # the token alone, a JWT

    def test_a_scope_restricts_the_token_to_it(self, tmp_path: Path) -> None:
        settings = Settings.from_env(
            {"EXPENSICAT_DATA_DIR": str(tmp_path), "EXPENSICAT_SESSION_SECRET": TEST_SECRET}
        )
        upgrade(settings.database)
        reader = token_create(
            "--org", "o", "--user", "u", "--scope", "invoices:read", session_secret=TEST_SECRET
        )

        with serving(settings) as client:
            read = client.get(CUSTOMERS, headers=bearer(reader))
            write = client.post(CUSTOMERS, json={"name": "Acme"}, headers=bearer(reader))

        assert read.status_code == 200
        assert write.status_code == 403
        assert write.json()["error"]["code"] == "FORBIDDEN"
        assert unverified_claims(reader)["scope"] == "invoices:read"

    @pytest.mark.parametrize(
        "args",
        [
            ["--user", "u"],
            ["--org", "o"],
            ["--org", "o", "--user", "u", "--ttl", "0"],
            ["--org", "", "--user", "u"],
            ["--org", "o", "--user", " "],
        ],
    )
    def test_missing_or_bad_options_are_refused(self, args: list[str]) -> None:
        result = CliRunner().invoke(main, ["token", "create", *args])

        assert result.exit_code == 2
        assert "Usage:" in result.output


def service_client_addresses(database_url: str) -> set[str | None]:
    """Where the service's connections to the database come from: None for a Unix socket."""
    engine = sa.create_engine(sqlalchemy_url(database_url))
    query = (
        "SELECT host(client_addr) FROM pg_stat_activity"
        " WHERE application_name = 'expensicat' AND datname = current_database()"
    )
    with engine.connect() as connection:
        addresses = {row[0] for row in connection.execute(sa.text(query))}
    engine.dispose()
    return addresses


class TestDbUpgrade:
    def test_creates_the_schema_in_a_fresh_database(
        self, fresh_database: dict[str, str], tmp_path: Path
    ) -> None:
        env = environment(**fresh_database)

        first = run("db", "upgrade", env=env, cwd=tmp_path)
        again = run("db", "upgrade", env=env, cwd=tmp_path)

        assert first.returncode == 0, first.stderr
        assert "up to date" in first.stdout
        assert again.returncode == 0, again.stderr
        engine = sa.create_engine(sqlalchemy_url(Settings.from_env(env).database.url))
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert [row[0] for row in versions] == [ScriptDirectory(MIGRATIONS).get_current_head()]
        engine.dispose()
        assert {"customers", "alembic_version"} <= tables


@pytest.mark.slow
class TestVersion:
    def test_prints_the_installed_version(self) -> None:
        result = CliRunner().invoke(main, ["--version"])

        assert result.exit_code == 0
        assert result.stdout == f"expensicat {version('expensicat')}\n"


class TestServe:
    def test_a_port_another_server_listens_on_stops_the_start_with_one_line(
        self, tmp_path: Path
    ) -> None:
        # Listening as the server's own workers do, sharing the port with SO_REUSEPORT.
        with socket.socket() as other:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            other.bind(("127.0.0.1", 0))
            other.listen()
            port = other.getsockname()[1]

            result = run("serve", "--port", str(port), env=environment(), cwd=tmp_path)

        assert result.returncode == 1
        assert (
            result.stderr
            == f"Error: Cannot listen on 127.0.0.1 port {port}: it is already in use.\n"
        )
        assert not (tmp_path / "data").exists()

    @pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]])
    def test_unreachable_database_stops_it_with_one_line(self, command: list[str]) -> None:
        url = f"postgresql://expensicat@127.0.0.1:{free_port()}/customers"
        env = overrides(database_url=url, session_secret=TEST_SECRET)

        result = CliRunner().invoke(main, command, env=env)

        assert result.exit_code == 1
        assert result.output.startswith("Error: Cannot migrate the database:")
        assert "Traceback" not in result.output

    def test_data_folder_it_cannot_write_stops_it_with_one_line(self, tmp_path: Path) -> None:
        not_a_folder = tmp_path / "file"
        not_a_folder.write_text("")

        result = CliRunner().invoke(main, ["serve"], env=overrides(data_dir=str(not_a_folder)))

        assert result.exit_code == 1
        assert result.output.startswith("Error: Cannot keep the session secret:")

    def test_postgresql_without_a_secret_is_refused_before_migrating(
        self, postgres_server: PostgresServer
    ) -> None:
        name = f"cli_{uuid.uuid4().hex[:12]}"
        postgres_server.create_database(name)

        result = CliRunner().invoke(
            main, ["serve"], env=overrides(database_url=postgres_server.url(name))
        )

        assert result.exit_code == 1
        assert "EXPENSICAT_SESSION_SECRET must be set" in result.output
        engine = sa.create_engine(sqlalchemy_url(postgres_server.url(name)))
        with engine.connect() as connection:
            assert not sa.inspect(connection).get_table_names()
        engine.dispose()

    def test_serves_the_api_until_sigterm(
        self, fresh_database: dict[str, str], tmp_path: Path
    ) -> None:
        env = environment(**fresh_database)

        with serve_in(tmp_path, fresh_database) as server:
            minted = run(
                "token", "create", "--org", "org-cli", "--user", "u", env=env, cwd=tmp_path
            )
            assert minted.returncode == 0, minted.stderr
            with httpx2.Client(base_url=server.url, headers=bearer(minted.stdout.strip())) as http:
                created = http.post(CUSTOMERS, json={"name": "Acme"})
                fetched = http.get(customer_url(created.json()["data"]["id"]))
            assert created.status_code == 201
            assert fetched.json() == created.json()
            assert_customer(fetched.json()["data"])
            if "database_url" in fresh_database:
                over_tcp = "@127.0.0.1:" in fresh_database["database_url"]
                assert service_client_addresses(fresh_database["database_url"]) == {
                    "127.0.0.1" if over_tcp else None
                }
            stop_cleanly(server)

    def test_a_client_whose_oversized_body_was_refused_goes_on_without_a_broken_connection(
        self, tmp_path: Path
    ) -> None:
        oversized = b'{"name": "' + b"x" * 70_000 + b'"}'
        chunked = [oversized[start : start + 8192] for start in range(0, len(oversized), 8192)]
        # Within the limit, and long enough to be still on its way when a dropped
        # connection would refuse it.
        large = b'{"name": "Acme", "notes": "' + b"n" * 9_000 + b'"}' + b" " * 50_000
        json = {"Content-Type": "application/json"}
        with serve_in(tmp_path) as server:
            token = token_create("--org", "org-cli", "--user", "u", data_dir=str(tmp_path / "data"))
            # Declared too large, and found too large while it streams in (no Content-Length).
            for streamed in (False, True) * 5:
                refused_body = iter(chunked) if streamed else oversized
                with httpx2.Client(base_url=server.url, headers=bearer(token)) as http:
                    assert http.get(CUSTOMERS).status_code == 200
                    refused = http.post(CUSTOMERS, content=refused_body, headers=json)
                    assert refused.status_code == 413
                    # What tells the client to send its next request on a new connection.
                    assert refused.headers["connection"] == "close"
                    assert http.post(CUSTOMERS, content=large, headers=json).status_code == 201
            stop_cleanly(server)

    def test_with_no_configuration_keeps_its_data_and_secret_in_data(self, tmp_path: Path) -> None:
        with serve_in(tmp_path) as server:
            assert httpx2.get(f"{server.url}/readyz").json() == {"status": "ready"}
            stop_cleanly(server)

        assert (tmp_path / "data" / "expensicat.db").is_file()
        secret = tmp_path / "data" / "session-secret"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
