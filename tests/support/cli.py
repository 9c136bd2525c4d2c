"""Running the `expensicat` command as a user would: a real process, its own environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def expensicat() -> str:
    """The installed console script, next to this interpreter when it runs in a venv."""
    beside = Path(sys.executable).with_name("expensicat")
    found = str(beside) if beside.exists() else shutil.which("expensicat")
    assert found, "the expensicat command is not installed"
    return found


def environment(**values: str) -> dict[str, str]:
    """This process's environment without any EXPENSICAT_* setting, plus `values`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXPENSICAT_")}
    env.update({f"EXPENSICAT_{key.upper()}": value for key, value in values.items()})
    return env


def overrides(**values: str) -> dict[str, str | None]:
    """The same environment, as the changes an in-process CliRunner applies to os.environ."""
    unset: dict[str, str | None] = dict.fromkeys(
        key for key in os.environ if key.startswith("EXPENSICAT_")
    )
    return {**unset, **{f"EXPENSICAT_{key.upper()}": value for key, value in values.items()}}


def run(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [expensicat(), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
