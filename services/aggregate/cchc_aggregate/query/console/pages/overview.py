"""*Tổng quan*: the national figure of an indicator and period, how complete it is, its notes,
and its trend over the periods of the same kind (GET /v1/national, period by period)."""

from __future__ import annotations

from cchc_runtime.tokens import Role
from cchc_shared.periods import parse_period

from cchc_aggregate.query.console import charts
from cchc_aggregate.query.console.i18n import unit_name
from cchc_aggregate.query.console.notes import note_text
from cchc_aggregate.query.console.page import Column, Context, Page, Table, View
from cchc_aggregate.query.console.pages.common import ask
from cchc_aggregate.query.fetch.national import fetch_reports
from cchc_aggregate.query.rules import national as rules


def build(ctx: Context) -> View:
    q = ask(ctx)
    view = View({"q": q})
    if q.indicator is None or q.period is None:
        return view
    ind, whole = q.indicator, q.period
    needed = rules.indicators_needed(ind)
    figure = rules.national(
        ind, whole, q.boundary, fetch_reports(ctx.store, needed, whole), ctx.catalogue, ctx.registry
    )
    # The trend: every stored period of the same kind as the one asked, each answered as
    # GET /v1/national answers it.
    same_kind = [
        p
        for p in (parse_period(text) for text in q.periods)
        if p.type == whole.type and p.ytd == whole.ytd
    ]
    trend = []
    for period in same_kind:
        answer = rules.national(
            ind,
            period,
            q.boundary,
            fetch_reports(ctx.store, needed, period),
            ctx.catalogue,
            ctx.registry,
        )
        trend.append(answer)
    points = [(a.period, a.value) for a in trend if a.value is not None]
    unit_label = unit_name(figure.unit, ctx.lang)
    view.values.update(
        figure=figure,
        value_text=ctx.n(figure.value, figure.unit),
        unit_label=unit_label,
        aggregation=ctx.t(f"agg_{figure.aggregation}"),
        chart=charts.trend(points, f"{ind.code} ({unit_label})", ctx.lang) if points else None,
        chart_label=ctx.t("trend_chart", indicator=ind.name_vi),
    )
    view.tables.append(
        Table(
            "tong-quan",
            ctx.t("national_figure"),
            [
                Column("indicator"),
                Column("period"),
                Column("value", numeric=True, unit=figure.unit),
                Column("unit"),
                Column("reported", numeric=True),
                Column("expected", numeric=True),
                Column("notes"),
            ],
            [
                [
                    a.indicator,
                    a.period,
                    a.value,
                    unit_label,
                    a.provinces_reported,
                    a.provinces_expected,
                    " | ".join(note_text(n, ctx.lang) for n in a.notes),
                ]
                for a in (trend or [figure])
            ],
        )
    )
    return view


PAGE = Page(
    path="/tong-quan",
    template="overview.html",
    title={"vi": "Tổng quan", "en": "Overview"},
    role=Role.ANALYST,
    build=build,
)
