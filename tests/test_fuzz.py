"""The API against its own OpenAPI document, with thousands of requests generated from it.

Schemathesis reads the document the real app serves and builds requests for every operation:
valid and invalid ones, boundary values of each parameter and field, random ones, and
sequences that create a customer and then read, list and change it. They go to a real
`expensicat serve` on each database, signed in with a session token. Every response must be
no server error and must match the document: status, content type, headers and body; valid
requests must be accepted and invalid ones refused. A fixed seed keeps the requests, and so
CI, the same from run to run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import Case
from schemathesis.generation.stateful import APIStateMachine
from starlette.testclient import TestClient

from expensicat.api.app import create_app
from expensicat.api.docs import OPENAPI_PATH
from expensicat.api.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from expensicat.config import Settings
from tests.support.server import ApiServer
from tests.support.tokens import TEST_SECRET, bearer, session_token

SEED = 20261128
EXAMPLES_PER_OPERATION = 150
STATEFUL_SCENARIOS = 60
STATEFUL_STEPS = 8

# A valid request may still fail for reasons no schema can see: an If-Match that names
# another version (412), an id no customer has (404), an Idempotency-Key the generator
# already sent with another body (422); an invalid one may be refused for its size (413).
# Server errors stay failures through not_a_server_error.
_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
_REFUSED = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "5xx"]

IF_MATCH_OPERATIONS = ("updateCustomer", "archiveCustomer", "restoreCustomer", "eraseCustomer")
CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",
        # Every request carries the token the test gives it; ignored_auth checks that
        # requests without one are refused.
        "with-security-parameters": False,
    },
    "checks": {
        "positive_data_acceptance": {"expected-statuses": _ACCEPTED},
        "negative_data_rejection": {"expected-statuses": _REFUSED},
    },
    "operations": [
        # A cursor is valid only if this service signed it for the same query; no schema
        # can tell which strings those are, so a made-up one is rightly refused (and so is
        # the feed's from=now beside a cursor, which the schema cannot forbid).
        *(
            {
                "include-operation-id": operation,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "400"]}},
            }
            for operation in (
                "listCustomers",
                "listCustomerChanges",
                "listWebhookEndpoints",
                "listWebhookDeliveries",
            )
        ),
        # A test event is sent at once, to whatever URL the generator made up: never.
        {"include-operation-id": "testWebhookEndpoint", "enabled": False},
        # The coverage phase cannot honour a header pattern that needs quotes (it keeps
        # header values to letters and digits) and then sends If-Match: 0 as if it were
        # valid; the other phases generate If-Match from its pattern.
        *(
            {"include-operation-id": operation, "phases": {"coverage": {"enabled": False}}}
            for operation in IF_MATCH_OPERATIONS
        ),
    ],
}


def served_document() -> dict[str, Any]:
    """The OpenAPI document exactly as the app serves it (its route needs no database)."""
    app = create_app(Settings.from_env({"EXPENSICAT_SESSION_SECRET": TEST_SECRET}))
    response = TestClient(app).get(OPENAPI_PATH)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


schema = schemathesis.openapi.from_dict(
    served_document(), config=schemathesis.Config.from_dict(CONFIG)
)


@pytest.fixture(scope="module")
def live_server(
    backend_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with ApiServer(log, "--no-migrate", settings=backend_settings) as server:
        yield server


@pytest.fixture(scope="module")
def fuzz_headers(live_server: ApiServer) -> dict[str, str]:
    """One organization per database, so that lists also show what the fuzzer created."""
    return bearer(session_token(f"org-fuzz-{uuid.uuid4().hex[:12]}"))


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    """One keep-alive connection pool for all the requests sent to a server."""
    with requests.Session() as session:
        yield session


@pytest.mark.slow
@schema.parametrize()
def test_every_operation_keeps_the_documented_contract(
    case: Case[Any], live_server: ApiServer, fuzz_headers: dict[str, str], http: requests.Session
) -> None:
    case.call_and_validate(base_url=live_server.url, headers=fuzz_headers, session=http)


@pytest.mark.slow
def test_customers_created_then_read_listed_and_changed_keep_the_contract(
    live_server: ApiServer, http: requests.Session
) -> None:
    base: type[APIStateMachine] = schema.as_state_machine()

    class Workflows(base):  # type: ignore[valid-type,misc]
        def setup(self) -> None:
            # Each scenario in an organization of its own: what it lists, and so what it can
            # do next, then depends on its own steps, not on what earlier scenarios and tests
            # stored. Hypothesis replays a scenario's first steps in later ones, and refuses
            # to go on when the same steps offer other choices.
            self.headers = bearer(session_token(f"org-fuzz-{uuid.uuid4().hex[:12]}"))

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            # A valid Idempotency-Key is made fresh for each call: one seen in an earlier
            # scenario would be replayed or refused, so what a scenario can do next would
            # depend on the database's history rather than on the scenario (replays are
            # tested apart). Invalid keys are kept: their refusal is what is checked.
            headers = dict(self.headers)
            key: str | None = dict(case.headers or {}).get("Idempotency-Key")
            if key is not None and re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
                headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4()}"
            return {"base_url": live_server.url, "headers": headers, "session": http}

    Workflows.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
