"""`cchc dlq list|replay`: look at dead letters, and send chosen ones back to be validated again.

Both read the dead letters from ClickHouse (table `dead_letters`, which aggregate fills from
cchc.dlq) through the query API's GET /v1/dead-letters with the operator token (CCHC_TOKEN,
--token-file, or the stack's own `<data-dir>/secrets/operator.token`): they outlive the
memory-only embedded broker, and the selection is made by the database. `replay` then produces
the original bytes to the raw topic of the province they came from — never to an internal topic
(docs/security.md "Dead letters"). An unreachable API or broker is a one-line error, exit 2.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import orjson
import typer
from cchc_runtime.tokens import Role
from cchc_shared.dlq import DeadLetter, Reason, replay_topic
from cchc_shared.provinces import Era, default_registry
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import ValidationError
from pytimeparse.timeparse import timeparse
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cchc_cli import credentials
from cchc_cli.credentials import DataDirOption, TokenFileOption
from cchc_cli.kafka_security import kafka_python_security
from cchc_cli.options import (
    DEFAULT_API,
    DEFAULT_BOOTSTRAP,
    ApiOption,
    BootstrapOption,
    Format,
    FormatOption,
    ProvinceOption,
    fail,
    require_kafka,
)

app = typer.Typer(help="Look at and replay dead letters (cchc.dlq).", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


@dataclass(frozen=True)
class Entry:
    """One dead letter as GET /v1/dead-letters gives it, and where it sits on cchc.dlq."""

    partition: int
    offset: int
    row: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Entry:
        """An entry from one row of the API's answer."""
        return cls(int(row["dlq_partition"]), int(row["dlq_offset"]), row)

    @property
    def ref(self) -> str:
        """`partition:offset` on cchc.dlq, as `--offset` accepts it."""
        return f"{self.partition}:{self.offset}"

    @property
    def rejected_at(self) -> str | None:
        """When it was rejected (ISO)."""
        value = self.row.get("rejected_at")
        return str(value) if value is not None else None

    def letter(self) -> DeadLetter:
        """The envelope; ValueError when the record was not one (stage `unreadable`)."""
        if self.row.get("stage") == Stage.UNREADABLE:
            raise ValueError("not a dead-letter envelope: nothing to replay")
        try:
            return DeadLetter.model_validate(self.row)
        except ValidationError as exc:
            raise ValueError(f"not a dead-letter envelope: {exc}") from None

    def key(self) -> bytes | None:
        """The source key exactly as it was received."""
        return self.letter().source.original_key()


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `7d`, `1h30m` (ago), or an ISO date/time (UTC when it has no offset)."""
    seconds = timeparse(text.strip())
    if seconds is not None and seconds >= 0:
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a duration (30m, 2h, 7d) nor an ISO date/time",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Stage(StrEnum):
    """Pipeline stages that write dead letters (`unreadable`: a record of cchc.dlq that was not
    an envelope, kept as it was)."""

    INGEST = "ingest"
    NORMALIZE = "normalize"
    AGGREGATE = "aggregate"
    UNREADABLE = "unreadable"


ReasonOpt = Annotated[
    list[Reason] | None, typer.Option("--reason", help="Only this reason (repeatable).")
]
SinceOpt = Annotated[
    str | None, typer.Option(help="Only rejected since: 30m, 2h, 7d, or an ISO date/time.")
]
StageOpt = Annotated[list[Stage] | None, typer.Option("--stage", help="Only this stage.")]
LimitOpt = Annotated[int | None, typer.Option(min=1, max=1000, help="At most N, the most recent.")]


def _params(
    reason: list[Reason] | None,
    province: str | None,
    since: str | None,
    stage: list[Stage] | None,
    limit: int,
    offsets: list[str] | None = None,
) -> dict[str, Any]:
    """The query of GET /v1/dead-letters for these options."""
    for o in offsets or ():
        if not re.fullmatch(r"(\d+:)?\d+", o):
            raise typer.BadParameter(
                f"{o!r} is not PARTITION:OFFSET or OFFSET", param_hint="--offset"
            )
    params: dict[str, Any] = {"limit": limit}
    if reason:
        params["reason"] = [r.value for r in reason]
    if province is not None:
        params["province"] = province
    if since:
        params["since"] = parse_since(since).isoformat()
    if stage:
        params["stage"] = [s.value for s in stage]
    if offsets:
        params["ref"] = list(offsets)
    return params


def _fetch(api: str, params: dict[str, Any], auth: dict[str, str]) -> tuple[list[Entry], int]:
    """The dead letters GET /v1/dead-letters gives (oldest first), and how many matched.

    Unreachable API, refused token, or an error → one line on stderr, exit 2 (1 for an error
    the API answered)."""
    url = f"{api.rstrip('/')}/v1/dead-letters"
    try:
        response = httpx.get(url, params=params, headers=auth, timeout=60)
    except httpx.HTTPError as exc:
        _fail(f"cannot reach the query API at {api}: {exc or type(exc).__name__}", 2)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.is_error:
        error = body.get("error", response.status_code) if isinstance(body, dict) else ""
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        _fail(f"the query API answered {response.status_code} {error}: {detail}", 1)
    return [Entry.from_row(row) for row in body["rows"]], int(body["matched"])


def _fail(message: str, code: int) -> NoReturn:
    fail(message, code)


def _first_error(entry: Entry) -> str:
    errors = entry.row.get("errors") or []
    if not errors:
        return ""
    e = errors[0]
    total = entry.row.get("errors_total") or len(errors)
    more = f" (+{total - 1})" if total > 1 else ""
    return f"{e['loc']}: {e['msg']}{more}"


def _preview(entry: Entry, width: int = 60) -> str:
    row = entry.row
    text = row["payload"] if row["payload_encoding"] == "utf-8" else f"base64:{row['payload']}"
    text = text.replace("\n", "\\n")
    cut = len(text) > width or row.get("payload_truncated")
    text = text[: width - 1] if len(text) > width else text
    return f"{text}… ({row['payload_bytes']} bytes)" if cut else text


@app.command("list")
def list_(
    api: ApiOption = DEFAULT_API,
    reason: ReasonOpt = None,
    province: ProvinceOption = None,
    since: SinceOpt = None,
    stage: StageOpt = None,
    limit: LimitOpt = 50,
    fmt: FormatOption = Format.TABLE,
    token_file: TokenFileOption = None,
    data_dir: DataDirOption = Path("var"),
) -> None:
    """Show dead letters stored in ClickHouse: where they came from, why, their payload's start.

    Read through the query API (GET /v1/dead-letters) with the operator token.
    """
    params = _params(reason, province, since, stage, limit or 50)
    params["preview"] = fmt is Format.TABLE
    auth = credentials.headers(Role.OPERATOR, token_file, data_dir)
    chosen, matched = _fetch(api, params, auth)
    if fmt is Format.JSON:  # one JSON object per line
        for entry in chosen:
            out.print(
                orjson.dumps(entry.row).decode(), highlight=False, soft_wrap=True, markup=False
            )
        return
    if fmt is Format.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["ref", "rejected_at", "stage", "reason", "province", "source",
                         "first_error", "payload"])  # fmt: skip
        for entry in chosen:
            src = entry.row["source"]
            source = f"{src['topic']}/{src['partition']}/{src['offset']}"
            writer.writerow(
                [entry.ref, entry.rejected_at or "", entry.row["stage"], entry.row["reason"],
                 entry.row.get("province") or "", source, _first_error(entry), _preview(entry)]
            )  # fmt: skip
        return
    table = Table(title=f"cchc.dlq: {len(chosen)} of {matched} dead letters")
    # Offset, stage and reason never wrap (people grep and copy them); the rest folds.
    for column, no_wrap in [
        ("offset", True),
        ("time", False),
        ("stage", True),
        ("reason", True),
        ("source", False),
        ("first error", False),
        ("payload", False),
    ]:
        table.add_column(column, no_wrap=no_wrap, overflow="fold")
    for entry in chosen:
        src = entry.row["source"]
        table.add_row(
            entry.ref,
            (entry.rejected_at or "")[:19].replace("T", " "),
            entry.row["stage"],
            entry.row["reason"],
            f"{src['topic']}/{src['partition']}/{src['offset']}",
            escape(_first_error(entry)),
            escape(_preview(entry)),
        )
    out.print(table)


@app.command()
def replay(
    api: ApiOption = DEFAULT_API,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    reason: ReasonOpt = None,
    province: ProvinceOption = None,
    since: SinceOpt = None,
    stage: StageOpt = None,
    limit: LimitOpt = None,
    offset: Annotated[
        list[str] | None,
        typer.Option("--offset", help="Only this cchc.dlq entry: PARTITION:OFFSET or OFFSET."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be sent.")] = (
        False
    ),
    token_file: TokenFileOption = None,
    data_dir: DataDirOption = Path("var"),
) -> None:
    """Send chosen dead letters' original bytes, with their key, back to their province's raw topic.

    The letters are read from ClickHouse (as `dlq list`); the bytes go to Kafka. Never to an
    internal topic: ingest validates every replayed message again. A letter from
    cchc.validated goes to cchc.raw.<its key>; any other source, a truncated payload (over
    64 KiB: ingest would refuse it as oversized anyway), or a record that was not an envelope
    is refused (one line each). Safe to repeat: delivery is at least once anyway, and
    duplicates never count twice.
    """
    if not (reason or province or since or stage or offset):
        raise typer.BadParameter(
            "choose what to replay: --reason, --province, --since, --stage or --offset"
        )
    params = _params(reason, province, since, stage, limit or MAX_REPLAY, offset)
    auth = credentials.headers(Role.OPERATOR, token_file, data_dir)
    chosen, matched = _fetch(api, params, auth)
    verb = "would replay" if dry_run else "replayed"
    targets, refused = _targets(chosen)
    for entry, why in refused:
        out.print(f"refused cchc.dlq {entry.ref}: {why}", highlight=False, markup=False)
    if targets and not dry_run:
        _send(bootstrap, [(topic, entry.key(), payload) for entry, topic, payload in targets])
    for entry, topic, _ in targets:
        out.print(
            f"{verb} cchc.dlq {entry.ref} ({entry.row['reason']}) → {topic} "
            f"key={entry.row['source']['key']!r}",
            highlight=False,
            markup=False,
        )
    out.print(
        f"{verb} {len(targets)} dead letter(s)" + (f", refused {len(refused)}" if refused else ""),
        highlight=False,
    )
    if matched > len(chosen):
        out.print(
            f"{matched - len(chosen)} more matched: only the most recent {len(chosen)} were taken",
            highlight=False,
        )


MAX_REPLAY = 1000
"""Dead letters one `replay` takes at most (the API's largest page)."""


def _targets(
    chosen: list[Entry],
) -> tuple[list[tuple[Entry, str, bytes]], list[tuple[Entry, str]]]:
    """Where each chosen letter goes, with its bytes; or why it is refused.

    Only back to the raw topic of the province it came from (`dlq.replay_topic`), so ingest
    validates it again; and only whole messages (a truncated payload cannot be replayed).
    """
    provinces = {u.code for u in default_registry().units(Era.POST_2025)}
    targets: list[tuple[Entry, str, bytes]] = []
    refused: list[tuple[Entry, str]] = []
    for entry in chosen:
        try:
            letter = entry.letter()
            topic = replay_topic(letter.source, provinces)
            payload = letter.original_bytes()
        except ValueError as exc:
            refused.append((entry, str(exc).splitlines()[0]))
            continue
        targets.append((entry, topic, payload))
    return targets, refused


def _send(bootstrap: str, messages: list[tuple[str, bytes | None, bytes]]) -> None:
    """Produce every message durably; a one-line error (exit 2) when Kafka cannot be reached."""
    require_kafka(bootstrap)
    producer = None
    try:
        producer = _producer(bootstrap)
        futures = [producer.send(topic, value=value, key=key) for topic, key, value in messages]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    except (KafkaError, OSError) as exc:
        _fail(f"cannot send to Kafka at {bootstrap}: {type(exc).__name__}: {exc}", 2)
    finally:
        if producer is not None:
            producer.close(timeout=5)


def _producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        client_id="cchc-dlq-replay",
        **kafka_python_security(),
    )


__all__ = ["Entry", "app", "parse_since"]
