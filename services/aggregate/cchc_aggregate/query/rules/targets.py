"""Targets and progress against them (docs/domain.md "Reporting and data quality"), as pure
functions. The targets are data (``data/targets.yaml``, with their sources); the figure a target
is compared with is the unit's (or the nation's) figure under the rules of
:mod:`cchc_aggregate.query.rules.national`, computed by the route.

A target is **met** or **missed** when the figure exists, **no_data** when it does not, and
**not_measurable** when it is qualitative ("nhóm khá"). A ``rank<=`` target is compared with the
rank the unit reported ("50/63"), never with a rank computed from the units that happen to have
reported a score.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import yaml
from cchc_shared.catalogue import Catalogue
from cchc_shared.periods import PeriodError, parse_period
from cchc_shared.provinces import Era, ProvinceRegistry
from pydantic import BaseModel, ConfigDict, Field

from cchc_aggregate.query.rules import doc
from cchc_aggregate.query.rules.notes import Note

__all__ = [
    "Target",
    "TargetProgress",
    "TargetsAnswer",
    "default_targets",
    "load_targets",
    "progress",
]

Comparison = Literal["<", "<=", ">=", ">", "rank<=", "qualitative"]
Verdict = Literal["met", "missed", "no_data", "not_measurable"]
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    ">": operator.gt,
}


class Source(BaseModel):
    """Where a target was set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: str | None = None
    title: str
    published: dt.date | None = None


class Target(BaseModel):
    """One target of a unit (or of the nation, ``unit`` null) for an indicator and period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9-]+$")
    unit: str | None = Field(pattern=r"^(2004|2025):[0-9]{2}$")
    indicator: str
    period: str
    comparison: Comparison
    target: float | str
    text_vi: str
    scope: str | None = None
    source: Source


class _TargetsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    targets: tuple[Target, ...]


def load_targets(text: str, catalogue: Catalogue, registry: ProvinceRegistry) -> tuple[Target, ...]:
    """Targets from YAML text; raises ``ValueError`` on unknown indicators, units or periods."""
    targets = _TargetsFile.model_validate(yaml.safe_load(text)).targets
    errors = []
    for t in targets:
        if t.indicator not in catalogue:
            errors.append(f"{t.code}: unknown indicator {t.indicator!r}")
        if t.unit is not None:
            era, code = t.unit.split(":")
            if registry.get(code, Era(era)) is None:
                errors.append(f"{t.code}: unknown unit {t.unit!r}")
        try:
            parse_period(t.period, today=dt.date.max)
        except PeriodError as exc:
            errors.append(f"{t.code}: {exc}")
        numeric = t.comparison != "qualitative"
        if numeric != isinstance(t.target, int | float):
            errors.append(
                f"{t.code}: a {t.comparison} target needs a {'number' if numeric else 'text'}"
            )
    codes = [t.code for t in targets]
    errors += [f"duplicate target {c!r}" for c in sorted({c for c in codes if codes.count(c) > 1})]
    if errors:
        raise ValueError("invalid targets:\n  " + "\n  ".join(errors))
    return targets


@functools.cache
def default_targets(catalogue: Catalogue, registry: ProvinceRegistry) -> tuple[Target, ...]:
    """The packaged ``data/targets.yaml``, loaded and validated once."""
    data = resources.files("cchc_aggregate").joinpath("data/targets.yaml")
    return load_targets(data.read_text(encoding="utf-8"), catalogue, registry)


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """A target and where the figure stands against it."""

    code: str
    province: str | None = field(metadata=doc("2025 province the unit belongs to; null: nation"))
    unit: str | None = field(metadata=doc("the unit the target was set for, <era>:<code>"))
    name: str
    indicator: str
    period: str
    comparison: Comparison
    target: float | str
    text_vi: str
    scope: str | None
    source: dict[str, str | None]
    actual: float | None = field(metadata=doc("the figure compared (value, or reported rank)"))
    actual_text: str | None = field(metadata=doc('the figure as shown: "1.5", "50/63"'))
    gap: float | None = field(metadata=doc("actual − target (ranks: places to climb, > 0)"))
    status: Verdict
    notes: list[Note]


@dataclass(frozen=True, slots=True)
class TargetsAnswer:
    """The answer of `GET /v1/targets`."""

    period: str | None
    province: str | None
    met: int
    missed: int
    no_data: int
    not_measurable: int
    targets: list[TargetProgress]


def progress(
    t: Target,
    name: str,
    province: str | None,
    value: float | None,
    reported_rank: str | None,
    notes: list[Note],
) -> TargetProgress:
    """Where ``t`` stands given the unit's figure ``value`` and the rank it reported."""
    actual: float | None = None
    text: str | None = None
    gap: float | None = None
    status: Verdict
    notes = list(notes)
    if t.comparison == "qualitative":
        status = "not_measurable"
        notes.append(Note("targets.qualitative"))
    elif t.comparison == "rank<=":
        if reported_rank is None:
            status = "no_data"
        else:
            actual, text = float(reported_rank.split("/")[0]), reported_rank
            assert isinstance(t.target, int | float)
            gap = actual - t.target
            status = "met" if actual <= t.target else "missed"
    elif value is None:
        status = "no_data"
    else:
        assert isinstance(t.target, int | float)
        actual, text, gap = value, f"{value:g}", value - t.target
        status = "met" if _OPS[t.comparison](value, t.target) else "missed"
    if status == "no_data":
        notes.append(Note("targets.no_figure", indicator=t.indicator, period=t.period))
    return TargetProgress(
        code=t.code,
        province=province,
        unit=t.unit,
        name=name,
        indicator=t.indicator,
        period=t.period,
        comparison=t.comparison,
        target=t.target,
        text_vi=t.text_vi,
        scope=t.scope,
        source={
            "seed": t.source.seed,
            "title": t.source.title,
            "published": t.source.published.isoformat() if t.source.published else None,
        },
        actual=actual,
        actual_text=text,
        gap=None if gap is None else round(gap, 4),
        status=status,
        notes=notes,
    )


def answer(period: str | None, province: str | None, rows: list[TargetProgress]) -> TargetsAnswer:
    """The counts by verdict, and the rows."""
    count = {
        v: sum(1 for r in rows if r.status == v)
        for v in ("met", "missed", "no_data", "not_measurable")
    }
    return TargetsAnswer(
        period,
        province,
        count["met"],
        count["missed"],
        count["no_data"],
        count["not_measurable"],
        rows,
    )
