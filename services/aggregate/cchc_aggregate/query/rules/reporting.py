"""Reporting obligations and timeliness (docs/domain.md "Reporting and data quality"), as pure
functions: which provinces sent the periodic report of a period completely, partly or not at
all, and on time (DHIS2's REPORTING_RATE and REPORTING_RATE_ON_TIME).

* The calendar (``data/reporting_calendar.yaml``, replaceable): the indicators each quarterly,
  six-monthly and yearly report must contain, and the deadline day of the period's last month.
* A unit is **complete** when it sent a province-wide figure (level all, no agency) for exactly
  the period for every required indicator, **partial** for some, **missing** for none.
* It is **on time** when it is complete and every required indicator *first* reached the
  pipeline — the Kafka record's timestamp, not the province's own ``reported_at`` — by the
  deadline (23:59:59 Vietnam time on the deadline day).
* **Expected**: the units that exist when the period ends and the report falls due — the 63 old
  units for a period ending by 30/6/2025, the 34 provinces after. The year 2025 straddles the
  merger: its yearly report is owed by the 34 provinces (the old units had ceased to exist by
  its deadline; their own last reports are those of 2025-Q1, Q2 and H1).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from cchc_shared.catalogue import Catalogue
from cchc_shared.periods import Period, PeriodType, reporting_window
from cchc_shared.provinces import MERGER_DATE, VIETNAM_TZ, ProvinceRegistry
from pydantic import BaseModel, ConfigDict, Field

from cchc_aggregate.query.rules import doc
from cchc_aggregate.query.rules.notes import Note

__all__ = [
    "Calendar",
    "ProvinceReporting",
    "Receipt",
    "ReportingRate",
    "default_calendar",
    "load_calendar",
    "reporting",
]

Status = Literal["complete", "partial", "missing"]


class DueReport(BaseModel):
    """One periodic report: its name and required indicators, and its own deadline day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name_vi: str
    indicators: tuple[str, ...] = Field(min_length=1)
    deadline_day: int | None = Field(default=None, ge=1, le=28)


class Calendar(BaseModel):
    """The reporting calendar: a report per period type, and the default deadline day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    deadline_day: int = Field(ge=1, le=28)
    reports: dict[Literal["quarter", "half", "year"], DueReport]

    def due(self, period: Period) -> DueReport | None:
        """The report due for ``period``, or None when none is (a month, a phase …)."""
        if period.type in (PeriodType.QUARTER, PeriodType.HALF, PeriodType.YEAR):
            return self.reports.get(period.type.value)  # type: ignore[call-overload, no-any-return]
        return None

    def deadline(self, period: Period) -> dt.datetime:
        """The last instant a report of ``period`` is on time (Vietnam time)."""
        report = self.due(period)
        day = report.deadline_day if report and report.deadline_day else self.deadline_day
        last = period.end
        return dt.datetime(last.year, last.month, day, 23, 59, 59, 999000, tzinfo=VIETNAM_TZ)


def load_calendar(text: str, catalogue: Catalogue) -> Calendar:
    """A calendar from YAML text; raises ``ValueError`` naming unknown or repeated indicators."""
    calendar = Calendar.model_validate(yaml.safe_load(text))
    errors = []
    for kind, report in calendar.reports.items():
        errors += [
            f"{kind}: unknown indicator {c!r}" for c in report.indicators if c not in catalogue
        ]
        if len(set(report.indicators)) != len(report.indicators):
            errors.append(f"{kind}: an indicator is listed twice")
    if errors:
        raise ValueError("invalid reporting calendar:\n  " + "\n  ".join(errors))
    return calendar


@functools.cache
def default_calendar(catalogue: Catalogue, path: Path | None = None) -> Calendar:
    """``path`` (settings ``reporting_calendar``) or the packaged calendar, loaded once."""
    if path is not None:
        return load_calendar(path.read_text(encoding="utf-8"), catalogue)
    data = resources.files("cchc_aggregate").joinpath("data/reporting_calendar.yaml")
    return load_calendar(data.read_text(encoding="utf-8"), catalogue)


@dataclass(frozen=True, slots=True)
class Receipt:
    """When a unit's first province-wide report of an indicator for the period arrived."""

    unit_key: str
    indicator: str
    first_received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ProvinceReporting:
    """One expected unit's report for the period."""

    province: str = field(metadata=doc("the unit's code (old code before 1/7/2025)"))
    name: str
    status: Status
    on_time: bool = field(metadata=doc("complete, every indicator first received by the deadline"))
    first_received_at: dt.datetime | None = field(
        metadata=doc("earliest broker timestamp of its required reports for the period")
    )
    missing_indicators: list[str]
    late_indicators: list[str] = field(
        metadata=doc("required indicators first received after the deadline")
    )


@dataclass(frozen=True, slots=True)
class ReportingRate:
    """The answer of `GET /v1/reporting`."""

    period: str
    report: str = field(metadata=doc("the report due (Vietnamese name)"))
    deadline: dt.datetime
    data_from: dt.date = field(metadata=doc("Decree 09/2019 Art. 12: first day of data"))
    data_to: dt.date = field(metadata=doc("Decree 09/2019 Art. 12: last day of data (cut-off)"))
    required_indicators: list[str]
    expected: int
    complete: int
    partial: int
    missing: int
    on_time: int
    reporting_rate: float = field(metadata=doc("100 × complete ÷ expected"))
    on_time_rate: float = field(metadata=doc("100 × on time ÷ expected"))
    provinces: list[ProvinceReporting]
    notes: list[Note]


def reporting(
    period: Period,
    calendar: Calendar,
    receipts: Iterable[Receipt],
    registry: ProvinceRegistry,
) -> ReportingRate:
    """Who owes the report of ``period``, and who sent it, completely and on time.

    ``calendar.due(period)`` must not be None (the route refuses other periods).
    """
    due = calendar.due(period)
    assert due is not None
    deadline = calendar.deadline(period)
    required = list(due.indicators)
    first: dict[str, dict[str, dt.datetime]] = defaultdict(dict)
    for r in receipts:
        if r.indicator in required:
            seen = first[r.unit_key].get(r.indicator)
            if seen is None or r.first_received_at < seen:
                first[r.unit_key][r.indicator] = r.first_received_at
    units = registry.units(registry.era_of(period.end))
    rows = []
    for unit in units:
        got = first.get(unit.key, {})
        missing = [c for c in required if c not in got]
        late = [c for c in required if c in got and got[c] > deadline]
        status: Status = (
            "missing" if len(missing) == len(required) else ("partial" if missing else "complete")
        )
        rows.append(
            ProvinceReporting(
                province=unit.code,
                name=unit.name,
                status=status,
                on_time=status == "complete" and not late,
                first_received_at=min(got.values()) if got else None,
                missing_indicators=missing,
                late_indicators=late,
            )
        )
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("complete", "partial", "missing")}
    on_time = sum(1 for r in rows if r.on_time)
    expected = len(rows)
    notes = []
    if period.start < MERGER_DATE <= period.end:
        notes.append(Note("reporting.straddles_merger", period=period.text, expected=expected))
    window = reporting_window(period)
    return ReportingRate(
        period=period.text,
        report=due.name_vi,
        deadline=deadline,
        data_from=window[0],
        data_to=window[1],
        required_indicators=required,
        expected=expected,
        complete=counts["complete"],
        partial=counts["partial"],
        missing=counts["missing"],
        on_time=on_time,
        reporting_rate=round(100 * counts["complete"] / expected, 2),
        on_time_rate=round(100 * on_time / expected, 2),
        provinces=rows,
        notes=notes,
    )
