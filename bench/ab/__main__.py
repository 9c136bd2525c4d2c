"""`python -m bench.ab --old REV [--new REV]`: an A/B benchmark of two commits in one sitting.

Each commit is checked out into a temporary worktree with a venv of its own. On each
database, seeded once and migrated by the new commit, the two commits' servers take turns
(old then new, new then old, ...) for `--rounds` rounds, each measuring get by id, list
first page, list q=acm and create. Prints the old and new medians, each round's figures,
and whether the new commit is within 3% of the old one.

Exits 0 when it ran (a slowdown is reported, not an error), 1 when some request failed,
and 2 when it could not run (a checkout did not install, a server did not start, a check
failed).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from bench.ab.checkouts import installed, resolve
from bench.ab.options import RULE_ROUNDS, AbOptions, parse
from bench.ab.report import Comparison, summary, table
from bench.ab.rounds import compare_on, run_order
from bench.databases import BenchError


def main(argv: list[str]) -> int:
    options = parse(argv, __doc__.splitlines()[0])
    folder = Path(tempfile.mkdtemp(prefix="expensicat-ab-"))
    try:
        commits = {"old": resolve(options.old), "new": resolve(options.new)}
        with installed(commits, folder / "checkouts") as checkouts:
            comparisons = [
                comparison
                for backend in options.backends
                for comparison in compare_on(backend, checkouts, options, folder / backend)
            ]
    except BenchError as error:
        print(f"A/B benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(heading(options, commits))
    print(table(comparisons))
    print()
    print("\n".join(summary(comparisons)))
    return report_failures(comparisons)


def heading(options: AbOptions, commits: dict[str, str]) -> str:
    bench, rounds = options.bench, options.rounds
    order = ", ".join(" then ".join(roles) for roles in run_order(rounds))
    lines = [
        f"old = {commits['old'][:7]}, new = {commits['new'][:7]}; {bench.customers:,} "
        f"customers, {bench.load.seconds} s per scenario, {bench.load.connections} "
        f"connections, {bench.workers} workers",
        f"medians of {rounds} rounds, each round's figures in brackets; run order: {order}"
        if rounds > 1
        else f"one round: {order}",
    ]
    for role, env in options.env.items():
        if env:
            lines.append(
                f"{role} side also runs with " + " ".join(f"{k}={v}" for k, v in env.items())
            )
    if rounds < RULE_ROUNDS:
        lines.append(f"fewer rounds than the {RULE_ROUNDS} the no-slowdown rule asks for")
    return "\n".join(lines) + "\n"


def report_failures(comparisons: list[Comparison]) -> int:
    failed = [f"{c.backend}: {c.label}" for c in comparisons if c.failed]
    if failed:
        print(f"\nrequests failed in: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
