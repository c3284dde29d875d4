"""Wires rows → ClickHouse: one insert per table per batch, committed only once acknowledged."""

from __future__ import annotations

import asyncio
import logging

from cchc_runtime.kafka import Outgoing, Record, dedup_token
from cchc_runtime.service import KafkaService
from cchc_shared import dlq
from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.topics import Topic

from cchc_aggregate.steps.rows import Columns, to_columns
from cchc_aggregate.store import Store

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
                await asyncio.to_thread(self._insert, columns, token)
                break
            except Exception as exc:
                # Not committing: the batch stays unacknowledged, the lag grows, nothing is lost.
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
        await self._dead_letter_invalid(records, columns.invalid)
        metrics = self.service.metrics
        metrics.accepted.labels(service=self.service.name).inc(len(records) - len(columns.invalid))

    def _insert(self, columns: Columns, token: str) -> None:
        if columns.observation_count:
            self.store.insert("observations", columns.observations, f"{token}#o")
        if columns.dossier_count:
            self.store.insert("dossier_events", columns.dossiers, f"{token}#d")

    async def _dead_letter_invalid(
        self, records: list[Record], invalid: list[tuple[int, str]]
    ) -> None:
        if not invalid:
            return
        out: list[Outgoing] = []
        for index, message in invalid:
            r = records[index]
            letter = dlq.dead_letter(
                stage="aggregate",
                reason=Reason.SCHEMA_VIOLATION,
                errors=[ErrorDetail(loc="$", msg=message[:2000])],
                topic=r.topic,
                partition=r.partition,
                offset=r.offset,
                key=r.key,
                payload=r.value,
            )
            out.append((Topic.DLQ, r.key, dlq.encode(letter)))
        await self.service.output.send_all(out)
        self.service.metrics.dead_lettered.labels(service=self.service.name).inc(len(out))
