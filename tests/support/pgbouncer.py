"""A throwaway PgBouncer in transaction pooling mode in front of a test PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.postgres import free_port

START_TIMEOUT_SECONDS = 15


def find_pgbouncer() -> str | None:
    """The pgbouncer binary; Debian installs it in /usr/sbin, which a user's PATH may lack."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")


class PgBouncer:
    """One pooler on 127.0.0.1; as root it runs as the `postgres` user, since it refuses root."""

    def __init__(self, binary: str, postgres_port: int, pool_size: int = 20) -> None:
        self.binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="expensicat-pgbouncer-"))
        self.user = "postgres" if os.geteuid() == 0 else None
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config(postgres_port, pool_size)
        if self.user is not None:
            shutil.chown(self.root, self.user, self.user)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        with (self.root / "pgbouncer.log").open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, str(self.root / "pgbouncer.ini")],
                user=self.user,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_listening()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        return (self.root / "pgbouncer.log").read_text(errors="replace")

    def _write_config(self, postgres_port: int, pool_size: int) -> None:
        # Transaction pooling: a server connection serves one transaction, then the next
        # client's, so nothing may rely on session state such as named prepared statements.
        (self.root / "pgbouncer.ini").write_text(
            f"""[databases]
* = host=127.0.0.1 port={postgres_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.root / "userlist.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
pidfile = {self.root / "pgbouncer.pid"}
"""
        )
        (self.root / "userlist.txt").write_text('"postgres" ""\n')

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited early:\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer did not start listening:\n{self.log()}")
