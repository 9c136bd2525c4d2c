"""Probes for orchestrators: the process is alive; the database answers."""

from __future__ import annotations

import asyncio
from typing import Protocol

from starlette.responses import Response

from expensicat.api.endpoint import Answer, Call, Endpoint
from expensicat.api.errors import count_database_error, service_unavailable
from expensicat.api.responses import json_response
from expensicat.db.errors import DatabaseUnavailable

# A readiness probe must answer before the orchestrator gives up on it, even when the
# database is silent rather than refusing.
READINESS_TIMEOUT_SECONDS = 1.0


class Pingable(Protocol):
    async def ping(self) -> None: ...


async def healthz(call: Call) -> Response:
    """The process is alive."""
    return json_response({"status": "ok"})


async def readyz(call: Call) -> Response:
    """The database answers within a second; 503 otherwise."""
    database: Pingable = call.request.app.state.database
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await database.ping()
    except DatabaseUnavailable as error:
        count_database_error(call.request, error)
        raise service_unavailable() from None
    except TimeoutError:
        count_database_error(call.request, DatabaseUnavailable("TimeoutError"))
        raise service_unavailable() from None
    return json_response({"status": "ready"})


ENDPOINTS = (
    Endpoint(
        "GET", "/healthz", "healthz", "Liveness", healthz,
        (Answer(200, "The process is alive.", "Health", example={"status": "ok"}),),
        description="Answers while the process runs; it does not touch the database.",
        budget=None, tag="health",
    ),
    Endpoint(
        "GET", "/readyz", "readyz", "Readiness", readyz,
        (Answer(200, "The database answers.", "Health", example={"status": "ready"}),),
        description="Answers 200 once the database answers within a second, 503 otherwise.",
        budget=None, tag="health",
    ),
)  # fmt: skip
SCHEMAS = {
    "Health": {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["ok", "ready"]}},
        "required": ["status"],
    }
}
