"""The floor: the same server stack answering with a fixed JSON body and doing nothing else.

Served by the server `expensicat serve` runs, with the same options, it shows what the HTTP stack
alone costs on this machine, so every service figure can be read as a ratio to it.
"""

from __future__ import annotations

import argparse

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from expensicat import server

PATH = "/floor"

# About the size of one customer as the API returns it.
BODY = orjson.dumps(
    {
        "data": {
            "id": "01936b2e-8f3a-7c4d-9e5f-a1b2c3d4e5f6",
            "organization_id": "org-bench-big",
            "name": "Müller Maschinenbau GmbH & Co. KG",
            "email": "rechnung@nordwind451.de",
            "phone": "+49 221 4455667",
            "website": "https://www.nordwind451.de",
            "contact_person": "Jürgen Schröder",
            "address_line1": "Königsallee 12",
            "address_line2": None,
            "country": "Deutschland",
            "city": "Düsseldorf",
            "state": None,
            "postal_code": "40212",
            "tax_id": "DE123456789",
            "notes": "Zahlung per Überweisung innerhalb von 14 Tagen.",
            "created_at": "2026-11-28T07:16:53.123456Z",
            "updated_at": "2026-11-28T07:16:53.123456Z",
            "country_code": "DE",
        }
    }
)


async def floor(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route(PATH, floor, methods=["GET"])])


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the benchmark's static JSON floor.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    server.run(
        "bench.floor:app",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        factory=False,
        log_level="WARNING",
    )


if __name__ == "__main__":
    main()
