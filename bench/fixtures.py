"""What the load needs from the seeded data (tokens, ids, a deep cursor), and a check that
every scenario gets real answers before it is timed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.databases import BenchError
from bench.dataset import SEARCH_TERM, WRITES_ORG
from expensicat.auth.session import SessionTokens, derive_key
from expensicat.customers.listing import normalized_query
from expensicat.customers.search import fold
from expensicat.paging import CursorSigner, Position

API = "/api/v1/customers"
SAMPLED_IDS = 10_000
TOKEN_TTL_SECONDS = 6 * 3600


@dataclass(frozen=True, slots=True)
class Fixtures:
    token: str
    writer_token: str
    ids_file: Path
    ids: list[str]
    # A cursor that resumes the list after `depth` customers, and the id it must show first.
    deep_cursor: str
    deep_first_id: str


def session_token(secret: str, organization_id: str) -> str:
    return SessionTokens(secret).issue(organization_id, "bench", TOKEN_TTL_SECONDS)


def prepare(
    secret: str, organization_id: str, keys: list[tuple[str, str]], depth: int, folder: Path
) -> Fixtures:
    """`keys` are (created_at, id) of every customer of the organization."""
    newest_first = sorted(keys, reverse=True)
    ids = random.Random(7).sample([key[1] for key in keys], min(SAMPLED_IDS, len(keys)))
    ids_file = folder / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    # Signed as the service signs its own cursors, with the key it derives from the secret.
    signer = CursorSigner(derive_key(secret, "cursor"))
    created_at, last_id = newest_first[depth - 1]
    cursor = signer.encode(Position(created_at, last_id), organization_id, normalized_query(""))
    return Fixtures(
        token=session_token(secret, organization_id),
        writer_token=session_token(secret, WRITES_ORG),
        ids_file=ids_file,
        ids=ids,
        deep_cursor=cursor,
        deep_first_id=newest_first[depth][1],
    )


def check(base_url: str, fixtures: Fixtures) -> None:
    """One request per scenario but the deep page, with its answer checked; BenchError on
    any surprise."""
    headers = {"Authorization": f"Bearer {fixtures.token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        customer_id = fixtures.ids[0]
        got = _json(client.get(f"{API}/{customer_id}"), 200)
        _expect(got["data"]["id"] == customer_id, "get by id returned another customer")
        page = _json(client.get(API), 200)
        _expect(page["meta"]["next_cursor"] is not None, "the first page has no next cursor")
        found = _json(client.get(API, params={"q": SEARCH_TERM}), 200)["data"]
        _expect(bool(found), f"q={SEARCH_TERM} found nothing")
        _expect(
            all(SEARCH_TERM in fold(row["name"]) for row in found),
            f"q={SEARCH_TERM} found names without it",
        )
        writer = {"Authorization": f"Bearer {fixtures.writer_token}"}
        _json(client.post(API, json={"name": "Acme Preflight GmbH"}, headers=writer), 201)


def check_deep(base_url: str, fixtures: Fixtures) -> None:
    """The deep page's cursor, signed here in the cursor format of this checkout's code."""
    headers = {"Authorization": f"Bearer {fixtures.token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        deep = _json(client.get(API, params={"cursor": fixtures.deep_cursor}), 200)
        _expect(deep["data"][0]["id"] == fixtures.deep_first_id, "the deep page starts wrong")


def _json(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}, not {status}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(f"preflight: {message}")


def sample_customer(base_url: str, fixtures: Fixtures) -> dict[str, str]:
    """A customer of the big organization with an email, a tax id and a country code, for
    the filter scenarios."""
    headers = {"Authorization": f"Bearer {fixtures.token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        page = _json(client.get(API, params={"limit": "100"}), 200)["data"]
    for customer in page:
        if customer["email"] and customer["tax_id"] and customer["country_code"]:
            return dict(customer)
    raise BenchError("preflight: no customer on the first page has an email and a tax id")


def feed_head_cursor(base_url: str, fixtures: Fixtures) -> str:
    """The cursor of the writers' organization's feed at its head."""
    headers = {"Authorization": f"Bearer {fixtures.writer_token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        head = _json(client.get(f"{API}/changes", params={"from": "now"}), 200)
    cursor: str = head["meta"]["next_cursor"]
    return cursor
