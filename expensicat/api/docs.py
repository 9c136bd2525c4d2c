"""The OpenAPI document and a page that renders it for a person.

The page's Swagger UI comes from a package the project installs (swagger-ui-py carries
its files), not from a CDN: self-hosted services often run where no public network is.
"""

from __future__ import annotations

import importlib.resources
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from expensicat.api.responses import json_response

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/api/v1/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
# Only the two files the page loads are served, not the rest of the package's folder.
_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js")

_DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Expensicat Customers API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{OPENAPI_PATH}", dom_id: "#docs"}});</script>
<noscript>The API description is at <a href="{OPENAPI_PATH}">{OPENAPI_PATH}</a>.</noscript>
</body>
</html>
"""


def docs_routes(document: dict[str, Any]) -> list[Route | Mount]:
    async def openapi(request: Request) -> Response:
        """The OpenAPI 3.1 description of this API."""
        return json_response(document)

    async def docs(request: Request) -> Response:
        """The API reference, rendered for a person."""
        return HTMLResponse(_DOCS_PAGE)

    async def home(request: Request) -> Response:
        """A person who opens the server's address finds the API reference."""
        return RedirectResponse(DOCS_PATH, status_code=302)

    assets = StaticFiles(directory=str(importlib.resources.files("swagger_ui") / "static"))

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            raise HTTPException(404)
        return await assets.get_response(name, request.scope)

    return [
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        Route(DOCS_PATH, docs, methods=["GET"]),
        Route(f"{ASSETS_PATH}/{{name}}", asset, methods=["GET"]),
        Route("/", home, methods=["GET"]),
    ]
