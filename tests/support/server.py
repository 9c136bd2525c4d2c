"""The real `expensicat serve` in a child process on a free port, started and stopped as an
operator (or an orchestrator sending SIGTERM) would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from expensicat.config import Settings
from tests.support.cli import environment, expensicat
from tests.support.postgres import free_port

START_SECONDS = 30
STOP_SECONDS = 15
# A clean stop, after SIGTERM and the graceful shutdown it starts, exits 0.
CLEAN_EXIT = 0
# Tests that are not about budgets must never meet one, a log line per request would only
# slow a loaded machine down, and webhook endpoints other tests registered name hosts that
# must never be contacted; a test overrides any of these by naming it.
DEFAULTS = {"rate_limit_per_second": "0", "log_level": "WARNING", "webhook_worker": "false"}


def serve_env(settings: Settings | None, env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its EXPENSICAT_* settings, then DEFAULTS, then
    `settings`, then `env` (each variable named without its EXPENSICAT_ prefix)."""
    return environment(**{**DEFAULTS, **(_variables(settings) if settings else {}), **env})


def _variables(settings: Settings) -> dict[str, str]:
    variables = {
        "database_url": settings.database.url,
        "data_dir": str(settings.data_dir),
        "db_statement_cache": str(settings.database.statement_cache).lower(),
        "db_pool_size": str(settings.database.pool_size),
        "rate_limit_per_second": str(settings.rate_limit.per_second),
        "rate_limit_burst": str(settings.rate_limit.burst),
    }
    if settings.session.secret is not None:
        variables["session_secret"] = settings.session.secret
    return variables


class ApiServer:
    """One `expensicat serve` and its workers, in a process group of its own.

    `args` go to `expensicat serve` as they are (e.g. "--no-migrate"); its environment is
    `serve_env(settings, env)`; its output goes to `log_path`.
    """

    def __init__(
        self,
        log_path: Path,
        *args: str,
        settings: Settings | None = None,
        env: Mapping[str, str] | None = None,
        workers: int = 1,
        cwd: Path | None = None,
    ) -> None:
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [expensicat(), "serve", "--port", str(self.port)]
        self._command += ["--workers", str(workers), *args]
        # Its own authorization server names itself by the address it really has.
        self._env = serve_env(settings, {"auth_issuer": self.url, **(env or {})})
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ApiServer:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command, env=self._env, cwd=self._cwd, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self._wait_until_healthy()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self._started().pid

    @property
    def exit_code(self) -> int | None:
        """The exit status once the process has ended (minus the number of a signal that ended
        it); None while it runs."""
        return self._started().poll()

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def terminate(self) -> None:
        """SIGTERM to the main process alone, as `docker stop`, systemd or Kubernetes send;
        its workers must follow by themselves."""
        os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        return self._started().wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Whatever the test did, leave no process behind: SIGTERM to the whole group, then
        SIGKILL to whatever is left of it when the time is up."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def _started(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "expensicat serve was not started"
        return self._process

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if not self.running():
                self.stop()
                raise RuntimeError(
                    f"expensicat serve exited with {self.exit_code}:\n{self.output()}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"expensicat serve did not answer in {START_SECONDS}s:\n{self.output()}")
