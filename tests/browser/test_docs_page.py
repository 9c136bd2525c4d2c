"""/api/v1/docs renders the API reference with no network beyond the server itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route

from tests.support.server import ApiServer


@pytest.mark.slow
def test_the_reference_renders_every_operation_offline(
    browser: Browser, served: ApiServer, tmp_path: Path
) -> None:
    page = browser.new_page()
    refused: list[str] = []

    def loopback_only(route: Route) -> None:
        if route.request.url.startswith(served.url):
            route.continue_()
        else:  # as on a network that reaches nothing else
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    page.goto(f"{served.url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary", timeout=15_000)

    summaries = page.locator(".opblock-summary-description").all_inner_texts()
    assert {"List customers", "Create customer", "Get customer", "Update customer"} <= set(
        summaries
    )
    assert refused == []
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
    page.close()
