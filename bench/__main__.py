"""`python -m bench`: load the service on PostgreSQL and SQLite, print one table.

Exits 0 when every scenario ran without an error, 1 when some request failed (a non-2xx
answer or a socket error) or a scenario had no request answered in time, and 2 when the
benchmark itself could not run (a server did not start, a check failed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench.databases import BenchError
from bench.paced import Pace
from bench.report import BackendReport, table
from bench.run import Options, run_backend
from bench.wrk import Load

STEADY_RATE = 1000
WRK_THREADS = 1


def parse(argv: list[str]) -> tuple[Options, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, short runs (<2 min)")
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--customers", type=int, help="default 1,000,000 (quick: 20,000)")
    parser.add_argument("--duration", type=int, help="seconds per scenario (default 10, quick 2)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    customers = args.customers or (20_000 if args.quick else 1_000_000)
    # One organization holds a tenth of everyone (a quarter in quick mode, to stay sizeable).
    big_org = customers // (4 if args.quick else 10)
    seconds = args.duration or (2 if args.quick else 10)
    if customers < 1000 or args.connections < WRK_THREADS or seconds < 1:
        parser.error("need at least 1,000 customers, 1 connection and 1 second")
    options = Options(
        quick=args.quick,
        customers=customers,
        organizations=100,
        big_org=big_org,
        depth=big_org * 9 // 10,
        load=Load(seconds, args.connections, WRK_THREADS, warmup_seconds=1 if args.quick else 2),
        workers=args.workers,
        steady=Pace(STEADY_RATE, seconds, args.connections),
    )
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    return options, backends


def main(argv: list[str]) -> int:
    options, backends = parse(argv)
    reports: list[BackendReport] = []
    folder = Path(tempfile.mkdtemp(prefix="expensicat-bench-"))
    try:
        for backend in backends:
            reports.append(run_backend(backend, options, folder / backend))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(table(reports))
    for report in reports:
        print(
            f"\n[{report.backend}] seeding: {report.customers:,} customers "
            f"in {report.seeding_seconds:.1f} s"
        )
        for note in report.notes:
            print(f"[{report.backend}] {note}")
    failed = [f"{report.backend}: {label}" for report in reports for label in report.failed]
    if failed:
        print(f"\nrequests failed in: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
