"""The OpenAPI document at /api/v1/openapi.json describes exactly what the server does."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema_rs
import pytest

from tests.conftest import Api
from tests.support.contract import CUSTOMER_FIELDS, CUSTOMERS, SERVER_FIELDS, customer_url

ITEM = "/api/v1/customers/{id}"
WEBHOOKS = "/api/v1/webhook_endpoints"
WEBHOOK = f"{WEBHOOKS}/{{id}}"
SIGN_IN = ("/api/auth/session", "/api/auth/session/logout")
DISCOVERY = ("/.well-known/jwks.json", "/.well-known/oauth-authorization-server")


@pytest.fixture
def document(api: Api) -> dict[str, Any]:
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    }


class TestOpenApiDocument:
    def test_documents_every_operation_and_the_probes(self, document: dict[str, Any]) -> None:
        assert document["openapi"].startswith("3.1")
        assert set(operations(document)) == {
            (CUSTOMERS, "get"),
            (CUSTOMERS, "post"),
            (ITEM, "get"),
            (ITEM, "patch"),
            (ITEM, "delete"),
            (f"{ITEM}/archive", "post"),
            (f"{ITEM}/restore", "post"),
            (f"{CUSTOMERS}/changes", "get"),
            (WEBHOOKS, "get"),
            (WEBHOOKS, "post"),
            (WEBHOOK, "get"),
            (WEBHOOK, "patch"),
            (WEBHOOK, "delete"),
            (f"{WEBHOOK}/rotate_secret", "post"),
            (f"{WEBHOOK}/test", "post"),
            (f"{WEBHOOK}/deliveries", "get"),
            (f"{WEBHOOK}/redeliver", "post"),
            *((path, "post") for path in SIGN_IN),
            *((path, "get") for path in DISCOVERY),
            ("/healthz", "get"),
            ("/readyz", "get"),
        }

    def test_every_operation_has_a_tag_and_examples(self, document: dict[str, Any]) -> None:
        for key, operation in operations(document).items():
            assert operation["tags"], key
            success = next(r for status, r in operation["responses"].items() if status < "300")
            if "content" in success:  # a 204 has no body to show
                assert success["content"]["application/json"]["example"], key
            if "requestBody" in operation:
                assert operation["requestBody"]["content"]["application/json"]["example"], key
            for status, response in operation["responses"].items():
                assert "X-Request-Id" in response["headers"], (key, status)

    def test_examples_are_valid_by_their_own_schemas(self, document: dict[str, Any]) -> None:
        for key, operation in operations(document).items():
            media = [response.get("content", {}) for response in operation["responses"].values()]
            media.append(operation.get("requestBody", {}).get("content", {}))
            for content in media:
                for typed in content.values():
                    root = {**typed["schema"], "components": document["components"]}
                    validator = jsonschema_rs.Draft202012Validator(root)
                    assert validator.is_valid(typed["example"]), (key, typed["example"])

    def test_customer_schema_has_exactly_the_contract_fields(
        self, document: dict[str, Any]
    ) -> None:
        customer = document["components"]["schemas"]["Customer"]

        assert tuple(customer["properties"]) == CUSTOMER_FIELDS
        assert customer["required"] == list(CUSTOMER_FIELDS)
        assert customer["additionalProperties"] is False

    @pytest.mark.parametrize("schema", ["CustomerCreate", "CustomerUpdate"])
    def test_request_bodies_accept_only_the_writable_fields(
        self, document: dict[str, Any], schema: str
    ) -> None:
        body = document["components"]["schemas"][schema]

        assert set(body["properties"]) == set(CUSTOMER_FIELDS) - set(SERVER_FIELDS)
        assert body["additionalProperties"] is False
        assert body["properties"]["notes"]["maxLength"] == 10_000
        assert body["properties"]["name"]["maxLength"] == 255
        assert body.get("required", []) == (["name"] if schema == "CustomerCreate" else [])

    def test_list_parameters_state_the_enforced_limits(self, document: dict[str, Any]) -> None:
        parameters = {
            p["name"]: p["schema"] for p in operations(document)[(CUSTOMERS, "get")]["parameters"]
        }

        assert parameters["limit"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": 20,
        }
        assert parameters["q"]["maxLength"] == 200
        assert parameters["cursor"]["type"] == "string"

    def test_every_error_response_is_the_error_envelope(self, document: dict[str, Any]) -> None:
        for (path, method), operation in operations(document).items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)

    def test_documented_statuses_are_what_the_wire_answers(
        self, api: Api, document: dict[str, Any]
    ) -> None:
        customer = api.create(name="Acme")
        urls = {CUSTOMERS: CUSTOMERS, ITEM: customer_url(customer["id"])}
        unchanged = ("/healthz", "/readyz", f"{CUSTOMERS}/changes", *SIGN_IN, *DISCOVERY)
        urls.update({path: path for path in unchanged})
        urls.update({f"{ITEM}/{verb}": f"{urls[ITEM]}/{verb}" for verb in ("archive", "restore")})
        # No such endpoint: a test event must not go anywhere.
        urls.update({WEBHOOKS: WEBHOOKS, WEBHOOK: f"{WEBHOOKS}/{uuid.uuid4()}"})
        for verb in ("rotate_secret", "test", "deliveries", "redeliver"):
            urls[f"{WEBHOOK}/{verb}"] = f"{urls[WEBHOOK]}/{verb}"
        # Erased last: every other operation must still find the customer.
        order = sorted(operations(document).items(), key=lambda item: item[0][1] == "delete")

        for (path, method), operation in order:
            body: dict[str, Any] = {"json": {"name": "Acme"}} if method in ("post", "patch") else {}
            signed_in = api.request(method.upper(), urls[path], **body)
            anonymous = api.client.request(method.upper(), urls[path], **body)
            assert str(signed_in.status_code) in operation["responses"], (path, method)
            assert str(anonymous.status_code) in operation["responses"], (path, method)


def body_schema(document: dict[str, Any], name: str) -> jsonschema_rs.Draft202012Validator:
    """A validator for one of the document's request bodies, as a client would build it."""
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema_rs.Draft202012Validator(root)


class TestDocumentAgreesWithTheServer:
    @pytest.mark.parametrize(
        ("body", "valid"),
        [
            ({"name": "Acme", "website": " acme.com "}, True),
            ({"name": "Acme", "website": "\thttps://acme.com/x\n"}, True),
            ({"name": "Acme", "website": "  "}, True),
            ({"name": "Acme", "country_code": " fr "}, True),
            ({"name": "Acme", "country_code": " "}, True),
            ({"name": "Acme", "website": " acme "}, False),
            ({"name": "Acme", "website": "ftp://acme.com"}, False),
            ({"name": "Acme", "country_code": " zz "}, False),
            ({"name": "Acme", "country_code": "f r"}, False),
        ],
    )
    def test_values_are_judged_once_trimmed_by_both(
        self, api: Api, document: dict[str, Any], body: dict[str, Any], valid: bool
    ) -> None:
        assert body_schema(document, "CustomerCreate").is_valid(body) is valid
        assert api.post(CUSTOMERS, json=body).status_code == (201 if valid else 400)

    def test_headers_the_server_sends_with_errors_are_documented(
        self, document: dict[str, Any]
    ) -> None:
        responses = operations(document)[(ITEM, "get")]["responses"]

        assert "WWW-Authenticate" in responses["401"]["headers"]
        assert "WWW-Authenticate" in responses["403"]["headers"]
        assert "Retry-After" in responses["503"]["headers"]
        assert "ETag" in responses["304"]["headers"]
