"""One holder per host: an exclusive lock on a file in the data directory.

The kernel drops the lock with the process that held it, however it ended, so a worker
that dies hands the background work to whichever process asks next.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class HostLease:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_take(self) -> bool:
        """Take the lease if no other process holds it; True once held."""
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the lock
            self._fd = None
