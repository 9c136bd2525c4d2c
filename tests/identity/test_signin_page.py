"""The sign-in page and the browser session on each backend: the cookie's flags, logout,
and `next` never leading off the site."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from expensicat.identity.cookies import COOKIE, SIGNIN_COOKIE
from tests.support.accounts import PASSWORD, new_user, sign_in_page


def set_cookie(response_headers: list[str]) -> str:
    (cookie,) = [header for header in response_headers if header.startswith(f"{COOKIE}=")]
    return cookie


class TestSignInPage:
    def test_the_page_is_a_form_that_cannot_be_framed(self, client: TestClient) -> None:
        page = client.get("/signin")

        assert page.status_code == 200
        assert '<form method="post" action="/signin">' in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"

    def test_the_session_cookie_is_httponly_secure_and_samesite_lax(
        self, client: TestClient, org: str
    ) -> None:
        email = new_user(client, org)

        response = sign_in_page(client, {"email": email, "password": PASSWORD})

        cookie = set_cookie(response.headers.get_list("set-cookie")).lower()
        attributes = {part.strip().partition("=")[0] for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite", "path", "max-age"} <= attributes
        assert "samesite=lax" in cookie

    def test_on_the_loopback_host_the_cookie_is_not_secure_so_http_works(
        self, client: TestClient, org: str
    ) -> None:
        email = new_user(client, org)

        response = sign_in_page(
            client, {"email": email, "password": PASSWORD}, url="http://127.0.0.1/signin"
        )

        cookie = set_cookie(response.headers.get_list("set-cookie")).lower()
        assert "httponly" in cookie
        assert "secure" not in cookie

    def test_a_wrong_password_shows_the_form_again_without_a_cookie(
        self, client: TestClient, org: str
    ) -> None:
        email = new_user(client, org)

        response = sign_in_page(client, {"email": email, "password": "not it at all"})

        assert response.status_code == 401
        assert "not right" in response.text
        assert f"{COOKIE}=" not in response.headers.get("set-cookie", "")

    @pytest.mark.parametrize(
        "next_path",
        ["https://evil.example/", "//evil.example/", "/api/v1/customers", "javascript:alert(1)"],
    )
    def test_next_never_leads_anywhere_but_the_authorization_endpoint(
        self, client: TestClient, org: str, next_path: str
    ) -> None:
        email = new_user(client, org)

        response = sign_in_page(
            client,
            {"email": email, "password": PASSWORD, "next": next_path},
            follow_redirects=False,
        )

        assert response.status_code == 200
        assert "location" not in response.headers

    def test_a_form_posted_without_the_page_s_token_is_refused(
        self, client: TestClient, org: str
    ) -> None:
        email = new_user(client, org)
        page = client.get("/signin")
        nonce = {"Cookie": f"{SIGNIN_COOKIE}={page.cookies[SIGNIN_COOKIE]}"}
        form = {"email": email, "password": PASSWORD}

        # As another site would post it: without the nonce cookie, or without the token.
        forged = [
            client.post("/signin", data={**form, "csrf_token": "made-up"}),
            client.post("/signin", data=form, headers=nonce),
        ]

        for response in forged:
            assert response.status_code == 403
            assert f"{COOKIE}=" not in response.headers.get("set-cookie", "")

    def test_logout_clears_the_cookie(self, client: TestClient) -> None:
        response = client.post("/api/auth/session/logout")

        assert response.status_code == 204
        cookie = set_cookie(response.headers.get_list("set-cookie")).lower()
        assert "max-age=0" in cookie or "expires=thu, 01 jan 1970" in cookie
