"""*Bộ chỉ số 766*: the scoreboard of a month, quarter, half or year (GET /v1/scoreboard), for the
nation — total, what it is out of, the provinces' mean, every province ranked as a table and a
tile map — or for one province (``?province=NN``): its groups, criteria and rank."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from cchc_runtime.tokens import Role
from cchc_shared.provinces import VIETNAM_TZ, Era

from cchc_aggregate.query.console import charts, data
from cchc_aggregate.query.console.page import Column, Context, Page, Table, View
from cchc_aggregate.query.errors import ApiError
from cchc_aggregate.query.fetch.scoreboard import fetch_counters
from cchc_aggregate.query.requests import parse_score_question
from cchc_aggregate.query.rules.scoreboard import (
    GroupScore,
    NationalScoreboard,
    ScoringTable,
    build_scoreboard,
)


@functools.cache
def _table() -> ScoringTable:
    return ScoringTable.load()


def month_of(day: dt.date) -> str:
    """The month period of ``day``: ``2025-08``."""
    return f"{day.year:04d}-{day.month:02d}"


def period_choices(day: dt.date) -> list[str]:
    """What the period box suggests around ``day``: its year's halves, quarters and months up to
    ``day``'s month, latest first, then the year."""
    months = [f"{day.year:04d}-{m:02d}" for m in range(day.month, 0, -1)]
    quarters = [f"{day.year:04d}-Q{q}" for q in range((day.month - 1) // 3 + 1, 0, -1)]
    halves = [f"{day.year:04d}-H{h}" for h in range((day.month - 1) // 6 + 1, 0, -1)]
    return [*months, *quarters, *halves, f"{day.year:04d}"]


def group_rows(groups: list[GroupScore]) -> tuple[list[list[Any]], list[list[Any]]]:
    """(one row per group: name, points, max; one row per criterion: group, code, name,
    numerator, denominator, rate, points, max)."""
    summary = [[g.name, g.points, g.max] for g in groups]
    criteria = [
        [g.name, c.code, c.name, c.numerator, c.denominator, c.rate, c.points, c.max]
        for g in groups
        for c in g.criteria
    ]
    return summary, criteria


def as_of_text(ctx: Context, as_of: dt.datetime | None) -> str:
    """The figures' freshness line: "Số liệu tính đến 09:15:02 30/11/2026 (giờ Việt Nam)."."""
    if as_of is None:
        return ctx.t("as_of_none")
    return ctx.t("as_of", time=as_of.astimezone(VIETNAM_TZ).strftime("%H:%M:%S %d/%m/%Y"))


def _today() -> dt.date:
    return dt.datetime.now(VIETNAM_TZ).date()


def build(ctx: Context) -> View:
    latest = data.latest_score_day(ctx.store)
    day = latest or _today()
    period = (ctx.params.get("period") or "").strip() or month_of(day)
    province = (ctx.params.get("province") or "").strip() or None
    provinces = [(u.code, u.name) for u in ctx.registry.units(Era.POST_2025)]
    choices = period_choices(day)
    view = View(
        {
            "period": period,
            "province": province,
            "provinces": provinces,
            "choices": choices,
            "latest": month_of(latest) if latest else None,
            "error": None,
            "board": None,
        }
    )
    try:
        whole, code = parse_score_question(period, province, ctx.registry)
    except ApiError as exc:
        view.values["error"] = exc.detail
        return view
    as_of = ctx.as_of() if ctx.as_of is not None else None  # before the counters, as the API
    counters = fetch_counters(ctx.store, whole, monthly=ctx.monthly)
    board = build_scoreboard(_table(), whole.text, counters, dict(provinces), code)
    summary, criteria = group_rows(board.groups)
    view.values.update(
        board=board,
        national=isinstance(board, NationalScoreboard),
        total_text=ctx.n(board.total),
        max_text=ctx.n(board.max),
        as_of_text=as_of_text(ctx, as_of),
    )
    if isinstance(board, NationalScoreboard):
        totals = {p.province: p.total for p in board.provinces}
        view.values["tile_map"] = charts.tile_map(
            [(c, n, totals.get(c)) for c, n in provinces],
            ctx.t("score_total"),
            True,
            ctx.lang,
            ctx.t("no_score"),
        )
        view.tables.append(
            Table(
                "xep-hang",
                ctx.t("ranking"),
                [
                    Column("rank", numeric=True),
                    Column("code"),
                    Column("province"),
                    Column("score_total", numeric=True),
                ],
                [[p.rank, p.province, p.name, p.total] for p in board.provinces],
            )
        )
    view.tables += [
        Table(
            "nhom",
            ctx.t("score_groups"),
            [Column("score_group"), Column("points", numeric=True), Column("max", numeric=True)],
            summary,
        ),
        Table(
            "tieu-chi",
            ctx.t("score_criteria"),
            [
                Column("score_group"),
                Column("code"),
                Column("criterion"),
                Column("numerator", numeric=True),
                Column("denominator", numeric=True),
                Column("rate", numeric=True, unit="percent"),
                Column("points", numeric=True),
                Column("max", numeric=True),
            ],
            criteria,
        ),
    ]
    return view


PAGE = Page(
    path="/bo-chi-so",
    template="scoreboard.html",
    title={"vi": "Bộ chỉ số 766", "en": "Decision 766 scoreboard"},
    role=Role.ANALYST,
    build=build,
)
