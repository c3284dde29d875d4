"""cchc_shared.validation: rejections, pydantic errors as field errors, an event's date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest
from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.events import RAW_EVENT, DossierEvent, IndicatorReport
from cchc_shared.provinces import MERGER_DATE, Era, default_registry
from cchc_shared.validation import (
    LAST_DAY_BEFORE_MERGER,
    Rejected,
    event_date,
    province_candidates,
    pydantic_errors,
)
from pydantic import ValidationError

from tests import events

REGISTRY = default_registry()


def _errors(event: dict[str, object]) -> list[ErrorDetail]:
    with pytest.raises(ValidationError) as info:
        RAW_EVENT.validate_json(orjson.dumps(event))
    return pydantic_errors(info.value)


def test_rejected_one() -> None:
    assert Rejected.one(Reason.BAD_UNIT, "unit", "no such unit") == Rejected(
        Reason.BAD_UNIT, [ErrorDetail(loc="unit", msg="no such unit")]
    )


def test_last_day_before_merger() -> None:
    assert date(2025, 6, 30) == LAST_DAY_BEFORE_MERGER
    assert LAST_DAY_BEFORE_MERGER + timedelta(days=1) == MERGER_DATE


# --- pydantic_errors ---------------------------------------------------------------------------


def test_the_schema_tag_is_not_part_of_a_location() -> None:
    errors = _errors(events.dossier_event(event_id="has space"))
    assert [e.loc for e in errors] == ["event_id"]


def test_union_members_fold_into_one_error_per_field() -> None:
    # `value` is a number or a string: pydantic reports value.int, value.float, value.str…
    errors = _errors(events.report(value=[1]))
    assert [e.loc for e in errors] == ["value"]
    assert "; or " in errors[0].msg


def test_nested_fields_keep_their_path() -> None:
    errors = _errors(events.report(source={"title": "x", "url": 5}))
    assert [e.loc for e in errors] == ["source.url"]


def test_one_error_per_field() -> None:
    errors = _errors(events.report(event_id="a b", valeu=1, reported_at="2017-03-28T09:00:00"))
    assert {e.loc for e in errors} == {"event_id", "valeu", "reported_at"}
    assert len(errors) == 3


def test_a_whole_message_error_is_dollar() -> None:
    with pytest.raises(ValidationError) as info:
        RAW_EVENT.validate_json(b"[1]")
    assert [e.loc for e in pydantic_errors(info.value)] == ["$"]


# --- event_date --------------------------------------------------------------------------------


def test_event_date_of_models() -> None:
    report = RAW_EVENT.validate_json(orjson.dumps(events.report(period="2025-H1")))
    assert isinstance(report, IndicatorReport)
    assert event_date(report) == date(2025, 6, 30)
    dossier = RAW_EVENT.validate_json(orjson.dumps(events.dossier_event()))
    assert isinstance(dossier, DossierEvent)
    # The instant, with its offset: the registry reads it in Vietnam time.
    assert event_date(dossier) == datetime(2025, 8, 4, 8, 15, tzinfo=timezone(timedelta(hours=7)))


def test_event_date_of_an_unreadable_period_is_none() -> None:
    report = RAW_EVENT.validate_json(orjson.dumps(events.report(period="2016-2020")))
    assert isinstance(report, IndicatorReport)
    assert event_date(report) is None


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"period": "2022"}, date(2022, 12, 31)),
        ({"period": "2016/2020"}, date(2020, 12, 31)),
        ({"period": "2099-Q1"}, date(2099, 3, 31)),  # the future is normalize's call
        ({"period": "sometime"}, None),
        # A period string decides, even when unreadable; occurred_at is not consulted.
        ({"period": "sometime", "occurred_at": "2025-08-04T08:15:00+07:00"}, None),
        ({"occurred_at": "2025-06-30T20:00:00+00:00"}, datetime(2025, 6, 30, 20, tzinfo=UTC)),
        ({"occurred_at": "yesterday"}, None),
        ({"occurred_at": 5}, None),
        ({}, None),
    ],
)
def test_event_date_of_a_mapping(event: dict[str, object], expected: date | None) -> None:
    assert event_date(event) == expected


# --- province_candidates -----------------------------------------------------------------------


def test_a_dated_reference_is_read_in_its_era() -> None:
    (before,) = province_candidates(REGISTRY, "15", LAST_DAY_BEFORE_MERGER)
    (after,) = province_candidates(REGISTRY, "15", MERGER_DATE)
    assert (before.name, before.era) == ("Yên Bái", Era.PRE_2025)
    assert (after.name, after.era) == ("Lào Cai", Era.POST_2025)
    assert province_candidates(REGISTRY, "10", MERGER_DATE) == []  # retired code
    assert province_candidates(REGISTRY, "Atlantis", MERGER_DATE) == []


def test_a_datetime_is_read_in_vietnam_time() -> None:
    (unit,) = province_candidates(REGISTRY, "15", datetime(2025, 6, 30, 17, tzinfo=UTC))
    assert unit.era is Era.POST_2025  # 00:00 on 1 July in Vietnam


def test_an_undated_reference_is_read_in_both_eras_old_first() -> None:
    units = province_candidates(REGISTRY, "15", None)
    assert [(u.era, u.name) for u in units] == [
        (Era.PRE_2025, "Yên Bái"),
        (Era.POST_2025, "Lào Cai"),
    ]
    assert [u.name for u in province_candidates(REGISTRY, "10", None)] == ["Lào Cai"]


def test_undated_candidates_always_share_their_2025_province() -> None:
    # `cchc push` routes an undated event by the first candidate: it must not matter which.
    refs: set[str | int] = set()
    for era in Era:
        for unit in REGISTRY.units(era):
            refs |= {unit.code, int(unit.code), unit.name}
    for ref in sorted(refs, key=str):
        successors = {REGISTRY.successor(u).code for u in province_candidates(REGISTRY, ref, None)}
        assert len(successors) == 1, (ref, successors)
