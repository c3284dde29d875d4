"""A schema violation gets the same dead-letter errors from normalize as from ingest.

Normalize re-validates what it reads (a producer may write to `cchc.validated` without going
through ingest); both stages flatten pydantic's errors with `cchc_shared.validation`, so an
operator filtering dead letters by `loc` finds the same field whichever stage rejected it.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cchc_ingest.steps.validate import validate
from cchc_normalize.steps.canonicalize import Reference, Rejected, canonicalize
from cchc_shared.dlq import Reason

from tests import events
from tests.unit.normalize.builders import TODAY

CASES: list[Any] = [
    pytest.param(events.report(event_id="has space"), id="report-event_id"),
    pytest.param(events.dossier_event(event_id="has space"), id="dossier-event_id"),
    pytest.param(events.report(value=[1]), id="union-value"),
    pytest.param(events.report(source={"title": "x", "url": 5}), id="nested-source.url"),
    pytest.param(events.report(valeu=1, reported_at="2017-03-28"), id="extra-and-timestamp"),
    pytest.param(events.dossier_event(status="received", due_at=None), id="model-validator"),
    pytest.param(events.dossier_event(status="rated"), id="rated-without-satisfied"),
    pytest.param(events.feedback_event(event_id="has space"), id="feedback-event_id"),
    pytest.param(events.procedure_event(online=None), id="procedure-model-validator"),
]


@pytest.mark.parametrize("event", CASES)
def test_normalize_flattens_pydantic_errors_as_ingest_does(
    ref: Reference, event: dict[str, Any]
) -> None:
    payload = orjson.dumps(event)
    by_ingest = validate(payload, "14", ref.provinces)
    by_normalize = canonicalize(payload, ref, TODAY)
    assert isinstance(by_ingest, Rejected)
    assert isinstance(by_normalize, Rejected)
    assert by_ingest.reason is by_normalize.reason is Reason.SCHEMA_VIOLATION
    assert by_normalize.errors == by_ingest.errors
    assert all(not e.loc.startswith("cchc.") for e in by_normalize.errors)
