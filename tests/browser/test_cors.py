"""A page on another origin calls the API with fetch() in a real browser: allowed when its
origin is on EXPENSICAT_CORS_ORIGINS, blocked by the browser otherwise."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.conftest import make_settings
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET, session_token

CALL_THE_API = """
async ([url, token]) => {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Authorization": "Bearer " + token,
        "Content-Type": "application/json",
        "Idempotency-Key": "browser-1",
      },
      body: JSON.stringify({name: "Acme"}),
    });
    const body = await response.json();
    return {
      status: response.status,
      name: body.data.name,
      etag: response.headers.get("ETag"),
      location: response.headers.get("Location"),
      requestId: response.headers.get("X-Request-Id"),
    };
  } catch (error) {
    return {error: String(error)};
  }
}
"""


@pytest.fixture
def page_origin(tmp_path: Path) -> Iterator[str]:
    """Another origin on loopback: a plain web server with one page."""
    (tmp_path / "index.html").write_text("<!doctype html><title>An app</title><p>An app</p>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def api_allowing(origins: str, folder: Path) -> ApiServer:
    settings = make_settings(f"sqlite:///{folder / 'expensicat.db'}", folder)
    env = {"session_secret": TEST_SECRET, "cors_origins": origins}
    return ApiServer(folder / "serve.log", settings=settings, env=env)


def call_from(browser: Browser, page_origin: str, api: ApiServer) -> dict[str, Any]:
    page = browser.new_page()
    page.goto(f"{page_origin}/index.html")
    result: dict[str, Any] = page.evaluate(
        CALL_THE_API, [f"{api.url}/api/v1/customers", session_token("org-cors")]
    )
    page.close()
    return result


@pytest.mark.slow
class TestCrossOriginCalls:
    def test_an_allowed_origin_calls_and_reads_the_exposed_headers(
        self, browser: Browser, page_origin: str, tmp_path: Path
    ) -> None:
        with api_allowing(page_origin, tmp_path) as api:
            result = call_from(browser, page_origin, api)

        assert result["status"] == 201
        assert result["name"] == "Acme"
        assert result["etag"] == '"1"'
        assert result["location"].startswith("/api/v1/customers/")
        assert result["requestId"]

    def test_an_origin_not_on_the_list_is_blocked(
        self, browser: Browser, page_origin: str, tmp_path: Path
    ) -> None:
        with api_allowing("https://app.example.com", tmp_path) as api:
            result = call_from(browser, page_origin, api)

        assert "Failed to fetch" in result["error"]

    def test_with_no_origin_configured_the_browser_blocks_every_call(
        self, browser: Browser, page_origin: str, tmp_path: Path
    ) -> None:
        with api_allowing("", tmp_path) as api:
            result = call_from(browser, page_origin, api)

        assert "Failed to fetch" in result["error"]
