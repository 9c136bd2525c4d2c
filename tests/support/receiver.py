"""A webhook receiver for the tests: a real HTTP server on a loopback address, recording
what it is sent and answering as the test tells it to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from tests.support.postgres import free_port

# What the receiver answers: a status, or None to hang until the test ends.
Behaviour = Callable[[], int | None]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self._port = port
        self.received: list[Received] = []
        self.behaviour: Behaviour = lambda: 200
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        """Where it listens: the port the system gave it when it started, or, asked before,
        one free then, for a receiver that is down."""
        if self._port is None:
            self._port = free_port()
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hooks"

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was delivered
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append(Received(headers, body))
                status = receiver.behaviour()
                if status is None:
                    receiver._released.wait(60)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        # Port 0 unless it has one: the system hands out a port nobody holds.
        self._server = ThreadingHTTPServer((self.host, self._port or 0), Handler)
        self._port = self._server.server_address[1]
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, seconds: float = 20) -> list[Received]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)
