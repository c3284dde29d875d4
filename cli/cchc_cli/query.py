"""`cchc query …`: ask the query API (national, provinces, service-index, scoreboard,
reporting, quality, targets, sql).

The routes and their answers: docs/contract.md "Query API".

The answers are the API's own JSON, printed as a rich table (default), JSON or CSV, so what an
analyst sees here is exactly what a script gets from the API.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from cchc_runtime.tokens import Role
from cchc_shared.provinces import VIETNAM_TZ
from rich.console import Console
from rich.table import Table

from cchc_cli import credentials
from cchc_cli.credentials import DataDirOption, TokenFileOption
from cchc_cli.options import DEFAULT_API, ApiOption, Format, FormatOption, ProvinceOption, fail

query_app = typer.Typer(
    help="Ask the query API: national figures, province rankings, read-only SQL.",
    no_args_is_help=True,
)
_out = Console()
_auth: dict[str, Path | None] = {"token_file": None, "data_dir": Path("var")}


@query_app.callback()
def _credentials(token_file: TokenFileOption = None, data_dir: DataDirOption = Path("var")) -> None:
    """Every query sends an analyst token (CCHC_TOKEN, --token-file, or the stack's own)."""
    _auth.update(token_file=token_file, data_dir=data_dir)


BoundaryOption = Annotated[
    str, typer.Option(help="current (34 provinces) or historical (units as they were).")
]


def _call(method: str, url: str, **kwargs: Any) -> Any:
    """The JSON answer; exits 1 with the API's error on a 4xx/5xx, 2 when unreachable."""
    data_dir = _auth["data_dir"] or Path("var")
    auth = credentials.headers(Role.ANALYST, _auth["token_file"], data_dir)
    try:
        response = httpx.request(method, url, timeout=30, headers=auth, **kwargs)
    except httpx.HTTPError as exc:
        fail(f"cannot reach the query API at {url}: {exc or type(exc).__name__}", 2)
    try:
        body = response.json() if response.content else {}
    except ValueError:
        body = {}
    if response.is_error:
        error = body.get("error", response.status_code) if isinstance(body, dict) else body
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        fail(f"{error}: {detail}", 1)
    return body


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def _emit(columns: list[str], rows: list[list[Any]], fmt: Format, body: Any, title: str) -> None:
    if fmt is Format.JSON:
        _out.print_json(json.dumps(body, ensure_ascii=False))
        return
    if fmt is Format.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    _out.print(table)


@query_app.command()
def national(
    indicator: Annotated[str, typer.Argument(help="Catalogue code, e.g. dossiers.late_rate.")],
    period: Annotated[str, typer.Argument(help="2024, 2024-Q3, 2024-9M, 2016/2020 …")],
    boundary: BoundaryOption = "current",
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """The national figure and how complete it is."""
    body = _call(
        "GET",
        f"{api}/v1/national",
        params={"indicator": indicator, "period": period, "boundary": boundary},
    )
    fields = [k for k in body if k != "notes"]
    if fmt is Format.TABLE:
        _emit(["field", "value"], [[k, body[k]] for k in fields], fmt, body, "national figure")
        for note in body.get("notes", []):
            _out.print(f"• {note}", highlight=False)
        return
    row = [*(body[k] for k in fields), " | ".join(body["notes"])]
    _emit([*fields, "notes"], [row], fmt, body, "")


@query_app.command()
def provinces(
    indicator: Annotated[str, typer.Argument(help="Catalogue code.")],
    period: Annotated[str, typer.Argument(help="Period.")],
    boundary: BoundaryOption = "current",
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Every province's figure, best first."""
    body = _call(
        "GET",
        f"{api}/v1/provinces",
        params={"indicator": indicator, "period": period, "boundary": boundary},
    )
    columns = ["rank", "province", "name", "value"]
    rows = [[r[c] for c in columns] for r in body["rows"]]
    _emit(columns, rows, fmt, body, f"{body['indicator']} {body['period']} ({body['boundary']})")
    if fmt is Format.TABLE:
        for note in body.get("notes", []):
            _out.print(f"• {note}", highlight=False)


@query_app.command("service-index")
def service_index(
    period: Annotated[str, typer.Argument(help="2025-07-15, 2025-07, 2025-Q3, 2025 …")],
    province: ProvinceOption = None,
    group_by: Annotated[
        str | None, typer.Option(help="procedure or commune (needs --province).")
    ] = None,
    order: Annotated[str, typer.Option(help="best or worst on-time rate first.")] = "best",
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """The live Decision 766 service index from dossier events."""
    params = {"period": period, "province": province, "group_by": group_by, "order": order}
    body = _call(
        "GET",
        f"{api}/v1/service-index",
        params={k: v for k, v in params.items() if v is not None},
    )
    if "rows" not in body:
        fields = list(body)
        if fmt is Format.TABLE:
            title = f"service index {body['period']} ({body['province'] or 'national'})"
            shown = [k for k in fields if k != "as_of"]
            _emit(["field", "value"], [[k, body[k]] for k in shown], fmt, body, title)
            _out.print(_as_of_line(body.get("as_of")), highlight=False)
            return
        _emit(fields, [[body[k] for k in fields]], fmt, body, "")
        return
    columns = list(body["rows"][0]) if body["rows"] else ["key"]
    rows = [[r[c] for c in columns] for r in body["rows"]]
    title = f"service index {body['period']} province {body['province']} by {body['group_by']}"
    _emit(columns, rows, fmt, body, title)
    if fmt is Format.TABLE:
        _out.print(_as_of_line(body.get("as_of")), highlight=False)


def _as_of_line(as_of: str | None, vi: bool = False) -> str:
    """The footer under a live answer: from when its counts are complete (the API's ``as_of``,
    docs/contract.md), in Vietnam time."""
    if as_of is None:
        if vi:
            return "Số liệu tính đến: chưa tổng hợp lần nào (sự kiện mới chưa được tính)"
        return "figures as of: not folded yet (recent events not counted)"
    at = dt.datetime.fromisoformat(as_of).astimezone(VIETNAM_TZ).strftime("%Y-%m-%d %H:%M:%S")
    if vi:
        return f"Số liệu tính đến: {at} (giờ Việt Nam)"
    return f"figures as of: {at} Vietnam time"


# The scoreboard's table is for Vietnamese analysts: its labels are Vietnamese (docs/analysts.md
# "Bộ chỉ số 766" gives the English); JSON and CSV keep the API's field names.
_SCORE_COLUMNS = ["Nhóm / tiêu chí", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa"]
_SCORE_CSV = [
    "period",
    "province",
    "group",
    "code",
    "name",
    "numerator",
    "denominator",
    "rate",
    "points",
    "max",
]


def _score_rows(body: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for group in body["groups"]:
        rows.append([f"[bold]{group['name']}[/]", None, None, None, group["points"], group["max"]])
        for c in group["criteria"]:
            rows.append(
                [
                    f"  {c['code'][: c['code'].index('_')]}. {c['name']}",
                    c["numerator"],
                    c["denominator"],
                    c["rate"],
                    c["points"],
                    c["max"],
                ]
            )
    return rows


@query_app.command()
def scoreboard(
    period: Annotated[
        str, typer.Argument(help="A month, quarter, half or year: 2026-10, 2026-Q3.")
    ],
    province: ProvinceOption = None,
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Bộ chỉ số 766: every criterion, group points, the total and the ranking."""
    params = {"period": period, "province": province}
    body = _call(
        "GET", f"{api}/v1/scoreboard", params={k: v for k, v in params.items() if v is not None}
    )
    if fmt is not Format.TABLE:
        rows = [
            [
                body["period"],
                body["province"] or "",
                g["code"],
                c["code"],
                c["name"],
                c["numerator"],
                c["denominator"],
                c["rate"],
                c["points"],
                c["max"],
            ]
            for g in body["groups"]
            for c in g["criteria"]
        ]
        _emit(_SCORE_CSV, rows, fmt, body, "")
        return
    where = f"{body['province']} {body['name']}" if body["province"] else body["name"]
    title = f"Bộ chỉ số 766 — {where} — kỳ {body['period']}"
    _emit(_SCORE_COLUMNS, _score_rows(body), fmt, body, title)
    _out.print(
        f"Tổng điểm: {_cell(body['total'])} / {_cell(body['max'])} "
        f"(tối đa của các tiêu chí có dữ liệu: {_cell(body['max_available'])})",
        highlight=False,
    )
    if body["province"]:
        rank = f"{body['rank']}/{body['rank_of']}" if body["rank"] else "—"
        _out.print(f"Xếp hạng: {rank}", highlight=False)
    else:
        _out.print(f"Bình quân điểm các tỉnh: {_cell(body['province_mean'])}", highlight=False)
    _out.print(
        f"Thời gian giải quyết bình quân (giờ): {_cell(body['avg_resolution_hours'])}",
        highlight=False,
    )
    if not body["province"] and body["provinces"]:
        table = Table(title="Xếp hạng các tỉnh, thành phố")
        for column in ("Hạng", "Mã", "Tỉnh, thành phố", "Tổng điểm"):
            table.add_column(column)
        for p in body["provinces"]:
            table.add_row(str(p["rank"]), p["province"], p["name"], _cell(p["total"]))
        _out.print(table)
    for note in body.get("notes", []):
        _out.print(f"• {note}", highlight=False)
    _out.print(_as_of_line(body.get("as_of"), vi=True), highlight=False)


@query_app.command()
def sql(
    statement: Annotated[str, typer.Argument(help="A read-only statement (SELECT …).")],
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Run read-only SQL through the API."""
    body = _call("POST", f"{api}/v1/sql", json={"sql": statement})
    _emit(body["columns"], body["rows"], fmt, body, f"{len(body['rows'])} rows")


def _gaps(row: dict[str, Any]) -> str:
    """What a province still owes: its missing indicators, else those that came late."""
    if row["missing_indicators"]:
        return ", ".join(row["missing_indicators"])
    return ", ".join(f"late: {c}" for c in row["late_indicators"])


@query_app.command()
def reporting(
    period: Annotated[str, typer.Argument(help="A quarter, half or year: 2026-Q3, 2026-H1, 2026.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Every province, not only those missing or late.")
    ] = False,
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Who has not sent the period's report, or sent it late, and what is missing."""
    body = _call("GET", f"{api}/v1/reporting", params={"period": period})
    columns = ["province", "name", "status", "on_time", "first_received_at", "missing"]
    rows = [
        [p["province"], p["name"], p["status"], p["on_time"], p["first_received_at"], _gaps(p)]
        for p in body["provinces"]
        if show_all or fmt is not Format.TABLE or not p["on_time"]
    ]
    if fmt is Format.TABLE:
        _out.print(
            f"{body['report']} {body['period']}: deadline {body['deadline']}, "
            f"{body['complete']}/{body['expected']} complete ({body['reporting_rate']} %), "
            f"{body['partial']} partial, {body['missing']} missing, "
            f"{body['on_time']} on time ({body['on_time_rate']} %)",
            highlight=False,
        )
    title = "every province" if show_all else "missing, partial or late"
    _emit(columns, rows, fmt, body, f"{body['period']}: {title}")
    if fmt is Format.TABLE:
        for note in body.get("notes", []):
            _out.print(f"• {note}", highlight=False)


@query_app.command()
def quality(
    period: Annotated[str, typer.Argument(help="Period: 2026-Q3, 2026 …")],
    province: ProvinceOption = None,
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Validation rules broken and outliers among a period's reports."""
    params = {"period": period} | ({"province": province} if province else {})
    body = _call("GET", f"{api}/v1/quality", params=params)
    columns = ["kind", "province", "name", "period", "rule", "indicator", "detail"]
    rows = [[f[c] for c in columns] for f in body["findings"]]
    _emit(columns, rows, fmt, body, f"{len(rows)} finding(s), {body['rules']} rules checked")


@query_app.command()
def targets(
    period: Annotated[str | None, typer.Argument(help="Only targets for this period.")] = None,
    province: ProvinceOption = None,
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Targets and how far each province (and the nation) is from them."""
    params = ({"period": period} if period else {}) | ({"province": province} if province else {})
    body = _call("GET", f"{api}/v1/targets", params=params)
    columns = ["status", "name", "indicator", "period", "comparison", "target", "actual", "gap"]
    rows = [
        [t["status"], t["name"], t["indicator"], t["period"], t["comparison"], t["target"],
         t["actual_text"], t["gap"]]
        for t in body["targets"]
    ]  # fmt: skip
    title = (
        f"targets: {body['met']} met, {body['missed']} missed, {body['no_data']} without data, "
        f"{body['not_measurable']} not measurable"
    )
    _emit(columns, rows, fmt, body, title)
    if fmt is Format.TABLE:
        for t in body["targets"]:
            for note in t["notes"]:
                _out.print(f"• {t['code']}: {note}", highlight=False)
