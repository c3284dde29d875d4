"""`cchc schema export`: the checked-in JSON Schemas match the models, and they validate.

(The AsyncAPI document: test_asyncapi.py; the reason page: tests/unit/shared/test_reasons.py.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cchc_cli.main import app
from cchc_cli.schema import SCHEMAS, file_name, render
from cchc_shared.canonical import DossierRecord
from cchc_shared.dlq import ErrorDetail, Reason, dead_letter, encode
from typer.testing import CliRunner

from tests import events

SCHEMAS_DIR = Path(__file__).resolve().parents[3] / "schemas"

REPORT = events.report(
    source={"title": "Báo cáo CCHC quý I/2017", "published_at": "2017-04-02T08:00:00+07:00"}
)
DOSSIER = events.dossier_event(province=1)  # a code may be written as a number


def load(schema: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS_DIR / file_name(schema)).read_text("utf-8"))
    return data


@pytest.mark.parametrize("schema", SCHEMAS)
def test_checked_in_schema_matches_the_model(schema: str) -> None:
    path = SCHEMAS_DIR / file_name(schema)
    assert path.read_text("utf-8") == render(schema), "run `cchc schema export` and commit"


def test_export_command_writes_every_file(tmp_path: Path) -> None:
    out, docs = tmp_path / "schemas", tmp_path / "docs"
    result = CliRunner().invoke(app, ["schema", "export", "--out", str(out), "--docs", str(docs)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "asyncapi.yaml",
        "cchc.canonical_record.1.json",
        "cchc.dead_letter.1.json",
        "cchc.dossier_event.1.json",
        "cchc.feedback_event.1.json",
        "cchc.indicator_report.1.json",
        "cchc.procedure_event.1.json",
    ]
    assert [p.name for p in docs.iterdir()] == ["reasons.md"]
    for schema in SCHEMAS:
        assert (out / file_name(schema)).read_text("utf-8") == render(schema)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_exported_schema_is_a_valid_json_schema(schema: str) -> None:
    jsonschema.Draft202012Validator.check_schema(load(schema))


def test_a_real_dead_letter_and_canonical_record_fit_their_schemas() -> None:
    letter = dead_letter(
        stage="ingest",
        reason=Reason.MALFORMED_JSON,
        errors=[ErrorDetail(loc="$", msg="unexpected end")],
        topic="cchc.raw.15",
        partition=0,
        offset=7,
        key=b"\xff",
        payload=b"\xff{",
    )
    validator = jsonschema.Draft202012Validator
    jsonschema.validate(json.loads(encode(letter)), load("cchc.dead_letter/1"), cls=validator)
    record = DossierRecord.trusted(
        event_id="d-1",
        unit_key="2025:15",
        province="15",
        dossier_id="LCI-1",
        procedure_code="1.004227",
        status="received",
        occurred_at=datetime(2025, 8, 4, 1, 15, tzinfo=UTC),
    )
    body = json.loads(record.model_dump_json(exclude_none=True))
    jsonschema.validate(body, load("cchc.canonical_record/1"), cls=validator)


@pytest.mark.parametrize(
    ("schema", "event"),
    [
        ("cchc.indicator_report/1", REPORT),
        ("cchc.dossier_event/1", DOSSIER),
        ("cchc.dossier_event/1", events.dossier_event(fee_required=True, reused_data=False)),
        ("cchc.dossier_event/1", events.dossier_event(status="rated", satisfied=True)),
        ("cchc.feedback_event/1", events.feedback_event()),
        ("cchc.feedback_event/1", events.feedback_event(status="resolved", satisfied=False)),
        ("cchc.procedure_event/1", events.procedure_event()),
        (
            "cchc.procedure_event/1",
            {
                k: v
                for k, v in events.procedure_event(action="announced").items()
                if k not in ("complete", "online")
            },
        ),
    ],
)
def test_valid_events_pass(schema: str, event: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(load(schema))
    jsonschema.validate(event, load(schema), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("schema", "event"),
    [
        pytest.param("cchc.indicator_report/1", {**REPORT, "valeu": 1}, id="typo-field"),
        pytest.param("cchc.indicator_report/1", {**REPORT, "event_id": "a b"}, id="event-id"),
        pytest.param("cchc.indicator_report/1", {**REPORT, "value": True}, id="bool-value"),
        pytest.param("cchc.indicator_report/1", {**REPORT, "rank": 3}, id="rank-alone"),
        pytest.param(
            "cchc.indicator_report/1",
            {k: v for k, v in REPORT.items() if k != "reported_at"},
            id="missing",
        ),
        pytest.param(
            "cchc.indicator_report/1", {**REPORT, "schema": "cchc.dossier_event/1"}, id="schema"
        ),
        pytest.param(
            "cchc.dossier_event/1",
            {k: v for k, v in DOSSIER.items() if k != "due_at"},
            id="received-without-due-at",
        ),
        pytest.param("cchc.dossier_event/1", {**DOSSIER, "status": "done"}, id="status"),
        pytest.param(
            "cchc.dossier_event/1", {**DOSSIER, "status": "rated"}, id="rated-without-satisfied"
        ),
        pytest.param(
            "cchc.dossier_event/1", {**DOSSIER, "satisfied": True}, id="satisfied-not-rated"
        ),
        pytest.param("cchc.dossier_event/1", {**DOSSIER, "fee_required": "yes"}, id="fee-not-bool"),
        pytest.param(
            "cchc.feedback_event/1",
            {k: v for k, v in events.feedback_event().items() if k != "due_at"},
            id="feedback-received-without-due-at",
        ),
        pytest.param(
            "cchc.feedback_event/1", events.feedback_event(satisfied=True), id="feedback-satisfied"
        ),
        pytest.param(
            "cchc.procedure_event/1",
            {k: v for k, v in events.procedure_event().items() if k != "online"},
            id="published-without-online",
        ),
        pytest.param(
            "cchc.procedure_event/1",
            events.procedure_event(action="announced"),
            id="announced-with-online",
        ),
        pytest.param(
            "cchc.procedure_event/1", events.procedure_event(online="level4"), id="online-value"
        ),
    ],
)
def test_invalid_events_fail(schema: str, event: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event, load(schema), cls=jsonschema.Draft202012Validator)
