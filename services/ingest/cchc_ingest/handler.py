"""Wires the validate step: raw in; validated and dead letters out, in one durable send."""

from __future__ import annotations

import logging

from cchc_runtime.kafka import Outgoing, Record
from cchc_runtime.service import KafkaService
from cchc_shared import dlq
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.topics import Topic, province_of_raw_topic

from cchc_ingest.steps.validate import Accepted, validate

log = logging.getLogger(__name__)


class IngestHandler:
    """Validates each record of a batch; good ones to cchc.validated, the rest to cchc.dlq."""

    def __init__(self, service: KafkaService, registry: ProvinceRegistry) -> None:
        self.service = service
        self.registry = registry

    async def __call__(self, records: list[Record]) -> None:
        """Process a batch; returns once every output message is acknowledged by Kafka."""
        out: list[Outgoing] = []
        metrics, name = self.service.metrics, self.service.name
        accepted = 0
        for record in records:
            result = validate(record.value, province_of_raw_topic(record.topic), self.registry)
            if isinstance(result, Accepted):
                # Forward the original bytes: normalize re-reads them, nothing is rewritten.
                out.append((Topic.VALIDATED, result.province.encode(), record.value))
                accepted += 1
                continue
            letter = dlq.dead_letter(
                stage="ingest",
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
            log.info(
                "rejected: %s",
                result.reason.value,
                extra={
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "reason": result.reason.value,
                },
            )
        await self.service.output.send_all(out)
        metrics.accepted.labels(service=name).inc(accepted)
        if len(records) - accepted:
            metrics.dead_lettered.labels(service=name).inc(len(records) - accepted)
