"""The saturating scenarios: a wrk script and a path each, run as the big organization
(or, for writes, as an organization of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from bench import wrk
from bench.dataset import SEARCH_TERM
from bench.fixtures import API, Fixtures
from bench.servers import Server


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    script: str
    path: str
    # Run in the writers' organization: its creates, and the changes they recorded.
    as_writer: bool = False


def search(term: str, label: str = "") -> Scenario:
    """The first page of a name search in the big organization."""
    return Scenario("search", f"list q={term}{label}", "base.lua", f"{API}?q={term}")


CHANGES = f"{API}/changes"
GET = Scenario("get", "get by id", "get.lua", API)
LIST = Scenario("list", "list first page", "base.lua", API)
SEARCH = search(SEARCH_TERM)
WALK = Scenario("walk", "walk (pages/s)", "walk.lua", f"{API}?limit=20")
NAME_WALK = Scenario("walk", "walk sort=name (pages/s)", "walk.lua", f"{API}?limit=20&sort=name")
CREATE = Scenario("create", "create", "create.lua", API, as_writer=True)
FEED_WALK = Scenario(
    "feed_walk", "changes walk (pages/s)", "walk.lua", f"{CHANGES}?limit=100", as_writer=True
)


def filter_scenarios(customer: dict[str, str]) -> list[Scenario]:
    """Each list filter alone, first page, with the values of one seeded customer."""
    values = {
        "email": customer["email"],
        "tax_id": customer["tax_id"],
        "country_code": customer["country_code"],
        "created_after": customer["created_at"],
        "updated_before": customer["updated_at"],
    }
    return [
        Scenario("filter", f"list {name}=…", "base.lua", f"{API}?{urlencode({name: value})}")
        for name, value in values.items()
    ]


def feed_head(cursor: str) -> Scenario:
    """Polls at the head of the feed: the cursor of ?from=now, asked again and again."""
    path = f"{CHANGES}?{urlencode({'cursor': cursor})}"
    return Scenario("feed_head", "changes poll at the head", "base.lua", path, as_writer=True)


def saturate(
    scenario: Scenario, server: Server, fixtures: Fixtures, load: wrk.Load
) -> wrk.Measurement:
    """Run the scenario against `server` with wrk, and the server's CPU time meanwhile."""
    token = fixtures.writer_token if scenario.as_writer else fixtures.token
    env = {"BENCH_TOKEN": token, "BENCH_IDS": str(fixtures.ids_file)}
    return wrk.run(
        scenario.script, server.base_url + scenario.path, load, env, cpu=server.cpu_seconds
    )
