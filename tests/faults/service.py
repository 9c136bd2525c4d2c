"""`expensicat serve` in a child process on a free port, started and stopped as an operator
(or an orchestrator sending SIGTERM) would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.support.postgres import free_port
from tests.support.tokens import TEST_SECRET

START_SECONDS = 30


class Service:
    def __init__(self, database_url: str, data_dir: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"serve-{self.port}.log"
        self._command = [
            str(Path(sys.executable).with_name("expensicat")), "serve",
            "--port", str(self.port), *args,
        ]  # fmt: skip
        self._env = _environment(database_url, data_dir, env)
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Service:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                self._command, env=self._env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self._wait_until_serving()
        return self

    def __exit__(self, *exc: object) -> None:
        """Whatever the test did, leave no process behind."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(10)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def terminate(self) -> None:
        """SIGTERM, as `docker stop`, systemd or Kubernetes send."""
        os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self._process is not None
        return self._process.wait(timeout)

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"expensicat serve exited:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"expensicat serve did not start:\n{self.output()}")


def _environment(database_url: str, data_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXPENSICAT_")}
    env.update(
        EXPENSICAT_DATABASE_URL=database_url,
        EXPENSICAT_DATA_DIR=str(data_dir),
        EXPENSICAT_SESSION_SECRET=TEST_SECRET,
        EXPENSICAT_LOG_LEVEL="WARNING",
        # These tests push load through one organization; budgets are tested on their own.
        EXPENSICAT_RATE_LIMIT_PER_SECOND="0",
    )
    env.update({f"EXPENSICAT_{key.upper()}": value for key, value in extra.items()})
    return env
