"""*Báo cáo*: who sent the periodic report of a quarter, half or year, completely and on time
(GET /v1/reporting), and the data-quality findings of the same period (GET /v1/quality)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cchc_runtime.tokens import Role
from cchc_shared.periods import Period, PeriodError, PeriodType, parse_period
from cchc_shared.provinces import VIETNAM_TZ, Era

from cchc_aggregate.query.console import data
from cchc_aggregate.query.console.notes import note_text
from cchc_aggregate.query.console.page import Column, Context, Page, Table, View
from cchc_aggregate.query.fetch.quality import fetch_period
from cchc_aggregate.query.fetch.reporting import fetch_receipts
from cchc_aggregate.query.rules import quality, reporting

DUE_TYPES = (PeriodType.QUARTER.value, PeriodType.HALF.value, PeriodType.YEAR.value)


def _due_type(text: str) -> bool:
    try:
        return parse_period(text).type.value in DUE_TYPES
    except PeriodError:
        return False


def default_period(stored: list[data.Stored], today: dt.date) -> str:
    """The latest stored quarter, half or year (by its end); without one, the last quarter
    that ended before ``today``."""
    due = [s for s in stored if _due_type(s.period)]
    if due:
        return max(due, key=lambda s: (s.period_end, s.period)).period
    quarter = (today.month - 1) // 3  # the current quarter's index, 0-3
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def period_choices(stored: list[data.Stored]) -> list[str]:
    """The stored quarters, halves and years, latest first."""
    due = {s.period: s.period_end for s in stored if _due_type(s.period)}
    return sorted(due, key=lambda p: (due[p], p), reverse=True)


def when(value: dt.datetime | None) -> str | None:
    """A broker timestamp as Vietnam time, "dd/mm/yyyy HH:MM" (None stays None: "—")."""
    if value is None:
        return None
    return value.astimezone(VIETNAM_TZ).strftime("%d/%m/%Y %H:%M")


def province_rows(answer: reporting.ReportingRate, t: Any) -> list[list[Any]]:
    """One row per expected unit: code, name, status, on time, first receipt, the missing
    indicators (named when some were sent; "all N" when none was)."""
    return [
        [
            p.province,
            p.name,
            t(f"status_{p.status}"),
            t("yes") if p.on_time else t("no"),
            when(p.first_received_at),
            t("all_missing", n=len(p.missing_indicators))
            if p.status == "missing"
            else ", ".join(p.missing_indicators),
        ]
        for p in answer.provinces
    ]


def build(ctx: Context) -> View:
    stored = data.stored(ctx.store)
    period = (ctx.params.get("period") or "").strip() or default_period(
        stored, dt.datetime.now(VIETNAM_TZ).date()
    )
    view = View(
        {"period": period, "choices": period_choices(stored), "error": None, "answer": None}
    )
    calendar = reporting.default_calendar(ctx.catalogue, ctx.reporting_calendar)
    whole: Period | None
    try:
        whole = parse_period(period)
    except PeriodError as exc:
        view.values["error"] = str(exc)
        return view
    due = calendar.due(whole)
    if due is None or whole.ytd:
        view.values["error"] = ctx.t("no_report_due", period=whole.text)
        return view
    receipts = fetch_receipts(ctx.store, whole, list(due.indicators))
    answer = reporting.reporting(whole, calendar, receipts, ctx.registry)
    view.values.update(
        answer=answer,
        deadline=answer.deadline.astimezone(VIETNAM_TZ).strftime("%H:%M %d/%m/%Y"),
        data_from=answer.data_from.strftime("%d/%m/%Y"),
        data_to=answer.data_to.strftime("%d/%m/%Y"),
    )
    view.tables.append(
        Table(
            "tinh-hinh",
            ctx.t("reporting_table"),
            [
                Column("code"),
                Column("province"),
                Column("status"),
                Column("on_time"),
                Column("first_receipt"),
                Column("missing_indicators"),
            ],
            province_rows(answer, ctx.t),
        )
    )
    names = {u.key: f"{u.code} {u.name}" for era in Era for u in ctx.registry.units(era)}
    current, earlier = fetch_period(ctx.store, whole, None)
    findings = quality.rule_findings(
        current, quality.default_rules(ctx.catalogue), names
    ) + quality.outliers(current, earlier, names)
    findings.sort(key=lambda f: (f.province, f.unit_key, f.kind, f.rule or f.indicator or ""))
    view.tables.append(
        Table(
            "chat-luong",
            ctx.t("quality_table"),
            [Column("province"), Column("finding_kind"), Column("finding_about"), Column("detail")],
            [
                [
                    f.name,
                    ctx.t(f"finding_{f.kind}"),
                    f.rule or f.indicator or "",
                    note_text(f.detail, ctx.lang),
                ]
                for f in findings
            ],
        )
    )
    return view


PAGE = Page(
    path="/bao-cao",
    template="reporting.html",
    title={"vi": "Báo cáo", "en": "Reporting"},
    role=Role.ANALYST,
    build=build,
)
