"""`expensicat serve` in a subprocess on a free port, and a burst of concurrent requests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.support.postgres import free_port
from tests.support.tokens import TEST_SECRET, bearer, session_token

START_SECONDS = 30
STOP_SECONDS = 15


def serve_env(data_dir: Path, **variables: str) -> dict[str, str]:
    """The environment of a server with its own data directory and these EXPENSICAT_ variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("EXPENSICAT_")}
    env.update(
        EXPENSICAT_DATA_DIR=str(data_dir),
        EXPENSICAT_SESSION_SECRET=TEST_SECRET,
        EXPENSICAT_LOG_LEVEL="WARNING",
    )
    env.update({f"EXPENSICAT_{name}": value for name, value in variables.items()})
    return env


class Server:
    """One `expensicat serve` and its workers, in a process group of its own."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.url = f"http://127.0.0.1:{free_port()}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = Path(sys.executable).with_name("expensicat")
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [command, "serve", "--port", port, "--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready(self._process)
        return self

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"expensicat serve did not start; see {self.log}")


def fire(urls: list[str], organization: str, count: int) -> tuple[Counter[int], float]:
    """`count` reads at once for one organization, spread over `urls` on fresh connections.

    Returns how many of each status came back, and the seconds the burst took.
    """

    async def burst() -> list[int]:
        headers = bearer(session_token(organization))
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
        async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
            requests = [
                client.get(f"{urls[index % len(urls)]}/api/v1/customers") for index in range(count)
            ]
            return [response.status_code for response in await asyncio.gather(*requests)]

    started = time.monotonic()
    statuses = asyncio.run(burst())
    return Counter(statuses), time.monotonic() - started
