"""Raw event → canonical record (docs/domain.md, docs/contract.md). Pure: no I/O, no clock.

Reference data (provinces, catalogue, units) is loaded and validated once at start
(:meth:`Reference.load`) and passed in; ``today`` is passed in too, so that the same event always
gives the same answer in tests.

What an indicator report goes through, in this order (the first failure is the reason):

1. indicator: a catalogue code or a Vietnamese alias → ``unknown_indicator``;
2. period: the grammar of docs/contract.md "Raw events" → ``bad_period``; a period that starts
   after ``today`` → ``future_period``;
3. province: a code or a name read against the *period's end* (codes are reused across the
   2025 merger, docs/domain.md "Provinces and the 2025 merger") → ``unknown_province``;
4. value: JSON numbers as they are, strings in Vietnamese format → ``bad_number``; the unit
   (alias, multiplier) converted to the indicator's canonical unit → ``bad_unit``;
5. ranks only on ``index.*`` indicators with 1 ≤ rank ≤ rank_of ≤ the number of provinces of
   the time → ``out_of_range`` (a rank may come without a value: "xếp hạng 50/63"); ranges:
   counts and money ≥ 0, percentages 0–100, scores within their scale → ``out_of_range``;
6. numerator/denominator (rates only): 0 ≤ numerator ≤ denominator, denominator > 0
   → ``out_of_range``; the value must agree with numerator / denominator within the rounding of
   the digits the province wrote → ``inconsistent_ratio``.

A dossier event gets its province read against ``occurred_at`` (in Vietnam time) and its commune
checked against the current commune list of that province → ``unknown_province`` /
``unknown_commune``. Feedback and procedure events (the Bộ chỉ số 766 inputs, docs/contract.md)
get their province read the same way; a feedback received with an answer deadline before its
own receipt is ``out_of_range``, as a dossier's is.

Every canonical record carries both the historical unit that reported it (``unit_key``, e.g.
"2004:10" for the old Lào Cai) and the current province it belongs to (``province``, "15").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from cchc_shared import units as unit_table
from cchc_shared.canonical import (
    CANONICAL_HOT,
    AnyRecord,
    DossierRecord,
    FeedbackRecord,
    Observation,
    ProcedureRecord,
)
from cchc_shared.catalogue import Catalogue, Indicator
from cchc_shared.dlq import Reason
from cchc_shared.events import (
    RAW_EVENT_HOT,
    DossierEvent,
    FeedbackEvent,
    IndicatorReport,
    ProcedureEvent,
)
from cchc_shared.hotpath import given, is_a
from cchc_shared.numbers import NumberError, parse_number
from cchc_shared.periods import Period, PeriodError, parse_period, reporting_window
from cchc_shared.provinces import VIETNAM_TZ, ProvinceRegistry, Unit
from cchc_shared.validation import Rejected, pydantic_errors
from pydantic import ValidationError

__all__ = ["Reference", "Rejected", "canonicalize", "vietnam_today"]

PERCENT = "percent"
# The canonical records' msgspec Structs (cchc_shared.hotpath): they read like the models, and
# normalize encodes them without pydantic.
_OBSERVATION = cast(Callable[..., Observation], CANONICAL_HOT.struct(Observation))
_DOSSIER_RECORD = cast(Callable[..., DossierRecord], CANONICAL_HOT.struct(DossierRecord))
_FEEDBACK_RECORD = cast(Callable[..., FeedbackRecord], CANONICAL_HOT.struct(FeedbackRecord))
_PROCEDURE_RECORD = cast(Callable[..., ProcedureRecord], CANONICAL_HOT.struct(ProcedureRecord))
# Float noise allowed on top of the rounding tolerance: the value and the components arrive as
# binary floats ("78,02" is 78.01999…), the comparison itself is done in Decimal.
_FLOAT_SLACK = Decimal("1e-9")


class _Reject(Exception):
    """Raised inside this module to stop at the first problem; :func:`canonicalize` catches it."""

    def __init__(self, reason: Reason, loc: str, msg: str) -> None:
        super().__init__(msg)
        self.rejected = Rejected.one(reason, loc, msg)


@dataclass(frozen=True, slots=True)
class Reference:
    """Everything normalize knows, loaded and validated at start."""

    provinces: ProvinceRegistry
    catalogue: Catalogue

    @classmethod
    def load(cls) -> Reference:
        """Read and validate every packaged reference file: provinces, catalogue, units.

        Raises ``ValueError`` naming the file (and line, where it can) on broken data, so that
        the service refuses to start rather than dead-letter every message.
        """
        provinces = ProvinceRegistry.load()
        catalogue = Catalogue.load()
        # The unit table is otherwise read lazily at the first conversion: read it now.
        unit_table.load_unit_table()
        return cls(provinces, catalogue)


def vietnam_today() -> date:
    """Today's date in Vietnam (UTC+7), whatever the server's time zone.

    Periods are Vietnamese calendar periods: "2026-12" has started at 00:00 ICT on 1 December,
    seven hours before it has in UTC.
    """
    return datetime.now(VIETNAM_TZ).date()


# --- numbers, units, ranges ----------------------------------------------------------------------


def _decimals(raw: int | float | str) -> int:
    """How many decimals the province wrote: the rounding its value carries.

    * int (JSON ``47``): 0.
    * str (Vietnamese, "78,02"): the digits after the decimal ",", trailing zeros included —
      "47,0" states one decimal.
    * float (JSON ``78.02``): the digits of the shortest representation, without trailing
      zeros, so ``1e-05`` has 5 and ``47.0`` has 0: the JSON text is gone by now, and JSON
      encoders write an integral float as ``47.0`` whatever precision the producer meant.
    """
    if isinstance(raw, bool):  # not reachable from the model; a bool has no digits
        return 0
    if isinstance(raw, int):
        return 0
    if isinstance(raw, float):
        exponent = Decimal(repr(raw)).normalize().as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0
    text = raw.strip()
    return len(text.rsplit(",", 1)[1]) if "," in text else 0


def _number(raw: int | float | str, loc: str) -> float:
    try:
        return float(parse_number(raw))
    except NumberError as exc:
        raise _Reject(Reason.BAD_NUMBER, loc, str(exc)) from exc
    except OverflowError:  # a JSON integer of hundreds of digits: no float holds it
        raise _Reject(Reason.BAD_NUMBER, loc, "number too large") from None


def _quantity(raw: int | float | str, unit: str | None, indicator: Indicator) -> float:
    """The value in the indicator's canonical unit ("60" "tỷ đồng" → 60e9 VND)."""
    value = _number(raw, "value")
    try:
        converted = unit_table.convert(value, unit, indicator)
    except unit_table.UnitError as exc:
        raise _Reject(Reason.BAD_UNIT, "unit", str(exc)) from exc
    try:
        return float(converted)
    except OverflowError:  # e.g. 1e300 "nghìn tỷ đồng"
        raise _Reject(Reason.BAD_NUMBER, "value", "number too large after its unit") from None


def _check_range(value: float, indicator: Indicator) -> None:
    if not indicator.in_range(value):
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "value",
            f"{value:g} {indicator.unit} is outside [{indicator.min}, {indicator.max}] "
            f"for {indicator.code}",
        )


def _check_rank(
    event: IndicatorReport, indicator: Indicator, period: Period, ref: Reference
) -> None:
    """Ranks: only on indices, 1 ≤ rank ≤ rank_of ≤ the number of provinces of the period.

    The raw-event model already enforces that rank and rank_of come together and that
    rank ≤ rank_of (ingest rejects those as ``schema_violation``); they are checked again here
    because normalize must not trust that every producer went through ingest.
    """
    rank, rank_of = event.rank, event.rank_of
    if rank is None and rank_of is None:
        return
    if not indicator.is_index:
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "rank",
            f"rank is only for index.* indicators, not {indicator.code}",
        )
    if rank is None or rank_of is None:
        raise _Reject(Reason.OUT_OF_RANGE, "rank", "rank and rank_of go together")
    # Ranks are among the provinces of the time: "50/63" before the merger, "r/34" after.
    provinces = len(ref.provinces.units(ref.provinces.era_of(period.end)))
    if not 1 <= rank <= rank_of <= provinces:
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "rank",
            f"need 1 ≤ rank ≤ rank_of ≤ {provinces} (provinces in {period.text}), "
            f"got {rank}/{rank_of}",
        )


def _check_ratio(
    value: float, written: int | float | str, num: float, den: float, indicator: Indicator
) -> None:
    """The value of a rate must agree with numerator / denominator.

    Agreement is within half a unit of the last digit the province wrote: "47" (%) with
    929/1.972 = 47.11 % passes (|47 − 47.11| ≤ 0.5), "78,02" with 1.374/1.761 = 78.0238 %
    passes (≤ 0.005), "50" with 1/3 = 33.3 % does not.
    """
    if indicator.unit != PERCENT:
        # A count, a score or money cannot agree with a quotient; aggregate would otherwise
        # read these components as a rate's.
        raise _Reject(
            Reason.INCONSISTENT_RATIO,
            "numerator",
            f"numerator/denominator are only for rates in percent; {indicator.code} is in "
            f"{indicator.unit}",
        )
    if den <= 0:
        raise _Reject(Reason.OUT_OF_RANGE, "denominator", f"denominator must be > 0, got {den:g}")
    if num < 0:
        raise _Reject(Reason.OUT_OF_RANGE, "numerator", f"numerator must be ≥ 0, got {num:g}")
    if num > den:
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "numerator",
            f"numerator {num:g} > denominator {den:g}: a rate above 100 %",
        )
    expected = Decimal(num) * 100 / Decimal(den)
    tolerance = Decimal(5).scaleb(-(_decimals(written) + 1))  # half a unit of the last digit
    if abs(Decimal(value) - expected) <= tolerance + _FLOAT_SLACK:
        return
    msg = f"value {value:g} % does not agree with {num:g}/{den:g} = {float(expected):.4g} %"
    if 0 <= value <= 1 and abs(Decimal(value) * 100 - expected) <= tolerance * 100 + _FLOAT_SLACK:
        # 0.47 for 47 %: a fraction of 1. Not rescaled silently: the producer must fix it.
        msg += f"; {value:g} looks like a fraction of 1, but {indicator.code} is in percent"
    raise _Reject(Reason.INCONSISTENT_RATIO, "value", msg)


# --- the two kinds of event ---------------------------------------------------------------------


def _resolve_province(ref: Reference, province: str | int, on: date) -> Unit:
    unit = ref.provinces.resolve(province, on)
    if unit is None:
        era = ref.provinces.era_of(on)
        raise _Reject(
            Reason.UNKNOWN_PROVINCE,
            "province",
            f"{province!r} names no province in the {era.value} list (data dated {on:%Y-%m-%d})",
        )
    return unit


def _status(event: IndicatorReport, period: Period) -> str:
    """The figure's status: as the province states it; when it states none, ``provisional`` for
    a report dated (Vietnam time) before its period's data end, else ``final``
    (docs/domain.md "Reporting and data quality"). A periodic report's data end at the Decree
    09/2019 cut-off, the 14th of the period's last month (:func:`reporting_window`): a yearly
    report of 21/12 is final, seed 000's report of 24/05/2020 on the 2016–2020 phase is not."""
    if given(event, "status"):  # the model's fields-set, or the Struct's (cchc_shared.hotpath)
        return event.status
    reported_on = event.reported_at.astimezone(VIETNAM_TZ).date()
    return "provisional" if reported_on < reporting_window(period)[1] else "final"


def _observation(event: IndicatorReport, ref: Reference, today: date) -> Observation:
    indicator = ref.catalogue.resolve(event.indicator)
    if indicator is None:
        raise _Reject(
            Reason.UNKNOWN_INDICATOR, "indicator", f"{event.indicator!r} is not in the catalogue"
        )
    try:
        period = parse_period(event.period, today=today)
    except PeriodError as exc:
        reason = Reason.FUTURE_PERIOD if exc.reason == "future_period" else Reason.BAD_PERIOD
        raise _Reject(reason, "period", str(exc)) from exc
    # A period that ends on or before 2025-06-30 is read against the old list
    # (docs/domain.md "Provinces and the 2025 merger").
    unit = _resolve_province(ref, event.province, period.end)
    _check_rank(event, indicator, period, ref)
    value: float | None = None
    if event.value is not None:
        value = _quantity(event.value, event.unit, indicator)
        _check_range(value, indicator)
    elif event.rank is None:
        # The model requires one of them; checked again for producers that bypass ingest.
        raise _Reject(Reason.SCHEMA_VIOLATION, "value", "value is required without a rank")
    numerator = denominator = None
    if (event.numerator is None) != (event.denominator is None):
        raise _Reject(Reason.SCHEMA_VIOLATION, "numerator", "numerator and denominator go together")
    if event.numerator is not None and event.denominator is not None:
        if event.value is None or value is None:
            raise _Reject(Reason.SCHEMA_VIOLATION, "value", "a ratio's components need its value")
        numerator = _number(event.numerator, "numerator")
        denominator = _number(event.denominator, "denominator")
        _check_ratio(value, event.value, numerator, denominator, indicator)
    # Every field is already validated above: the record's Struct is built without validating
    # again; the tests read its JSON back with the pydantic model.
    return _OBSERVATION(
        event_id=event.event_id,
        indicator=indicator.code,
        period=period.text,
        period_type=period.type.value,
        period_start=period.start,
        period_end=period.end,
        ytd=period.ytd,
        unit_key=unit.key,
        unit_code=unit.code,
        unit_era=unit.era.value,
        province=ref.provinces.successor(unit).code,
        level=event.level,
        agency=event.agency or "",
        value=value,
        numerator=numerator,
        denominator=denominator,
        unit=indicator.unit,
        status=_status(event, period),
        revision=event.revision,
        reported_at=event.reported_at,
        rank=event.rank,
        rank_of=event.rank_of,
        source_title=event.source.title if event.source else None,
        source_url=event.source.url if event.source else None,
    )


def _dossier(event: DossierEvent, ref: Reference) -> DossierRecord:
    """A dossier event with province and commune resolved.

    Only the ``received`` event carries ``due_at`` (and ``channel``); the later events of the
    dossier (``resolved``, ``rejected``, …) carry none and may arrive before it or twice. Their
    record keeps ``province`` (current), ``unit_key`` (the unit as it was) and ``dossier_id``,
    and aggregate assembles each dossier's state on ``(province, unit_key, dossier_id)`` — ids
    are unique only within a unit as it was, and merged units may reuse them. Normalize keys
    its output by ``province|dossier_id``, so one dossier's events stay in one partition.

    A ``commune_code`` must be a current (2025) commune *of the event's current province*. A
    commune of another province is rejected as ``unknown_commune`` as well: the code is unknown
    within that province, and whether the province or the commune is the typo cannot be told.
    """
    # Read against the instant in Vietnam time: 2025-06-30T20:00Z is already 1 July there.
    unit = _resolve_province(ref, event.province, event.occurred_at)
    successor = ref.provinces.successor(unit)
    if event.commune_code is not None:
        commune_province = ref.provinces.commune_province(event.commune_code)
        if commune_province is None:
            raise _Reject(
                Reason.UNKNOWN_COMMUNE,
                "commune_code",
                f"{event.commune_code} is not in the current (2025) commune list",
            )
        if commune_province != successor.code:
            raise _Reject(
                Reason.UNKNOWN_COMMUNE,
                "commune_code",
                f"commune {event.commune_code} belongs to province {commune_province}, "
                f"not to {successor.code} {successor.name}",
            )
    if event.due_at is not None and event.due_at < event.occurred_at:
        # A deadline before the step itself would make every resolution count as late.
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "due_at",
            f"due_at {event.due_at.isoformat()} is before occurred_at "
            f"{event.occurred_at.isoformat()}",
        )
    return _DOSSIER_RECORD(
        event_id=event.event_id,
        unit_key=unit.key,
        province=successor.code,
        dossier_id=event.dossier_id,
        procedure_code=event.procedure_code,
        status=event.status,
        occurred_at=event.occurred_at,
        due_at=event.due_at,
        channel=event.channel,
        online_mode=event.online_mode,
        level=event.level,
        commune_code=event.commune_code,
        agency=event.agency,
        paid_online=event.paid_online,
        digitized=event.digitized,
        result_electronic=event.result_electronic,
        fee_required=event.fee_required,
        synced_national=event.synced_national,
        reused_data=event.reused_data,
        satisfied=event.satisfied,
    )


def _feedback(event: FeedbackEvent, ref: Reference) -> FeedbackRecord:
    """A feedback event with its province resolved (read against ``occurred_at``, Vietnam time).

    Aggregate assembles each feedback on ``(province, unit_key, feedback_id)``, as dossiers.
    """
    unit = _resolve_province(ref, event.province, event.occurred_at)
    if event.due_at is not None and event.due_at < event.occurred_at:
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "due_at",
            f"due_at {event.due_at.isoformat()} is before occurred_at "
            f"{event.occurred_at.isoformat()}",
        )
    return _FEEDBACK_RECORD(
        event_id=event.event_id,
        unit_key=unit.key,
        province=ref.provinces.successor(unit).code,
        feedback_id=event.feedback_id,
        status=event.status,
        occurred_at=event.occurred_at,
        due_at=event.due_at,
        satisfied=event.satisfied,
        procedure_code=event.procedure_code,
        agency=event.agency,
    )


def _procedure(event: ProcedureEvent, ref: Reference) -> ProcedureRecord:
    """A procedure announcement or publication with its province resolved.

    ``occurred_at`` after ``due_at`` is not an error: it is a late announcement or publication,
    which is what criteria t1 and t2 count (docs/analysts.md "Bộ chỉ số 766").
    """
    unit = _resolve_province(ref, event.province, event.occurred_at)
    return _PROCEDURE_RECORD(
        event_id=event.event_id,
        unit_key=unit.key,
        province=ref.provinces.successor(unit).code,
        procedure_code=event.procedure_code,
        action=event.action,
        occurred_at=event.occurred_at,
        due_at=event.due_at,
        complete=event.complete,
        online=event.online,
    )


def canonicalize(payload: bytes, ref: Reference, today: date) -> AnyRecord | Rejected:
    """One validated raw event (the bytes ingest forwarded) → a canonical record or a rejection.

    ``today`` decides ``future_period`` (the service passes :func:`vietnam_today`). Never raises
    for any payload: a bad message is a :class:`Rejected` with its reason, for the DLQ.
    """
    try:
        event = RAW_EVENT_HOT.validate_json(payload)
    except ValidationError as exc:
        # ingest validated it; only a producer bypassing ingest gets here. Flattened as ingest
        # flattens them, so the dead letter names the same fields whichever stage wrote it.
        return Rejected(Reason.SCHEMA_VIOLATION, pydantic_errors(exc))
    try:
        if is_a(event, IndicatorReport):
            return _observation(event, ref, today)
        if is_a(event, FeedbackEvent):
            return _feedback(event, ref)
        if is_a(event, ProcedureEvent):
            return _procedure(event, ref)
        return _dossier(cast(DossierEvent, event), ref)
    except _Reject as rejection:
        return rejection.rejected
