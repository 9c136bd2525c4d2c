"""Session JWTs: HS256 with the deployment's secret; the classic forgeries are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import jwt
import pytest
from starlette.testclient import TestClient

from expensicat.config import Settings
from tests.conftest import Api, make_settings, statement_cache
from tests.support.apps import serving, signed_in
from tests.support.contract import CUSTOMERS, assert_error, assert_unauthorized, customer_url
from tests.support.forgery import hmac_signed, unsigned
from tests.support.tokens import TEST_SECRET, session_token

SESSION_ISSUER = "https://expensicat.test/sessions"
SESSION_AUDIENCE = "expensicat-customers"


def claims(org: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {"sub": "user-1", "org_id": org, "iat": now, "exp": now + 300, **overrides}
    return {key: value for key, value in values.items() if value is not None}


def list_with(client: TestClient, authorization: str | None) -> httpx2.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.get(CUSTOMERS, headers=headers)


class TestSessionToken:
    def test_session_token_reads_and_writes_in_its_organization(
        self, client: TestClient, org: str
    ) -> None:
        api = signed_in(client, org, session_token(org))

        created = api.create(name="Acme")

        assert created["organization_id"] == org
        assert api.list()["data"] == [created]
        assert api.patch(customer_url(created["id"]), json={"city": "Berlin"}).status_code == 200

    def test_scheme_is_case_insensitive(self, client: TestClient, org: str) -> None:
        response = list_with(client, f"bearer {session_token(org)}")

        assert response.status_code == 200

    def test_expired_within_the_60_second_leeway_is_accepted(
        self, client: TestClient, org: str
    ) -> None:
        token = session_token(org, exp=int(time.time()) - 20)

        assert list_with(client, f"Bearer {token}").status_code == 200

    def test_claims_iss_and_aud_are_ignored_when_not_configured(
        self, client: TestClient, org: str
    ) -> None:
        token = jwt.encode(claims(org, iss="anyone", aud="anything"), TEST_SECRET, "HS256")

        assert list_with(client, f"Bearer {token}").status_code == 200


class TestSessionTokenRefused:
    def test_no_authorization_header_gets_a_bare_challenge(self, client: TestClient) -> None:
        assert_unauthorized(list_with(client, None), error=None)

    @pytest.mark.parametrize(
        "authorization",
        ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer    ", "abc.def.ghi", ""],
    )
    def test_wrong_scheme_or_no_token_is_unauthorized(
        self, client: TestClient, authorization: str
    ) -> None:
        response = list_with(client, authorization)

        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "token",
        [
            "garbage",
            "a.b.c",
            "....",
            "e30.e30.",
            "W10.e30.",
            "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
            "x" * 4000,
        ],
    )
    def test_garbage_token_is_unauthorized(self, client: TestClient, token: str) -> None:
        assert_unauthorized(list_with(client, f"Bearer {token}"))

    def test_expired_beyond_the_leeway_is_unauthorized(self, client: TestClient, org: str) -> None:
        token = session_token(org, exp=int(time.time()) - 90)

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    def test_wrong_signature_is_unauthorized(self, client: TestClient, org: str) -> None:
        token = jwt.encode(claims(org), "another-secret-that-is-long-enough-0123456789", "HS256")

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    @pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
    def test_alg_none_is_unauthorized(self, client: TestClient, org: str, alg: str) -> None:
        token = unsigned(claims(org), alg=alg, typ="JWT")

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    @pytest.mark.parametrize("alg", ["HS384", "HS512"])
    @pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
    def test_other_hmac_algorithms_are_unauthorized(
        self, client: TestClient, org: str, alg: str
    ) -> None:
        token = jwt.encode(claims(org), TEST_SECRET, alg)

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    def test_rs256_header_over_an_hmac_with_the_secret_is_unauthorized(
        self, client: TestClient, org: str
    ) -> None:
        token = hmac_signed(claims(org), TEST_SECRET.encode(), alg="RS256", typ="JWT")

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    def test_session_token_presented_as_an_access_token_is_unauthorized(
        self, client: TestClient, org: str
    ) -> None:
        token = jwt.encode(claims(org), TEST_SECRET, "HS256", headers={"typ": "at+jwt"})

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    @pytest.mark.parametrize(
        "overrides",
        [
            {"org_id": None},
            {"org_id": ""},
            {"org_id": "   "},
            {"org_id": 42},
            {"org_id": ["org-a"]},
            {"org_id": "o" * 256},
            {"org_id": "org\x00one"},
            {"exp": None},
            {"exp": "tomorrow"},
            {"sub": None},
            {"nbf": 4_102_444_800},
        ],
        ids=repr,
    )
    def test_token_without_usable_claims_is_unauthorized(
        self, client: TestClient, org: str, overrides: dict[str, Any]
    ) -> None:
        token = jwt.encode(claims(org, **overrides), TEST_SECRET, "HS256")

        assert_unauthorized(list_with(client, f"Bearer {token}"))

    def test_message_never_echoes_the_token(self, client: TestClient, org: str) -> None:
        token = session_token(org, exp=int(time.time()) - 90)

        response = list_with(client, f"Bearer {token}")

        assert token not in response.text
        assert token not in response.headers["www-authenticate"]

    @pytest.mark.parametrize("method", ["POST", "PATCH", "GET"])
    def test_every_endpoint_needs_a_token(self, api: Api, method: str) -> None:
        customer = api.create(name="Acme")
        url = CUSTOMERS if method == "POST" else customer_url(customer["id"])

        response = api.client.request(method, url, json={"name": "Changed"})

        assert_unauthorized(response, error=None)
        assert api.get(customer_url(customer["id"])).json()["data"] == customer


@pytest.fixture(scope="module")
def strict_client(
    backend_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An app that also checks the session issuer and audience."""
    settings = make_settings(
        backend_settings.database.url,
        tmp_path_factory.mktemp("strict"),
        db_statement_cache=statement_cache(backend_settings),
        session_issuer=SESSION_ISSUER,
        session_audience=SESSION_AUDIENCE,
    )
    with serving(settings) as client:
        yield client


class TestSessionIssuerAndAudience:
    def test_matching_issuer_and_audience_are_accepted(
        self, strict_client: TestClient, org: str
    ) -> None:
        token = jwt.encode(
            claims(org, iss=SESSION_ISSUER, aud=SESSION_AUDIENCE), TEST_SECRET, "HS256"
        )

        assert list_with(strict_client, f"Bearer {token}").status_code == 200

    def test_audience_list_containing_ours_is_accepted(
        self, strict_client: TestClient, org: str
    ) -> None:
        audience = ["another-api", SESSION_AUDIENCE]
        token = jwt.encode(claims(org, iss=SESSION_ISSUER, aud=audience), TEST_SECRET, "HS256")

        assert list_with(strict_client, f"Bearer {token}").status_code == 200

    @pytest.mark.parametrize(
        "overrides",
        [
            {"iss": "https://evil.test"},
            {"iss": None},
            {"aud": "another-api"},
            {"aud": ["another-api"]},
            {"aud": None},
        ],
        ids=repr,
    )
    def test_wrong_or_missing_issuer_or_audience_is_unauthorized(
        self, strict_client: TestClient, org: str, overrides: dict[str, Any]
    ) -> None:
        values = {"iss": SESSION_ISSUER, "aud": SESSION_AUDIENCE, **overrides}
        token = jwt.encode(claims(org, **values), TEST_SECRET, "HS256")

        assert_unauthorized(list_with(strict_client, f"Bearer {token}"))
