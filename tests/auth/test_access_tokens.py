"""OAuth2 access tokens (RFC 9068) from an authorization server's JWKS, and their scopes."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.testclient import TestClient

from expensicat.auth import oauth2
from expensicat.config import Settings
from tests.conftest import Api
from tests.support.apps import oauth2_settings, serving, signed_in
from tests.support.contract import CUSTOMERS, assert_error, assert_unauthorized, customer_url
from tests.support.forgery import hmac_signed, unsigned
from tests.support.jwks import (
    AUDIENCE,
    JwksServer,
    SigningKey,
    access_claims,
    ec_key,
    rsa_key,
)
from tests.support.postgres import free_port
from tests.support.tokens import TEST_SECRET


def lists(client: TestClient, org: str, token: str) -> int:
    return signed_in(client, org, token).get(CUSTOMERS).status_code


@pytest.fixture
def rsa(signing_keys: dict[str, SigningKey]) -> SigningKey:
    return signing_keys["RS256"]


class TestAccessToken:
    @pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
    def test_token_signed_by_a_published_key_reads_and_writes(
        self,
        oauth2_client: TestClient,
        signing_keys: dict[str, SigningKey],
        org: str,
        algorithm: str,
    ) -> None:
        api = signed_in(oauth2_client, org, signing_keys[algorithm].sign(access_claims(org)))

        created = api.create(name="Acme")

        assert created["organization_id"] == org
        assert api.list()["data"] == [created]

    def test_media_type_form_of_typ_is_accepted(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = rsa.sign(access_claims(org), typ="application/at+jwt")

        assert lists(oauth2_client, org, token) == 200

    def test_audience_list_containing_ours_is_accepted(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = rsa.sign(access_claims(org, aud=["https://other.test", AUDIENCE]))

        assert lists(oauth2_client, org, token) == 200

    def test_expired_within_the_60_second_leeway_is_accepted(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = rsa.sign(access_claims(org, exp=int(time.time()) - 20))

        assert lists(oauth2_client, org, token) == 200

    def test_session_tokens_are_still_accepted_beside_access_tokens(
        self, oauth2_client: TestClient, org: str
    ) -> None:
        assert Api(oauth2_client, org).get(CUSTOMERS).status_code == 200

    def test_token_only_reaches_its_own_organization(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        theirs = Api(oauth2_client, f"{org}-other").create(name="Their customer")
        token = rsa.sign(access_claims(org))

        api = signed_in(oauth2_client, org, token)

        assert_error(api.get(customer_url(theirs["id"])), 404, "NOT_FOUND")
        assert api.list()["data"] == []


class TestAccessTokenScopes:
    @pytest.mark.parametrize("scope", ["invoices:read", "invoices:write", "profile invoices:read"])
    def test_read_or_write_scope_can_list_and_get(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str, scope: str
    ) -> None:
        customer = Api(oauth2_client, org).create(name="Acme")
        api = signed_in(oauth2_client, org, rsa.sign(access_claims(org, scope=scope)))

        assert api.get(CUSTOMERS).status_code == 200
        assert api.get(customer_url(customer["id"])).status_code == 200

    def test_read_scope_cannot_create_or_update(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        customer = Api(oauth2_client, org).create(name="Acme")
        api = signed_in(oauth2_client, org, rsa.sign(access_claims(org, scope="invoices:read")))

        created = api.post(CUSTOMERS, json={"name": "Sneaky"})
        updated = api.patch(customer_url(customer["id"]), json={"name": "Sneaky"})

        for response in (created, updated):
            assert_error(response, 403, "FORBIDDEN")
            assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
        assert api.list()["data"] == [customer]

    def test_write_scope_can_create_and_update(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        api = signed_in(oauth2_client, org, rsa.sign(access_claims(org, scope="invoices:write")))

        created = api.create(name="Acme")
        response = api.patch(customer_url(created["id"]), json={"city": "Berlin"})

        assert response.status_code == 200

    @pytest.mark.parametrize(
        "scope", [None, "", "profile email", "invoices:writer", "INVOICES:READ"]
    )
    def test_token_without_an_invoices_scope_is_forbidden(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str, scope: str | None
    ) -> None:
        api = signed_in(oauth2_client, org, rsa.sign(access_claims(org, scope=scope)))

        assert_error(api.get(CUSTOMERS), 403, "FORBIDDEN")
        assert_error(api.post(CUSTOMERS, json={"name": "Acme"}), 403, "FORBIDDEN")


class TestAccessTokenRefused:
    @pytest.mark.parametrize(
        "overrides",
        [
            {"iss": "https://evil.test/"},
            {"iss": None},
            {"aud": "https://other.test"},
            {"aud": ["https://other.test"]},
            {"aud": None},
            {"exp": None},
            {"org_id": None},
            {"org_id": ""},
            {"client_id": None},
            {"sub": None},
        ],
        ids=repr,
    )
    def test_wrong_or_missing_claims_are_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str, overrides: dict[str, Any]
    ) -> None:
        token = rsa.sign(access_claims(org, **overrides))

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_expired_beyond_the_leeway_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = rsa.sign(access_claims(org, exp=int(time.time()) - 90))

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    @pytest.mark.parametrize("typ", ["JWT", None])
    def test_authorization_server_token_without_typ_at_jwt_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str, typ: str | None
    ) -> None:
        token = rsa.sign(access_claims(org), typ=typ)

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_alg_none_access_token_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = unsigned(access_claims(org), typ="at+jwt", kid=rsa.kid)

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_hs256_access_token_with_the_session_secret_is_unauthorized(
        self, oauth2_client: TestClient, org: str
    ) -> None:
        token = jwt.encode(access_claims(org), TEST_SECRET, "HS256", headers={"typ": "at+jwt"})

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    @pytest.mark.parametrize("typ", ["at+jwt", "JWT"])
    def test_public_key_used_as_an_hmac_secret_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str, typ: str
    ) -> None:
        public_pem = rsa.private_key.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
        token = hmac_signed(access_claims(org), public_pem, typ=typ, kid=rsa.kid)

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_rs256_header_over_an_hmac_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = hmac_signed(access_claims(org), TEST_SECRET.encode(), alg="RS256", typ="at+jwt")

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_algorithm_that_does_not_fit_the_key_is_unauthorized(
        self, oauth2_client: TestClient, signing_keys: dict[str, SigningKey], org: str
    ) -> None:
        token = signing_keys["ES256"].sign(access_claims(org), kid=signing_keys["RS256"].kid)

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_known_kid_with_a_signature_by_another_key_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        impostor = SigningKey(rsa.kid, "ES256", ec_key("unused").private_key)

        token = impostor.sign(access_claims(org))

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_token_without_kid_is_unauthorized(
        self, oauth2_client: TestClient, rsa: SigningKey, org: str
    ) -> None:
        token = jwt.encode(access_claims(org), rsa.private_key, "RS256", {"typ": "at+jwt"})

        assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

    def test_forged_unknown_kids_do_not_flood_the_authorization_server(
        self, oauth2_client: TestClient, jwks: JwksServer, org: str
    ) -> None:
        jwks.requests = 0
        for n in range(4 * oauth2.REFRESH_BURST):
            token = ec_key(f"forged-{n}").sign(access_claims(org))
            assert_unauthorized(signed_in(oauth2_client, org, token).get(CUSTOMERS))

        assert jwks.requests <= oauth2.REFRESH_BURST


@pytest.fixture
def rotating(backend_settings: Settings, tmp_path: Path) -> Iterator[tuple[JwksServer, TestClient]]:
    """A server whose keys a test may change, and an app using it."""
    server = JwksServer()
    with server.running(), serving(oauth2_settings(backend_settings, tmp_path, server.url)) as app:
        yield server, app


class TestKeyRotation:
    def test_unknown_kid_refreshes_the_keys_even_just_after_a_refresh(
        self, rotating: tuple[JwksServer, TestClient], org: str
    ) -> None:
        server, app = rotating
        old, new = rsa_key("2024"), ec_key("2025")
        server.publish(old)
        assert lists(app, org, old.sign(access_claims(org))) == 200
        assert lists(app, org, ec_key("unknown").sign(access_claims(org))) == 401

        server.publish(old, new)

        assert lists(app, org, new.sign(access_claims(org))) == 200
        assert server.requests == 3

    def test_key_withdrawn_from_the_jwks_is_no_longer_trusted(
        self, rotating: tuple[JwksServer, TestClient], org: str
    ) -> None:
        server, app = rotating
        old, new = ec_key("old"), ec_key("new")
        server.publish(old)
        assert lists(app, org, old.sign(access_claims(org))) == 200

        server.publish(new)
        assert lists(app, org, new.sign(access_claims(org))) == 200

        late = old.sign(access_claims(org, jti=str(uuid.uuid4())))
        assert_unauthorized(signed_in(app, org, late).get(CUSTOMERS))

    def test_token_from_a_key_never_published_is_unauthorized(
        self, rotating: tuple[JwksServer, TestClient], org: str
    ) -> None:
        server, app = rotating
        server.publish(ec_key("published"))

        token = ec_key("never-published").sign(access_claims(org))

        assert_unauthorized(signed_in(app, org, token).get(CUSTOMERS))

    def test_symmetric_key_in_the_jwks_is_never_used(
        self, rotating: tuple[JwksServer, TestClient], org: str
    ) -> None:
        server, app = rotating
        secret = TEST_SECRET.encode()
        shared = {"kty": "oct", "kid": "shared", "k": base64.urlsafe_b64encode(secret).decode()}
        server.publish(ec_key("published"), extra=(shared,))

        token = hmac_signed(access_claims(org), secret, typ="at+jwt", kid="shared")

        assert_unauthorized(signed_in(app, org, token).get(CUSTOMERS))

    def test_unreachable_jwks_is_unavailable_even_once_retries_are_spent(
        self, backend_settings: Settings, tmp_path: Path, org: str
    ) -> None:
        closed_port = f"http://127.0.0.1:{free_port()}/jwks"
        settings = oauth2_settings(backend_settings, tmp_path, closed_port)

        with serving(settings) as app:
            responses = [
                signed_in(app, org, ec_key(f"any-{n}").sign(access_claims(org))).get(CUSTOMERS)
                for n in range(2 * oauth2.REFRESH_BURST)
            ]

        for response in responses:
            assert_error(response, 503, "SERVICE_UNAVAILABLE")
            assert "retry-after" in response.headers
            assert "signing keys" in response.json()["error"]["message"]
