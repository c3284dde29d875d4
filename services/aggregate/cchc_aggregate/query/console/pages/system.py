"""*Hệ thống* (operators): lag per stage, dead letters by reason and province, and when each
province last pushed something (what GET /v1/pipeline and GET /v1/dead-letters show)."""

from __future__ import annotations

import datetime as dt

from cchc_runtime.tokens import Role

from cchc_aggregate.query.console import data
from cchc_aggregate.query.console.page import Column, Context, Page, Table, View


def build(ctx: Context) -> View:
    view = View()
    if ctx.lag is not None:
        snapshot = ctx.lag.measure_now()
        lag_rows: list[list[object]] = [[s, snapshot.total(s)] for s in ctx.lag.groups]
        lag_rows.append(["cchc.dlq", snapshot.dlq])
        view.tables.append(
            Table(
                "do-tre",
                ctx.t("lag"),
                [Column("stage"), Column("messages", numeric=True)],
                lag_rows,
            )
        )
    view.values["lag_available"] = ctx.lag is not None
    names = {u.code: u.name for u in ctx.registry.units(ctx.registry.era_of(_today()))}
    view.tables.append(
        Table(
            "thu-loi",
            ctx.t("dead_letters"),
            [
                Column("reason"),
                Column("stage"),
                Column("code"),
                Column("province"),
                Column("count", numeric=True),
            ],
            [[r, s, p, names.get(p, ""), n] for r, s, p, n in data.dead_letters(ctx.store)],
        )
    )
    last = data.last_events(ctx.store)
    rows = []
    # Every 2025 province, those that never pushed anything included (they show "—").
    for code in sorted({*names, *last}):
        kinds = last.get(code, {})
        report = kinds.get("reports")
        dossier = kinds.get("dossiers")
        rows.append(
            [
                code,
                names.get(code, ""),
                report[0].strftime("%Y-%m-%d %H:%M:%S") if report else None,
                report[1] if report else 0,
                dossier[0].strftime("%Y-%m-%d %H:%M:%S") if dossier else None,
                dossier[1] if dossier else 0,
            ]
        )
    view.tables.append(
        Table(
            "su-kien",
            ctx.t("last_events"),
            [
                Column("code"),
                Column("province"),
                Column("last_report"),
                Column("reports", numeric=True),
                Column("last_dossier"),
                Column("dossier_events", numeric=True),
            ],
            rows,
        )
    )
    return view


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


PAGE = Page(
    path="/he-thong",
    template="system.html",
    title={"vi": "Hệ thống", "en": "System"},
    role=Role.OPERATOR,
    build=build,
)
