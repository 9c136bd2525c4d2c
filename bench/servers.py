"""Server processes under test: started on a free port, waited for, measured, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench.databases import BenchError
from tests.support.postgres import free_port
from tests.support.processes import children

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
BIN = Path(sys.executable).parent


class Server:
    """One server process and its workers; `with` starts it and waits until it answers."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        ready_path: str,
        log: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.workers = int(argv[argv.index("--workers") + 1])
        self._argv = [*argv, "--port", str(self.port)]
        self._env = {**os.environ, **env}
        self._ready_url = f"{self.base_url}{ready_path}"
        self._log = log
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self._argv, env=self._env, stdout=log, stderr=subprocess.STDOUT, cwd=self._cwd
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def worker_pids(self) -> list[int]:
        """The worker processes: the main process's children (granian forks them)."""
        assert self._process is not None
        return children(self._process.pid)

    def worker_rss_mb(self) -> list[float]:
        return [_rss_mb(pid) for pid in self.worker_pids()]

    def cpu_seconds(self) -> float:
        """CPU time the server and its workers have used so far (user and system)."""
        assert self._process is not None
        return sum(_cpu_seconds(pid) for pid in (self._process.pid, *self.worker_pids()))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        answer, workers = "no answer", 0
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise BenchError(f"{self.name} exited at start-up:\n{self._log_tail()}")
            # Workers start one after another; wait for all of them to be there.
            answer, workers = self._answer(), len(self.worker_pids())
            if answer == "200" and workers == self.workers:
                return
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} was not ready within {START_TIMEOUT_SECONDS}s ({self._ready_url} "
            f"answered {answer}; {workers} of {self.workers} workers up):\n{self._log_tail()}"
        )

    def _answer(self) -> str:
        """The readiness URL's status code, or the error met asking it."""
        try:
            return str(httpx.get(self._ready_url, timeout=2).status_code)
        except httpx.HTTPError as error:
            return type(error).__name__

    def _log_tail(self, lines: int = 20) -> str:
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])


def service(
    env: dict[str, str], workers: int, log: Path, bindir: Path = BIN, cwd: Path | None = None
) -> Server:
    """`expensicat serve` as installed in `bindir` (by default, the benchmark's own).

    granian adds its working folder to its workers' import path: run another checkout's
    server from inside that checkout, so that no other copy of the code can come first.
    """
    argv = [str(bindir / "expensicat"), "serve", "--workers", str(workers), "--no-migrate"]
    return Server("expensicat serve", argv, env, "/readyz", log, cwd)


def floor(workers: int, log: Path) -> Server:
    argv = [sys.executable, "-m", "bench.floor", "--workers", str(workers)]
    return Server("static floor", argv, {}, "/floor", log)


def _cpu_seconds(pid: int) -> float:
    # The fields after the command name, which may hold spaces: utime and stime are 14, 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
