"""Buckets every worker process of one host shares: a memory-mapped file of fixed slots.

Each slot holds a 64-bit hash of the key and the bucket's TAT. A key lives in the first
matching or free slot of a short window starting at its hash; the window is locked with
an fcntl byte-range lock for the few microseconds of a decision, so processes never lose
each other's updates, and the kernel drops the lock of a process that dies holding it.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import time
from pathlib import Path

from expensicat.ratelimit.gcra import Decision, Policy, spend

_SLOT = struct.Struct("<Qq")  # key hash (0: free), TAT in microseconds
SLOTS = 1 << 16
WINDOW = 16


class SharedFileLimiter:
    """Decisions run on the event loop's thread, so one process never races itself."""

    def __init__(self, path: Path, policy: Policy) -> None:
        self.path = path
        self.policy = policy
        self._fd = -1
        self._map: mmap.mmap | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        size = SLOTS * _SLOT.size
        # Growing an existing file to the same size is harmless when workers race here.
        if os.fstat(self._fd).st_size < size:
            os.ftruncate(self._fd, size)
        self._map = mmap.mmap(self._fd, size)

    async def take(self, key: str) -> Decision:
        return self.take_now(key, time.time_ns() // 1000)

    def take_now(self, key: str, now: int) -> Decision:
        assert self._map is not None, "open() the limiter first"
        key_hash = _hash(key)
        first = key_hash % (SLOTS - WINDOW)
        start, length = first * _SLOT.size, WINDOW * _SLOT.size
        fcntl.lockf(self._fd, fcntl.LOCK_EX, length, start)
        try:
            offset, tat = _find(self._map, key_hash, start, start + length)
            allowed, tat = spend(self.policy, tat, now)
            _SLOT.pack_into(self._map, offset, key_hash, tat)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, length, start)
        return Decision.from_debt(self.policy, allowed, tat - now)

    async def close(self) -> None:
        if self._map is not None:
            self._map.close()
            os.close(self._fd)
            self._map = None


def _find(table: mmap.mmap, key_hash: int, start: int, end: int) -> tuple[int, int]:
    """The key's slot and TAT, else a slot to take over with a full bucket (TAT 0).

    Keys are placed no further than the first free slot and slots are never freed, so
    a free slot ends the search. A window with neither the key nor a free slot gives up
    the bucket that fills soonest: at worst that key is let off, never wrongly refused.
    """
    victim, victim_tat = start, 1 << 63
    for offset in range(start, end, _SLOT.size):
        stored_hash, tat = _SLOT.unpack_from(table, offset)
        if stored_hash == key_hash:
            return offset, tat
        if stored_hash == 0:
            return offset, 0
        if tat < victim_tat:
            victim, victim_tat = offset, tat
    return victim, 0


def _hash(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8, person=b"ratelimit").digest()
    return int.from_bytes(digest, "little") or 1
