"""Listing, checked over many random shapes: page sizes, arrivals during a walk, searches."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import Api
from tests.support.contract import folded
from tests.support.pages import ids, walk

# Letters whose case and accents fold together, and characters that are special to LIKE.
ALPHABET = "aAäÄoÖuÜsßSeéÉ iİ\u0131fﬁ%_\\"  # \u0131: dotless i
NAMES = st.text(ALPHABET, min_size=1, max_size=6).filter(str.strip)


def fresh_organization(client: TestClient) -> Api:
    """Each example starts from an empty organization of its own."""
    return Api(client, f"org-{uuid.uuid4().hex[:12]}")


class TestPaginationProperties:
    @settings(max_examples=12, deadline=None)
    @given(
        count=st.integers(0, 12),
        sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6),
        arrivals=st.lists(st.integers(0, 2), max_size=6),
    )
    def test_walk_returns_everyone_once_newest_first(
        self, client: TestClient, count: int, sizes: list[int], arrivals: list[int]
    ) -> None:
        api = fresh_organization(client)
        created = [api.create(name=f"Customer {n}") for n in range(count)]
        next_size = itertools.cycle(sizes).__next__
        newcomers = iter(arrivals)

        def arrive() -> None:
            for _ in range(next(newcomers, 0)):
                api.create(name="Newcomer")

        seen = walk(api, limit=next_size, between_pages=arrive)

        assert ids(seen) == ids(created[::-1])


class TestSearchProperties:
    @settings(max_examples=15, deadline=None)
    @given(
        names=st.lists(NAMES, max_size=8),
        q=st.text(ALPHABET, max_size=4),
        size=st.integers(1, 4),
    )
    def test_search_finds_exactly_the_names_containing_q(
        self, client: TestClient, names: list[str], q: str, size: int
    ) -> None:
        api = fresh_organization(client)
        created = [api.create(name=name) for name in names]

        found = walk(api, limit=size, q=q)

        term = folded(q.strip())
        expected = [c for c in created[::-1] if term in folded(c["name"])]
        assert ids(found) == ids(expected)
