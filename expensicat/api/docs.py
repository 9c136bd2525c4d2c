"""The OpenAPI document and a page that renders it for a person."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from expensicat.api.responses import json_response

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/api/v1/docs"

_DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Expensicat Customers API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{OPENAPI_PATH}", dom_id: "#docs"}});</script>
<noscript>The API description is at <a href="{OPENAPI_PATH}">{OPENAPI_PATH}</a>.</noscript>
</body>
</html>
"""


def docs_routes(document: dict[str, Any]) -> list[Route]:
    async def openapi(request: Request) -> Response:
        """The OpenAPI 3.1 description of this API."""
        return json_response(document)

    async def docs(request: Request) -> Response:
        """The API reference, rendered for a person."""
        return HTMLResponse(_DOCS_PAGE)

    async def home(request: Request) -> Response:
        """A person who opens the server's address finds the API reference."""
        return RedirectResponse(DOCS_PATH, status_code=302)

    return [
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        Route(DOCS_PATH, docs, methods=["GET"]),
        Route("/", home, methods=["GET"]),
    ]
