"""`cchc token create|list|revoke`: the query API's bearer tokens.

The store holds only hashes (`cchc_runtime.tokens`); a new token is printed once, to stdout, and
can also be written to a file (mode 0600). The running services see a change at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cchc_devstack.secrets import tokens_file
from cchc_runtime.tokens import Role, TokenStore, write_secret
from cchc_shared.provinces import Era, default_registry
from rich.console import Console
from rich.table import Table

from cchc_cli.credentials import DataDirOption
from cchc_cli.options import province_code

token_app = typer.Typer(
    help="Create, list and revoke the query API's tokens (analyst, operator).",
    no_args_is_help=True,
)
_err = Console(stderr=True)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--tokens-file",
        envvar="CCHC_AGGREGATE_TOKENS_FILE",
        help="The token store (default: <data-dir>/secrets/tokens.json).",
    ),
]


def _store(store: Path | None, data_dir: Path) -> TokenStore:
    return TokenStore(store or tokens_file(data_dir))


@token_app.command()
def create(
    name: Annotated[str, typer.Option(help="Who or what holds it (letters, digits, - _ .).")],
    role: Annotated[
        Role | None,
        typer.Option(help="analyst: query routes and SQL; operator: all of those and more."),
    ] = None,
    province: Annotated[
        str | None,
        typer.Option(
            callback=province_code,
            help="A province system's token: its current (2025) province code, e.g. 15 (1 or 01).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Also write the token to this file (mode 0600).")
    ] = None,
    data_dir: DataDirOption = Path("var"),
    tokens: StoreOption = None,
) -> None:
    """Make a token and print it once (only its hash is kept)."""
    if province is not None:
        if role not in (None, Role.PROVINCE):
            raise typer.BadParameter("--province makes a province token: leave --role out")
        units = {u.code for u in default_registry().units(Era.POST_2025)}
        if province not in units:
            raise typer.BadParameter(f"{province!r} is not a current (2025) province code")
        role = Role.PROVINCE
    if role is None:
        raise typer.BadParameter("say --role analyst|operator, or --province NN")
    try:
        secret = _store(tokens, data_dir).create(name, role, province)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if out is not None:
        write_secret(out, secret)
        _err.print(f"{role} token {name!r} written to {out}")
    else:
        _err.print(f"{role} token {name!r} (shown once; send it as Authorization: Bearer …):")
        print(secret)


@token_app.command("list")
def list_tokens(data_dir: DataDirOption = Path("var"), tokens: StoreOption = None) -> None:
    """Every token's name, role, creation and revocation (never the token)."""
    table = Table("name", "role", "province", "created", "revoked")
    for entry in _store(tokens, data_dir).entries():
        table.add_row(
            entry.name, entry.role, entry.province or "", entry.created_at, entry.revoked_at or ""
        )
    Console().print(table)


@token_app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    data_dir: DataDirOption = Path("var"),
    tokens: StoreOption = None,
) -> None:
    """Revoke a token now: the API refuses it from the next request on."""
    if not _store(tokens, data_dir).revoke(name):
        _err.print(f"[red]error:[/] no active token named {name!r}")
        raise typer.Exit(1)
    _err.print(f"revoked {name!r}")
