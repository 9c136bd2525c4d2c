"""Pages as a person meets them: the system's Chromium (Debian's package), driven by
Playwright, which never downloads a browser of its own here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import make_settings
from tests.support.required import required
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET

# No network but loopback here: Chromium's own background calls would only be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's synchronous API runs an event loop in this thread for as long
    as it is open, which tests elsewhere that start their own loop could not share."""
    executable = required(find_chromium(), "chromium not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ApiServer]:
    """A real server on SQLite, as `expensicat serve` runs for a new user."""
    settings = make_settings(f"sqlite:///{tmp_path / 'expensicat.db'}", tmp_path)
    with ApiServer(
        tmp_path / "serve.log", settings=settings, env={"session_secret": TEST_SECRET}
    ) as server:
        yield server
