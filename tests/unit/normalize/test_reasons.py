"""Each normalize reason code, and the rules behind it, through canonicalize()."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from cchc_normalize.steps.canonicalize import Reference, Rejected, _decimals, canonicalize
from cchc_shared.canonical import DossierRecord, Observation
from cchc_shared.dlq import Reason
from cchc_shared.hotpath import is_a

from tests.unit.normalize.builders import (
    TODAY,
    accepted,
    accepted_dossier,
    dossier_event,
    rejected,
    report,
    run,
)

# Seed 002 (Lào Cai, 2022): 929 of 1.972 procedures (47,1 %), 1.374 of 1.761 services (78,02 %).
TIME_CUT_RATE = {
    "province": "Lào Cai",
    "indicator": "procedures.time_cut_rate",
    "period": "2022",
    "unit": "%",
}


def reason_of(ref: Reference, **fields: object) -> Reason:
    return rejected(ref, report(**fields)).reason


# --- one test per reason code ------------------------------------------------------------------


def test_unknown_indicator(ref: Reference) -> None:
    result = rejected(ref, report(indicator="Số TTHC bị lãng quên"))
    assert result.reason is Reason.UNKNOWN_INDICATOR
    assert result.errors[0].loc == "indicator"


def test_bad_number(ref: Reference) -> None:
    # Not a Vietnamese number: docs/domain.md "Numbers and text as provinces write them".
    result = rejected(ref, report(value="1.5"))
    assert result.reason is Reason.BAD_NUMBER
    assert result.errors[0].loc == "value"
    assert "three digits" in result.errors[0].msg


def test_bad_unit(ref: Reference) -> None:
    result = rejected(ref, report(unit="tỷ đồng"))  # money for a count of procedures
    assert result.reason is Reason.BAD_UNIT
    assert result.errors[0].loc == "unit"


def test_bad_period(ref: Reference) -> None:
    result = rejected(ref, report(period="2016-2020"))  # a phase is written 2016/2020
    assert result.reason is Reason.BAD_PERIOD
    assert result.errors[0].loc == "period"


def test_future_period(ref: Reference) -> None:
    result = rejected(ref, report(period="2026-12"), today=date(2026, 11, 30))
    assert result.reason is Reason.FUTURE_PERIOD
    assert result.errors[0].loc == "period"


def test_out_of_range(ref: Reference) -> None:
    result = rejected(ref, report(value="-3"))
    assert result.reason is Reason.OUT_OF_RANGE
    assert result.errors[0].loc == "value"


def test_inconsistent_ratio(ref: Reference) -> None:
    result = rejected(ref, report(**TIME_CUT_RATE, value="50", numerator=1, denominator=3))
    assert result.reason is Reason.INCONSISTENT_RATIO
    assert result.errors[0].loc == "value"


def test_unknown_commune(ref: Reference) -> None:
    result = rejected(ref, dossier_event(commune_code="99999"))
    assert result.reason is Reason.UNKNOWN_COMMUNE
    assert result.errors[0].loc == "commune_code"


def test_unknown_province(ref: Reference) -> None:
    result = rejected(ref, report(province="10", period="2025-Q3"))  # old Lào Cai, retired
    assert result.reason is Reason.UNKNOWN_PROVINCE
    assert result.errors[0].loc == "province"


def test_schema_violation_when_ingest_was_bypassed(ref: Reference) -> None:
    result = rejected(ref, report(colour="red"))
    assert result.reason is Reason.SCHEMA_VIOLATION
    assert isinstance(run(ref, {"not": "an event"}), Rejected)


# --- catalogue aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("procedures.abolished", "procedures.abolished"),
        ("Số TTHC bãi bỏ", "procedures.abolished"),
        ("  số tthc   BÃI BỎ ", "procedures.abolished"),
        ("Tỉ lệ hồ sơ đúng hạn", "dossiers.on_time_rate"),
        ("PAINDEX", "index.par"),
    ],
)
def test_indicator_codes_and_aliases(ref: Reference, written: str, code: str) -> None:
    unit = "%" if code != "procedures.abolished" else None
    assert accepted(ref, report(indicator=written, value="50", unit=unit)).indicator == code


# --- numbers and units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "indicator", "expected"),
    [
        (1502, None, "procedures.published", 1502),  # JSON numbers as they are
        (1502.0, None, "procedures.published", 1502),
        ("1.502", "TTHC", "procedures.published", 1502),
        ("39849569", None, "dossiers.received", 39849569),
        ("13.989", "hồ sơ", "dossiers.resolved", 13989),
        ("1,5", "nghìn hồ sơ", "dossiers.resolved", 1500),
        ("60", "tỷ đồng", "savings.cost", 60_000_000_000),
        ("1,1", "tỷ", "savings.cost", 1_100_000_000),
        ("500", "triệu đồng", "savings.cost", 500_000_000),
        ("2", "nghìn tỷ đồng", "savings.cost", 2_000_000_000_000),
        ("10,09", "%", "staff.cut_rate", 10.09),
        (10.09, "phần trăm", "staff.cut_rate", 10.09),
        ("88,37", None, "index.par", 88.37),
        ("0,5484", "điểm", "index.dti", 0.5484),
    ],
)
def test_values_in_canonical_units(
    ref: Reference, value: object, unit: str | None, indicator: str, expected: float
) -> None:
    obs = accepted(ref, report(indicator=indicator, value=value, unit=unit))
    assert obs.value == expected


@pytest.mark.parametrize(
    "value", ["1.5", "1,502.3", "1,234,567", "0.123", "1e5", "abc", "10,09%", "1 502", " "]
)
def test_ambiguous_or_foreign_numbers_are_bad_numbers(ref: Reference, value: str) -> None:
    assert reason_of(ref, value=value, unit=None) is Reason.BAD_NUMBER


@pytest.mark.parametrize(
    ("numerator", "denominator"), [("1.5", "1.972"), ("929", "1,972.0"), ("929", "x")]
)
def test_ratio_components_are_numbers_too(ref: Reference, numerator: str, denominator: str) -> None:
    reason = reason_of(
        ref, **TIME_CUT_RATE, value="47", numerator=numerator, denominator=denominator
    )
    assert reason is Reason.BAD_NUMBER


def test_a_json_integer_too_large_for_a_float_is_a_bad_number(ref: Reference) -> None:
    # orjson (ingest) refuses it; pydantic reads it as a Python int of 400 digits.
    payload = orjson.dumps(report(unit=None)).replace(b'"1.502"', b"1" + b"0" * 400)
    result = canonicalize(payload, ref, TODAY)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.BAD_NUMBER


@pytest.mark.parametrize(
    ("unit", "indicator"),
    [
        ("%", "staff.cut"),  # a percentage for a count
        ("tỷ đồng", "dossiers.received"),
        ("nghìn", "staff.cut_rate"),  # a multiplier never scales a percentage
        ("triệu", "index.pci"),  # ... nor a score
        ("hồ sơ", "procedures.in_force"),
        ("kg", "procedures.in_force"),
        ("", "procedures.in_force"),
    ],
)
def test_units_that_cannot_express_the_indicator(ref: Reference, unit: str, indicator: str) -> None:
    assert reason_of(ref, indicator=indicator, value="10", unit=unit) is Reason.BAD_UNIT


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "text", "type_", "start", "end", "ytd"),
    [
        ("2022", "2022", "year", date(2022, 1, 1), date(2022, 12, 31), False),
        ("2022-H1", "2022-H1", "half", date(2022, 1, 1), date(2022, 6, 30), False),
        ("2022-q3", "2022-Q3", "quarter", date(2022, 7, 1), date(2022, 9, 30), False),
        ("2022-03", "2022-03", "month", date(2022, 3, 1), date(2022, 3, 31), False),
        ("2022-9M", "2022-9M", "ytd", date(2022, 1, 1), date(2022, 9, 30), True),
        ("2016/2020", "2016/2020", "phase", date(2016, 1, 1), date(2020, 12, 31), False),
    ],
)
def test_periods(
    ref: Reference, written: str, text: str, type_: str, start: date, end: date, ytd: bool
) -> None:
    obs = accepted(ref, report(period=written))
    assert (obs.period, obs.period_type, obs.period_start, obs.period_end, obs.ytd) == (
        text,
        type_,
        start,
        end,
        ytd,
    )


@pytest.mark.parametrize(
    "period", ["22", "2022-13", "2022-Q5", "2022-H3", "2020/2016", "2016-2020", "2022-1", "Q1"]
)
def test_bad_periods(ref: Reference, period: str) -> None:
    assert reason_of(ref, period=period) is Reason.BAD_PERIOD


def test_future_period_is_relative_to_the_injected_today(ref: Reference) -> None:
    event = report(province="Lào Cai", period="2026-12")
    assert rejected(ref, event, today=date(2026, 11, 30)).reason is Reason.FUTURE_PERIOD
    # A period that has started is not in the future, even though it has not ended.
    assert accepted(ref, event, today=date(2026, 12, 1)).period == "2026-12"
    assert accepted(ref, report(period="2026"), today=date(2026, 1, 1)).period == "2026"


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicator", "value", "unit"),
    [
        ("procedures.in_force", "-1", None),  # counts ≥ 0
        ("savings.cost", -5, "tỷ đồng"),  # money ≥ 0
        ("staff.cut_rate", "100,1", "%"),  # percentages 0–100
        ("staff.cut_rate", "-0,5", "%"),
        ("index.dti", "54,84", None),  # DTI is published on a 0–1 scale
        ("index.service_766", 101, None),
    ],
)
def test_values_out_of_range(
    ref: Reference, indicator: str, value: object, unit: str | None
) -> None:
    assert reason_of(ref, indicator=indicator, value=value, unit=unit) is Reason.OUT_OF_RANGE


@pytest.mark.parametrize(
    ("indicator", "value", "unit"),
    [("procedures.in_force", 0, None), ("staff.cut_rate", "0", "%"), ("staff.cut_rate", 100, "%")],
)
def test_range_bounds_are_inclusive(
    ref: Reference, indicator: str, value: object, unit: str | None
) -> None:
    accepted(ref, report(indicator=indicator, value=value, unit=unit))


# --- numerator / denominator --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "numerator", "denominator"),
    [
        ("47", "929", "1.972"),  # 47,11 %: "47" carries ±0,5
        (47, 929, 1972),
        (47.0, 929, 1972),  # a JSON float with nothing after the point is read as written "47"
        ("47,1", "929", "1.972"),  # ±0,05
        ("47,11", "929", "1.972"),  # ±0,005
        ("78,02", "1.374", "1.761"),  # 78,0238 %
        (78.02, 1374, 1761),
        ("78", "1.374", "1.761"),
        ("33,3", 1, 3),
        ("33,33", 1, 3),
        ("0", 0, 5),
        ("100", 5, 5),
        ("50", "1", "2"),
        ("47,5", 95, 200),  # exactly half a unit of the last digit either way
        ("48", 95, 200),
    ],
)
def test_value_agrees_with_components_within_written_rounding(
    ref: Reference, value: object, numerator: object, denominator: object
) -> None:
    obs = accepted(
        ref, report(**TIME_CUT_RATE, value=value, numerator=numerator, denominator=denominator)
    )
    assert obs.numerator == float(str(numerator).replace(".", ""))
    assert obs.denominator == float(str(denominator).replace(".", ""))


@pytest.mark.parametrize(
    ("value", "numerator", "denominator"),
    [
        ("50", 1, 3),  # 33,3 %
        ("47,0", "929", "1.972"),  # "47,0" claims ±0,05; the truth is 47,11
        ("47,2", "929", "1.972"),
        ("78,03", "1.374", "1.761"),
        ("78", "1.374", "1.700"),
        ("49", 95, 200),  # 47,5 %
        (47.2, 929, 1972),
        ("0,47", "929", "1.972"),  # a fraction of 1 for a rate in percent
    ],
)
def test_value_that_disagrees_with_components(
    ref: Reference, value: object, numerator: object, denominator: object
) -> None:
    result = rejected(
        ref, report(**TIME_CUT_RATE, value=value, numerator=numerator, denominator=denominator)
    )
    assert result.reason is Reason.INCONSISTENT_RATIO
    assert result.errors[0].loc == "value"


def test_a_fraction_for_a_percentage_is_named_as_such(ref: Reference) -> None:
    for value in ("0,4711", 0.47, "0,5", "0,9"):
        result = rejected(
            ref, report(**TIME_CUT_RATE, value=value, numerator=929, denominator=1972)
        )
        assert result.reason is Reason.INCONSISTENT_RATIO
        assert ("fraction of 1" in result.errors[0].msg) is (value != "0,9"), value
    # Without components a small percentage cannot be told from a fraction: it is accepted.
    assert accepted(ref, report(**TIME_CUT_RATE, value="0,47")).value == 0.47


@pytest.mark.parametrize(
    ("numerator", "denominator", "loc"),
    [
        (1972, 929, "numerator"),  # numerator > denominator: above 100 %
        (-1, 10, "numerator"),
        (0, 0, "denominator"),
        (5, -10, "denominator"),
    ],
)
def test_impossible_components_are_out_of_range(
    ref: Reference, numerator: int, denominator: int, loc: str
) -> None:
    result = rejected(
        ref, report(**TIME_CUT_RATE, value="50", numerator=numerator, denominator=denominator)
    )
    assert result.reason is Reason.OUT_OF_RANGE
    assert result.errors[0].loc == loc


def test_components_only_for_percentages(ref: Reference) -> None:
    result = rejected(
        ref,
        report(
            indicator="online_services.integrated",
            value="1.374",
            unit=None,
            numerator="1.374",
            denominator="1.761",
        ),
    )
    assert result.reason is Reason.INCONSISTENT_RATIO
    assert "only for rates in percent" in result.errors[0].msg
    # A mean index in percent (SIPAS: satisfied / surveyed) may carry them.
    obs = accepted(
        ref, report(indicator="index.sipas", value="90", unit="%", numerator=90, denominator=100)
    )
    assert (obs.numerator, obs.denominator) == (90, 100)


def test_numerator_without_denominator(ref: Reference) -> None:
    result = rejected(ref, report(**TIME_CUT_RATE, value="47", numerator="929"))
    assert result.reason is Reason.SCHEMA_VIOLATION


@pytest.mark.parametrize(
    ("written", "decimals"),
    [
        (47, 0),
        ("47", 0),
        ("1.972", 0),
        ("78,02", 2),
        (" 47,0 ", 1),
        ("-3,5", 1),
        (78.02, 2),
        (47.0, 0),
        (1e-05, 5),
        (1e20, 0),
        (470.0, 0),
        (0.1, 1),
    ],
)
def test_decimals_written(written: int | float | str, decimals: int) -> None:
    assert _decimals(written) == decimals


# --- ranks --------------------------------------------------------------------------------------


def _ranked(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "province": "Lai Châu",
        "indicator": "index.dti",
        "period": "2020",
        "value": "0,3",
        "unit": None,
    }
    return report(**{**base, **fields})


def test_rank_on_an_index(ref: Reference) -> None:
    obs = accepted(ref, _ranked(rank=50, rank_of=63))
    assert (obs.rank, obs.rank_of) == (50, 63)
    obs = accepted(ref, _ranked(rank=1, rank_of=1))
    assert (obs.rank, obs.rank_of) == (1, 1)


def test_rank_only_on_indices(ref: Reference) -> None:
    result = rejected(ref, report(rank=1, rank_of=63))
    assert result.reason is Reason.OUT_OF_RANGE
    assert result.errors[0].loc == "rank"


@pytest.mark.parametrize(
    ("period", "rank", "rank_of"),
    [
        ("2020", 50, 64),  # 63 provinces before the merger
        ("2025", 10, 63),  # 34 after
        ("2025-Q3", 35, 35),
    ],
)
def test_rank_of_at_most_the_provinces_of_the_time(
    ref: Reference, period: str, rank: int, rank_of: int
) -> None:
    result = rejected(ref, _ranked(period=period, rank=rank, rank_of=rank_of))
    assert result.reason is Reason.OUT_OF_RANGE
    assert result.errors[0].loc == "rank"


@pytest.mark.parametrize(("rank", "rank_of"), [(64, 63), (0, 63), (5, None), (None, 63)])
def test_impossible_ranks_are_rejected(
    ref: Reference, rank: int | None, rank_of: int | None
) -> None:
    # The raw-event model rejects these first (ingest: schema_violation); never accepted.
    result = rejected(ref, _ranked(rank=rank, rank_of=rank_of))
    assert result.reason in (Reason.SCHEMA_VIOLATION, Reason.OUT_OF_RANGE)


# --- dossier events ------------------------------------------------------------------------------


def test_dossier_events_keep_channel_due_date_and_commune(ref: Reference) -> None:
    record = accepted_dossier(
        ref, dossier_event(province="Lào Cai", channel="postal", commune_code="02647")
    )
    assert is_a(record, DossierRecord)
    assert (record.province, record.unit_key, record.channel) == ("15", "2025:15", "postal")
    assert record.commune_code == "02647"
    assert record.due_at is not None
    assert record.due_at.isoformat() == "2025-08-11T17:00:00+07:00"


def test_later_events_of_a_dossier_join_its_received_event(ref: Reference) -> None:
    """Out of order: `resolved` carries no due date; both share (province, dossier_id)."""
    received = dossier_event(
        province="10", occurred_at="2025-06-20T08:00:00+07:00", due_at="2025-07-04T17:00:00+07:00"
    )
    resolved = dossier_event(
        event_id="d-2",
        province="Lào Cai",
        status="resolved",
        occurred_at="2025-07-03T10:00:00+07:00",
        due_at=None,
        channel=None,
    )
    first, second = accepted_dossier(ref, resolved), accepted_dossier(ref, received)
    # Received by the old Lào Cai (10) before the merger, resolved by the new one (15) after.
    assert (second.unit_key, first.unit_key) == ("2004:10", "2025:15")
    assert (first.province, first.dossier_id) == (second.province, second.dossier_id)
    assert first.due_at is None
    assert second.due_at is not None
    assert first.occurred_at <= second.due_at  # on time


def test_commune_of_another_province_is_unknown_there(ref: Reference) -> None:
    # 00004 is Phường Ba Đình, Hà Nội (01); the event is Lào Cai's (15).
    result = rejected(ref, dossier_event(commune_code="00004"))
    assert result.reason is Reason.UNKNOWN_COMMUNE
    assert "belongs to province 01" in result.errors[0].msg
    assert accepted_dossier(ref, dossier_event(province="01", commune_code="00004"))


def test_pre_merger_dossier_with_a_commune_of_its_successor(ref: Reference) -> None:
    record = accepted_dossier(
        ref,
        dossier_event(
            province="Yên Bái",
            occurred_at="2025-03-03T09:00:00+07:00",
            due_at="2025-03-10T17:00:00+07:00",
            commune_code="02647",
        ),
    )
    assert (record.unit_key, record.province) == ("2004:15", "15")


def test_due_date_before_receipt_is_out_of_range(ref: Reference) -> None:
    result = rejected(ref, dossier_event(due_at="2025-08-01T17:00:00+07:00"))
    assert result.reason is Reason.OUT_OF_RANGE
    assert result.errors[0].loc == "due_at"


def test_today_does_not_matter_for_dossiers(ref: Reference) -> None:
    assert is_a(run(ref, dossier_event(), today=date(2000, 1, 1)), DossierRecord)
    assert is_a(run(ref, report(), today=TODAY), Observation)
