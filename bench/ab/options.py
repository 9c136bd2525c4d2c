"""What to compare: two commits, how many rounds, and the benchmark's own options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.options import Options, common_parser, options_from

# Fewer rounds than this cannot tell a slowdown from a bad round.
RULE_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class AbOptions:
    old: str
    new: str
    rounds: int
    bench: Options
    backends: list[str]
    # Settings for one side only, e.g. EXPENSICAT_METRICS=off, to compare a setting's cost
    # on the same commit.
    env: dict[str, dict[str, str]]


def parse(argv: list[str], description: str) -> AbOptions:
    parser = common_parser("python -m bench.ab", description, "small data, short runs")
    parser.add_argument("--old", required=True, help="the commit to compare against")
    parser.add_argument("--new", default="HEAD", help="the commit under test (default HEAD)")
    parser.add_argument(
        "--rounds", type=int, default=RULE_ROUNDS,
        help=f"times each commit is served, in alternating order (default {RULE_ROUNDS})",
    )  # fmt: skip
    for role in ("old", "new"):
        parser.add_argument(
            f"--{role}-env", action="append", default=[], metavar="NAME=VALUE",
            help=f"an environment variable for the {role} side's server only (repeatable)",
        )  # fmt: skip
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("need at least 1 round")
    env = {"old": _pairs(parser, args.old_env), "new": _pairs(parser, args.new_env)}
    options, backends = options_from(parser, args)
    return AbOptions(args.old, args.new, args.rounds, options, backends, env)


def _pairs(parser: argparse.ArgumentParser, given: list[str]) -> dict[str, str]:
    pairs = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name:
            parser.error(f"{item!r} is not NAME=VALUE")
        pairs[name] = value
    return pairs
