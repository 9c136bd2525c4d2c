"""What to run: the command line, turned into sizes, durations and targets."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.dataset import Layout
from bench.paced import Pace
from bench.report import Target
from bench.wrk import Load


@dataclass(frozen=True, slots=True)
class Options:
    quick: bool
    customers: int
    organizations: int
    big_org: int
    depth: int
    load: Load
    workers: int
    steady: Pace
    soak_minutes: int

    @property
    def layout(self) -> Layout:
        return Layout(self.customers, self.organizations, self.big_org)

    @property
    def imported(self) -> int:
        """The bulk import into the big organization: 40,000 on top of 100,000."""
        return self.big_org * 2 // 5

    @property
    def huge_org(self) -> int:
        """The organization of the scale check: ten times the big one."""
        return 10 * self.big_org


# Figures to reach on 2 cores, load generator included, with the default data set. Reads by
# id and first pages also reach a share of the static floor's rate: 20% and 12%.
TARGETS = {
    "postgres": {
        "get": Target(6000, 50, min_of_floor=0.20),
        "list": Target(3500, 50, min_of_floor=0.12),
        "search": Target(2000, 50),
        "search_terms": Target(None, 100),
        "walk": Target(3000, 50),
        "deep": Target(None, 50),
        "create": Target(2500, 50),
        "steady": Target(None, 10),
        "filter": Target(3500, 50),
        "feed_head": Target(5000, 50),
        "feed_walk": Target(3000, 50),
        "webhook_latency": Target(None, 500),
        "refresh": Target(1000, 50),
    },
    "sqlite": {
        "get": Target(3000, min_of_floor=0.20),
        "list": Target(min_of_floor=0.12),
        "search": Target(None, 50),
        "search_terms": Target(None, 100),
        "webhook_latency": Target(None, 500),
    },
}


STEADY_RATE = 1000
WRK_THREADS = 1


def common_parser(prog: str, description: str, quick: str) -> argparse.ArgumentParser:
    """The options every benchmark command takes: data size, duration, load, workers."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--customers", type=int, help="default 1,000,000 (quick: 20,000)")
    parser.add_argument("--duration", type=int, help="seconds per scenario (default 10, quick 1)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    return parser


def options_from(
    parser: argparse.ArgumentParser, args: argparse.Namespace, soak_minutes: int = 0
) -> tuple[Options, list[str]]:
    """The options of `common_parser`'s arguments, and the backends to run on."""
    customers = args.customers or (20_000 if args.quick else 1_000_000)
    # One organization holds a tenth of everyone (a quarter in quick mode, to stay sizeable).
    big_org = customers // (4 if args.quick else 10)
    seconds = args.duration or (1 if args.quick else 10)
    if customers < 1000 or args.connections < WRK_THREADS or seconds < 1 or args.workers < 1:
        parser.error("need at least 1,000 customers, 1 connection, 1 second and 1 worker")
    options = Options(
        quick=args.quick,
        customers=customers,
        organizations=100,
        big_org=big_org,
        depth=big_org * 9 // 10,
        load=Load(seconds, args.connections, WRK_THREADS, warmup_seconds=1 if args.quick else 2),
        workers=args.workers,
        steady=Pace(STEADY_RATE, seconds, args.connections),
        soak_minutes=soak_minutes,
    )
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    return options, backends


def parse(argv: list[str], description: str) -> tuple[Options, list[str]]:
    parser = common_parser("python -m bench", description, "small data, short runs (<2 min)")
    parser.add_argument(
        "--soak", type=int, default=0, metavar="MINUTES",
        help="then serve mixed traffic this long, reading worker memory every minute",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.soak < 0:
        parser.error("the soak cannot be negative")
    return options_from(parser, args, args.soak)
