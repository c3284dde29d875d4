"""A load for fault tests: distinct dossier events across all 34 provinces, pushed in the
background while a test breaks things, then counted exactly in ClickHouse.

Each event has its own `event_id` under a run's prefix; `dossier_events` is deduplicated by
`(province, dossier_id, event_id)`, so after the faults the `FINAL` count must equal what was
pushed — no fewer (lost) and no more (double-counted) — whatever was re-read meanwhile.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import orjson
from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import raw_topic
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests import events


def provinces() -> list[str]:
    """The 34 post-2025 province codes."""
    return sorted(u.code for u in default_registry().units(Era.POST_2025))


def dossier_events(prefix: str, n: int) -> list[tuple[str, bytes, bytes]]:
    """`n` distinct received-dossier events round-robin over the provinces:
    (topic, key, payload)."""
    codes = provinces()
    out = []
    for i in range(n):
        code = codes[i % len(codes)]
        event_id = f"{prefix}-{i}"
        payload = events.dossier_event(
            event_id=event_id, province=code, dossier_id=f"{prefix}-D{i}"
        )
        out.append((raw_topic(code), event_id.encode(), orjson.dumps(payload)))
    return out


@dataclass
class Pusher:
    """Sends `messages` in the background, `per_second` at most, until all are acknowledged."""

    bootstrap: str
    messages: list[tuple[str, bytes, bytes]]
    per_second: float = 2000.0
    sent: int = 0
    error: BaseException | None = None
    failed: list[tuple[int, BaseException]] = field(default_factory=list, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> Pusher:
        self._thread = threading.Thread(target=self._run, name="pusher", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            producer = KafkaProducer(
                bootstrap_servers=self.bootstrap,
                acks="all",
                linger_ms=5,
                retries=2**31 - 1,  # through a broker outage: wait, never drop
                request_timeout_ms=120_000,
                delivery_timeout_ms=600_000,
                max_in_flight_requests_per_connection=1,
            )
            try:
                started = time.monotonic()
                for i, (topic, key, value) in enumerate(self.messages):
                    future = producer.send(topic, key=key, value=value)
                    future.add_errback(lambda exc, i=i: self.failed.append((i, exc)))
                    ahead = i / self.per_second - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                producer.flush()
                self.sent = len(self.messages)
            finally:
                producer.close()
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self, timeout_s: float = 300) -> int:
        """Wait until every message was acknowledged; returns how many."""
        assert self._thread is not None
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError(f"the pusher did not finish in {timeout_s}s")
        if self.error is not None:
            raise self.error
        if self.failed:
            i, exc = self.failed[0]
            raise AssertionError(
                f"{len(self.failed)} of {len(self.messages)} sends failed, the first "
                f"(message {i}) with {exc!r}"
            )
        return self.sent


def landed(stack: object, prefix: str) -> tuple[int, int]:
    """(rows after deduplication, distinct event ids) of the run `prefix` in dossier_events
    (every run's with an empty prefix)."""
    where = f"WHERE startsWith(event_id, '{prefix}-')" if prefix else ""
    rows = stack.sql(  # type: ignore[attr-defined]
        f"SELECT count(), uniqExact(event_id) FROM dossier_events FINAL {where}"
    )
    count, distinct = rows[0]
    return int(count), int(distinct)


def folded(stack: object, prefix: str) -> tuple[int, int, int, int]:
    """What the fold made of the stored events (docs/architecture.md "The fold"): (the run's
    dossiers in `dossier_state`, in `dossier_scores`, receipts counted in
    `service_province_daily`, dossiers with a receipt in `dossier_events`). Once the fold has
    caught up, the first two are the run's distinct dossiers and the last two are equal."""
    rows = stack.sql(  # type: ignore[attr-defined]
        "SELECT "
        f"(SELECT count() FROM dossier_state WHERE startsWith(dossier_id, '{prefix}-')), "
        f"(SELECT count() FROM dossier_scores WHERE startsWith(dossier_id, '{prefix}-')), "
        "(SELECT sum(received) FROM service_province_daily), "
        "(SELECT uniqExact(province, unit_key, dossier_id) FROM dossier_events "
        "WHERE status = 'received')"
    )
    state, scores, counted, received = rows[0]
    return int(state), int(scores), int(counted), int(received)


def missing(stack: object, prefix: str, n: int) -> list[str]:
    """The run's event ids (of `n` pushed) that are not in dossier_events."""
    rows = stack.sql(  # type: ignore[attr-defined]
        f"SELECT DISTINCT event_id FROM dossier_events WHERE startsWith(event_id, '{prefix}-')"
    )
    present = {r[0] for r in rows}
    return [f"{prefix}-{i}" for i in range(n) if f"{prefix}-{i}" not in present]


def trace(bootstrap: str, ids: list[str]) -> dict[str, list[str]]:
    """For a failure message: in which topics (with partition and offset) each of `ids` is."""
    wanted = {i.encode() for i in ids}
    found: dict[str, list[str]] = {i: [] for i in ids}
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000
    )
    try:
        topics = sorted(t for t in consumer.topics() if t.startswith("cchc."))
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        for record in consumer:
            value = record.value or b""
            for w in wanted:
                if b'"' + w + b'"' in value:
                    found[w.decode()].append(f"{record.topic}/{record.partition}@{record.offset}")
    finally:
        consumer.close()
    return found
