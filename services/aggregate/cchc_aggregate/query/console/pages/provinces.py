"""*Tỉnh, thành phố*: every unit ranked for an indicator and period, best first by its polarity
(GET /v1/provinces), as a table and as a tile map of the country."""

from __future__ import annotations

from cchc_runtime.tokens import Role

from cchc_aggregate.query.console import charts
from cchc_aggregate.query.console.i18n import unit_name
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
    ranking = rules.provinces(
        ind,
        whole,
        q.boundary,
        fetch_reports(ctx.store, rules.indicators_needed(ind), whole),
        ctx.catalogue,
        ctx.registry,
    )
    unit_label = unit_name(ind.unit, ctx.lang)
    view.values.update(
        ranking=ranking,
        polarity=ctx.t("best_first_high" if ind.higher_is_better else "best_first_low"),
        historical=len(ranking.rows) > 34,
        tile_map=charts.tile_map(
            [(r.province, r.name, r.value) for r in ranking.rows],
            f"{ind.code} ({unit_label})",
            ind.higher_is_better,
            ctx.lang,
            ctx.t("not_reported"),
        ),
    )
    view.tables.append(
        Table(
            "xep-hang",
            ctx.t("ranking"),
            [
                Column("rank", numeric=True),
                Column("code"),
                Column("province"),
                Column("value", numeric=True, unit=ind.unit),
                Column("unit"),
            ],
            [[r.rank, r.province, r.name, r.value, unit_label] for r in ranking.rows],
        )
    )
    return view


PAGE = Page(
    path="/tinh-thanh",
    template="provinces.html",
    title={"vi": "Tỉnh, thành phố", "en": "Provinces"},
    role=Role.ANALYST,
    build=build,
)
