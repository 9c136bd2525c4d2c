"""Webhook delivery under load: how many events a second the server's own worker delivers to
a receiver that answers at once (while creates saturate the server, and then a backlog with
nothing else running), how long an event takes from its commit to the receiver at a steady
rate of writes, and what a subscribed endpoint costs the creates.

The receiver is a bare asyncio HTTP server in a process of its own, on 127.0.0.1, so that
it is never the bottleneck nor competes with this process for its interpreter.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection

import httpx
import orjson

from bench.databases import BenchError
from bench.fixtures import API
from bench.wrk import Measurement

ENDPOINTS = "/api/v1/webhook_endpoints"
STEADY_RATE = 200
ANSWER = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # wall clock, seconds
    occurred_at: str  # the event's timestamp


class Receiver:
    """Counts deliveries in a process of its own; `arrivals()` hands them over."""

    def __init__(self) -> None:
        self._parent, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(child,), daemon=True)

    def __enter__(self) -> Receiver:
        self._process.start()
        self.port: int = self._parent.recv()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._process.kill()
        self._process.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def arrivals(self) -> list[Arrival]:
        """Every delivery so far, and forget them."""
        self._parent.send("report")
        found: list[Arrival] = self._parent.recv()
        return found


def register(base_url: str, token: str, url: str) -> str:
    """A new endpoint for every created customer; its id."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"url": url, "events": ["customer.created"]}
    response = httpx.post(f"{base_url}{ENDPOINTS}", json=body, headers=headers, timeout=10)
    if response.status_code != 201:
        raise BenchError(f"registering a webhook endpoint answered {response.text[:300]}")
    endpoint_id: str = response.json()["data"]["id"]
    return endpoint_id


def redeliver(base_url: str, token: str, endpoint_id: str, since: str) -> None:
    """Queue again every event the endpoint was sent since `since`."""
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{base_url}{ENDPOINTS}/{endpoint_id}/redeliver"
    response = httpx.post(url, json={"since": since}, headers=headers, timeout=60)
    if response.status_code != 202:
        raise BenchError(f"redelivering webhook events answered {response.text[:300]}")


def drain_rate(receiver: Receiver, deadline_seconds: float = 300) -> tuple[float, int]:
    """Deliveries per second from the first to the last, once the backlog has drained (a
    whole second without one), and how many there were."""
    arrivals: list[Arrival] = []
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        time.sleep(1)
        more = receiver.arrivals()
        if not more and arrivals:
            break
        arrivals += more
    if len(arrivals) < 2:
        return 0.0, len(arrivals)
    span = arrivals[-1].at - arrivals[0].at
    return (len(arrivals) - 1) / span if span > 0 else math.inf, len(arrivals)


def steady_latency(base_url: str, token: str, receiver: Receiver, seconds: int) -> Measurement:
    """Creates at STEADY_RATE a second for `seconds`; each event's time from its commit (its
    timestamp) to its arrival at the receiver."""
    receiver.arrivals()
    sent = asyncio.run(_create_steadily(base_url, token, seconds))
    arrivals: list[Arrival] = []
    deadline = time.monotonic() + 30
    while len(arrivals) < sent and time.monotonic() < deadline:
        time.sleep(0.5)
        arrivals += receiver.arrivals()
    delays = sorted(arrival.at - _seconds(arrival.occurred_at) for arrival in arrivals)
    delays += [math.inf] * (sent - len(delays))
    return Measurement(
        requests=len(arrivals),
        seconds=seconds,
        p50_ms=delays[len(delays) // 2] * 1000,
        p99_ms=delays[min(len(delays) - 1, math.ceil(len(delays) * 0.99) - 1)] * 1000,
        errors=sent - len(arrivals),
        timeouts=0,
    )


async def _create_steadily(base_url: str, token: str, seconds: int) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        started = time.perf_counter()
        tasks = []
        for n in range(STEADY_RATE * seconds):
            due = started + n / STEADY_RATE
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(client.post(API, json={"name": f"Steady {n}"})))
        answers = await asyncio.gather(*tasks)
    return sum(answer.status_code == 201 for answer in answers)


def _seconds(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def _serve(pipe: Connection) -> None:
    asyncio.run(_receive(pipe))


async def _receive(pipe: Connection) -> None:
    arrivals: list[Arrival] = []

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                body = await reader.readexactly(length)
                arrivals.append(Arrival(time.time(), orjson.loads(body)["timestamp"]))
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(one, "127.0.0.1", 0)
    pipe.send(server.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    while True:
        await loop.run_in_executor(None, pipe.recv)
        pipe.send(arrivals[:])
        arrivals.clear()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
