"""Latency at a steady request rate, measured without coordinated omission.

wrk only saturates. Here requests are due on a fixed schedule (open loop) and each one's
latency runs from the moment it was due, not from when a connection got free to send it:
a server that stalls is charged for every request that piled up behind the stall.
"""

from __future__ import annotations

import asyncio
import gc
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import uvloop

from bench.wrk import REQUEST_TIMEOUT_SECONDS, Measurement

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pace:
    rate: int
    seconds: int
    connections: int


def run(port: int, paths: Callable[[], str], token: str | None, pace: Pace) -> Measurement:
    """Requests at `pace`, with this process's garbage collector off meanwhile: by the paced
    scenarios of a full run it holds 120,000 to 155,000 objects, and a full collection
    paused it for 60 to 94 ms, which the latencies charged to the server."""
    gc.collect()
    gc.disable()
    try:
        return uvloop.run(_run(port, paths, token, pace))
    finally:
        gc.enable()


async def _run(port: int, paths: Callable[[], str], token: str | None, pace: Pace) -> Measurement:
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(pace.connections):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    latencies: list[float] = []
    errors = timeouts = 0

    async def one(due: float, path: str) -> None:
        """Send when due; give up on an answer the timeout after that."""
        nonlocal errors, timeouts
        connection = None
        try:
            async with asyncio.timeout(due + REQUEST_TIMEOUT_SECONDS - time.perf_counter()):
                connection = await idle.get()
                status = await _exchange(connection, _request(path, auth))
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            timeouts += isinstance(error, TimeoutError)
            errors += not isinstance(error, TimeoutError)
            latencies.append(math.inf)
            connection = await _replace(connection, port)
        else:
            latencies.append(time.perf_counter() - due)
            errors += not 200 <= status < 300
        if connection is not None:
            idle.put_nowait(connection)

    # perf_counter, not loop.time(): uvloop's clock only ticks in whole milliseconds.
    start = time.perf_counter() + 0.1
    total = pace.rate * pace.seconds
    pending = []
    for n in range(total):
        due = start + n / pace.rate
        if due > time.perf_counter():
            await asyncio.sleep(due - time.perf_counter())
        pending.append(asyncio.create_task(one(due, paths())))
    await asyncio.gather(*pending)
    while not idle.empty():
        idle.get_nowait()[1].close()
    seconds = time.perf_counter() - start
    return _measurement(latencies, total, seconds, errors=errors, timeouts=timeouts)


def _request(path: str, auth: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


async def _exchange(connection: Connection, request: bytes) -> int:
    """Send one request, read its whole response; the status code."""
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = CONTENT_LENGTH.search(head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return int(head[9:12])


async def _replace(connection: Connection | None, port: int) -> Connection | None:
    """A fresh connection for one left in an unknown state; None if none can be had."""
    if connection is None:
        return None
    connection[1].close()
    try:
        return await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None


def _measurement(
    latencies: list[float], requests: int, seconds: float, errors: int, timeouts: int
) -> Measurement:
    ordered = sorted(latencies) or [math.inf]

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return Measurement(
        requests=requests,
        seconds=seconds,
        p50_ms=percentile(0.50),
        p99_ms=percentile(0.99),
        errors=errors,
        timeouts=timeouts,
    )
