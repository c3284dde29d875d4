"""`trusted()` builds exactly what pydantic's `model_construct` builds, only faster."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from cchc_shared.canonical import DossierRecord, Observation

OBSERVATION: dict[str, Any] = {
    "event_id": "e-1",
    "indicator": "dossiers.received",
    "period": "2025-Q3",
    "period_type": "quarter",
    "period_start": date(2025, 7, 1),
    "period_end": date(2025, 9, 30),
    "unit_key": "2025:01",
    "unit_code": "01",
    "unit_era": "2025",
    "province": "01",
    "value": 12.5,
    "unit": "hồ sơ",
    "reported_at": datetime(2025, 10, 2, 1, 0, tzinfo=UTC),
    "source_title": None,
}
DOSSIER: dict[str, Any] = {
    "event_id": "d-1",
    "unit_key": "2004:10",
    "province": "15",
    "dossier_id": "D-1",
    "procedure_code": "1.004227",
    "status": "received",
    "occurred_at": datetime(2025, 7, 1, 2, 0, tzinfo=UTC),
    "due_at": datetime(2025, 7, 3, 10, 0, tzinfo=UTC),
    "channel": "online",
}


@pytest.mark.parametrize(
    ("model", "values"), [(Observation, OBSERVATION), (DossierRecord, DOSSIER)]
)
def test_trusted_equals_model_construct(model: Any, values: dict[str, Any]) -> None:
    fast, reference = model.trusted(**values), model.model_construct(**values)
    assert fast == reference
    assert fast.model_fields_set == reference.model_fields_set == set(values)
    assert fast.model_dump_json() == reference.model_dump_json()
    assert vars(fast) == vars(reference)  # defaults filled in: "kind", "level", "ytd" …
    assert fast.kind == values.get("kind", reference.kind)


def test_trusted_refuses_a_name_that_is_not_a_field() -> None:
    with pytest.raises(TypeError, match="provnce"):
        DossierRecord.trusted(**DOSSIER, provnce="15")


def test_trusted_refuses_to_leave_a_required_field_out() -> None:
    values = {k: v for k, v in DOSSIER.items() if k != "dossier_id"}
    with pytest.raises(TypeError, match="dossier_id"):
        DossierRecord.trusted(**values)
