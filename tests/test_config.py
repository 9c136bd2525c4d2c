"""Settings: sensible defaults, unsafe or malformed values refused, the session secret file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from expensicat.cli import main
from expensicat.config import ConfigError, Settings
from expensicat.envvars import markdown_table, variables
from tests.support.cli import overrides
from tests.support.tokens import TEST_SECRET

SECRET_FILE = "session-secret"
README = Path(__file__).parents[1] / "README.md"


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env).resolve_session_secret()
    return str(raised.value)


class TestSettings:
    def test_defaults_to_an_embedded_database_in_data(self) -> None:
        settings = Settings.from_env({})

        assert settings.database.url == "sqlite:///data/expensicat.db"
        assert settings.http.max_body_bytes == 64 * 1024
        assert settings.oauth2.jwks_url is None

    def test_values_are_trimmed_and_blank_means_unset(self) -> None:
        settings = Settings.from_env(
            {"EXPENSICAT_LOG_LEVEL": " debug ", "EXPENSICAT_SESSION_ISSUER": "   "}
        )

        assert settings.log.level == "DEBUG"
        assert settings.session.issuer is None

    def test_a_given_mapping_is_read_alone(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in [name for name in os.environ if name.startswith("EXPENSICAT_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("EXPENSICAT_LOG_LEVEL", "DEBUG")

        assert Settings.from_env({}).log.level == "INFO"
        assert Settings.from_env().log.level == "DEBUG"

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"DATABASE_URL": "mysql://db/customers"}, "EXPENSICAT_DATABASE_URL must be"),
            ({"DATABASE_URL": "sqlite://"}, "EXPENSICAT_DATABASE_URL must be"),
            ({"DATABASE_URL": "sqlite:///"}, "EXPENSICAT_DATABASE_URL must be"),
            ({"SESSION_SECRET": "too-short"}, "at least 32 characters"),
            ({"OAUTH2_JWKS_URL": "https://auth.test/jwks"}, "OAuth2 needs all of"),
            ({"OAUTH2_ISSUER": "https://auth.test/", "OAUTH2_AUDIENCE": "api"}, "OAuth2 needs"),
            ({"MAX_BODY_BYTES": "lots"}, "EXPENSICAT_MAX_BODY_BYTES must be a whole number"),
            ({"MAX_BODY_BYTES": "0"}, "EXPENSICAT_MAX_BODY_BYTES must be greater than zero"),
            ({"DB_POOL_SIZE": "-3"}, "EXPENSICAT_DB_POOL_SIZE must be greater than zero"),
            ({"STATEMENT_TIMEOUT_MS": "1.5"}, "EXPENSICAT_STATEMENT_TIMEOUT_MS must be a whole"),
            ({"DB_STATEMENT_CACHE": "maybe"}, "EXPENSICAT_DB_STATEMENT_CACHE must be true or"),
            ({"LOG_LEVEL": "LOUD"}, "EXPENSICAT_LOG_LEVEL must be"),
            (
                {"DATABASE_URL": "postgresql://db/customers"},
                "EXPENSICAT_SESSION_SECRET must be set",
            ),
        ],
    )
    def test_unsafe_or_malformed_settings_are_refused_by_name(
        self, env: dict[str, str], message: str
    ) -> None:
        assert message in refusal({f"EXPENSICAT_{key}": value for key, value in env.items()})

    @pytest.mark.parametrize(
        "command", [["serve"], ["db", "upgrade"], ["token", "create", "--org", "o", "--user", "u"]]
    )
    def test_every_command_refuses_to_start_with_a_clear_message(self, command: list[str]) -> None:
        result = CliRunner().invoke(main, command, env=overrides(session_secret="too-short"))

        assert result.exit_code == 1
        assert "Error: EXPENSICAT_SESSION_SECRET must be at least 32 characters long" in (
            result.output
        )
        assert "Traceback" not in result.output


class TestDocumentation:
    def test_the_readme_table_is_the_one_the_declarations_render(self) -> None:
        assert markdown_table(Settings) in README.read_text()

    def test_serve_help_lists_every_variable_with_its_meaning(self) -> None:
        result = CliRunner().invoke(main, ["serve", "--help"])

        assert result.exit_code == 0
        # Click rewraps the text, so compare it with all whitespace taken out.
        shown = "".join(result.output.split())
        for variable in variables(Settings):
            assert variable.name in result.output
            assert "".join(variable.meaning.replace("`", "").split()) in shown


class TestSessionSecretFile:
    def test_is_created_once_readable_only_by_its_owner(self, tmp_path: Path) -> None:
        settings = Settings.from_env({"EXPENSICAT_DATA_DIR": str(tmp_path / "data")})

        secret = settings.resolve_session_secret()

        path = tmp_path / "data" / SECRET_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(secret) >= 32
        assert path.read_text().strip() == secret
        assert settings.resolve_session_secret() == secret
        assert [entry.name for entry in path.parent.iterdir()] == [SECRET_FILE]

    def test_is_kept_beside_the_embedded_database(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'elsewhere' / 'customers.db'}"
        settings = Settings.from_env({"EXPENSICAT_DATABASE_URL": url})

        secret = settings.resolve_session_secret()

        assert (tmp_path / "elsewhere" / SECRET_FILE).read_text().strip() == secret

    def test_configured_secret_wins_and_no_file_is_written(self, tmp_path: Path) -> None:
        settings = Settings.from_env(
            {"EXPENSICAT_DATA_DIR": str(tmp_path), "EXPENSICAT_SESSION_SECRET": TEST_SECRET}
        )

        assert settings.resolve_session_secret() == TEST_SECRET
        assert not (tmp_path / SECRET_FILE).exists()

    def test_processes_starting_together_agree_on_one_secret(self, tmp_path: Path) -> None:
        script = (
            "import sys; from expensicat.config import Settings; "
            "settings = Settings.from_env({'EXPENSICAT_DATA_DIR': sys.argv[1]}); "
            "print(settings.resolve_session_secret())"
        )
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]

        secrets = {process.communicate(timeout=60)[0].strip() for process in processes}

        assert secrets == {(tmp_path / SECRET_FILE).read_text().strip()}

    @pytest.mark.parametrize("content", ["", "\n", "short"])
    def test_truncated_secret_file_is_refused(self, tmp_path: Path, content: str) -> None:
        (tmp_path / SECRET_FILE).write_text(content)

        message = refusal({"EXPENSICAT_DATA_DIR": str(tmp_path)})

        assert str(tmp_path / SECRET_FILE) in message
