"""Valid raw events as provincial systems write them, for tests to vary one field at a time.

`report()` is seed 001's figure (Sơn La, 2017-Q1, "1.502" procedures published); `dossier_event()`
is a dossier received online by the post-merger Lào Cai (15). Keyword arguments replace or add
fields; a value of None is kept (as JSON null) — callers that want to drop a field remove it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

REPORT: dict[str, Any] = {
    "schema": "cchc.indicator_report/1",
    "event_id": "t-1",
    "province": "Sơn La",
    "indicator": "procedures.published",
    "period": "2017-Q1",
    "value": "1.502",
    "unit": "thủ tục",
    "reported_at": "2017-03-28T09:00:00+07:00",
}

DOSSIER_EVENT: dict[str, Any] = {
    "schema": "cchc.dossier_event/1",
    "event_id": "d-1",
    "province": "15",
    "dossier_id": "LCI-2025-000001",
    "procedure_code": "1.004227",
    "status": "received",
    "occurred_at": "2025-08-04T08:15:00+07:00",
    "due_at": "2025-08-11T17:00:00+07:00",
    "channel": "online",
}


FEEDBACK_EVENT: dict[str, Any] = {
    "schema": "cchc.feedback_event/1",
    "event_id": "f-1",
    "province": "15",
    "feedback_id": "LCI-PAKN-2025-000001",
    "status": "received",
    "occurred_at": "2025-08-04T08:15:00+07:00",
    "due_at": "2025-08-14T17:00:00+07:00",
}

PROCEDURE_EVENT: dict[str, Any] = {
    "schema": "cchc.procedure_event/1",
    "event_id": "p-1",
    "province": "15",
    "procedure_code": "1.004227",
    "action": "published",
    "occurred_at": "2025-08-01T08:00:00+07:00",
    "due_at": "2025-08-05T17:00:00+07:00",
    "complete": True,
    "online": "full",
}


def feedback_event(**fields: Any) -> dict[str, Any]:
    """A valid `received` `cchc.feedback_event/1` with `fields` replaced or added."""
    return {**FEEDBACK_EVENT, **fields}


def procedure_event(**fields: Any) -> dict[str, Any]:
    """A valid `published` `cchc.procedure_event/1` with `fields` replaced or added."""
    return {**PROCEDURE_EVENT, **fields}


def report(**fields: Any) -> dict[str, Any]:
    """A valid `cchc.indicator_report/1` with `fields` replaced or added."""
    return {**REPORT, **fields}


def dossier_event(**fields: Any) -> dict[str, Any]:
    """A valid `received` `cchc.dossier_event/1` with `fields` replaced or added."""
    return {**DOSSIER_EVENT, **fields}


def examples(strategy: SearchStrategy[T], n: int) -> list[T]:
    """n examples of `strategy`, for a test that pushes them all at once to the real stack
    (generation only: no shrinking, no example database, no per-example deadline)."""
    drawn: list[T] = []

    @settings(
        max_examples=n,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: T) -> None:
        drawn.append(example)

    collect()
    return drawn
