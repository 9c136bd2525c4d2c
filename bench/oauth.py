"""The built-in authorization server under load: refresh-token exchanges, and get by id
with a self-issued OAuth2 access token beside the same with a session token."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
from pathlib import Path

import httpx

from bench.databases import BenchError
from bench.servers import BIN

TOKEN_PATH = "/api/auth/oauth2/token"
AUTHORIZE_PATH = "/api/auth/oauth2/authorize"
REDIRECT_URI = "http://127.0.0.1:9/callback"
EMAIL = "bench@example.com"
PASSWORD = secrets.token_urlsafe(24)


def expensicat(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(BIN / "expensicat"), *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise BenchError(f"expensicat {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def client_credentials_token(base_url: str, env: dict[str, str], organization_id: str) -> str:
    """An access token of a confidential client bound to the organization."""
    client = json.loads(
        expensicat(env, "oauth", "client", "create", "--name", "bench", "--org", organization_id)
    )
    answer = httpx.post(
        base_url + TOKEN_PATH,
        data={"grant_type": "client_credentials", "scope": "invoices:read"},
        auth=(client["client_id"], client["client_secret"]),
    )
    token: str = _answer(answer)["access_token"]
    return token


def refresh_tokens(
    base_url: str, env: dict[str, str], organization_id: str, count: int, folder: Path
) -> tuple[str, Path]:
    """A public client, and `count` refresh tokens of it (each its own family) in a file."""
    expensicat(env, "user", "create", "--org", organization_id, "--email", EMAIL,
               "--password-stdin", stdin=PASSWORD)  # fmt: skip
    client_id = json.loads(
        expensicat(env, "oauth", "client", "create", "--name", "bench app", "--public",
                   "--redirect-uri", REDIRECT_URI)
    )["client_id"]  # fmt: skip
    with httpx.Client(base_url=base_url, timeout=10) as browser:
        page = browser.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        form = {"email": EMAIL, "password": PASSWORD, "csrf_token": csrf.group(1) if csrf else ""}
        signed_in = browser.post("/signin", data=form)
        if signed_in.status_code != 200:
            raise BenchError(f"sign-in failed: {signed_in.status_code}")
        tokens = [_consented_refresh_token(browser, client_id) for _ in range(count)]
    path = folder / "refresh-tokens.txt"
    path.write_text("\n".join(tokens) + "\n")
    return client_id, path


def _consented_refresh_token(browser: httpx.Client, client_id: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "invoices:read offline_access",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    page = browser.get(AUTHORIZE_PATH, params=params)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if csrf is None:
        raise BenchError(f"no consent page: {page.status_code}")
    allowed = browser.post(
        AUTHORIZE_PATH, data={**params, "csrf_token": csrf.group(1), "decision": "allow"}
    )
    code = re.search(r"[?&]code=([^&]+)", allowed.headers.get("location", ""))
    if code is None:
        raise BenchError(f"no code: {allowed.status_code}")
    exchanged = browser.post(
        TOKEN_PATH,
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code.group(1),
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    token: str = _answer(exchanged)["refresh_token"]
    return token


def _answer(response: httpx.Response) -> dict[str, str]:
    if response.status_code != 200:
        raise BenchError(f"token endpoint: {response.status_code} {response.text}")
    answer: dict[str, str] = response.json()
    return answer
