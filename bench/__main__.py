"""`python -m bench`: load the service on PostgreSQL and SQLite, print one table.

Exits 0 when every scenario ran without an error, 1 when some request failed (a non-2xx
answer or a socket error) or a scenario had no request answered in time, and 2 when the
benchmark itself could not run (a server did not start, a check failed).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from bench.databases import BenchError
from bench.options import parse
from bench.report import BackendReport, table
from bench.run import run_backend


def main(argv: list[str]) -> int:
    options, backends = parse(argv, __doc__.splitlines()[0])
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
