"""Wires rows → ClickHouse: one insert per table per batch, committed only once acknowledged.

Failure handling (CONTRACT §4, PLATFORM "Dedup"):

* a payload that is not a canonical record → DLQ ``schema_violation`` (stage ``aggregate``);
* rows ClickHouse refuses (a value that does not fit its column) → found by bisecting the batch
  (:mod:`cchc_aggregate.steps.rejects`), DLQ ``storage_rejected``; the rest is inserted;
* anything else (connection, server) → retried with backoff, forever, without committing: the lag
  grows, nothing is lost. Every insert carries a deduplication token derived from the batch's
  offsets, so a batch redelivered after a crash between insert and commit is not stored twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from cchc_runtime.kafka import Outgoing, Record, dedup_token
from cchc_runtime.service import KafkaService
from cchc_shared.dlq import ErrorDetail, Reason

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.errors import is_data_error
from cchc_aggregate.steps.rejects import InsertRange, insert_isolating
from cchc_aggregate.steps.rows import Columns, to_columns

log = logging.getLogger(__name__)


class AggregateHandler:
    """Inserts each batch; retries ClickHouse errors with backoff without committing."""

    def __init__(self, service: KafkaService, store: Store, max_backoff_s: float = 30.0) -> None:
        self.service = service
        self.store = store
        self.max_backoff_s = max_backoff_s

    async def __call__(self, records: list[Record]) -> None:
        """Insert the batch; returns once ClickHouse acknowledged it (then the offset commits)."""
        columns = to_columns([(r.value, r.timestamp_ms) for r in records])
        token = dedup_token(records)
        attempt = 0
        while True:
            try:
                rejected = await asyncio.to_thread(self.insert, columns, token)
                break
            except Exception as exc:
                # Not committing: the batch stays unacknowledged, the lag grows, nothing is lost.
                self.service.metrics.insert_errors.labels(service=self.service.name).inc()
                attempt += 1
                delay = min(0.5 * 2 ** (attempt - 1), self.max_backoff_s)
                log.warning(
                    "ClickHouse insert failed (%s); retry %d in %.1fs",
                    exc,
                    attempt,
                    delay,
                    extra={"attempt": attempt},
                )
                await asyncio.sleep(delay)
        self._observe_queryable(records)
        letters = [
            *self._letters(records, columns.invalid, Reason.SCHEMA_VIOLATION),
            *self._letters(records, rejected, Reason.STORAGE_REJECTED),
        ]
        if letters:
            await self.service.publish(letters)
            self.service.metrics.dead_lettered.labels(service=self.service.name).inc(len(letters))
        metrics = self.service.metrics
        metrics.accepted.labels(service=self.service.name).inc(len(records) - len(letters))

    def insert(self, columns: Columns, token: str) -> list[tuple[int, str]]:
        """Insert both tables' rows; returns ``(record index, error)`` of the rows refused.

        Synchronous (runs in a worker thread). Raises on infrastructure errors only.
        """
        rejected: list[tuple[int, str]] = []
        for table, rows, origin, suffix in (
            ("observations", columns.observations, columns.observation_records, "o"),
            ("dossier_events", columns.dossiers, columns.dossier_records, "d"),
        ):
            refused = insert_isolating(
                len(origin), self._range_inserter(table, rows, f"{token}#{suffix}"), is_data_error
            )
            for row, message in refused:
                log.warning("%s refused row from record %d: %s", table, origin[row], message)
                rejected.append((origin[row], message))
        return sorted(rejected)

    def _range_inserter(self, table: str, rows: dict[str, list[Any]], token: str) -> InsertRange:
        count = len(next(iter(rows.values())))

        metrics, labels = self.service.metrics, {"service": self.service.name}

        def insert(lo: int, hi: int) -> None:
            started = time.perf_counter()
            if (lo, hi) == (0, count):
                self.store.insert(table, rows, token)
            else:
                # A part's token is a function of the batch's token and the part's range, both
                # deterministic, so a redelivered batch bisects to the same tokens and dedups.
                part = {name: values[lo:hi] for name, values in rows.items()}
                self.store.insert(table, part, f"{token}[{lo}:{hi}]")
            metrics.insert_duration.labels(**labels).observe(time.perf_counter() - started)
            metrics.insert_rows.labels(**labels, table=table).inc(hi - lo)

        return insert

    def _observe_queryable(self, records: list[Record]) -> None:
        """Push-to-queryable latency: Kafka record timestamp → insert acknowledged (now)."""
        now_ms = time.time() * 1000
        histogram = self.service.metrics.push_to_queryable.labels(service=self.service.name)
        for record in records:
            histogram.observe(max(now_ms - record.timestamp_ms, 0.0) / 1000)

    def _letters(
        self, records: list[Record], failures: list[tuple[int, str]], reason: Reason
    ) -> list[Outgoing]:
        return [
            self.service.dead_letter(records[i], reason, [ErrorDetail(loc="$", msg=msg[:2000])])
            for i, msg in failures
        ]
