"""The real `expensicat serve` in a subprocess on a free port, for tests that need a live server."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from expensicat.config import Settings
from tests.support.postgres import free_port

START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15


def expensicat_command() -> str:
    """The console script installed beside the running interpreter."""
    beside = Path(sys.executable).with_name("expensicat")
    found = str(beside) if beside.exists() else shutil.which("expensicat")
    if found is None:
        raise RuntimeError("the expensicat command is not installed")
    return found


def server_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `expensicat serve` use these settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXPENSICAT_")}
    env.update(
        EXPENSICAT_DATABASE_URL=settings.database_url,
        EXPENSICAT_DATA_DIR=str(settings.data_dir),
        EXPENSICAT_DB_STATEMENT_CACHE=str(settings.db_statement_cache).lower(),
        EXPENSICAT_DB_POOL_SIZE=str(settings.db_pool_size),
        EXPENSICAT_LOG_LEVEL="WARNING",
        EXPENSICAT_RATE_LIMIT_PER_SECOND=str(settings.rate_limit_per_second),
        EXPENSICAT_RATE_LIMIT_BURST=str(settings.rate_limit_burst),
    )
    if settings.session_secret is not None:
        env["EXPENSICAT_SESSION_SECRET"] = settings.session_secret
    return env


class ApiServer:
    """One `expensicat serve` process (and its workers) in a process group of its own."""

    def __init__(self, settings: Settings, log_path: Path, workers: int = 1) -> None:
        self.settings = settings
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        command = [expensicat_command(), "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--no-migrate"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                env=server_env(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready()

    def stop(self) -> None:
        """Ask for a graceful stop; kill the whole group if it does not come in time."""
        process = self._process
        if process is None:
            return
        self._process = None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"expensicat serve exited early:\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"expensicat serve did not become ready:\n{self.log()}")
