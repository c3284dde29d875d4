"""`cchc schema export`: JSON Schemas, the AsyncAPI document and the reason page, all generated.

From the pydantic models: one JSON Schema per raw event kind, and one for each message the
pipeline itself writes (the canonical record on `cchc.normalized`, the dead letter on
`cchc.dlq`); from the topic registry and those schemas: `asyncapi.yaml` (`cchc_cli.asyncapi`);
from the reason table (`cchc_shared.reasons`): the Vietnamese guide's page of reason codes.

The checked-in copies under `schemas/` and `docs/vi/` are for provincial developers who do not
use Python; tests keep them equal to what the code exports, so the two can never drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from cchc_shared.canonical import CanonicalRecord
from cchc_shared.dlq import DeadLetter
from cchc_shared.events import (
    DOSSIER_EVENT,
    FEEDBACK_EVENT,
    INDICATOR_REPORT,
    PROCEDURE_EVENT,
    DossierEvent,
    FeedbackEvent,
    IndicatorReport,
    ProcedureEvent,
)
from cchc_shared.reasons import markdown_vi
from pydantic import BaseModel, TypeAdapter
from rich.console import Console

app = typer.Typer(help="JSON Schema of the raw events.", no_args_is_help=True)
out = Console()

MODELS: dict[str, type[BaseModel]] = {
    INDICATOR_REPORT: IndicatorReport,
    DOSSIER_EVENT: DossierEvent,
    FEEDBACK_EVENT: FeedbackEvent,
    PROCEDURE_EVENT: ProcedureEvent,
}
"""The raw events provinces send, validated as they arrive (`mode="validation"`)."""

CANONICAL_RECORD = "cchc.canonical_record/1"
DEAD_LETTER = "cchc.dead_letter/1"
OUTPUTS: dict[str, TypeAdapter[Any]] = {
    CANONICAL_RECORD: TypeAdapter(CanonicalRecord),
    DEAD_LETTER: TypeAdapter(DeadLetter),
}
"""The messages the services write, described as they are serialised (`mode="serialization"`)."""

SCHEMAS = (*MODELS, *OUTPUTS)
DEFAULT_DIR = Path("schemas")
DEFAULT_DOCS_DIR = Path("docs/vi")
ASYNCAPI_FILE = "asyncapi.yaml"
REASONS_FILE = "reasons.md"


def file_name(schema: str) -> str:
    """`cchc.indicator_report/1` → `cchc.indicator_report.1.json`."""
    return f"{schema.replace('/', '.')}.json"


def json_schema(schema: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of message kind `schema`, field names as on the wire."""
    if schema in MODELS:
        body = MODELS[schema].model_json_schema(by_alias=True, mode="validation")
    else:
        body = OUTPUTS[schema].json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **body}


def render(schema: str) -> str:
    """The file content: stable key order, UTF-8, final newline (so diffs stay readable)."""
    return json.dumps(json_schema(schema), indent=2, ensure_ascii=False) + "\n"


def export(directory: Path, docs_dir: Path | None = None) -> list[Path]:
    """Write one file per message kind and `asyncapi.yaml` into `directory`, and the reason
    page into `docs_dir` (when given); the paths written."""
    from cchc_cli.asyncapi import render_yaml  # it reads this module's file names

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for schema in SCHEMAS:
        path = directory / file_name(schema)
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    path = directory / ASYNCAPI_FILE
    path.write_text(render_yaml(), encoding="utf-8")
    written.append(path)
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        path = docs_dir / REASONS_FILE
        path.write_text(markdown_vi(), encoding="utf-8")
        written.append(path)
    return written


@app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = DEFAULT_DIR,
    docs_dir: Annotated[
        Path, typer.Option("--docs", help="Where the Vietnamese guide's reasons.md goes.")
    ] = DEFAULT_DOCS_DIR,
) -> None:
    """Write the JSON Schemas and asyncapi.yaml (--out), and the guide's reasons.md (--docs)."""
    for path in export(out_dir, docs_dir):
        out.print(f"wrote {path}", highlight=False)
