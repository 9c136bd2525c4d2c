"""An embedded database file that cannot be used (damaged, or not a file at all) is a 503,
not a 500, and the service serves again once a good file is put back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from expensicat.db.migrate import upgrade
from tests.conftest import make_settings
from tests.faults.conftest import ServeApp, assert_unavailable

pytestmark = pytest.mark.slow


@pytest.fixture
def good_copy(tmp_path: Path) -> Path:
    """A migrated database file, ready to be restored into place."""
    path = tmp_path / "restore" / "expensicat.db"
    upgrade(make_settings(f"sqlite:///{path}", path.parent).database)
    return path


class TestUnusableFile:
    def test_damaged_file_is_unavailable_until_a_good_one_is_restored(
        self, serve_app: ServeApp, tmp_path: Path, good_copy: Path
    ) -> None:
        path = tmp_path / "data" / "expensicat.db"
        path.parent.mkdir()
        path.write_bytes(os.urandom(8192))
        with serve_app(f"sqlite:///{path}") as api:
            assert_unavailable(api.get("/readyz"))
            assert_unavailable(api.get("/api/v1/customers"))
            assert_unavailable(api.post("/api/v1/customers", json={"name": "Acme"}))
            # Restored the way an operator would: a whole file moved into place.
            shutil.copy(good_copy, path.with_suffix(".restored"))
            os.replace(path.with_suffix(".restored"), path)
            assert api.get("/readyz").status_code == 200
            assert api.create(name="Acme")["name"] == "Acme"

    def test_path_that_is_not_a_file_is_unavailable(
        self, serve_app: ServeApp, tmp_path: Path
    ) -> None:
        path = tmp_path / "expensicat.db"
        path.mkdir()
        with serve_app(f"sqlite:///{path}") as api:
            assert_unavailable(api.get("/readyz"))
            assert_unavailable(api.get("/api/v1/customers"))
            assert_unavailable(api.post("/api/v1/customers", json={"name": "Acme"}))
