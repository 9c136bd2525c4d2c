"""PATCH, checked over random sequences of edits against a plain dictionary model."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import Api
from tests.support.contract import customer_url, timestamp

INVALID = "<invalid>"

# For each field, values a client may send and what the contract says gets stored.
CANDIDATES: dict[str, list[tuple[Any, Any]]] = {
    "name": [("Acme", "Acme"), ("  Globex  ", "Globex"), ("", INVALID), (None, INVALID),
             ("x" * 256, INVALID), (5, INVALID)],
    "email": [("billing@acme.example", "billing@acme.example"), (" a@b.example ", "a@b.example"),
              ("nope", INVALID), ("", None), (None, None)],
    "website": [("acme.com", "https://acme.com"), ("http://acme.com", "http://acme.com"),
                ("ftp://acme.com", INVALID), (" ", None), (None, None)],
    "city": [("Berlin", "Berlin"), (" Köln ", "Köln"), ("", None), (None, None), (7, INVALID)],
    "country_code": [("de", "DE"), ("US", "US"), ("XX", INVALID), ("", None), (None, None)],
    "notes": [("n", "n"), ("n" * 10_000, "n" * 10_000), ("n" * 10_001, INVALID), (None, None)],
}  # fmt: skip

EDITS = st.fixed_dictionaries(
    {}, optional={field: st.sampled_from(pairs) for field, pairs in CANDIDATES.items()}
)


class TestPatchProperties:
    @settings(max_examples=15, deadline=None)
    @given(edits=st.lists(EDITS, min_size=1, max_size=6))
    def test_patches_behave_like_a_dictionary_update(
        self, client: TestClient, edits: list[dict[str, tuple[Any, Any]]]
    ) -> None:
        api = Api(client, f"org-{uuid.uuid4().hex[:12]}")
        model = api.create(name="Start", city="Hamburg")
        tag = api.get(customer_url(model["id"])).headers["etag"]

        for edit in edits:
            body = {field: sent for field, (sent, _) in edit.items()}
            stored = {field: outcome for field, (_, outcome) in edit.items()}
            response = api.patch(customer_url(model["id"]), json=body)

            if INVALID in stored.values():
                assert response.status_code == 400, response.text
                invalid = {field for field, outcome in stored.items() if outcome == INVALID}
                assert set(response.json()["error"]["details"]) == invalid
            else:
                assert response.status_code == 200, response.text
                previous, model = model, {**model, **stored}
                model["updated_at"] = response.json()["data"]["updated_at"]
                moved = timestamp(model["updated_at"]) > timestamp(previous["updated_at"])
                assert moved == bool(body)
                assert (response.headers["etag"] != tag) == bool(body)
                tag = response.headers["etag"]
            assert api.get(customer_url(model["id"])).json()["data"] == model
