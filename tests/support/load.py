"""Waiting for a database's load: connections in use, and requests waiting for one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until_load(
    expected: tuple[int, int], load: Callable[[], tuple[int, int]], what: str = ""
) -> None:
    """Wait until `load` reads (connections in use, requests waiting) as expected."""
    for _ in range(500):
        if load() == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what}: load stayed {load()}, expected {expected}")
