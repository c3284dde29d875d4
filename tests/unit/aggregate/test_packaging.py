"""aggregate's dependencies: chDB only as the `embedded` extra, which the image leaves out."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
AGGREGATE = ROOT / "services" / "aggregate"


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_chdb_is_the_embedded_extra_and_the_dev_venv_has_it() -> None:
    project = tomllib.loads((AGGREGATE / "pyproject.toml").read_text())["project"]
    assert "chdb" not in _names(project["dependencies"])
    assert _names(project["optional-dependencies"]["embedded"]) == {"chdb"}
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "cchc-aggregate[embedded]" in root["dependencies"]


def test_the_image_installs_aggregate_without_the_extra() -> None:
    text = (AGGREGATE / "Dockerfile").read_text()
    (install,) = re.findall(r"uv pip install --system -c requirements.lock (.+)$", text, re.M)
    assert "./services/aggregate" in install.split()
    assert "[" not in install


def test_the_package_imports_neither_chdb_nor_pyarrow() -> None:
    """chDB is reached through clickhouse-connect's chdb:// DSN only; pyarrow is not used."""
    for path in (AGGREGATE / "cchc_aggregate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] not in {"chdb", "pyarrow"}, f"{path}: {module}"
