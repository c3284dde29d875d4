"""`cchc schema export`: JSON Schema files of the raw events, generated from the pydantic models.

The checked-in copies under `schemas/` are for provincial developers who do not use Python; a
test keeps them equal to what the models export, so the two can never drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from cchc_shared.events import DOSSIER_EVENT, INDICATOR_REPORT, DossierEvent, IndicatorReport
from pydantic import BaseModel
from rich.console import Console

app = typer.Typer(help="JSON Schema of the raw events.", no_args_is_help=True)
out = Console()

MODELS: dict[str, type[BaseModel]] = {
    INDICATOR_REPORT: IndicatorReport,
    DOSSIER_EVENT: DossierEvent,
}
DEFAULT_DIR = Path("schemas")


def file_name(schema: str) -> str:
    """`cchc.indicator_report/1` → `cchc.indicator_report.1.json`."""
    return f"{schema.replace('/', '.')}.json"


def json_schema(schema: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of raw event kind `schema`, field names as on the wire."""
    body = MODELS[schema].model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}


def render(schema: str) -> str:
    """The file content: stable key order, UTF-8, final newline (so diffs stay readable)."""
    return json.dumps(json_schema(schema), indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    """Write one file per event kind into `directory`; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for schema in MODELS:
        path = directory / file_name(schema)
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


@app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = DEFAULT_DIR,
) -> None:
    """Write cchc.indicator_report.1.json and cchc.dossier_event.1.json."""
    for path in export(out_dir):
        out.print(f"wrote {path}", highlight=False)
