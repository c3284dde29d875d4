"""Normalize on the Bộ chỉ số 766 inputs: the dossier's later fields, feedback and procedure
events — provinces across the 2025 merger, times, reasons (docs/contract.md "Raw events")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cchc_normalize.steps.canonicalize import Reference
from cchc_shared.canonical import FeedbackRecord, ProcedureRecord
from cchc_shared.dlq import Reason
from cchc_shared.hotpath import is_a

from tests import events
from tests.unit.normalize.builders import accepted_dossier, dossier_event, rejected, run


def feedback(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in events.feedback_event(**fields).items() if v is not None}


def procedure(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in events.procedure_event(**fields).items() if v is not None}


def test_dossier_flags_and_rating_are_kept(ref: Reference) -> None:
    flags = {"fee_required": True, "synced_national": False, "reused_data": True}
    record = accepted_dossier(ref, dossier_event(**flags))
    assert (record.fee_required, record.synced_national, record.reused_data) == (True, False, True)
    rated = accepted_dossier(ref, dossier_event(status="rated", satisfied=False))
    assert (rated.status, rated.satisfied) == ("rated", False)
    # An old-style event: the new fields are absent, not false.
    old = accepted_dossier(ref, dossier_event())
    assert (old.fee_required, old.synced_national, old.reused_data, old.satisfied) == (None,) * 4


def test_feedback_province_is_read_against_its_time(ref: Reference) -> None:
    # Yên Bái (old 15) in March 2025 counts in today's Lào Cai (15) as unit 2004:15.
    before = run(
        ref,
        feedback(
            province="Yên Bái",
            occurred_at="2025-03-03T08:00:00+07:00",
            due_at="2025-03-13T08:00:00+07:00",
        ),
    )
    assert is_a(before, FeedbackRecord)
    assert (before.unit_key, before.province) == ("2004:15", "15")
    assert before.occurred_at == datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    after = run(ref, feedback(status="resolved", due_at=None, satisfied=True))
    assert is_a(after, FeedbackRecord)
    assert (after.unit_key, after.satisfied, after.due_at) == ("2025:15", True, None)


def test_feedback_due_before_its_receipt_is_out_of_range(ref: Reference) -> None:
    result = rejected(ref, feedback(due_at="2025-08-01T08:00:00+07:00"))
    assert (result.reason, result.errors[0].loc) == (Reason.OUT_OF_RANGE, "due_at")


def test_feedback_of_a_retired_code_after_the_merger(ref: Reference) -> None:
    result = rejected(ref, feedback(province="10"))
    assert result.reason is Reason.UNKNOWN_PROVINCE


def test_procedure_events(ref: Reference) -> None:
    # Published after its deadline: not an error, a late publication (criterion t2).
    late = run(ref, procedure(occurred_at="2025-08-09T08:00:00+07:00"))
    assert is_a(late, ProcedureRecord)
    assert (late.province, late.unit_key, late.online, late.complete) == (
        "15",
        "2025:15",
        "full",
        True,
    )
    old = run(
        ref,
        procedure(
            province=10,
            occurred_at="2025-06-30T16:30:00+00:00",  # 23:30 on 30 June in Vietnam: old list
            due_at="2025-07-01T10:00:00+00:00",
        ),
    )
    assert is_a(old, ProcedureRecord)
    assert (old.unit_key, old.province) == ("2004:10", "15")
    assert rejected(ref, procedure(province="Atlantis")).reason is Reason.UNKNOWN_PROVINCE
