"""The validate step: each reason code, in the contract's order, on realistic payloads."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cchc_ingest.steps.validate import MAX_MESSAGE_BYTES, Accepted, Rejected, validate
from cchc_shared.dlq import Reason
from cchc_shared.provinces import default_registry

from tests import events

REGISTRY = default_registry()


def report(**fields: Any) -> dict[str, Any]:
    return events.report(**{"event_id": "son-la:2017-q1:published", **fields})


def dossier(**fields: Any) -> dict[str, Any]:
    """A dossier received by Hà Nội (01)."""
    return events.dossier_event(**{"province": "01", **fields})


def feedback(**fields: Any) -> dict[str, Any]:
    """A feedback received by Hà Nội (01)."""
    return events.feedback_event(**{"province": "01", **fields})


def procedure(**fields: Any) -> dict[str, Any]:
    """A procedure published by Hà Nội (01)."""
    return events.procedure_event(**{"province": "01", **fields})


def check(payload: bytes | dict[str, Any], topic: str | None = "14") -> Accepted | Rejected:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return validate(raw, topic, REGISTRY)


def reason(payload: bytes | dict[str, Any], topic: str | None = "14") -> Reason | None:
    result = check(payload, topic)
    return result.reason if isinstance(result, Rejected) else None


def test_valid_report_is_accepted_with_its_current_province() -> None:
    result = check(report())
    assert isinstance(result, Accepted)
    assert result.province == "14"
    assert result.event.event_id == "son-la:2017-q1:published"


def test_valid_dossier_event_is_accepted() -> None:
    assert isinstance(check(dossier(), "01"), Accepted)


def test_valid_new_kinds_and_fields_are_accepted() -> None:
    flags = {"fee_required": True, "synced_national": False, "reused_data": True}
    assert isinstance(check(dossier(**flags), "01"), Accepted)
    assert isinstance(check(dossier(status="rated", satisfied=False), "01"), Accepted)
    assert isinstance(check(feedback(), "01"), Accepted)
    resolved = {k: v for k, v in feedback(status="resolved").items() if k != "due_at"}
    assert isinstance(check(resolved | {"satisfied": True}, "01"), Accepted)
    assert isinstance(check(procedure(), "01"), Accepted)
    announced = {
        k: v for k, v in procedure(action="announced").items() if k not in ("complete", "online")
    }
    assert isinstance(check(announced, "01"), Accepted)


def test_new_kinds_are_checked_against_their_province() -> None:
    # Yên Bái (old 15) before the merger may write to raw.15, not to raw.01.
    old = {"province": "Yên Bái", "occurred_at": "2025-03-03T08:00:00+07:00"}
    assert isinstance(check(feedback(**old, due_at="2025-03-13T08:00:00+07:00"), "15"), Accepted)
    assert reason(feedback(**old, due_at="2025-03-13T08:00:00+07:00"), "01") is (
        Reason.PROVINCE_MISMATCH
    )
    assert isinstance(check(procedure(**old), "15"), Accepted)
    assert reason(procedure(**old), "01") is Reason.PROVINCE_MISMATCH
    assert reason(procedure(province="Atlantis"), "01") is Reason.UNKNOWN_PROVINCE


def test_oversized_is_checked_before_parsing() -> None:
    big = b"{" + b" " * MAX_MESSAGE_BYTES + b"}"
    result = check(big)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.OVERSIZED
    assert str(MAX_MESSAGE_BYTES + 2) in result.errors[0].msg


def test_exactly_64_kib_is_not_oversized() -> None:
    event = orjson.dumps(report(agency=None))
    padded = event[:-1] + b" " * (MAX_MESSAGE_BYTES - len(event)) + b"}"
    assert len(padded) == MAX_MESSAGE_BYTES
    assert isinstance(check(padded), Accepted)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"{not json", id="syntax"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"schema": "cchc.indicator_report/1", "value": NaN}', id="nan"),
        pytest.param(b'{"schema": "cchc.indicator_report/1", "value": Infinity}', id="infinity"),
        pytest.param(b'{"schema": "cchc.indicator_report/1", "value": -Infinity}', id="-infinity"),
        pytest.param(b'{"schema": "cchc.indicator_report/1", "value": 1e400}', id="overflow"),
        pytest.param(b'{"province": "S\xf5n La"}', id="invalid-utf8"),
        pytest.param(b'{"province": "\xed\xa0\x80"}', id="utf8-encoded-surrogate"),
        pytest.param(b'{"province": "\\ud800"}', id="lone-surrogate-escape"),
        pytest.param(b'{"province": "\\udc00\\ud800"}', id="reversed-surrogate-pair"),
        pytest.param(b"\xef\xbb\xbf{}", id="bom"),
        pytest.param(b'{"a": 1} {"b": 2}', id="two-documents"),
        # Deep nesting with a repeated key needs the slow duplicate check, whose recursion
        # would overflow: it must still be a clean rejection.
        pytest.param(
            b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b', "a": 1}', id="deep-nesting-duplicate"
        ),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deeper-nesting"),
        # Fewer key ends than top-level items: the count shortcut must not skip the check.
        pytest.param(b'[1, 2, 3, 4, {"a": 1, "a": 2}]', id="duplicate-in-array"),
        pytest.param(b'{"a": {"b": 1, "b": 2}}', id="duplicate-in-nested-object"),
    ],
)
def test_malformed_json(payload: bytes) -> None:
    assert reason(payload) is Reason.MALFORMED_JSON


def test_duplicate_keys_are_malformed_since_parsers_disagree_on_the_winner() -> None:
    event = orjson.dumps(report()).decode()
    doubled = event.replace('"value":"1.502"', '"value":"1.502","value":"15.02"')
    result = check(doubled.encode())
    assert isinstance(result, Rejected)
    assert result.reason is Reason.MALFORMED_JSON
    assert "duplicate key 'value'" in result.errors[0].msg


def test_duplicate_keys_in_a_nested_object_too() -> None:
    event = orjson.dumps(report(source={"title": "x"})).decode()
    doubled = event.replace('"title":"x"', '"title":"x","title":"y"')
    assert reason(doubled.encode()) is Reason.MALFORMED_JSON


def test_escaped_surrogate_pair_is_fine() -> None:
    result = check(
        orjson.dumps(report(agency="Sở Nội vụ 😀")).replace("😀".encode(), b"\\ud83d\\ude00")
    )
    assert isinstance(result, Accepted)
    assert result.event.agency == "Sở Nội vụ 😀"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"[]", id="array"),
        pytest.param(b'"cchc.indicator_report/1"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"{}", id="no-schema"),
        pytest.param(orjson.dumps(report(schema="cchc.indicator_report/2")), id="version-2"),
        pytest.param(orjson.dumps(report(schema=["cchc.indicator_report/1"])), id="list"),
        pytest.param(orjson.dumps(report(schema={"name": "x"})), id="object"),
        pytest.param(orjson.dumps(report(schema=None)), id="null-schema"),
        pytest.param(orjson.dumps(report(schema=1)), id="number-schema"),
    ],
)
def test_unknown_schema(payload: bytes) -> None:
    assert reason(payload) is Reason.UNKNOWN_SCHEMA


def test_unknown_schema_message_is_bounded() -> None:
    result = check(report(schema="x" * 10_000))
    assert isinstance(result, Rejected)
    assert len(result.errors[0].msg) < 300


@pytest.mark.parametrize(
    ("event", "loc"),
    [
        pytest.param(report(valeu="1.502"), "valeu", id="typo-extra-field"),
        pytest.param(report(event_id="id with spaces"), "event_id", id="event-id-charset"),
        pytest.param(report(event_id=""), "event_id", id="event-id-empty"),
        pytest.param(report(event_id="x" * 129), "event_id", id="event-id-long"),
        pytest.param(report(reported_at="2017-03-28T09:00:00"), "reported_at", id="naive-time"),
        pytest.param(report(revision="1"), "revision", id="string-not-int"),
        pytest.param(report(value=True), "value", id="bool-not-number"),
        pytest.param(report(province=14.0), "province", id="float-province"),
        pytest.param(report(level="ward"), "level", id="bad-level"),
        pytest.param(report(rank=3), "$", id="rank-without-rank-of"),
        pytest.param(report(source={"title": "x", "page": 3}), "source.page", id="nested-extra"),
        pytest.param(dossier(due_at=None), "$", id="received-without-due-at"),
        pytest.param(dossier(channel=None), "$", id="received-without-channel"),
        pytest.param(dossier(commune_code="123"), "commune_code", id="commune-code-digits"),
        pytest.param(dossier(status="rated"), "$", id="rated-without-satisfied"),
        pytest.param(dossier(satisfied=False), "$", id="satisfied-on-a-receipt"),
        pytest.param(dossier(synced_national=1), "synced_national", id="flag-not-bool"),
        pytest.param(dossier(reused_data="true"), "reused_data", id="flag-string"),
        pytest.param(feedback(due_at=None), "$", id="feedback-received-without-due-at"),
        pytest.param(feedback(satisfied=True), "$", id="feedback-satisfied-on-receipt"),
        pytest.param(feedback(status="answered"), "status", id="feedback-status"),
        pytest.param(feedback(feedback_id=""), "feedback_id", id="feedback-id-empty"),
        pytest.param(feedback(dossier_id="x"), "dossier_id", id="feedback-extra-field"),
        pytest.param(procedure(online=None), "$", id="published-without-online"),
        pytest.param(procedure(complete=None), "$", id="published-without-complete"),
        pytest.param(procedure(action="announced"), "$", id="announced-with-online"),
        pytest.param(procedure(online="level4"), "online", id="online-value"),
        pytest.param(procedure(due_at=None), "due_at", id="procedure-without-due-at"),
        pytest.param(procedure(occurred_at="2025-08-01T08:00:00"), "occurred_at", id="naive"),
    ],
)
def test_schema_violation_names_the_field(event: dict[str, Any], loc: str) -> None:
    event = {k: v for k, v in event.items() if v is not None or k == "agency"}
    result = check(event, "14" if event["schema"] == "cchc.indicator_report/1" else "01")
    assert isinstance(result, Rejected)
    assert result.reason is Reason.SCHEMA_VIOLATION
    assert loc in [e.loc for e in result.errors], result.errors


def test_schema_violation_lists_every_field_error() -> None:
    result = check(report(event_id="a b", value=True, extra=1))
    assert isinstance(result, Rejected)
    assert {e.loc for e in result.errors} == {"event_id", "value", "extra"}


def test_province_of_a_predecessor_may_write_to_its_successor_topic() -> None:
    # Yên Bái (old 15) merged into Lào Cai (new 15); Lào Cai (old 10) too.
    assert isinstance(check(report(province="Yên Bái", period="2024"), "15"), Accepted)
    assert isinstance(check(report(province="Lào Cai", period="2024"), "15"), Accepted)
    assert isinstance(check(report(province=10, period="2024"), "15"), Accepted)


def test_yen_bai_before_the_merger_on_bac_ninh_topic_is_a_mismatch() -> None:
    result = check(report(province="Yên Bái", period="2024-Q4"), "24")
    assert isinstance(result, Rejected)
    assert result.reason is Reason.PROVINCE_MISMATCH
    assert "15 Yên Bái (until 2025-06-30)" in result.errors[0].msg


def test_codes_are_read_against_the_date_of_the_data() -> None:
    # "24" is Bắc Giang until 2025-06-30 (→ Bắc Ninh, 24) and Bắc Ninh after: both on raw.24.
    assert isinstance(check(report(province="24", period="2024"), "24"), Accepted)
    # "27" was Bắc Ninh until the merger, and is retired afterwards.
    assert isinstance(check(report(province="27", period="2024"), "24"), Accepted)
    assert reason(report(province="27", period="2025-Q4"), "24") is Reason.UNKNOWN_PROVINCE


def test_occurred_at_is_read_in_vietnam_time() -> None:
    # 20:30 UTC on 30 June is 03:30 on 1 July in Vietnam: the new list, where 10 is retired.
    after = dossier(province=10, occurred_at="2025-06-30T20:30:00+00:00")
    assert reason(after, "15") is Reason.UNKNOWN_PROVINCE
    before = dossier(province=10, occurred_at="2025-06-30T16:30:00+00:00")
    assert isinstance(check(before, "15"), Accepted)


def test_unknown_province() -> None:
    result = check(report(province="Atlantis"))
    assert isinstance(result, Rejected)
    assert result.reason is Reason.UNKNOWN_PROVINCE
    assert result.errors[0].loc == "province"


def test_not_a_raw_topic_is_a_mismatch() -> None:
    assert reason(report(), None) is Reason.PROVINCE_MISMATCH


def test_unreadable_period_still_checks_the_province_against_both_eras() -> None:
    assert isinstance(check(report(period="Q1/2017")), Accepted)  # normalize says bad_period
    assert reason(report(period="Q1/2017", province="Hà Nội")) is Reason.PROVINCE_MISMATCH


def test_deep_but_valid_json_is_rejected_cleanly_as_not_an_object() -> None:
    result = validate(b"[" * 1000 + b"]" * 1000, "14", REGISTRY)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.UNKNOWN_SCHEMA
