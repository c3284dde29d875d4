"""Wires the canonicalize step: cchc.validated in, cchc.normalized and dead letters out."""

from __future__ import annotations

from datetime import date

from cchc_runtime.kafka import Outgoing, Record
from cchc_runtime.service import KafkaService
from cchc_shared import dlq
from cchc_shared.canonical import Observation
from cchc_shared.topics import Topic

from cchc_normalize.steps.canonicalize import Reference, Rejected, canonicalize


class NormalizeHandler:
    """Canonicalizes each record of a batch, sends all output in one durable send."""

    def __init__(self, service: KafkaService, reference: Reference) -> None:
        self.service = service
        self.reference = reference

    async def __call__(self, records: list[Record]) -> None:
        """Process a batch; returns once every output message is acknowledged by Kafka."""
        out: list[Outgoing] = []
        metrics, name = self.service.metrics, self.service.name
        today = date.today()
        rejected = 0
        for record in records:
            result = canonicalize(record.value, self.reference, today)
            if isinstance(result, Rejected):
                rejected += 1
                letter = dlq.dead_letter(
                    stage="normalize",
                    reason=result.reason,
                    errors=result.errors,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key,
                    payload=record.value,
                )
                out.append((Topic.DLQ, record.key, dlq.encode(letter)))
                metrics.rejected.labels(service=name, reason=result.reason.value).inc()
                continue
            # Key: the events of one dossier, or the versions of one figure, stay in order.
            natural = (
                f"{result.indicator}|{result.period}|{result.unit_key}"
                if isinstance(result, Observation)
                else f"{result.province}|{result.dossier_id}"
            )
            out.append((Topic.NORMALIZED, natural.encode(), result.model_dump_json().encode()))
        await self.service.output.send_all(out)
        metrics.accepted.labels(service=name).inc(len(records) - rejected)
        if rejected:
            metrics.dead_lettered.labels(service=name).inc(rejected)
