"""Running the `expensicat` command as a user would: a real process, its own environment."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from tests.support.postgres import free_port

STARTUP_SECONDS = 30
SHUTDOWN_SECONDS = 15


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


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [expensicat(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        """SIGTERM, as a service manager sends; the server must finish its shutdown and exit.

        uvicorn re-raises the signal once it has shut down, so that the exit status still
        says SIGTERM; a service manager counts that as a clean stop, and so do we.
        """
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=SHUTDOWN_SECONDS)
        assert status in (0, -signal.SIGTERM), self.log.read_text()
        assert "Application shutdown complete" in self.log.read_text()


@contextmanager
def served(env: dict[str, str], cwd: Path) -> Iterator[Server]:
    """`expensicat serve` on a free port, once it answers /healthz."""
    port = free_port()
    log_path = cwd / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [expensicat(), "serve", "--port", str(port)], env=env, cwd=cwd, stdout=log, stderr=log
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            status = server.process.returncode
            raise AssertionError(f"serve exited with {status}:\n{server.log.read_text()}")
        try:
            if httpx2.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"serve did not answer in {STARTUP_SECONDS}s:\n{server.log.read_text()}")
