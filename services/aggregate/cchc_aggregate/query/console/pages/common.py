"""What the figure pages share: the indicator/period/boundary question and its choices."""

from __future__ import annotations

from dataclasses import dataclass

from cchc_shared.catalogue import Indicator
from cchc_shared.periods import Period, PeriodError, parse_period

from cchc_aggregate.query.console import data
from cchc_aggregate.query.console.page import Context
from cchc_aggregate.query.errors import ApiError
from cchc_aggregate.query.requests import parse_question
from cchc_aggregate.query.rules import national as rules


@dataclass
class Question:
    """The figure asked for, the choices offered, and what was wrong with the request."""

    indicator: Indicator | None
    period: Period | None
    boundary: rules.Boundary
    indicators: list[tuple[str, str]]
    periods: list[str]
    stored: list[data.Stored]
    error: str | None = None


def ask(ctx: Context) -> Question:
    """Read ``indicator``, ``period`` and ``boundary`` from the query; default to the stored
    figure most units reported (then the latest, then by code)."""
    stored = data.stored(ctx.store)
    with_data = {s.indicator for s in stored}
    indicators = [
        (i.code, f"{i.name_vi} ({i.code})") for i in ctx.catalogue.all() if i.code in with_data
    ]
    code = ctx.params.get("indicator") or ""
    period = ctx.params.get("period") or ""
    boundary = ctx.params.get("boundary") or "current"
    if not code and stored:
        best = max(stored, key=lambda s: (s.units, s.period_end, s.indicator))
        code, period = best.indicator, period or best.period
    resolved = ctx.catalogue.resolve(code) if code else None
    if resolved is not None and not period:
        mine = [s for s in stored if s.indicator in rules.indicators_needed(resolved)]
        if mine:
            period = max(mine, key=lambda s: (s.units, s.period_end)).period
    needed = set(rules.indicators_needed(resolved)) if resolved else set()
    periods = sorted({s.period for s in stored if s.indicator in needed}, key=_period_order)
    if not code or not period:
        return Question(None, None, "current", indicators, periods, stored)
    try:
        ind, whole, bound = parse_question(code, period, boundary, ctx.catalogue)
    except ApiError as exc:
        return Question(None, None, "current", indicators, periods, stored, exc.detail)
    if whole.text not in periods:
        periods = sorted({*periods, whole.text}, key=_period_order)
    return Question(ind, whole, bound, indicators, periods, stored)


def _period_order(text: str) -> tuple[object, ...]:
    try:
        p = parse_period(text)
    except PeriodError:
        return (text,)
    return (p.start, p.end, p.text)
