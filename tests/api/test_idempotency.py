"""Idempotent creates: the Idempotency-Key header."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from expensicat.api.idempotency import fingerprint
from expensicat.timestamps import timestamp, utc_now
from tests.conftest import Api
from tests.support.contract import assert_error

URL = "/api/v1/customers"


def key() -> str:
    return f"key-{uuid.uuid4()}"


class TestIdempotentCreate:
    def test_retry_with_same_key_and_body_replays_the_original(self, api: Api) -> None:
        headers = {"Idempotency-Key": key()}
        first = api.post(URL, json={"name": "Acme"}, headers=headers)
        second = api.post(URL, json={"name": "Acme"}, headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert second.headers["Location"] == first.headers["Location"]
        assert api.list()["meta"]["count"] == 1

    def test_same_body_in_another_key_order_is_the_same_request(self, api: Api) -> None:
        headers = {"Idempotency-Key": key(), "Content-Type": "application/json"}
        api.post(URL, content=b'{"name": "Acme", "city": "Berlin"}', headers=headers)
        retry = api.post(URL, content=b'{"city":"Berlin","name":"Acme"}', headers=headers)
        assert retry.status_code == 201
        assert retry.headers["Idempotent-Replayed"] == "true"

    def test_same_key_with_a_different_body_is_rejected(self, api: Api) -> None:
        headers = {"Idempotency-Key": key()}
        api.post(URL, json={"name": "Acme"}, headers=headers)
        response = api.post(URL, json={"name": "Globex"}, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert [c["name"] for c in api.list()["data"]] == ["Acme"]

    def test_keys_are_scoped_to_the_organization(self, api: Api, other_api: Api) -> None:
        headers = {"Idempotency-Key": key()}
        mine = api.post(URL, json={"name": "Acme"}, headers=headers)
        theirs = other_api.post(URL, json={"name": "Acme"}, headers=headers)
        assert theirs.status_code == 201
        assert "Idempotent-Replayed" not in theirs.headers
        assert theirs.json()["data"]["id"] != mine.json()["data"]["id"]

    def test_replay_returns_the_original_even_after_an_update(self, api: Api) -> None:
        headers = {"Idempotency-Key": key()}
        first = api.post(URL, json={"name": "Acme"}, headers=headers)
        api.patch(first.headers["Location"], json={"name": "Acme Renamed"})
        retry = api.post(URL, json={"name": "Acme"}, headers=headers)
        assert retry.json() == first.json()

    def test_invalid_body_does_not_consume_the_key(self, api: Api) -> None:
        headers = {"Idempotency-Key": key()}
        assert api.post(URL, json={"name": ""}, headers=headers).status_code == 400
        response = api.post(URL, json={"name": "Acme"}, headers=headers)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers

    def test_malformed_keys_are_rejected(self, api: Api) -> None:
        for bad in ["x" * 256, "caf\u00e9".encode("latin-1")]:
            response = api.post(URL, json={"name": "Acme"}, headers={"Idempotency-Key": bad})
            assert response.status_code == 400
            assert "Idempotency-Key" in response.json()["error"]["details"]
        assert api.list()["meta"]["count"] == 0

    def test_malformed_key_is_reported_with_the_body_problems(self, api: Api) -> None:
        response = api.post(URL, json={"name": None}, headers={"Idempotency-Key": "x" * 256})

        assert_error(response, 400, "VALIDATION_ERROR", {"Idempotency-Key", "name"})


class TestKeyInFlight:
    """Another worker or instance holding the key is simulated by claiming it in the database."""

    def claim_elsewhere(self, api: Api, key: str, lease_until: str) -> None:
        store = api.client.app.state.shared.keys  # type: ignore[attr-defined]
        portal = api.client.portal
        assert portal is not None
        request_hash = fingerprint("POST", URL, {"name": "Acme"})
        now = timestamp(utc_now())
        claim = portal.call(
            store.claim_key, api.org, key, request_hash, now, lease_until, "2000-01-01"
        )
        assert claim.claimed

    def test_retry_while_the_first_is_in_flight_is_a_conflict(self, api: Api) -> None:
        in_flight = key()
        self.claim_elsewhere(api, in_flight, timestamp(utc_now() + timedelta(minutes=1)))
        response = api.post(URL, json={"name": "Acme"}, headers={"Idempotency-Key": in_flight})
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
        assert api.list()["meta"]["count"] == 0

    def test_a_claim_abandoned_past_its_lease_is_taken_over(self, api: Api) -> None:
        abandoned = key()
        self.claim_elsewhere(api, abandoned, timestamp(utc_now() - timedelta(seconds=1)))
        response = api.post(URL, json={"name": "Acme"}, headers={"Idempotency-Key": abandoned})
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers

    def test_concurrent_retries_create_exactly_one_customer(self, api: Api) -> None:
        headers = {"Idempotency-Key": key()}
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(
                pool.map(lambda _: api.post(URL, json={"name": "Acme"}, headers=headers), range(16))
            )
        statuses = sorted(response.status_code for response in responses)
        assert set(statuses) <= {201, 409}
        created = {r.json()["data"]["id"] for r in responses if r.status_code == 201}
        assert len(created) == 1
        assert api.list()["meta"]["count"] == 1
