"""Archive, restore and erase: a customer can leave the list, come back, or leave for good."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from expensicat.config import Settings
from tests.conftest import Api
from tests.support.contract import CUSTOMERS, assert_customer, assert_error, customer_url
from tests.support.postgres import PostgresServer
from tests.support.required import required


def archive(api: Api, customer_id: str, **headers: str) -> object:
    return api.post(f"{customer_url(customer_id)}/archive", headers=headers)


def listed_ids(api: Api, **params: str) -> list[str]:
    return [customer["id"] for customer in api.list(**params)["data"]]


class TestArchive:
    def test_answers_the_customer_with_archived_at_and_a_new_version(self, api: Api) -> None:
        customer = api.create(name="Acme")

        response = api.post(f"{customer_url(customer['id'])}/archive")

        assert response.status_code == 200
        archived = response.json()["data"]
        assert_customer(archived)
        assert archived["archived_at"] is not None
        assert archived["updated_at"] >= archived["archived_at"]
        assert response.headers["etag"] == '"2"'
        assert api.get(customer_url(customer["id"])).json()["data"] == archived

    def test_archiving_an_archived_customer_changes_nothing(self, api: Api) -> None:
        customer = api.create(name="Acme")
        first = api.post(f"{customer_url(customer['id'])}/archive")

        again = api.post(f"{customer_url(customer['id'])}/archive")

        assert again.status_code == 200
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]

    def test_lists_leave_archived_customers_out_unless_asked(self, api: Api) -> None:
        kept, archived = api.create(name="Kept"), api.create(name="Gone")
        api.post(f"{customer_url(archived['id'])}/archive")

        assert listed_ids(api) == [kept["id"]]
        assert listed_ids(api, archived="false") == [kept["id"]]
        assert listed_ids(api, archived="true") == [archived["id"]]
        assert listed_ids(api, archived="any") == [archived["id"], kept["id"]]
        assert listed_ids(api, q="gone") == []
        assert listed_ids(api, q="gone", archived="true") == [archived["id"]]

    def test_a_cursor_is_bound_to_its_choice_of_customers(self, api: Api) -> None:
        for name in ("A", "B", "C"):
            api.post(f"{customer_url(api.create(name=name)['id'])}/archive")
        page = api.list(archived="true", limit="1")

        response = api.get(CUSTOMERS, params={"cursor": page["meta"]["next_cursor"]})

        assert_error(response, 400, "VALIDATION_ERROR", {"cursor"})

    def test_maybe_is_no_choice(self, api: Api) -> None:
        assert_error(
            api.get(CUSTOMERS, params={"archived": "maybe"}), 400, "VALIDATION_ERROR", {"archived"}
        )

    def test_an_archived_customer_can_still_be_changed(self, api: Api) -> None:
        customer = api.create(name="Acme")
        api.post(f"{customer_url(customer['id'])}/archive")

        response = api.patch(customer_url(customer["id"]), json={"city": "Berlin"})

        assert response.status_code == 200
        assert response.json()["data"]["city"] == "Berlin"
        assert response.json()["data"]["archived_at"] is not None

    def test_if_match_guards_it(self, api: Api) -> None:
        customer = api.create(name="Acme")
        api.patch(customer_url(customer["id"]), json={"city": "Berlin"})

        stale = api.post(f"{customer_url(customer['id'])}/archive", headers={"If-Match": '"1"'})
        current = api.post(f"{customer_url(customer['id'])}/archive", headers={"If-Match": '"2"'})

        assert_error(stale, 412, "PRECONDITION_FAILED")
        assert stale.headers["etag"] == '"2"'
        assert current.status_code == 200

    def test_another_organizations_customer_is_not_found(self, api: Api, other_api: Api) -> None:
        customer = api.create(name="Acme")

        response = other_api.post(f"{customer_url(customer['id'])}/archive")

        assert_error(response, 404, "NOT_FOUND")
        assert api.get(customer_url(customer["id"])).json()["data"]["archived_at"] is None

    def test_a_read_only_token_may_not(self, api: Api) -> None:
        from tests.support.tokens import bearer, session_token

        customer = api.create(name="Acme")
        reader = bearer(session_token(api.org, scope="invoices:read"))

        response = api.client.post(f"{customer_url(customer['id'])}/archive", headers=reader)

        assert_error(response, 403, "FORBIDDEN")


class TestRestore:
    def test_brings_the_customer_back_to_the_list(self, api: Api) -> None:
        customer = api.create(name="Acme")
        api.post(f"{customer_url(customer['id'])}/archive")

        response = api.post(f"{customer_url(customer['id'])}/restore")

        assert response.status_code == 200
        assert response.json()["data"]["archived_at"] is None
        assert response.headers["etag"] == '"3"'
        assert listed_ids(api) == [customer["id"]]

    def test_restoring_an_active_customer_changes_nothing(self, api: Api) -> None:
        customer = api.create(name="Acme")

        response = api.post(f"{customer_url(customer['id'])}/restore")

        assert response.status_code == 200
        assert response.json()["data"] == customer


class TestErase:
    def test_answers_204_then_every_request_for_the_id_is_not_found(self, api: Api) -> None:
        customer = api.create(name="Acme")
        url = customer_url(customer["id"])

        response = api.request("DELETE", url)

        assert response.status_code == 204
        assert response.content == b""
        assert_error(api.get(url), 404, "NOT_FOUND")
        assert_error(api.patch(url, json={"city": "Berlin"}), 404, "NOT_FOUND")
        assert_error(api.post(f"{url}/archive"), 404, "NOT_FOUND")
        assert_error(api.request("DELETE", url), 404, "NOT_FOUND")
        assert listed_ids(api, archived="any") == []

    def test_an_archived_customer_can_be_erased(self, api: Api) -> None:
        customer = api.create(name="Acme")
        api.post(f"{customer_url(customer['id'])}/archive")

        assert api.request("DELETE", customer_url(customer["id"])).status_code == 204

    def test_if_match_guards_it(self, api: Api) -> None:
        customer = api.create(name="Acme")
        url = customer_url(customer["id"])
        api.patch(url, json={"city": "Berlin"})

        assert_error(
            api.request("DELETE", url, headers={"If-Match": '"1"'}), 412, "PRECONDITION_FAILED"
        )
        assert api.get(url).status_code == 200
        assert api.request("DELETE", url, headers={"If-Match": '"2"'}).status_code == 204

    def test_a_replayed_create_no_longer_shows_the_customer(self, api: Api) -> None:
        headers = {"Idempotency-Key": "erase-replay-1"}
        created = api.post(CUSTOMERS, json={"name": "Jürgen Privat"}, headers=headers)
        customer_id = created.json()["data"]["id"]

        api.request("DELETE", customer_url(customer_id))
        replay = api.post(CUSTOMERS, json={"name": "Jürgen Privat"}, headers=headers)

        assert_error(replay, 404, "NOT_FOUND")
        assert "Privat" not in replay.text
        assert customer_id not in replay.text

    def test_another_organizations_customer_is_not_found(self, api: Api, other_api: Api) -> None:
        customer = api.create(name="Acme")

        assert_error(other_api.request("DELETE", customer_url(customer["id"])), 404, "NOT_FOUND")
        assert api.get(customer_url(customer["id"])).status_code == 200


@pytest.mark.parametrize("path", ["archive", "restore"])
def test_an_id_that_is_no_uuid_is_not_found(api: Api, path: str) -> None:
    assert_error(api.post(f"{CUSTOMERS}/not-a-uuid/{path}"), 404, "NOT_FOUND")


class TestNothingLeftAfterErasure:
    """Marker values go through a create, an update, a replayed create and an archive; once
    the customer is erased, a dump of every table of the database holds none of them. The
    id stays in one place only: as the customer_id of its changes, which is how a client
    following the feed learns which copy to delete."""

    def test_no_value_of_the_customer_is_found_in_any_table(
        self, api: Api, backend_settings: Settings, request: pytest.FixtureRequest
    ) -> None:
        marker = f"zqxmark{uuid.uuid4().hex[:10]}"
        headers = {"Idempotency-Key": f"erase-{uuid.uuid4()}"}  # chosen by the client
        body = {"name": f"{marker} GmbH", "email": f"{marker}@example.org", "notes": marker}
        created = api.post(CUSTOMERS, json=body, headers=headers).json()["data"]
        url = customer_url(created["id"])
        api.patch(url, json={"city": f"{marker}-city", "tax_id": f"{marker}-tax"})
        assert api.post(CUSTOMERS, json=body, headers=headers).status_code == 201  # replayed
        api.post(f"{url}/archive")
        assert marker in dump(backend_settings, request)

        assert api.request("DELETE", url).status_code == 204

        dumped = dump(backend_settings, request)
        assert marker not in dumped
        assert marker.encode().hex() not in dumped.lower()
        naming_the_id = [line for line in dumped.splitlines() if created["id"] in line]
        assert len(naming_the_id) == 4  # created, updated, archived, erased (a replay adds none)
        assert all(_is_a_change_without_values(line) for line in naming_the_id)


def _is_a_change_without_values(line: str) -> bool:
    """A dumped row of customer_changes whose customer is cleared, in its column and in its
    entry: SQLite's INSERT with NULL, or a tab-separated COPY line of pg_dump with \\N."""
    cleared = '"customer":null,' in line
    if line.startswith("INSERT INTO"):
        in_changes = line.startswith("INSERT INTO customer_changes VALUES(")
        return in_changes and ",NULL," in line and cleared
    return "\t\\N\t" in line and line.count("\t") == 11 and cleared


def dump(settings: Settings, request: pytest.FixtureRequest) -> str:
    """Every table's rows: `pg_dump --data-only` on PostgreSQL, the dump of SQLite's shell."""
    if settings.database.is_sqlite:
        shell = required(shutil.which("sqlite3"), "sqlite3 not found (apt-get install sqlite3)")
        dumped = subprocess.run(
            [shell, str(settings.database.sqlite_path), ".dump"],
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        return dumped.stdout
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url: str = request.getfixturevalue("postgres_url")  # directly, not through a pooler
    result = subprocess.run(
        [str(server.bindir / "pg_dump"), "--data-only", url],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return result.stdout
