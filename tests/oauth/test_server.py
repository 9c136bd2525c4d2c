"""The rest of the authorization server on each backend: client_credentials, revocation,
introspection, metadata and keys; and forged tokens against our JWKS refused."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.testclient import TestClient

from expensicat.auth.session import derive_key
from expensicat.oauth.keys import SigningKeys, new_key
from expensicat.sealing import Sealer
from tests.support.accounts import new_user, store
from tests.support.contract import CUSTOMERS, assert_error
from tests.support.forgery import hmac_signed, unsigned
from tests.support.oauth import (
    App,
    Pkce,
    assert_oauth_error,
    code_for,
    exchange,
    register,
    signed_in,
    token_request,
    tokens,
)
from tests.support.tokens import TEST_SECRET, bearer

ISSUER = "http://127.0.0.1:8000"
INTROSPECT = "/api/auth/oauth2/introspect"


def machine(client: TestClient, org: str) -> App:
    return register(client, public=False, redirect_uris=(), org=org)


def keys(client: TestClient) -> SigningKeys:
    found: SigningKeys = client.app.state.oauth.keys  # type: ignore[attr-defined]
    return found


class TestClientCredentials:
    def test_a_confidential_client_acts_for_its_organization(
        self, client: TestClient, org: str
    ) -> None:
        app = machine(client, org)

        answer = tokens(
            token_request(client, app, grant_type="client_credentials", scope="invoices:write")
        )

        assert "refresh_token" not in answer
        claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
        assert (claims["org_id"], claims["sub"], claims["client_id"]) == (
            org,
            app.client_id,
            app.client_id,
        )
        created = client.post(
            CUSTOMERS, json={"name": "Acme"}, headers=bearer(answer["access_token"])
        )
        assert created.status_code == 201
        assert created.json()["data"]["organization_id"] == org

    def test_secret_sent_in_the_form_works_too(self, client: TestClient, org: str) -> None:
        app = machine(client, org)
        form = {
            "grant_type": "client_credentials",
            "scope": "invoices:read",
            "client_id": app.client_id,
            "client_secret": app.secret or "",
        }

        assert tokens(client.post("/api/auth/oauth2/token", data=form))["access_token"]

    def test_a_wrong_secret_is_invalid_client(self, client: TestClient, org: str) -> None:
        app = machine(client, org)

        response = token_request(
            client,
            App(app.client_id, "not-the-secret"),
            grant_type="client_credentials",
            scope="invoices:read",
        )

        assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")

    def test_a_public_client_or_offline_access_is_refused(
        self, client: TestClient, org: str
    ) -> None:
        public = token_request(
            client, register(client), grant_type="client_credentials", scope="invoices:read"
        )
        offline = token_request(
            client, machine(client, org), grant_type="client_credentials", scope="offline_access"
        )

        assert_oauth_error(public, 400, "unauthorized_client")
        assert_oauth_error(offline, 400, "invalid_scope")

    @pytest.mark.parametrize(
        "form",
        [{}, {"grant_type": "password"}, {"grant_type": "authorization_code"}],
    )
    def test_malformed_requests_get_rfc_6749_errors(
        self, client: TestClient, org: str, form: dict[str, str]
    ) -> None:
        response = token_request(client, machine(client, org), **form)

        assert response.status_code == 400
        assert response.json()["error"] in ("unsupported_grant_type", "invalid_request")

    def test_a_json_body_is_an_invalid_request(self, client: TestClient) -> None:
        response = client.post("/api/auth/oauth2/token", json={"grant_type": "client_credentials"})

        assert_oauth_error(response, 400, "invalid_request")


class TestIntrospection:
    def test_a_confidential_client_learns_its_token_is_active(
        self, client: TestClient, org: str
    ) -> None:
        app = machine(client, org)
        answer = tokens(
            token_request(client, app, grant_type="client_credentials", scope="invoices:read")
        )

        found = client.post(
            INTROSPECT,
            data={"token": answer["access_token"]},
            auth=(app.client_id, app.secret or ""),
        )

        assert found.status_code == 200
        assert found.json()["active"] is True
        assert found.json()["org_id"] == org
        assert found.json()["scope"] == "invoices:read"

    def test_another_client_s_token_or_garbage_is_inactive(
        self, client: TestClient, org: str
    ) -> None:
        app, other = machine(client, org), machine(client, org)
        theirs = tokens(
            token_request(client, other, grant_type="client_credentials", scope="invoices:read")
        )

        for token in (theirs["access_token"], "garbage"):
            found = client.post(
                INTROSPECT, data={"token": token}, auth=(app.client_id, app.secret or "")
            )
            assert found.json() == {"active": False}

    def test_a_public_client_may_not_introspect(self, client: TestClient) -> None:
        app = register(client)

        response = client.post(INTROSPECT, data={"client_id": app.client_id, "token": "x"})

        assert_oauth_error(response, 401, "invalid_client")

    def test_a_used_refresh_token_is_inactive(self, client: TestClient, org: str) -> None:
        app = register(client, public=False)
        cookie = signed_in(client, new_user(client, org))
        pkce = Pkce()
        first = tokens(exchange(client, app, code_for(client, cookie, app, pkce), pkce))
        auth = (app.client_id, app.secret or "")

        before = client.post(INTROSPECT, data={"token": first["refresh_token"]}, auth=auth)
        tokens(
            token_request(
                client, app, grant_type="refresh_token", refresh_token=first["refresh_token"]
            )
        )
        after = client.post(INTROSPECT, data={"token": first["refresh_token"]}, auth=auth)

        assert before.json()["active"] is True
        assert after.json() == {"active": False}


class TestDiscovery:
    def test_metadata_names_every_endpoint_and_only_s256(self, client: TestClient) -> None:
        document = client.get("/.well-known/oauth-authorization-server").json()

        assert document["issuer"] == ISSUER
        assert document["token_endpoint"] == f"{ISSUER}/api/auth/oauth2/token"
        assert document["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
        assert document["code_challenge_methods_supported"] == ["S256"]
        assert document["response_types_supported"] == ["code"]

    def test_the_jwks_holds_public_keys_only(self, client: TestClient) -> None:
        document = client.get("/.well-known/jwks.json").json()

        assert document["keys"]
        for key in document["keys"]:
            assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
            assert "d" not in key

    def test_after_a_rotation_the_new_key_signs_and_the_old_stays_published(
        self, client: TestClient, org: str
    ) -> None:
        app = machine(client, org)
        before = tokens(
            token_request(client, app, grant_type="client_credentials", scope="invoices:read")
        )
        old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
        assert client.portal is not None
        new = new_key(Sealer(derive_key(TEST_SECRET, "sealing")))
        client.portal.call(store(client).oauth.insert_signing_key, new)
        # As the server would on its own within RELOAD_SECONDS.
        client.portal.call(keys(client)._reload, time.monotonic())

        after = tokens(
            token_request(client, app, grant_type="client_credentials", scope="invoices:read")
        )

        assert jwt.get_unverified_header(after["access_token"])["kid"] == new.kid
        published = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
        assert {old_kid, new.kid} <= published
        for token in (before["access_token"], after["access_token"]):
            assert client.get(CUSTOMERS, headers=bearer(token)).status_code == 200


class TestForgedTokens:
    def _claims(self, org: str) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": ISSUER,
            "aud": ISSUER,
            "sub": "intruder",
            "client_id": "intruder",
            "scope": "invoices:write",
            "org_id": org,
            "iat": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
        }

    def _our_key(self, client: TestClient) -> tuple[str, dict[str, Any]]:
        key = client.get("/.well-known/jwks.json").json()["keys"][-1]
        return key["kid"], key

    def test_hs256_signed_with_our_public_key_is_unauthorized(
        self, client: TestClient, org: str
    ) -> None:
        kid, jwk = self._our_key(client)
        public = jwt.PyJWK(jwk).key
        pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        for secret in (pem, json.dumps(jwk).encode(), TEST_SECRET.encode()):
            token = hmac_signed(self._claims(org), secret, typ="at+jwt", kid=kid)
            response = client.get(CUSTOMERS, headers=bearer(token))
            assert_error(response, 401, "UNAUTHORIZED")

    @pytest.mark.parametrize("alg", ["none", "None", "NONE"])
    def test_alg_none_is_unauthorized(self, client: TestClient, org: str, alg: str) -> None:
        kid, _ = self._our_key(client)
        token = unsigned(self._claims(org), alg=alg, typ="at+jwt", kid=kid)

        assert_error(client.get(CUSTOMERS, headers=bearer(token)), 401, "UNAUTHORIZED")

    def test_a_token_with_a_changed_claim_is_unauthorized(
        self, client: TestClient, org: str
    ) -> None:
        app = machine(client, org)
        answer = tokens(
            token_request(client, app, grant_type="client_credentials", scope="invoices:read")
        )
        header, _, signature = answer["access_token"].split(".")
        tampered = dict(jwt.decode(answer["access_token"], options={"verify_signature": False}))
        tampered["org_id"] = "someone-else"
        body = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
        forged = f"{header}.{body}.{signature}"

        assert_error(client.get(CUSTOMERS, headers=bearer(forged)), 401, "UNAUTHORIZED")


class TestHostileInput:
    def test_a_client_id_with_nul_is_an_unknown_client(self, client: TestClient) -> None:
        token = client.post(
            "/api/auth/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "ec_\x00"},
        )
        authorize = client.get(
            "/api/auth/oauth2/authorize",
            params={"client_id": "ec_\x00", "redirect_uri": "http://127.0.0.1:8765/callback"},
            follow_redirects=False,
        )

        assert_oauth_error(token, 401, "invalid_client")
        assert authorize.status_code == 400
        assert "location" not in authorize.headers

    @pytest.mark.parametrize(
        "form",
        [
            {"grant_type": "refresh_token", "refresh_token": "\x00"},
            {
                "grant_type": "authorization_code",
                "code": "\x00",
                "redirect_uri": "x",
                "code_verifier": "y",
            },
        ],
    )
    def test_tokens_with_nul_are_just_unknown(
        self, client: TestClient, form: dict[str, str]
    ) -> None:
        response = token_request(client, register(client), **form)

        assert_oauth_error(response, 400, "invalid_grant")
