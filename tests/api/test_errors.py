"""One error envelope for every failure: routing, methods, bodies, sizes; request ids always."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.trace import NonRecordingSpan, SpanContext, format_trace_id, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from tests.conftest import Api
from tests.support.contract import CUSTOMERS, assert_error, customer_url

LIMIT = 64 * 1024
JSON = {"Content-Type": "application/json"}


def body_of_size(size: int) -> bytes:
    """A valid JSON object of exactly `size` bytes (its name is far too long, on purpose)."""
    frame = b'{"name": ""}'
    return frame[:-2] + b"x" * (size - len(frame)) + frame[-2:]


def in_chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """A generator body, which the client sends chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def allowed(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


class TestRouting:
    @pytest.mark.parametrize(
        "path", ["/api", "/api/v1", "/api/v1/nope", "/api/v2/customers", "/api/v1/customers/1/x"]
    )
    def test_unknown_route_is_not_found(self, api: Api, path: str) -> None:
        assert_error(api.get(path), 404, "NOT_FOUND")

    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_trailing_slash_is_not_found_rather_than_redirected(
        self, api: Api, method: str
    ) -> None:
        response = api.request(
            method, f"{CUSTOMERS}/", json={"name": "Acme"}, follow_redirects=False
        )

        assert_error(response, 404, "NOT_FOUND")
        assert api.list()["data"] == []

    @pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
    def test_wrong_method_on_the_collection_lists_what_is_allowed(
        self, api: Api, method: str
    ) -> None:
        response = api.request(method, CUSTOMERS, json={"name": "Acme"})

        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert allowed(response.headers["allow"]) == {"GET", "HEAD", "POST"}

    @pytest.mark.parametrize("method", ["PUT", "POST"])
    def test_wrong_method_on_a_customer_lists_what_is_allowed(self, api: Api, method: str) -> None:
        customer = api.create(name="Acme")

        response = api.request(method, customer_url(customer["id"]), json={"name": "Acme"})

        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert allowed(response.headers["allow"]) == {"GET", "HEAD", "PATCH", "DELETE"}
        assert api.get(customer_url(customer["id"])).json()["data"] == customer


@pytest.fixture(params=["create", "update"])
def write(request: pytest.FixtureRequest, api: Api) -> tuple[str, str]:
    """Both endpoints that take a body: (method, url)."""
    if request.param == "create":
        return "POST", CUSTOMERS
    return "PATCH", customer_url(api.create(name="Acme")["id"])


class TestRequestBody:
    @pytest.mark.parametrize(
        "body", [b'{"name": ', b"{name: 'Acme'}", b"", b"\xff\xfe", b'{"name": "Acme"} x']
    )
    def test_malformed_json_is_invalid(self, api: Api, write: tuple[str, str], body: bytes) -> None:
        response = api.request(*write, content=body, headers=JSON)

        assert_error(response, 400, "INVALID_JSON")

    @pytest.mark.parametrize("body", [b"[]", b'[{"name": "Acme"}]', b'"Acme"', b"null", b"42"])
    def test_json_that_is_not_an_object_is_invalid(
        self, api: Api, write: tuple[str, str], body: bytes
    ) -> None:
        response = api.request(*write, content=body, headers=JSON)

        assert_error(response, 400, "INVALID_JSON")

    @pytest.mark.parametrize(
        "content_type",
        ["text/plain", "application/x-www-form-urlencoded", "application/xml", "json", None],
    )
    def test_body_that_is_not_declared_json_is_unsupported(
        self, api: Api, write: tuple[str, str], content_type: str | None
    ) -> None:
        headers = {} if content_type is None else {"Content-Type": content_type}

        response = api.request(*write, content=b'{"name": "Acme"}', headers=headers)

        assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")

    @pytest.mark.parametrize(
        "content_type", ["application/json; charset=utf-8", "Application/JSON"]
    )
    def test_json_media_type_with_parameters_or_any_case_is_accepted(
        self, api: Api, content_type: str
    ) -> None:
        response = api.post(
            CUSTOMERS, content=b'{"name": "Acme"}', headers={"Content-Type": content_type}
        )

        assert response.status_code == 201

    def test_body_at_the_limit_is_read(self, api: Api, write: tuple[str, str]) -> None:
        response = api.request(*write, content=body_of_size(LIMIT), headers=JSON)

        assert_error(response, 400, "VALIDATION_ERROR", {"name"})

    def test_body_over_the_limit_is_too_large(self, api: Api, write: tuple[str, str]) -> None:
        response = api.request(*write, content=body_of_size(LIMIT + 1), headers=JSON)

        assert_error(response, 413, "PAYLOAD_TOO_LARGE")

    def test_chunked_body_over_the_limit_is_too_large(
        self, api: Api, write: tuple[str, str]
    ) -> None:
        body = in_chunks(body_of_size(LIMIT + 1))

        response = api.request(*write, content=body, headers=JSON)

        assert "content-length" not in response.request.headers
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")

    def test_chunked_body_within_the_limit_is_read(self, api: Api) -> None:
        response = api.post(CUSTOMERS, content=in_chunks(b'{"name": "Acme"}', 4), headers=JSON)

        assert response.status_code == 201

    @pytest.mark.parametrize(
        "refused",
        [
            {"content": body_of_size(LIMIT + 1), "headers": JSON},
            {"content": b'{"name": "Acme"}'},
            {"json": {"name": "Acme"}, "headers": {"Authorization": "Bearer nope"}},
        ],
        ids=["too large", "unsupported", "unauthorized"],
    )
    def test_refused_before_its_body_is_read_the_connection_is_closed(
        self, api: Api, refused: dict[str, Any]
    ) -> None:
        response = api.post(CUSTOMERS, **refused)

        assert response.status_code >= 400
        assert response.headers["connection"] == "close"

    @pytest.mark.parametrize(
        "answered",
        [
            {"json": {"name": "Acme"}},
            {"json": {"name": ""}},
            {"content": b"[", "headers": JSON},
            {"content": body_of_size(LIMIT), "headers": JSON},
        ],
        ids=["created", "invalid", "invalid json", "at the limit"],
    )
    def test_read_body_leaves_the_connection_open(self, api: Api, answered: dict[str, Any]) -> None:
        response = api.post(CUSTOMERS, **answered)

        assert "connection" not in response.headers

    def test_nothing_is_written_by_a_rejected_body(self, api: Api) -> None:
        api.request("POST", CUSTOMERS, content=body_of_size(LIMIT + 1), headers=JSON)
        api.request("POST", CUSTOMERS, content=b'{"name": ', headers=JSON)
        api.request("POST", CUSTOMERS, content=b'{"name": "Acme"}')

        assert api.list()["data"] == []


# One request per kind of answer, to check what every response carries.
SCENARIOS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "list": ("GET", CUSTOMERS, {}),
    "create": ("POST", CUSTOMERS, {"json": {"name": "Acme"}}),
    "invalid": ("POST", CUSTOMERS, {"json": {"name": ""}}),
    "invalid json": ("POST", CUSTOMERS, {"content": b"[", "headers": JSON}),
    "unsupported": ("POST", CUSTOMERS, {"content": b"{}"}),
    "too large": ("POST", CUSTOMERS, {"content": body_of_size(LIMIT + 1), "headers": JSON}),
    "not found": ("GET", customer_url("nope"), {}),
    "no route": ("GET", "/api/v1/nope", {}),
    "wrong method": ("DELETE", CUSTOMERS, {}),
    "unauthorized": ("GET", CUSTOMERS, {"headers": {"Authorization": "Bearer nope"}}),
    "health": ("GET", "/healthz", {}),
}


class TestEveryResponse:
    @pytest.mark.parametrize("scenario", SCENARIOS)
    def test_carries_a_request_id(self, api: Api, scenario: str) -> None:
        method, url, kwargs = SCENARIOS[scenario]

        response = api.request(method, url, **kwargs)

        assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", response.headers["x-request-id"])

    @pytest.mark.parametrize("scenario", [name for name in SCENARIOS if name != "create"])
    def test_error_or_success_body_is_json_without_internals(self, api: Api, scenario: str) -> None:
        method, url, kwargs = SCENARIOS[scenario]

        response = api.request(method, url, **kwargs)

        body = response.json()
        assert set(body) in ({"data", "meta"}, {"error"}, {"status"})
        for leak in ("Traceback", 'File "', "expensicat/", "asyncpg", "sqlite3"):
            assert leak not in response.text

    def test_request_ids_differ_between_requests(self, api: Api) -> None:
        first = api.get(CUSTOMERS).headers["x-request-id"]
        second = api.get(CUSTOMERS).headers["x-request-id"]

        assert first != second

    def test_plain_client_request_id_is_kept_for_correlation(self, api: Api) -> None:
        response = api.get(CUSTOMERS, headers={"X-Request-Id": "client-abc.123"})

        assert response.headers["x-request-id"] == "client-abc.123"

    @pytest.mark.parametrize("request_id", ["has space", "x" * 129, "new\\line", "<script>"])
    def test_unsafe_client_request_id_is_replaced(self, api: Api, request_id: str) -> None:
        response = api.get(CUSTOMERS, headers={"X-Request-Id": request_id})

        assert response.headers["x-request-id"] != request_id
        assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", response.headers["x-request-id"])

    def test_a_w3c_traceparent_gives_its_trace_id(self, api: Api) -> None:
        context = SpanContext(
            trace_id=random.getrandbits(128), span_id=random.getrandbits(64), is_remote=True
        )
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(
            carrier, set_span_in_context(NonRecordingSpan(context))
        )

        response = api.get(CUSTOMERS, headers={**carrier, "X-Request-Id": "client-abc.123"})

        assert response.headers["x-request-id"] == format_trace_id(context.trace_id)

    @pytest.mark.parametrize(
        "traceparent",
        [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ],
    )
    def test_an_invalid_traceparent_is_ignored(self, api: Api, traceparent: str) -> None:
        headers = {"traceparent": traceparent, "X-Request-Id": "client-abc.123"}

        assert api.get(CUSTOMERS, headers=headers).headers["x-request-id"] == "client-abc.123"

    def test_the_server_address_leads_to_the_api_reference(self, api: Api) -> None:
        response = api.client.get("/", follow_redirects=False)

        assert response.status_code == 302
        assert response.headers["location"] == "/api/v1/docs"


class TestHealth:
    def test_liveness(self, api: Api) -> None:
        response = api.client.get("/healthz")

        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    def test_readiness_touches_the_database(self, api: Api) -> None:
        response = api.client.get("/readyz")

        assert (response.status_code, response.json()) == (200, {"status": "ready"})


class TestQueryParameters:
    @pytest.mark.parametrize(
        "url", [f"{CUSTOMERS}?name=Muller", f"{CUSTOMERS}?sorting=name", "/healthz?verbose=1"]
    )
    def test_an_unknown_one_is_refused_by_name(self, api: Api, url: str) -> None:
        response = api.get(url)

        name = url.partition("?")[2].partition("=")[0]
        assert assert_error(response, 400, "VALIDATION_ERROR", {name})[name] == [
            "Unknown query parameter."
        ]

    def test_an_unknown_one_on_a_single_customer_is_refused(self, api: Api) -> None:
        customer = api.create(name="Acme")

        response = api.get(customer_url(customer["id"]), params={"fields": "name"})

        assert_error(response, 400, "VALIDATION_ERROR", {"fields"})

    def test_a_repeated_one_is_refused_by_name(self, api: Api) -> None:
        response = api.get(f"{CUSTOMERS}?limit=5&limit=10&q=a")

        assert_error(response, 400, "VALIDATION_ERROR", {"limit"})
