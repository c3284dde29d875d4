"""Properties of canonicalize(), checked with hypothesis.

* it never raises: any payload — arbitrary bytes, any JSON, events with plausible and implausible
  field values — gives a canonical record or a Rejected;
* a figure written the Vietnamese way (format_vn) reads back as itself through normalize;
* a rate rounded to any number of decimals agrees with its own numerator/denominator, and one
  that is off by two units of its last digit does not.

(tests/unit/shared/test_numbers.py already checks parse_number/format_vn round trips and that no
string crashes the parser.)
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from cchc_normalize.steps.canonicalize import Reference, Rejected, canonicalize
from cchc_shared.canonical import CANONICAL_RECORD, DossierRecord, Observation
from cchc_shared.catalogue import default_catalogue
from cchc_shared.dlq import Reason
from cchc_shared.hotpath import encoder, fields, is_a
from cchc_shared.numbers import format_vn
from cchc_shared.provinces import Era, default_registry
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.normalize.builders import TODAY, report

# Session fixtures and @given do not mix well (function-scoped fixture health check); the
# reference data is immutable, so one module-level instance serves every example.
REF = Reference.load()
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _names() -> list[str]:
    registry = default_registry()
    units = registry.units(Era.PRE_2025) + registry.units(Era.POST_2025)
    return [u.name for u in units] + [u.code for u in units]


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
VN_NUMBERS = st.integers(min_value=-(10**15), max_value=10**15).map(format_vn) | st.floats(
    allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6
).map(format_vn)
PERIODS = st.sampled_from(
    ["2016/2020", "2017-Q1", "2022", "2025-H1", "2025-07", "2026-9M", "2099", "2022-13", "x"]
) | st.text(max_size=12)
PROVINCES = (
    st.sampled_from(_names()) | st.integers(min_value=-5, max_value=120) | st.text(max_size=12)
)
INDICATORS = st.sampled_from([*default_catalogue().codes(), "Số TTHC bãi bỏ", "PAINDEX"]) | st.text(
    max_size=12
)
UNITS = (
    st.sampled_from(["%", "tỷ đồng", "nghìn", "hồ sơ", "TTHC", "biên chế", "điểm", "kg"])
    | st.none()
)
NUMBERS = (
    VN_NUMBERS
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats()
    | st.text(max_size=10)
)
TIMESTAMPS = st.sampled_from(
    [
        "2017-03-28T09:00:00+07:00",
        "2025-06-30T20:00:00+00:00",
        "2025-08-04T08:15:00+07:00",
        "2025-08-04T08:15:00",  # no offset: a schema violation
        "yesterday",
    ]
)

REPORTS = st.fixed_dictionaries(
    {
        "schema": st.just("cchc.indicator_report/1"),
        "event_id": st.from_regex(r"[A-Za-z0-9._:-]{1,10}", fullmatch=True),
        "province": PROVINCES,
        "indicator": INDICATORS,
        "period": PERIODS,
        "value": NUMBERS,
        "reported_at": TIMESTAMPS,
    },
    optional={
        "unit": UNITS,
        "numerator": NUMBERS,
        "denominator": NUMBERS,
        "level": st.sampled_from(["all", "province", "district", "commune", "nation"]),
        "status": st.sampled_from(["final", "provisional", "estimated", "guessed"]),
        "revision": st.integers(min_value=-1, max_value=10**7),
        "rank": st.integers(min_value=-1, max_value=100),
        "rank_of": st.integers(min_value=-1, max_value=100),
        "agency": st.text(max_size=5),
        "source": st.fixed_dictionaries({}, optional={"title": JSON, "url": JSON}),
        "extra": JSON,
    },
)
DOSSIERS = st.fixed_dictionaries(
    {
        "schema": st.just("cchc.dossier_event/1"),
        "event_id": st.from_regex(r"[A-Za-z0-9._:-]{1,10}", fullmatch=True),
        "province": PROVINCES,
        "dossier_id": st.text(min_size=1, max_size=8),
        "procedure_code": st.sampled_from(["1.004227", "2.002156"]),
        "status": st.sampled_from(["received", "resolved", "rejected", "withdrawn", "lost"]),
        "occurred_at": TIMESTAMPS,
    },
    optional={
        "due_at": TIMESTAMPS,
        "channel": st.sampled_from(["online", "in_person", "postal", "pigeon"]),
        "commune_code": st.sampled_from(["02647", "00004", "99999", "1234"]) | st.text(max_size=6),
        "paid_online": JSON_SCALARS,
    },
)


def _dumps(data: Any) -> bytes:
    # The standard library's encoder, unlike orjson, writes integers beyond 64 bits and NaN:
    # normalize must survive those as well.
    return json.dumps(data, ensure_ascii=False).encode()


def _check(payload: bytes, today: date = TODAY) -> Observation | DossierRecord | Rejected:
    result = canonicalize(payload, REF, today)
    assert isinstance(result, Rejected) or is_a(result, Observation) or is_a(result, DossierRecord)
    if isinstance(result, Rejected):
        assert isinstance(result.reason, Reason)
        assert result.errors
    else:
        # Records are built without re-validation: what goes on the wire must still be valid,
        # and read back as the same record.
        assert fields(CANONICAL_RECORD.validate_json(encoder()(result))) == fields(result)
    return result


@FAST
@given(st.binary(max_size=200))
@example(b"")
@example(b"\xff\xfe")
@example(b"[]")
@example(b"null")
def test_never_raises_on_arbitrary_bytes(payload: bytes) -> None:
    _check(payload)


@FAST
@given(JSON)
def test_never_raises_on_arbitrary_json(data: Any) -> None:
    _check(_dumps(data))


@FAST
@given(REPORTS | DOSSIERS, st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_never_raises_on_event_like_objects(event: dict[str, Any], today: date) -> None:
    _check(_dumps(event), today)


@FAST
@given(REPORTS)
def test_accepted_reports_are_in_range_and_consistent(event: dict[str, Any]) -> None:
    result = _check(_dumps(event))
    if is_a(result, Observation):
        indicator = default_catalogue().get(result.indicator)
        assert indicator is not None
        assert indicator.in_range(result.value)
        assert result.unit == indicator.unit
        assert result.period_start <= result.period_end
        assert result.period_start <= TODAY
        assert result.province in {u.code for u in default_registry().units(Era.POST_2025)}


@FAST
@given(st.integers(min_value=0, max_value=10**15))
def test_vietnamese_counts_read_back_through_normalize(n: int) -> None:
    result = _check(_dumps(report(indicator="dossiers.received", value=format_vn(n), unit=None)))
    assert is_a(result, Observation)
    assert result.value == n


@FAST
@given(st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False))
def test_vietnamese_percentages_read_back_through_normalize(d: Decimal) -> None:
    x = float(d)
    result = _check(_dumps(report(indicator="staff.cut_rate", value=format_vn(x), unit="%")))
    assert is_a(result, Observation)
    assert result.value == x


RATE = {
    "province": "Lào Cai",
    "indicator": "procedures.time_cut_rate",
    "period": "2022",
    "unit": "%",
}


@FAST
@given(
    st.integers(min_value=1, max_value=10**9).flatmap(
        lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den))
    ),
    st.integers(min_value=0, max_value=6),
)
@example((929, 1972), 0)
@example((1374, 1761), 2)
@example((1, 8), 1)  # 12,5 % to 0 decimals: exactly half a unit
def test_correctly_rounded_rates_agree_with_their_components(
    parts: tuple[int, int], decimals: int
) -> None:
    num, den = parts
    exact = Decimal(num) * 100 / Decimal(den)
    written = format_vn(float(round(exact, decimals)), decimals)
    event = report(**RATE, value=written, numerator=format_vn(num), denominator=format_vn(den))
    result = _check(_dumps(event))
    assert is_a(result, Observation), (written, num, den, result)


@FAST
@given(
    st.integers(min_value=1, max_value=10**9).flatmap(
        lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den))
    ),
    st.integers(min_value=0, max_value=6),
    st.sampled_from([-2, 2]),
)
@example((1, 3), 0, 2)
def test_rates_off_by_two_units_of_the_last_digit_disagree(
    parts: tuple[int, int], decimals: int, off: int
) -> None:
    num, den = parts
    exact = Decimal(num) * 100 / Decimal(den)
    wrong = round(exact, decimals) + Decimal(off).scaleb(-decimals)
    if not 0 <= wrong <= 100:
        return
    event = report(
        **RATE,
        value=format_vn(float(wrong), decimals),
        numerator=format_vn(num),
        denominator=format_vn(den),
    )
    result = _check(_dumps(event))
    assert isinstance(result, Rejected)
    assert result.reason is Reason.INCONSISTENT_RATIO
