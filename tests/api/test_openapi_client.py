"""The OpenAPI document as a generated client sees it: openapi-python-client, a generator we
did not write, turns it into typed models, and a client built from them works end to end."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import Api

PACKAGE = "expensicat_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The client package generated from the served document, importable while in use."""
    from tests.test_fuzz import served_document

    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_bytes(orjson.dumps(served_document()))
    (folder / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [generator, "generate", "--path", "openapi.json", "--config", "config.yaml",
         "--meta", "none", "--output-path", PACKAGE],
        cwd=folder, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    sys.path.insert(0, str(folder))
    yield folder / PACKAGE
    sys.path.remove(str(folder))


def properties(model: Path) -> dict[str, str]:
    """Each attribute a generated model declares, with its annotation as written."""
    found = {}
    for node in ast.walk(ast.parse(model.read_text())):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    found[statement.target.id] = ast.unparse(statement.annotation)
    return found


class TestGeneratedClient:
    def test_no_body_property_is_typed_any(self, generated: Path) -> None:
        typed = {
            f"{model.stem}.{name}": annotation
            for model in (generated / "models").glob("*.py")
            for name, annotation in properties(model).items()
            if name != "additional_properties"  # the generator's own catch-all
        }

        assert "customer_create.email" in typed
        assert typed["customer_create.email"] == "None | str | Unset"
        assert typed["customer_update.website"] == "None | str | Unset"
        details = properties(generated / "models" / "error_error_details.py")
        assert details["additional_properties"] == "dict[str, list[str]]"
        assert [name for name, annotation in typed.items() if "Any" in annotation] == []

    def test_creates_and_reads_a_customer_through_the_generated_models(
        self, generated: Path, api: Api
    ) -> None:
        models: Any = importlib.import_module(f"{PACKAGE}.models")
        body = models.CustomerCreate(name="Müller GmbH", email="billing@mueller.de")

        response = api.post("/api/v1/customers", json=body.to_dict())

        assert response.status_code == 201
        created = models.CustomerResponse.from_dict(response.json()).data
        assert created.name == "Müller GmbH"
        assert created.email == "billing@mueller.de"
        assert created.website is None
        listed = models.CustomerList.from_dict(api.list())
        assert [customer.id for customer in listed.data] == [created.id]
