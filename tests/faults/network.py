"""Network-level faults between the service and PostgreSQL: a link that can go silent or
reset, and a server that refuses every connection with a given FATAL error."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

_LINGER_ZERO = struct.pack("ii", 1, 0)
_SSL_REQUEST = struct.pack("!i", 80877103)


class _LoopThread:
    """An event loop on a thread of its own, serving TCP on 127.0.0.1 beside the tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._servers: list[asyncio.Server] = []

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def serve(self, handler: Handler) -> int:
        server = self.call(asyncio.start_server(handler, "127.0.0.1", 0))
        self._servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    def stop(self, last: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()
            if last is not None:
                await last()

        self.call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class FaultyLink:
    """Forwards 127.0.0.1:`port` to `target_port` until told to fail.

    `blackhole()` makes the link silent, as a pulled cable or a dropped route would:
    connections are still accepted, but no byte and no close gets through either way, so
    clients hang until their own timeouts fire. `reset()` breaks every open connection with
    a TCP reset. `heal()` lets traffic through again.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._silent = False
        self._loop: _LoopThread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    def __enter__(self) -> FaultyLink:
        self._loop = _LoopThread()
        self.port = self._loop.serve(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.stop(self._finish)

    def blackhole(self) -> None:
        self._silent = True

    def heal(self) -> None:
        self._silent = False

    def reset(self) -> None:
        """Abort every open connection with an RST, as a restarted firewall would."""
        assert self._loop is not None
        self._loop.call(self._abort_all())

    def terminate_sessions(self, sqlstate: str, message: str) -> None:
        """Send every open session the FATAL error a server sends before it drops them
        (shutting down, or restarting after a backend crashed), and leave the close for
        later, as the network may deliver it."""
        assert self._loop is not None
        self._loop.call(self._send_to_clients(fatal_error(sqlstate, message)))

    async def _send_to_clients(self, data: bytes) -> None:
        for writer in self._clients:
            writer.write(data)

    async def _finish(self) -> None:
        await self._abort_all()
        # With every socket aborted, each connection's copying ends on its own.
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)

    async def _abort_all(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(OSError):
                writer.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO
                )
            writer.transport.abort()
        self._writers.clear()
        self._clients.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        self._writers.add(writer)
        self._clients.add(writer)
        if self._silent:
            await self._pipe(reader, None)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        """Copy until end of stream; while silent, swallow the bytes and the close alike."""
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if writer is not None and not self._silent:
                    writer.write(data)
                    await writer.drain()
            if writer is not None and not self._silent:
                writer.close()


class RefusingPostgres:
    """Answers every PostgreSQL connection with one FATAL error, as a server that is starting
    up, shutting down or out of connection slots does."""

    def __init__(self, sqlstate: str, message: str) -> None:
        self._error = fatal_error(sqlstate, message)
        self._loop: _LoopThread | None = None
        self.port = 0

    def __enter__(self) -> RefusingPostgres:
        self._loop = _LoopThread()
        self.port = self._loop.serve(self._refuse)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.stop()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            if await _startup_packet(reader) == _SSL_REQUEST:
                writer.write(b"N")  # no TLS here: the client goes on in plain text
                await _startup_packet(reader)
            writer.write(self._error)
            await writer.drain()
        writer.close()


def fatal_error(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message of severity FATAL."""
    fields = (("S", "FATAL"), ("V", "FATAL"), ("C", sqlstate), ("M", message))
    body = b"".join(kind.encode() + value.encode() + b"\0" for kind, value in fields) + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


async def _startup_packet(reader: asyncio.StreamReader) -> bytes:
    (length,) = struct.unpack("!i", await reader.readexactly(4))
    return await reader.readexactly(length - 4)
