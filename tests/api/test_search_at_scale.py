"""Search answers the same whether a term is rare or common (the databases take different
paths for each: the trigram index, or the page order)."""

from __future__ import annotations

import uuid

from tests.conftest import Api

COMMON = 1100  # more names than the threshold at which a term stops counting as rare


def walk(api: Api, q: str) -> list[dict[str, str]]:
    customers, cursor = [], None
    while True:
        params = {"q": q, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.list(**params)
        customers += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return customers


class TestSearchAtScale:
    def test_a_common_term_and_a_rare_one_both_find_exactly_their_names(self, api: Api) -> None:
        common, rare = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
        names = [f"Común {common} Nº{n}" for n in range(COMMON)]
        for name in names[:-1]:
            api.create(name=name)
        api.create(name=f"Ünique {rare} {common.upper()}")

        found = walk(api, common.upper())
        assert len(found) == COMMON
        keys = [(c["created_at"], c["id"]) for c in found]
        assert keys == sorted(keys, reverse=True)
        assert len(set(keys)) == COMMON

        assert [c["name"] for c in walk(api, f"unique {rare}")] == [
            f"Ünique {rare} {common.upper()}"
        ]
        assert walk(api, f"{common} nº1099") == []
