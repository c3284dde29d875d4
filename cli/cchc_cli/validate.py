"""`cchc validate FILE…`: what the pipeline would do with each event, offline — nothing is sent.

The same dry run as `POST /v1/validate` on ingest (`cchc_ingest.steps.dry_run`): every ingest
check (size, strict JSON, schema, province authority) then every normalize check (indicator,
period, province at the data's date, number, unit, ranges, ratio, commune), with the services'
own code. A file is read as the push reads a body (`cchc_ingest.steps.body`): JSON lines, or one
JSON array. No stack is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from cchc_ingest.steps.body import BodyError, Line, split_body
from cchc_ingest.steps.dry_run import Verdict, dry_run, own_province
from cchc_normalize.steps.canonicalize import Reference, vietnam_today
from rich.console import Console

from cchc_cli.options import Format, FormatOption, province_code

out = Console(soft_wrap=True)
err = Console(stderr=True)


def check_lines(
    lines: list[Line], reference: Reference, province: str | None
) -> list[tuple[int, str, Verdict]]:
    """(line, province whose topic it is checked against, verdict) for each line."""
    today = vietnam_today()
    checked = []
    for number, payload in lines:
        topic = province if province is not None else own_province(payload, reference.provinces)
        checked.append((number, topic, dry_run(payload, topic, reference, today)))
    return checked


def validate_command(
    files: Annotated[
        list[str], typer.Argument(help="JSON-lines (or JSON array) files; '-' stdin.")
    ],
    province: Annotated[
        str | None,
        typer.Option(
            callback=province_code,
            help="Check as pushed by province NN's system (its token, or cchc.raw.NN; 1 or 01); "
            "default: each event to its own province's topic, as `cchc push` routes it.",
        ),
    ] = None,
    fmt: FormatOption = Format.TABLE,
    as_json: Annotated[
        bool, typer.Option("--json", hidden=True, help="The same as --format json.")
    ] = False,
) -> None:
    """Check events without sending them; exits 1 if any would be rejected.

    --format json prints the answer of POST /v1/validate, one JSON object per file."""
    as_json = as_json or fmt is Format.JSON
    if fmt is Format.CSV:
        raise typer.BadParameter("table or json", param_hint="--format")
    reference = Reference.load()
    rejected_total = 0
    for name in files:
        if name == "-":
            body = sys.stdin.buffer.read()
        else:
            path = Path(name)
            if not path.is_file():
                raise typer.BadParameter(f"no such file: {name}", param_hint="FILES")
            body = path.read_bytes()
        try:
            lines = split_body(body)
        except BodyError as exc:
            err.print(f"[red]{name}[/]: {exc}")
            raise typer.Exit(1) from exc
        checked = check_lines(lines, reference, province)
        rejected = sum(not v.accepted for _, _, v in checked)
        rejected_total += rejected
        if as_json:
            answer: dict[str, Any] = {
                "file": name,
                "accepted": len(checked) - rejected,
                "rejected": rejected,
                "results": [v.as_json(n) for n, _, v in checked],
            }
            sys.stdout.write(orjson.dumps(answer).decode() + "\n")
            continue
        for number, topic, verdict in checked:
            if verdict.accepted:
                out.print(f"{name}:{number}: accepted (cchc.raw.{topic})", highlight=False)
                continue
            detail = "; ".join(f"{e.loc}: {e.msg}" for e in verdict.errors)
            out.print(
                f"{name}:{number}: rejected by {verdict.stage}: {verdict.reason} — {detail}",
                highlight=False,
                markup=False,
            )
        err.print(f"{name}: {len(checked) - rejected} accepted, {rejected} rejected")
    if rejected_total:
        raise typer.Exit(1)
