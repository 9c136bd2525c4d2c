"""The authorization code flow with PKCE, on each backend: consent, code, tokens, refresh;
and each attack on it refused."""

from __future__ import annotations

from datetime import timedelta
from html import escape

import jwt
import pytest
from starlette.testclient import TestClient

from expensicat.oauth import service
from expensicat.oauth.records import SCOPES
from tests.conftest import Api
from tests.support.accounts import new_user
from tests.support.contract import CUSTOMERS, assert_error
from tests.support.oauth import (
    AUTHORIZE,
    REDIRECT,
    App,
    Pkce,
    assert_oauth_error,
    authorize_params,
    code_for,
    consent,
    csrf_of,
    exchange,
    redirected_query,
    register,
    signed_in,
    token_request,
    tokens,
)
from tests.support.tokens import bearer

CLAIMS = {"iss", "aud", "sub", "client_id", "scope", "org_id", "exp", "iat", "jti"}


@pytest.fixture
def app(client: TestClient) -> App:
    return register(client)


@pytest.fixture
def cookie(client: TestClient, org: str) -> dict[str, str]:
    return signed_in(client, new_user(client, org))


class TestAuthorize:
    def test_a_stranger_is_sent_to_sign_in_and_back(self, client: TestClient, app: App) -> None:
        params = authorize_params(app, Pkce())

        response = client.get(AUTHORIZE, params=params, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=%2Fapi%2Fauth%2Foauth2%2F")

    def test_consent_names_the_client_the_organization_and_each_scope(
        self, client: TestClient, app: App, cookie: dict[str, str], org: str
    ) -> None:
        params = authorize_params(app, Pkce())

        page = client.get(AUTHORIZE, params=params, headers=cookie, follow_redirects=False)

        assert page.status_code == 200
        assert "Books Sync" in page.text
        assert org in page.text
        for scope in ("invoices:read", "invoices:write", "offline_access"):
            assert escape(SCOPES[scope]) in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"

    def test_allowing_redirects_with_a_code_the_state_and_the_issuer(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        query = redirected_query(consent(client, cookie, authorize_params(app, Pkce())))

        assert query["state"] == "xyz-state"
        assert query["code"]
        assert query["iss"] == "http://127.0.0.1:8000"

    def test_denying_redirects_with_access_denied(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        response = consent(client, cookie, authorize_params(app, Pkce()), decision="deny")

        assert redirected_query(response)["error"] == "access_denied"

    def test_consent_without_its_csrf_token_is_refused(
        self, client: TestClient, app: App, cookie: dict[str, str], org: str
    ) -> None:
        params = authorize_params(app, Pkce())
        other = signed_in(client, new_user(client, org))
        forged = client.get(AUTHORIZE, params=params, headers=other, follow_redirects=False)
        for csrf in ("", "made-up", csrf_of(forged.text)):
            form = {**params, "decision": "allow", "csrf_token": csrf}
            response = client.post(AUTHORIZE, data=form, headers=cookie, follow_redirects=False)
            assert response.status_code == 403
            assert "location" not in response.headers

    @pytest.mark.parametrize(
        "redirect_uri",
        [
            "http://127.0.0.1:8765/callback/other",
            "http://127.0.0.1:8765/callback/",
            "http://127.0.0.1:8765/callback?next=1",
            "http://127.0.0.1:8765/CALLBACK",
            "https://evil.example/callback",
            "//evil.example/callback",
            "",
        ],
    )
    def test_a_redirect_uri_not_registered_exactly_shows_an_error_and_never_redirects(
        self, client: TestClient, app: App, cookie: dict[str, str], redirect_uri: str
    ) -> None:
        params = authorize_params(app, Pkce(), redirect_uri=redirect_uri)

        for method in ("GET", "POST"):
            response = client.request(
                method,
                AUTHORIZE,
                params=params if method == "GET" else None,
                data=None if method == "GET" else params,
                headers=cookie,
                follow_redirects=False,
            )
            assert response.status_code in (400, 403)
            assert "location" not in response.headers
            assert response.headers["content-type"].startswith("text/html")

    def test_an_unknown_client_shows_an_error_and_never_redirects(
        self, client: TestClient, cookie: dict[str, str]
    ) -> None:
        params = authorize_params(App("ec_unknown"), Pkce())

        response = client.get(AUTHORIZE, params=params, headers=cookie, follow_redirects=False)

        assert response.status_code == 400
        assert "location" not in response.headers

    @pytest.mark.parametrize(
        ("change", "error"),
        [
            ({"response_type": "token"}, "unsupported_response_type"),
            ({"code_challenge_method": "plain"}, "invalid_request"),
            ({"code_challenge_method": ""}, "invalid_request"),
            ({"code_challenge": ""}, "invalid_request"),
            ({"scope": "invoices:read admin"}, "invalid_scope"),
            ({"scope": ""}, "invalid_scope"),
        ],
    )
    def test_other_errors_redirect_with_the_error_and_the_state(
        self,
        client: TestClient,
        app: App,
        cookie: dict[str, str],
        change: dict[str, str],
        error: str,
    ) -> None:
        params = authorize_params(app, Pkce(), **change)

        response = client.get(AUTHORIZE, params=params, headers=cookie, follow_redirects=False)

        query = redirected_query(response)
        assert query["error"] == error
        assert query["state"] == "xyz-state"


class TestCodeExchange:
    def test_answers_an_access_token_the_api_takes_and_a_refresh_token(
        self, client: TestClient, app: App, cookie: dict[str, str], org: str
    ) -> None:
        pkce = Pkce()
        answer = tokens(exchange(client, app, code_for(client, cookie, app, pkce), pkce))

        assert answer["token_type"] == "Bearer"
        assert answer["expires_in"] == 900
        assert answer["refresh_token"]
        header = jwt.get_unverified_header(answer["access_token"])
        assert (header["typ"], header["alg"]) == ("at+jwt", "ES256")
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
        assert set(claims) == CLAIMS
        assert claims["org_id"] == org
        assert claims["client_id"] == app.client_id
        assert claims["exp"] - claims["iat"] == 900
        token = bearer(answer["access_token"])
        created = client.post(CUSTOMERS, json={"name": "Acme"}, headers=token)
        assert created.status_code == 201, created.text
        changes = client.get(f"{CUSTOMERS}/changes", headers=token)
        assert changes.json()["data"][0]["actor"] == {"type": "client", "id": app.client_id}

    def test_without_offline_access_there_is_no_refresh_token(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        pkce = Pkce()
        code = code_for(client, cookie, app, pkce, scope="invoices:read")

        answer = tokens(exchange(client, app, code, pkce))

        assert "refresh_token" not in answer
        assert answer["scope"] == "invoices:read"

    def test_a_code_used_twice_is_refused_and_revokes_what_it_gave(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        pkce = Pkce()
        code = code_for(client, cookie, app, pkce)
        first = tokens(exchange(client, app, code, pkce))

        assert_oauth_error(exchange(client, app, code, pkce), 400, "invalid_grant")

        refreshed = token_request(
            client, app, grant_type="refresh_token", refresh_token=first["refresh_token"]
        )
        assert_oauth_error(refreshed, 400, "invalid_grant")

    @pytest.mark.parametrize("verifier", ["", "plain", "wrong"])
    def test_a_missing_plain_or_wrong_code_verifier_is_refused(
        self, client: TestClient, app: App, cookie: dict[str, str], verifier: str
    ) -> None:
        pkce = Pkce()
        code = code_for(client, cookie, app, pkce)
        sent = {"": "", "plain": pkce.challenge, "wrong": Pkce().verifier}[verifier]

        response = token_request(
            client,
            app,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            **({"code_verifier": sent} if sent else {}),
        )

        assert response.status_code == 400
        assert response.json()["error"] in ("invalid_request", "invalid_grant")
        # Nor does the right verifier work afterwards, if the code was spent on the attempt.
        if verifier:
            assert_oauth_error(exchange(client, app, code, pkce), 400, "invalid_grant")

    def test_a_code_issued_to_one_client_is_refused_to_another(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        pkce = Pkce()
        code = code_for(client, cookie, app, pkce)
        other = register(client)

        assert_oauth_error(exchange(client, other, code, pkce), 400, "invalid_grant")

    def test_an_expired_code_is_refused(
        self, client: TestClient, app: App, cookie: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(service, "CODE_TTL", timedelta(seconds=-1))
        pkce = Pkce()
        code = code_for(client, cookie, app, pkce)

        assert_oauth_error(exchange(client, app, code, pkce), 400, "invalid_grant")

    def test_the_redirect_uri_must_be_the_authorization_s(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        pkce = Pkce()
        code = code_for(client, cookie, app, pkce)

        response = token_request(
            client,
            app,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT + "/",
            code_verifier=pkce.verifier,
        )

        assert_oauth_error(response, 400, "invalid_grant")


class TestRefresh:
    def _tokens(self, client: TestClient, app: App, cookie: dict[str, str], scope: str) -> str:
        pkce = Pkce()
        answer = tokens(
            exchange(client, app, code_for(client, cookie, app, pkce, scope=scope), pkce)
        )
        refresh_token: str = answer["refresh_token"]
        return refresh_token

    def test_each_refresh_answers_a_new_refresh_token(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        first = self._tokens(client, app, cookie, "invoices:read offline_access")

        second = tokens(token_request(client, app, grant_type="refresh_token", refresh_token=first))

        assert second["refresh_token"] != first
        assert second["scope"] == "invoices:read offline_access"
        third = token_request(
            client, app, grant_type="refresh_token", refresh_token=second["refresh_token"]
        )
        assert tokens(third)["access_token"]

    def test_a_reused_refresh_token_revokes_its_whole_family(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        first = self._tokens(client, app, cookie, "invoices:read offline_access")
        second = tokens(token_request(client, app, grant_type="refresh_token", refresh_token=first))

        reused = token_request(client, app, grant_type="refresh_token", refresh_token=first)

        assert_oauth_error(reused, 400, "invalid_grant")
        successor = token_request(
            client, app, grant_type="refresh_token", refresh_token=second["refresh_token"]
        )
        assert_oauth_error(successor, 400, "invalid_grant")

    def test_a_refresh_cannot_add_scopes_but_may_narrow_them(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        first = self._tokens(client, app, cookie, "invoices:read offline_access")

        wider = token_request(
            client,
            app,
            grant_type="refresh_token",
            refresh_token=first,
            scope="invoices:read invoices:write",
        )

        assert_oauth_error(wider, 400, "invalid_scope")
        narrower = token_request(
            client, app, grant_type="refresh_token", refresh_token=first, scope="invoices:read"
        )
        answer = tokens(narrower)
        assert answer["scope"] == "invoices:read"
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
        assert claims["scope"] == "invoices:read"

    def test_another_client_cannot_use_the_refresh_token(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        first = self._tokens(client, app, cookie, "invoices:read offline_access")

        stolen = token_request(
            client, register(client), grant_type="refresh_token", refresh_token=first
        )

        assert_oauth_error(stolen, 400, "invalid_grant")
        assert tokens(token_request(client, app, grant_type="refresh_token", refresh_token=first))

    def test_a_revoked_refresh_token_no_longer_refreshes(
        self, client: TestClient, app: App, cookie: dict[str, str]
    ) -> None:
        first = self._tokens(client, app, cookie, "invoices:read offline_access")

        revoked = client.post(
            "/api/auth/oauth2/revoke", data={"client_id": app.client_id, "token": first}
        )

        assert revoked.status_code == 200
        refreshed = token_request(client, app, grant_type="refresh_token", refresh_token=first)
        assert_oauth_error(refreshed, 400, "invalid_grant")


class TestTenancy:
    def test_a_token_of_one_organization_cannot_reach_another_s_customers(
        self, client: TestClient, app: App, cookie: dict[str, str], other_api: Api
    ) -> None:
        theirs = other_api.create(name="Their customer")
        pkce = Pkce()
        ours = tokens(exchange(client, app, code_for(client, cookie, app, pkce), pkce))

        response = client.get(f"{CUSTOMERS}/{theirs['id']}", headers=bearer(ours["access_token"]))

        assert_error(response, 404, "NOT_FOUND")
