"""No lost updates: concurrent PATCHes based on the same ETag."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Api


class TestConcurrentConditionalUpdates:
    def test_exactly_one_of_many_patches_with_the_same_if_match_succeeds(self, api: Api) -> None:
        created = api.post("/api/v1/customers", json={"name": "Acme"})
        url, tag = created.headers["Location"], created.headers["ETag"]

        def rename(n: int) -> int:
            response = api.patch(url, json={"name": f"Acme {n}"}, headers={"If-Match": tag})
            return response.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(rename, range(16)))

        assert sorted(statuses) == [200] + [412] * 15
        final = api.get(url)
        assert final.headers["ETag"] != tag
        assert final.json()["data"]["name"].startswith("Acme ")
