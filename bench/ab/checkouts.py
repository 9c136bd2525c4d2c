"""Each commit checked out into a temporary worktree with a venv of its own, removed after."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.databases import BenchError
from bench.progress import say

# The repository this benchmark belongs to; its worktrees share one object store.
REPOSITORY = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Checkout:
    role: str
    commit: str
    folder: Path

    @property
    def label(self) -> str:
        return f"{self.role} {self.commit[:7]}"

    @property
    def bindir(self) -> Path:
        return self.folder / ".venv" / "bin"


def resolve(revision: str) -> str:
    """The full hash of a commit of this repository; BenchError if there is none."""
    result = subprocess.run(
        ["git", "-C", str(REPOSITORY), "rev-parse", "--verify", "--quiet", "--end-of-options",
         f"{revision}^{{commit}}"],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BenchError(f"{revision!r} is not a commit of the repository at {REPOSITORY}")
    return result.stdout.strip()


@contextmanager
def installed(commits: dict[str, str], folder: Path) -> Iterator[dict[str, Checkout]]:
    """Each commit, by role, checked out under `folder` and installed; removed on leaving."""
    checkouts: dict[str, Checkout] = {}
    try:
        for role, commit in commits.items():
            # Recorded first, so that a half-made checkout is removed as well.
            checkouts[role] = Checkout(role, commit, folder / role)
            _install(checkouts[role])
        yield checkouts
    finally:
        for checkout in checkouts.values():
            _remove(checkout)


def _install(checkout: Checkout) -> None:
    folder, venv = checkout.folder, checkout.folder / ".venv"
    say("setup", f"checking out {checkout.label} into {folder}")
    _run(["git", "-C", str(REPOSITORY), "worktree", "add", "--detach", str(folder),
          checkout.commit])  # fmt: skip
    say("setup", f"installing {checkout.label} into a venv of its own")
    _run(["python3", "-m", "venv", str(venv)])
    _run([str(checkout.bindir / "pip"), "install", "--quiet", "--disable-pip-version-check",
          "-e", str(folder)])  # fmt: skip
    # From inside the checkout, as its server runs: that is the code it must find.
    found = _run(
        [str(checkout.bindir / "python"), "-c", "import expensicat; print(expensicat.__file__)"],
        cwd=folder,
    )
    if not Path(found.strip()).resolve().is_relative_to(folder.resolve()):
        raise BenchError(f"{checkout.label}'s venv imports expensicat from {found.strip()}")


def _remove(checkout: Checkout) -> None:
    if not checkout.folder.exists():
        return
    result = subprocess.run(
        ["git", "-C", str(REPOSITORY), "worktree", "remove", "--force", str(checkout.folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        print(
            f"could not remove the worktree {checkout.folder}: {result.stderr.strip()}",
            file=sys.stderr,
        )


def _run(argv: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout
