"""Validate one raw message: size, JSON, schema, model, province authority (CONTRACT §1, §2).

Pure: no I/O. Returns either the accepted event with its current province, or a rejection with
a reason code and field errors for the dead-letter envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import orjson
from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.events import RAW_EVENT, SCHEMAS, DossierEvent, IndicatorReport
from cchc_shared.periods import PeriodError, parse_period
from cchc_shared.provinces import Era, ProvinceRegistry, Unit
from pydantic import ValidationError

MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid event, and the current (2025) province that wrote it."""

    event: IndicatorReport | DossierEvent
    province: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message cannot pass."""

    reason: Reason
    errors: list[ErrorDetail]


def _reject(reason: Reason, loc: str, msg: str) -> Rejected:
    return Rejected(reason, [ErrorDetail(loc=loc, msg=msg)])


def _pydantic_errors(exc: ValidationError) -> list[ErrorDetail]:
    return [
        ErrorDetail(loc=".".join(str(p) for p in e["loc"]) or "$", msg=e["msg"])
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _data_date(event: IndicatorReport | DossierEvent) -> date | None:
    """The date a province reference is read against: period end, or occurred_at."""
    if isinstance(event, DossierEvent):
        return event.occurred_at.date()
    try:
        # `today=date.max`: whether a period is in the future is normalize's call, not ours.
        return parse_period(event.period, today=date.max).end
    except PeriodError:
        return None


def _candidates(registry: ProvinceRegistry, ref: str | int, on: date | None) -> list[Unit]:
    if on is not None:
        unit = registry.resolve(ref, on)
        return [unit] if unit else []
    # Unreadable period (normalize will say bad_period): the reference may be of either era.
    eras = (date(2025, 6, 30), date(2025, 7, 1))
    return [u for d in eras if (u := registry.resolve(ref, d)) is not None]


def validate(
    payload: bytes, topic_province: str | None, registry: ProvinceRegistry
) -> Accepted | Rejected:
    """Check one message read from `cchc.raw.<topic_province>`, in the contract's order."""
    if len(payload) > MAX_MESSAGE_BYTES:
        return _reject(
            Reason.OVERSIZED, "$", f"{len(payload)} bytes > {MAX_MESSAGE_BYTES} bytes limit"
        )
    try:
        # orjson is strict: invalid UTF-8, NaN and Infinity are errors, as the contract wants.
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return _reject(Reason.MALFORMED_JSON, "$", str(exc))
    if not isinstance(data, dict):
        return _reject(Reason.UNKNOWN_SCHEMA, "$", "a message must be a JSON object")
    schema = data.get("schema")
    if schema not in SCHEMAS:
        return _reject(Reason.UNKNOWN_SCHEMA, "schema", f"unknown schema {schema!r}")
    try:
        event = RAW_EVENT.validate_json(payload)
    except ValidationError as exc:
        return Rejected(Reason.SCHEMA_VIOLATION, _pydantic_errors(exc))
    if topic_province is None:
        return _reject(Reason.PROVINCE_MISMATCH, "province", "not read from a cchc.raw.NN topic")
    units = _candidates(registry, event.province, _data_date(event))
    if not units:
        return _reject(Reason.UNKNOWN_PROVINCE, "province", f"{event.province!r} names no province")
    if not any(registry.may_write(topic_province, u) for u in units):
        unit = units[0]
        era = "until 2025-06-30" if unit.era is Era.PRE_2025 else "from 2025-07-01"
        return _reject(
            Reason.PROVINCE_MISMATCH,
            "province",
            f"{event.province!r} is {unit.code} {unit.name} ({era}), "
            f"which may not write to cchc.raw.{topic_province}",
        )
    return Accepted(event, topic_province)
