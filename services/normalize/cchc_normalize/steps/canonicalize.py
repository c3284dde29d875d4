"""Raw event → canonical record (DOMAIN §2–§4, CONTRACT §2–§3). Pure: no I/O.

Reference data (provinces, catalogue, units) is passed in, loaded once at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from cchc_shared.canonical import DossierRecord, Observation
from cchc_shared.catalogue import Catalogue, Indicator
from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.events import RAW_EVENT, DossierEvent, IndicatorReport
from cchc_shared.numbers import NumberError, parse_number
from cchc_shared.periods import PeriodError, parse_period
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.units import UnitError, convert
from pydantic import ValidationError

PERCENT = "percent"


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why an event cannot become a canonical record."""

    reason: Reason
    errors: list[ErrorDetail]


class _Reject(Exception):
    def __init__(self, reason: Reason, loc: str, msg: str) -> None:
        super().__init__(msg)
        self.rejected = Rejected(reason, [ErrorDetail(loc=loc, msg=msg)])


@dataclass(frozen=True, slots=True)
class Reference:
    """Everything normalize knows, loaded and validated at start."""

    provinces: ProvinceRegistry
    catalogue: Catalogue


def _decimals(raw: int | float | str) -> int:
    """How many decimals the province wrote: the rounding its value carries."""
    if isinstance(raw, int):
        return 0
    text = raw if isinstance(raw, str) else repr(raw)
    text = text.strip().rstrip("%").strip()
    sep = "," if isinstance(raw, str) else "."
    if sep not in text:
        return 0
    return len(text.rsplit(sep, 1)[1])


def _number(raw: int | float | str, loc: str) -> float:
    try:
        return float(parse_number(raw))
    except NumberError as exc:
        raise _Reject(Reason.BAD_NUMBER, loc, str(exc)) from exc


def _quantity(raw: int | float | str, unit: str | None, indicator: Indicator, loc: str) -> float:
    value = _number(raw, loc)
    try:
        return float(convert(value, unit, indicator))
    except UnitError as exc:
        raise _Reject(Reason.BAD_UNIT, "unit", str(exc)) from exc


def _check_range(value: float, indicator: Indicator, loc: str) -> None:
    if (indicator.min is not None and value < indicator.min) or (
        indicator.max is not None and value > indicator.max
    ):
        raise _Reject(
            Reason.OUT_OF_RANGE,
            loc,
            f"{value:g} is outside [{indicator.min}, {indicator.max}] for {indicator.code}",
        )


def _check_ratio(
    value: float, written: int | float | str, num: float, den: float, indicator: Indicator
) -> None:
    if den <= 0 or num < 0 or num > den:
        raise _Reject(
            Reason.OUT_OF_RANGE,
            "denominator",
            f"need 0 ≤ numerator ≤ denominator, got {num:g}/{den:g}",
        )
    scale = 100 if indicator.unit == PERCENT else 1
    expected = Decimal(num) * scale / Decimal(den)
    try:
        tolerance = Decimal(5) / Decimal(10) ** (_decimals(written) + 1)
    except InvalidOperation:  # pragma: no cover - decimals is a small int
        tolerance = Decimal("0.5")
    if abs(Decimal(value) - expected) > tolerance + Decimal("1e-9"):
        raise _Reject(
            Reason.INCONSISTENT_RATIO,
            "value",
            f"value {value:g} does not agree with {num:g}/{den:g} = {float(expected):.4g}",
        )


def observation(event: IndicatorReport, ref: Reference, today: date) -> Observation:
    """An indicator report as a canonical observation; raises _Reject."""
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
    unit = ref.provinces.resolve(event.province, period.end)
    if unit is None:
        raise _Reject(Reason.UNKNOWN_PROVINCE, "province", f"{event.province!r} names no province")
    value = _quantity(event.value, event.unit, indicator, "value")
    _check_range(value, indicator, "value")
    numerator = denominator = None
    if (event.numerator is None) != (event.denominator is None):
        raise _Reject(Reason.SCHEMA_VIOLATION, "numerator", "numerator and denominator go together")
    if event.numerator is not None and event.denominator is not None:
        numerator = _number(event.numerator, "numerator")
        denominator = _number(event.denominator, "denominator")
        _check_ratio(value, event.value, numerator, denominator, indicator)
    if event.rank is not None and not indicator.is_index:
        raise _Reject(Reason.OUT_OF_RANGE, "rank", "rank is only for index.* indicators")
    successor = ref.provinces.successor(unit)
    return Observation(
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
        province=successor.code,
        level=event.level,
        agency=event.agency or "",
        value=value,
        numerator=numerator,
        denominator=denominator,
        unit=indicator.unit,
        status=event.status,
        revision=event.revision,
        reported_at=event.reported_at,
        rank=event.rank,
        rank_of=event.rank_of,
        source_title=event.source.title if event.source else None,
        source_url=event.source.url if event.source else None,
    )


def dossier(event: DossierEvent, ref: Reference) -> DossierRecord:
    """A dossier event with province and commune resolved; raises _Reject."""
    unit = ref.provinces.resolve(event.province, event.occurred_at.date())
    if unit is None:
        raise _Reject(Reason.UNKNOWN_PROVINCE, "province", f"{event.province!r} names no province")
    successor = ref.provinces.successor(unit)
    if event.commune_code is not None:
        commune_province = ref.provinces.commune_province(event.commune_code)
        if commune_province is None:
            raise _Reject(
                Reason.UNKNOWN_COMMUNE, "commune_code", f"{event.commune_code} is not a commune"
            )
        if commune_province != successor.code:
            raise _Reject(
                Reason.UNKNOWN_COMMUNE,
                "commune_code",
                f"commune {event.commune_code} belongs to {commune_province}, not {successor.code}",
            )
    return DossierRecord(
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
    )


def canonicalize(
    payload: bytes, ref: Reference, today: date
) -> Observation | DossierRecord | Rejected:
    """One validated raw event (bytes, as ingest forwarded them) → canonical record or rejection."""
    try:
        event = RAW_EVENT.validate_json(payload)
    except ValidationError as exc:
        # ingest validated it; only a producer bypassing ingest gets here.
        errors = [
            ErrorDetail(loc=".".join(map(str, e["loc"])), msg=e["msg"])
            for e in exc.errors(include_url=False, include_input=False)
        ]
        return Rejected(Reason.SCHEMA_VIOLATION, errors)
    try:
        if isinstance(event, IndicatorReport):
            return observation(event, ref, today)
        return dossier(event, ref)
    except _Reject as rejection:
        return rejection.rejected
