"""A throwaway PostgreSQL server: initdb into a temporary folder, start, stop, kill, restart."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.processes import alive, children


def sql_literals(values: Sequence[object]) -> str:
    """Statement arguments written out for `EXECUTE name(...)`, which takes no parameters:
    how a test asks for the generic plan of a prepared statement."""
    return ", ".join(
        str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
        for value in values
    )


def find_bindir() -> Path | None:
    """The PostgreSQL server binaries: from PG_BINDIR, pg_config, or the Debian layout."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One server on 127.0.0.1; as root it runs as the `postgres` user, which initdb needs."""

    def __init__(self, bindir: Path, port: int | None = None, fsync: bool = False) -> None:
        self.bindir = bindir
        self.port = port or free_port()
        self.fsync = fsync
        self.root = Path(tempfile.mkdtemp(prefix="expensicat-pg-"))
        self.datadir = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            shutil.chown(self.root, self.user, self.user)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def socket_url(self, database: str = "postgres") -> str:
        """The same database through the server's Unix socket, in the folder `-k` names."""
        return f"postgresql://postgres@/{database}?host={self.root}&port={self.port}"

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200 "
            "-c shared_buffers=256MB"
        )
        if not self.fsync:
            options += " -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", check=False)

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends at once, as a crash would, and wait until
        they are gone so that `start()` can bring the server back (with crash recovery)."""
        pid = self._postmaster_pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)  # no new backend is forked while we find the rest
        victims = [pid, *children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        _wait_until_gone(victims)
        # Left unreaped, the dead postmaster would look alive to the next one through its
        # lock files; they are stale now.
        (self.datadir / "postmaster.pid").unlink(missing_ok=True)
        (self.root / f".s.PGSQL.{self.port}.lock").unlink(missing_ok=True)

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        subprocess.run(
            [str(self.bindir / program), *args],
            check=check,
            user=self.user,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )


def _wait_until_gone(pids: list[int], timeout: float = 10) -> None:
    """Wait until each process has exited; an unreaped zombie counts as gone."""
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL processes {pids} did not exit")
        time.sleep(0.02)
