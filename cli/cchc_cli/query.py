"""`cchc query national|provinces|service-index|sql`: ask the query API.

The routes and their answers: docs/contract.md "Query API".

The answers are the API's own JSON, printed as a rich table (default), JSON or CSV, so what an
analyst sees here is exactly what a script gets from the API.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from cchc_runtime.tokens import Role
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
            _emit(["field", "value"], [[k, body[k]] for k in fields], fmt, body, title)
            return
        _emit(fields, [[body[k] for k in fields]], fmt, body, "")
        return
    columns = list(body["rows"][0]) if body["rows"] else ["key"]
    rows = [[r[c] for c in columns] for r in body["rows"]]
    title = f"service index {body['period']} province {body['province']} by {body['group_by']}"
    _emit(columns, rows, fmt, body, title)


@query_app.command()
def sql(
    statement: Annotated[str, typer.Argument(help="A read-only statement (SELECT …).")],
    api: ApiOption = DEFAULT_API,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Run read-only SQL through the API."""
    body = _call("POST", f"{api}/v1/sql", json={"sql": statement})
    _emit(body["columns"], body["rows"], fmt, body, f"{len(body['rows'])} rows")
