"""`cchc push`: JSON-lines events to their province's `cchc.raw.NN` topic, with kafka-python."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.topics import raw_topic
from cchc_shared.validation import event_date, province_candidates
from kafka import KafkaProducer

from cchc_cli.kafka_security import kafka_python_security


@dataclass
class Failure:
    """A line that could not be sent, and why."""

    source: str
    line: int
    reason: str


@dataclass
class PushReport:
    """What a push did."""

    sent: int = 0
    failures: list[Failure] = field(default_factory=list)
    schemas: dict[str, int] = field(default_factory=dict)
    """How many of the sent events declared each schema ("?" when none could be read)."""

    def kinds(self) -> str:
        """What was sent, in words: "25 indicator reports, 2 dossier events"."""
        words = {
            "cchc.indicator_report/1": ("indicator report", "indicator reports"),
            "cchc.dossier_event/1": ("dossier event", "dossier events"),
            "?": ("unreadable line", "unreadable lines"),
        }
        parts = []
        for schema, n in sorted(self.schemas.items(), key=lambda kv: (-kv[1], kv[0])):
            one, many = words.get(schema, (f"{schema} event", f"{schema} events"))
            parts.append(f"{n} {one if n == 1 else many}")
        return ", ".join(parts)


def route(event: dict[str, Any], registry: ProvinceRegistry) -> str:
    """The raw topic of the event's province (read against its date); ValueError if none."""
    ref = event.get("province")
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise ValueError("no 'province' to route by")
    units = province_candidates(registry, ref, event_date(event))
    if not units:
        raise ValueError(f"province {ref!r} names no province")
    # Without a readable date there may be one candidate per era; they belong to the same 2025
    # province whichever is taken (tests/unit/shared/test_validation.py checks every name).
    return raw_topic(registry.successor(units[0]).code)


def read_lines(name: str, stream: IO[bytes]) -> Iterator[tuple[str, int, bytes]]:
    """(source name, line number, line) for each non-blank line."""
    for number, line in enumerate(stream, start=1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield name, number, line


def push(
    lines: Iterable[tuple[str, int, bytes]],
    producer: KafkaProducer,
    registry: ProvinceRegistry,
    *,
    province: str | None = None,
    on_progress: Callable[[int], None] = lambda _: None,
) -> PushReport:
    """Send each line to its province's topic (or to `province`'s); waits for every ack.

    A line that is not JSON is still sent when `province` names the topic (ingest will
    dead-letter it with its reason); without a topic to route to, it is reported as failed.
    """
    report = PushReport()
    pending: list[tuple[str, int, Any, str]] = []
    for source, number, line in lines:
        try:
            if province is not None:
                topic = raw_topic(province)
                event = _loads_or_none(line)
            else:
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise ValueError(f"line {number} is not JSON") from None
                if not isinstance(event, dict):
                    raise ValueError(f"line {number} is not a JSON object")
                topic = route(event, registry)
        except ValueError as exc:
            report.failures.append(Failure(source, number, str(exc)))
            on_progress(1)
            continue
        key = None
        if isinstance(event, dict):
            k = event.get("dossier_id") or event.get("feedback_id") or event.get("event_id")
            key = str(k).encode() if k is not None else None
        try:
            future = producer.send(topic, value=line, key=key)
        except Exception as exc:  # e.g. larger than the producer's max_request_size
            report.failures.append(Failure(source, number, f"not sent: {exc}"))
            on_progress(1)
            continue
        schema = event.get("schema") if isinstance(event, dict) else None
        pending.append((source, number, future, schema if isinstance(schema, str) else "?"))
        if len(pending) >= 5000:
            _settle(pending, report, on_progress)
    producer.flush()
    _settle(pending, report, on_progress)
    return report


def _loads_or_none(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None


def _settle(
    pending: list[tuple[str, int, Any, str]], report: PushReport, tick: Callable[[int], None]
) -> None:
    for source, number, future, schema in pending:
        try:
            future.get(timeout=30)
            report.sent += 1
            report.schemas[schema] = report.schemas.get(schema, 0) + 1
        except Exception as exc:
            report.failures.append(Failure(source, number, f"not delivered: {exc}"))
        tick(1)
    pending.clear()


def producer(bootstrap_servers: str) -> KafkaProducer:
    """An idempotent kafka-python producer with acks=all."""
    return KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        client_id="cchc-push",
        **kafka_python_security(),
    )
