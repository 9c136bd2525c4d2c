"""The HTTP server: granian (Rust) serving the ASGI app from one or more worker processes.

Chosen over uvicorn by measurement: it writes a response's head and body in one syscall
instead of two, and served the same app 1.3-1.6x faster, at half the median latency.
"""

from __future__ import annotations

from granian import Granian
from granian.constants import Interfaces, Loops, RuntimeModes
from granian.log import LogLevels

# How long a worker may take, after SIGTERM, to finish the requests it has already taken.
GRACEFUL_SHUTDOWN_SECONDS = 30


def run(target: str, *, host: str, port: int, workers: int, factory: bool, log_level: str) -> None:
    """Serve `target` ("module:attribute") until SIGTERM or SIGINT.

    On either signal the listening socket closes at once, in-flight requests finish, the
    app's shutdown runs, and the process exits 0. A worker that dies is started again,
    unless it dies again at once (a crash loop), which stops the server with status 1.
    """
    Granian(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        factory=factory,
        workers=workers,
        loop=Loops.uvloop,
        runtime_mode=RuntimeModes.st,
        websockets=False,
        log_level=LogLevels(log_level.lower()),
        # The server's own lines go through the root handler, in the service's log format.
        log_dictconfig={"version": 1, "loggers": {"_granian": {"propagate": True}}},
        log_access=False,  # the app writes its own access line, with the request id
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_SHUTDOWN_SECONDS,
    ).serve()
