"""The whole OAuth2 flow as it happens for real: a person signs in and consents in
Chromium, then a client library we did not write (Authlib) exchanges the code with PKCE,
calls the API, refreshes, and calls again, against `expensicat serve`."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from authlib.integrations.httpx_client import OAuth2Client
from playwright.sync_api import Browser, Route

from tests.support.cli import environment, run
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET

PASSWORD = "a long enough password"
CALLBACK = "http://127.0.0.1:9/callback"  # intercepted in the browser; nothing listens there
# Where to keep screenshots of the sign-in and consent pages, to look at; none if unset.
SHOTS = os.environ.get("EXPENSICAT_SCREENSHOTS")


def command(tmp_path: Path, *args: str, stdin: str | None = None) -> str:
    """An `expensicat` command on the served database (the `served` fixture's)."""
    env = environment(
        database_url=f"sqlite:///{tmp_path / 'expensicat.db'}",
        data_dir=str(tmp_path),
        session_secret=TEST_SECRET,
    )
    result = run(*args, env=env, cwd=tmp_path, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sign_in_consent_code_tokens_api_refresh_api(
    browser: Browser, served: ApiServer, tmp_path: Path
) -> None:
    command(tmp_path, "user", "create", "--org", "acme", "--email",
            "alice@example.com", "--password-stdin", stdin=PASSWORD)  # fmt: skip
    registered = json.loads(
        command(tmp_path, "oauth", "client", "create", "--name", "Ledger Sync",
                "--public", "--redirect-uri", CALLBACK)
    )  # fmt: skip
    oauth = OAuth2Client(
        registered["client_id"],
        redirect_uri=CALLBACK,
        scope="invoices:read invoices:write offline_access",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(64)
    url, state = oauth.create_authorization_url(
        f"{served.url}/api/auth/oauth2/authorize", code_verifier=verifier
    )
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_page()
    answered: list[str] = []

    def callback(route: Route) -> None:
        answered.append(route.request.url)
        route.fulfill(status=200, body="back in the app")

    page.route(f"{CALLBACK}**", callback)
    page.goto(url)
    assert page.url.startswith(f"{served.url}/signin")
    page.screenshot(path=str(shots / "signin.png"), full_page=True)
    page.fill("#email", "alice@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Allow Ledger Sync?")
    assert page.is_visible("text=acme")
    page.screenshot(path=str(shots / "consent.png"), full_page=True)
    page.click("button[value=allow]")
    page.wait_for_url(f"{CALLBACK}**")
    page.close()

    (back,) = answered
    token = oauth.fetch_token(
        f"{served.url}/api/auth/oauth2/token",
        authorization_response=back,
        code_verifier=verifier,
        state=state,
    )
    assert token["scope"] == "invoices:read invoices:write offline_access"
    created = oauth.post(f"{served.url}/api/v1/customers", json={"name": "Müller GmbH"})
    assert created.status_code == 201, created.text
    listed = oauth.get(f"{served.url}/api/v1/customers")
    assert listed.status_code == 200
    assert [c["name"] for c in listed.json()["data"]] == ["Müller GmbH"]

    refreshed = oauth.refresh_token(f"{served.url}/api/auth/oauth2/token")

    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]
    again = oauth.get(f"{served.url}/api/v1/customers")
    assert again.status_code == 200
    assert again.json()["meta"]["count"] == 1
