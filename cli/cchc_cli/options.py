"""The options every `cchc` command spells the same way (README "Command-line conventions").

A new command (or subcommand, e.g. `cchc query scoreboard`) takes its options from here:

- ``--api URL`` (env ``CCHC_API``, default ``http://127.0.0.1:8080``): the query API; under
  `cchc up` ingest and normalize listen on its port + 1 and + 2.
- ``--bootstrap HOST:PORT[,…]`` (env ``CCHC_KAFKA_BOOTSTRAP_SERVERS``): Kafka.
- ``--format/-f table|json|csv``: how to print (table for people, json/csv for scripts).
- ``--province N``: a 2025 province code, ``1`` or ``01`` alike (as the API accepts).
- ``--token-file``/``CCHC_TOKEN``/``--data-dir``: :mod:`cchc_cli.credentials`.

And fails the same way: :func:`fail` prints one line on stderr and exits 2 when something could
not be reached (1 when it answered with an error); :func:`require_kafka` and
:func:`require_api` find out in a second or two instead of a client's 30 s bootstrap timeout.
"""

from __future__ import annotations

import socket
from enum import StrEnum
from typing import Annotated, NoReturn
from urllib.parse import urlsplit

import typer
from cchc_shared.provinces import Era, default_registry
from rich.console import Console
from rich.markup import escape

DEFAULT_API = "http://127.0.0.1:8080"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
REACH_TIMEOUT_S = 3.0

_err = Console(stderr=True)


class Format(StrEnum):
    """Output format: ``table`` for people, ``json`` and ``csv`` for scripts."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"


ApiOption = Annotated[
    str,
    typer.Option(
        "--api",
        envvar="CCHC_API",
        help="Query API base URL (under `cchc up`, ingest and normalize use its port +1, +2).",
    ),
]
BootstrapOption = Annotated[
    str,
    typer.Option(
        "--bootstrap", envvar="CCHC_KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers."
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table (for people), json or csv (for scripts).")
]


def province_code(value: str | None) -> str | None:
    """A 2025 province code from ``1``, ``01`` or `` 1 ``; BadParameter when it is none."""
    if value is None:
        return None
    code = value.strip().zfill(2)
    if not code.isdigit() or default_registry().get(code, Era.POST_2025) is None:
        raise typer.BadParameter(
            f"{value!r} is not one of the 34 current (2025) province codes", param_hint="--province"
        )
    return code


ProvinceOption = Annotated[
    str | None,
    typer.Option(
        "--province", callback=province_code, help="A 2025 province code (1 or 01 alike)."
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit ``code`` (2: could not reach; 1: answered an error)."""
    _err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _reachable(host: str, port: int) -> str | None:
    """None when something accepts a TCP connection there, else why not."""
    try:
        with socket.create_connection((host, port), timeout=REACH_TIMEOUT_S):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def require_kafka(bootstrap: str) -> None:
    """Exit 2 with one line unless one of the bootstrap servers accepts a connection."""
    reasons = []
    for server in (s.strip() for s in bootstrap.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        if not port.isdigit():
            fail(f"bad bootstrap server {server!r}: HOST:PORT", 2)
        why = _reachable(host.strip("[]") or "127.0.0.1", int(port))
        if why is None:
            return
        reasons.append(f"{server}: {why}")
    fail(f"cannot reach Kafka at {bootstrap} ({'; '.join(reasons)}); is the stack running?", 2)


def require_api(api: str) -> None:
    """Exit 2 with one line unless the query API's host accepts a connection."""
    parts = urlsplit(api)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"bad --api {api!r}: http://HOST:PORT", 2)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    why = _reachable(parts.hostname, port)
    if why is not None:
        fail(f"cannot reach the query API at {api} ({why}); is the stack running?", 2)


def api_port(api: str) -> tuple[str, int]:
    """(host, port) of the query API URL, for the services beside it (port + 1, + 2)."""
    parts = urlsplit(api)
    if not parts.hostname:
        fail(f"bad --api {api!r}: http://HOST:PORT", 2)
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
