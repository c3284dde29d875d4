"""Helpers for ingest's integration tests: send with offsets, read dead letters, read metrics."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from cchc_devstack.stack import HOST
from cchc_runtime.kafka_read import read_topic
from cchc_shared.dlq import DeadLetter
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from tests import events
from tests.conftest import RunningStack, wait_until


def report(event_id: str, **fields: Any) -> dict[str, Any]:
    """A valid indicator report of Sơn La (14) for 2017-Q1, as a provincial system writes it."""
    return events.report(event_id=event_id, **fields)


def dumps(event: dict[str, Any]) -> bytes:
    """JSON bytes of an event."""
    return orjson.dumps(event)


def send(
    stack: RunningStack, topic: str, payloads: list[bytes], keys: list[bytes | None] | None = None
) -> list[int]:
    """Produce in order (acks=all) and return each message's offset (all on partition 0)."""
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=20)
    try:
        futures = [
            producer.send(topic, value=p, key=keys[i] if keys else None)
            for i, p in enumerate(payloads)
        ]
        producer.flush()
        metadata = [f.get(timeout=30) for f in futures]
    finally:
        producer.close()
    assert {m.partition for m in metadata} <= {0}
    return [m.offset for m in metadata]


def letters_from(stack: RunningStack, topic: str) -> dict[int, list[DeadLetter]]:
    """Ingest's dead letters of messages read from `topic`, by source offset."""
    found: dict[int, list[DeadLetter]] = {}
    for record in read_topic(stack.bootstrap, "cchc.dlq"):
        try:
            letter = DeadLetter.model_validate_json(record.value)
        except ValidationError:
            continue  # other tests write forged records to cchc.dlq
        if letter.stage == "ingest" and letter.source.topic == topic:
            found.setdefault(letter.source.offset, []).append(letter)
    return found


def wait_letters(
    stack: RunningStack, topic: str, offsets: list[int], timeout_s: float = 60
) -> dict[int, DeadLetter]:
    """Wait until each of `offsets` of `topic` has a dead letter; one per offset."""

    def ready() -> dict[int, list[DeadLetter]] | None:
        found = letters_from(stack, topic)
        return found if all(o in found for o in offsets) else None

    found = wait_until(ready, timeout_s=timeout_s, interval_s=0.3)
    return {o: found[o][0] for o in offsets}


def validated_payloads(stack: RunningStack, province: str) -> list[bytes]:
    """Values on cchc.validated keyed by current province `province`."""
    key = province.encode()
    return [r.value for r in read_topic(stack.bootstrap, "cchc.validated") if r.key == key]


def metrics(
    stack: RunningStack, service: str = "ingest"
) -> dict[tuple[str, frozenset[Any]], float]:
    """A service's /metrics samples: (name, labels) → value."""
    port = stack.config.ports()[service]
    text = httpx.get(f"http://{HOST}:{port}/metrics", timeout=5).text
    samples: dict[tuple[str, frozenset[Any]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            # Every series also names its instance (docs/runbook.md "Several instances per
            # service"); samples are looked up by their other labels.
            labels = frozenset((k, v) for k, v in s.labels.items() if k != "instance")
            samples[(s.name, labels)] = s.value
    return samples


def metric(stack: RunningStack, name: str, **labels: str) -> float:
    """One sample of ingest's /metrics (0 when absent)."""
    key = (name, frozenset({"service": "ingest", **labels}.items()))
    return metrics(stack).get(key, 0.0)
