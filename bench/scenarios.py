"""The saturating scenarios: a wrk script and a path each, run as the big organization
(or, for writes, as an organization of their own)."""

from __future__ import annotations

from dataclasses import dataclass

from bench import wrk
from bench.dataset import SEARCH_TERM
from bench.fixtures import API, Fixtures


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    script: str
    path: str
    writes: bool = False


GET = Scenario("get", "get by id", "get.lua", API)
LIST = Scenario("list", "list first page", "base.lua", API)
SEARCH = Scenario("search", f"list q={SEARCH_TERM}", "base.lua", f"{API}?q={SEARCH_TERM}")
WALK = Scenario("walk", "walk (pages/s)", "walk.lua", f"{API}?limit=20")
CREATE = Scenario("create", "create", "create.lua", API, writes=True)


def saturate(
    scenario: Scenario, base_url: str, fixtures: Fixtures, load: wrk.Load
) -> wrk.Measurement:
    """Run the scenario against the server at `base_url` with wrk."""
    token = fixtures.writer_token if scenario.writes else fixtures.token
    env = {"BENCH_TOKEN": token, "BENCH_IDS": str(fixtures.ids_file)}
    return wrk.run(scenario.script, base_url + scenario.path, load, env)
