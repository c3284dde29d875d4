"""What ingest, normalize and the CLI agree on when they check an event.

* :class:`Rejected` — why a message cannot pass: a public reason code and field errors, the
  content of a dead letter (``docs/contract.md`` "Dead letters").
* :func:`pydantic_errors` — pydantic's errors flattened into those field errors, one per field,
  so that the same mistake gets the same ``loc`` whichever stage finds it.
* :func:`event_date` and :func:`province_candidates` — the date a province reference is read
  against, and the units it may name: codes are reused across the 2025 merger
  (``docs/domain.md`` "Provinces and the 2025 merger"), so a code alone names no unit.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from pydantic import ValidationError

from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.events import (
    SCHEMAS,
    AnyEvent,
    IndicatorReport,
    TimedEvent,
)
from cchc_shared.hotpath import is_a
from cchc_shared.periods import PeriodError, parse_period
from cchc_shared.provinces import MERGER_DATE, ProvinceRegistry, Unit

__all__ = [
    "LAST_DAY_BEFORE_MERGER",
    "Rejected",
    "event_date",
    "province_candidates",
    "pydantic_errors",
]

LAST_DAY_BEFORE_MERGER = MERGER_DATE - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message cannot pass: a public reason code and field errors, for the dead letter."""

    reason: Reason
    errors: list[ErrorDetail]

    @classmethod
    def one(cls, reason: Reason, loc: str, msg: str) -> Rejected:
        """A rejection with a single field error."""
        return cls(reason, [ErrorDetail(loc=loc, msg=msg)])


# Labels pydantic adds to a location for each member of a union (`value.int`, `value.float`…):
# not fields, so they are folded into one error per field.
_UNION_LABELS = frozenset({"int", "float", "str", "constrained-str", "bool", "none", "datetime"})


def pydantic_errors(exc: ValidationError) -> list[ErrorDetail]:
    """Pydantic's errors as field errors: one per field, its messages joined with "; or ".

    A location is the dotted field path (``source.url``), ``$`` for the message as a whole. The
    schema tag the discriminated union puts first (``cchc.dossier_event/1.event_id``) and the
    union-member labels (``value.int``, ``value.str``) are dropped, so a provincial developer
    reads ``event_id`` and ``value``, once each.
    """
    by_loc: dict[str, list[str]] = {}
    for e in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in e["loc"]]
        if loc and loc[0] in SCHEMAS:
            loc = loc[1:]
        loc = [p for p in loc if p not in _UNION_LABELS and "[" not in p]
        msgs = by_loc.setdefault(".".join(loc) or "$", [])
        if e["msg"] not in msgs:
            msgs.append(e["msg"])
    return [ErrorDetail(loc=loc, msg="; or ".join(msgs)) for loc, msgs in by_loc.items()]


@functools.lru_cache(maxsize=4096)
def _period_end(period: str) -> date | None:
    try:
        # `today=date.max`: whether a period is in the future is normalize's call, not this one.
        return parse_period(period, today=date.max).end
    except PeriodError:
        return None


def event_date(event: AnyEvent | Mapping[str, Any]) -> date | None:
    """The date an event's province is read against; ``None`` when it cannot be read.

    An indicator report is dated by the end of its period; a dossier, feedback or procedure
    event by ``occurred_at``.
    ``occurred_at`` stays a datetime: the registry converts it to Vietnam time, since the merger
    took effect at local midnight (20:00 UTC on 2025-06-30 is already the new era).

    A plain mapping (an event not validated yet, as ``cchc push`` reads it) is dated the same
    way from its ``period`` string, else its ``occurred_at`` string.
    """
    if not isinstance(event, Mapping):  # a model, or its msgspec Struct
        if is_a(event, IndicatorReport):
            return _period_end(event.period)
        occurred: datetime = cast(TimedEvent, event).occurred_at
        return occurred
    period = event.get("period")
    if isinstance(period, str):
        return _period_end(period)
    occurred_text = event.get("occurred_at")
    if isinstance(occurred_text, str):
        try:
            return datetime.fromisoformat(occurred_text)
        except ValueError:
            return None
    return None


def province_candidates(registry: ProvinceRegistry, ref: str | int, on: date | None) -> list[Unit]:
    """The units a province reference may name, read against ``on``.

    With a date, at most one unit: the one of that date's era. Without one (the event's date is
    unreadable, and a later stage will say why), the reference is read against both eras —
    the last day before :data:`~cchc_shared.provinces.MERGER_DATE`, then the merger day — and
    each era that knows it gives a candidate.
    """
    dates = (on,) if on is not None else (LAST_DAY_BEFORE_MERGER, MERGER_DATE)
    return [unit for d in dates if (unit := registry.resolve(ref, d)) is not None]
