"""`cchc dlq list|replay`: read the dead letters on cchc.dlq, and send chosen ones back.

Reads the topic from the beginning with no consumer group, so looking never moves anyone's
offsets (`cchc_runtime.kafka_read.read_topic`: to the high-water mark, holes read again).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import orjson
import typer
from cchc_runtime.kafka_read import read_topic
from cchc_shared.dlq import DeadLetter, Reason, replay_topic
from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import RAW_PREFIX, Topic
from kafka import KafkaProducer
from pydantic import ValidationError
from pytimeparse.timeparse import timeparse
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cchc_cli.kafka_security import kafka_python_security

app = typer.Typer(help="Look at and replay dead letters (cchc.dlq).", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

Bootstrap = Annotated[
    str, typer.Option(envvar="CCHC_KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")
]


@dataclass(frozen=True)
class Entry:
    """One dead letter and where it sits on cchc.dlq."""

    partition: int
    offset: int
    letter: DeadLetter

    @property
    def ref(self) -> str:
        """`partition:offset` on cchc.dlq, as `--offset` accepts it."""
        return f"{self.partition}:{self.offset}"


def read_dead_letters(bootstrap_servers: str) -> tuple[list[Entry], int]:
    """Every envelope on cchc.dlq, and how many records there were not envelopes."""
    entries, unreadable = [], 0
    try:
        records = read_topic(bootstrap_servers, Topic.DLQ, security=kafka_python_security())
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    for record in records:
        try:
            letter = DeadLetter.model_validate_json(record.value)
        except ValidationError:
            unreadable += 1
            continue
        entries.append(Entry(record.partition, record.offset, letter))
    return entries, unreadable


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


def _province_of(letter: DeadLetter) -> str | None:
    """The 2025 province a dead letter came from, when its source says so."""
    topic = letter.source.topic
    if topic.startswith(RAW_PREFIX):
        return topic.removeprefix(RAW_PREFIX)
    if topic == Topic.VALIDATED:  # ingest keys cchc.validated by the current province code
        return letter.source.key
    return None


@dataclass(frozen=True)
class Filters:
    """Which dead letters to show or replay."""

    reasons: tuple[str, ...] = ()
    province: str | None = None
    since: datetime | None = None
    stages: tuple[str, ...] = ()
    offsets: tuple[str, ...] = ()
    limit: int | None = None

    def matches(self, entry: Entry) -> bool:
        """Whether `entry` passes every given filter."""
        letter = entry.letter
        if self.reasons and letter.reason.value not in self.reasons:
            return False
        if self.stages and letter.stage not in self.stages:
            return False
        if self.province is not None and _province_of(letter) != self.province:
            return False
        if self.since is not None and letter.rejected_at < self.since:
            return False
        return not self.offsets or any(
            o == entry.ref or o == str(entry.offset) for o in self.offsets
        )

    def select(self, entries: Iterable[Entry]) -> list[Entry]:
        """The matching entries, oldest first; with a limit, the most recent `limit` of them."""
        chosen = sorted(
            (e for e in entries if self.matches(e)),
            key=lambda e: (e.letter.rejected_at, e.partition, e.offset),
        )
        return chosen[-self.limit :] if self.limit else chosen


class Stage(StrEnum):
    """Pipeline stages that write dead letters."""

    INGEST = "ingest"
    NORMALIZE = "normalize"
    AGGREGATE = "aggregate"


class Format(StrEnum):
    """Output formats of `dlq list`."""

    TABLE = "table"
    JSON = "json"


ReasonOpt = Annotated[
    list[Reason] | None, typer.Option("--reason", help="Only this reason (repeatable).")
]
ProvinceOpt = Annotated[
    str | None, typer.Option(help="Only dead letters from province NN (its cchc.raw.NN topic).")
]
SinceOpt = Annotated[
    str | None, typer.Option(help="Only rejected since: 30m, 2h, 7d, or an ISO date/time.")
]
StageOpt = Annotated[list[Stage] | None, typer.Option("--stage", help="Only this stage.")]
LimitOpt = Annotated[int | None, typer.Option(min=1, help="At most N, the most recent.")]


def _filters(
    reason: list[Reason] | None,
    province: str | None,
    since: str | None,
    stage: list[Stage] | None,
    limit: int | None,
    offsets: list[str] | None = None,
) -> Filters:
    if province is not None and not (len(province) == 2 and province.isdigit()):
        raise typer.BadParameter("a two-digit 2025 province code", param_hint="--province")
    return Filters(
        reasons=tuple(r.value for r in reason or ()),
        province=province,
        since=parse_since(since) if since else None,
        stages=tuple(s.value for s in stage or ()),
        offsets=tuple(offsets or ()),
        limit=limit,
    )


def _first_error(letter: DeadLetter) -> str:
    if not letter.errors:
        return ""
    e = letter.errors[0]
    more = f" (+{len(letter.errors) - 1})" if len(letter.errors) > 1 else ""
    return f"{e.loc}: {e.msg}{more}"


def _preview(letter: DeadLetter, width: int = 60) -> str:
    text = letter.payload if letter.payload_encoding == "utf-8" else f"base64:{letter.payload}"
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else f"{text[: width - 1]}…"


def _as_json(entry: Entry) -> bytes:
    return orjson.dumps(
        {"dlq_partition": entry.partition, "dlq_offset": entry.offset}
        | entry.letter.model_dump(mode="json")
    )


@app.command("list")
def list_(
    bootstrap: Bootstrap = "127.0.0.1:9092",
    reason: ReasonOpt = None,
    province: ProvinceOpt = None,
    since: SinceOpt = None,
    stage: StageOpt = None,
    limit: LimitOpt = 50,
    fmt: Annotated[Format, typer.Option("--format", help="table, or one JSON per line")] = (
        Format.TABLE
    ),
) -> None:
    """Show dead letters: where they came from, why, and the start of their payload."""
    filters = _filters(reason, province, since, stage, limit)
    entries, unreadable = read_dead_letters(bootstrap)
    chosen = filters.select(entries)
    if fmt is Format.JSON:
        for entry in chosen:
            out.print(_as_json(entry).decode(), highlight=False, soft_wrap=True, markup=False)
    else:
        table = Table(title=f"cchc.dlq: {len(chosen)} of {len(entries)} dead letters")
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
            letter = entry.letter
            src = letter.source
            table.add_row(
                entry.ref,
                letter.rejected_at.strftime("%Y-%m-%d %H:%M:%S"),
                letter.stage,
                letter.reason.value,
                f"{src.topic}/{src.partition}/{src.offset}",
                escape(_first_error(letter)),
                escape(_preview(letter)),
            )
        out.print(table)
    if unreadable:
        console.print(f"[yellow]{unreadable} record(s) on cchc.dlq are not envelopes[/]")


@app.command()
def replay(
    bootstrap: Bootstrap = "127.0.0.1:9092",
    reason: ReasonOpt = None,
    province: ProvinceOpt = None,
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
) -> None:
    """Send chosen dead letters' original bytes, with their key, back to their province's raw topic.

    Never to an internal topic: ingest validates every replayed message again. A letter from
    cchc.validated goes to cchc.raw.<its key>; any other source, or a truncated payload, is
    refused (one line each). Safe to repeat: delivery is at least once anyway, and duplicates
    never count twice.
    """
    for o in offset or ():
        if not re.fullmatch(r"(\d+:)?\d+", o):
            raise typer.BadParameter(
                f"{o!r} is not PARTITION:OFFSET or OFFSET", param_hint="--offset"
            )
    filters = _filters(reason, province, since, stage, limit, offset)
    if not (filters.reasons or filters.province or filters.since or filters.stages or offset):
        raise typer.BadParameter(
            "choose what to replay: --reason, --province, --since, --stage or --offset"
        )
    entries, _ = read_dead_letters(bootstrap)
    chosen = filters.select(entries)
    verb = "would replay" if dry_run else "replayed"
    targets, refused = _targets(chosen)
    for entry, why in refused:
        out.print(f"refused cchc.dlq {entry.ref}: {why}", highlight=False, markup=False)
    producer = None if dry_run or not targets else _producer(bootstrap)
    try:
        futures = []
        for entry, topic, payload in targets:
            if producer is not None:
                key = entry.letter.source.original_key()
                futures.append(producer.send(topic, value=payload, key=key))
        if producer is not None:
            producer.flush()
            for future in futures:
                future.get(timeout=30)
    finally:
        if producer is not None:
            producer.close()
    for entry, topic, _ in targets:
        src = entry.letter.source
        out.print(
            f"{verb} cchc.dlq {entry.ref} ({entry.letter.reason.value}) → {topic} key={src.key!r}",
            highlight=False,
            markup=False,
        )
    out.print(
        f"{verb} {len(targets)} dead letter(s)" + (f", refused {len(refused)}" if refused else ""),
        highlight=False,
    )


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
            topic = replay_topic(entry.letter.source, provinces)
            payload = entry.letter.original_bytes()
        except ValueError as exc:
            refused.append((entry, str(exc)))
            continue
        targets.append((entry, topic, payload))
    return targets, refused


def _producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        client_id="cchc-dlq-replay",
        **kafka_python_security(),
    )


__all__ = ["Entry", "Filters", "app", "parse_since", "read_dead_letters"]
