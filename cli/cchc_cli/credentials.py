"""Which token a `cchc` command sends to the query API.

In order: `CCHC_TOKEN` (the token itself), `--token-file`/`CCHC_TOKEN_FILE`, then the embedded
stack's `<data-dir>/secrets/<role>.token` (`cchc up` writes one per role). The token is read
from the environment or a file, never from the command line, so it stays out of shell history
and process listings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from cchc_devstack.secrets import token_file
from cchc_runtime.tokens import Role

TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        envvar="CCHC_TOKEN_FILE",
        help="File holding the API token (default: <data-dir>/secrets/<role>.token; "
        "CCHC_TOKEN overrides both).",
    ),
]
DataDirOption = Annotated[
    Path, typer.Option("--data-dir", envvar="CCHC_DATA_DIR", help="The stack's data dir.")
]


def token(role: Role, token_path: Path | None = None, data_dir: Path = Path("var")) -> str:
    """The token to send, or a one-line error saying where one comes from."""
    if secret := os.environ.get("CCHC_TOKEN", "").strip():
        return secret
    path = token_path or token_file(data_dir, role)
    try:
        secret = path.read_text().strip()
    except OSError:
        secret = ""
    if not secret:
        raise typer.BadParameter(
            f"no {role} token in {path}: run `cchc up` (it writes one), or "
            f"`cchc token create --role {role} --name NAME`, then set CCHC_TOKEN or --token-file"
        )
    return secret


def headers(
    role: Role, token_path: Path | None = None, data_dir: Path = Path("var")
) -> dict[str, str]:
    """The Authorization header for `role`."""
    return {"Authorization": f"Bearer {token(role, token_path, data_dir)}"}
