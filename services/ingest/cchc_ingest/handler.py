"""Wires the steps: raw in; validated and dead letters out, in one durable send.

Per batch: each record is validated (steps/validate.py) and its outcome fed to the dead-letter
limit (steps/dlq_limit.py). Good events go to cchc.validated keyed by their current province, bad
ones to cchc.dlq; both in one `send_all` that returns only once Kafka has them all, so the offsets
FastStream commits afterwards never run ahead of a durable output.

When a province trips the limit, its messages from the tripping one on are held back: not
processed, their partition sought back to the first of them (so the commit after this batch stops
there) and paused; after the cool-down the partition is resumed and re-read from that message.
Restarting the service also resumes it at once, from the same committed offset.
"""

from __future__ import annotations

import asyncio
import logging

from cchc_runtime.kafka import Outgoing, Record
from cchc_runtime.service import KafkaService
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.topics import Topic, province_of_raw_topic, raw_topic

from cchc_ingest.steps.dlq_limit import DlqLimit, DlqLimiter, Trip
from cchc_ingest.steps.validate import Accepted, validate

log = logging.getLogger(__name__)


class IngestHandler:
    """Validates each record of a batch; good ones to cchc.validated, the rest to cchc.dlq."""

    def __init__(
        self,
        service: KafkaService,
        registry: ProvinceRegistry,
        limit: DlqLimit | None = None,
        cooldown_s: float = 60.0,
    ) -> None:
        """`limit=None` disables the dead-letter limit; `cooldown_s` is how long a trip pauses."""
        self.service = service
        self.registry = registry
        self.limiter = DlqLimiter(limit) if limit is not None else None
        self.cooldown_s = cooldown_s
        # First held-back offset per (topic, partition), kept across batches until resumed, so a
        # later seek can never move a held partition past a message that was not processed.
        self._held_offsets: dict[tuple[str, int], int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    async def __call__(self, records: list[Record]) -> None:
        """Process a batch; returns once every output message is acknowledged by Kafka."""
        out: list[Outgoing] = []
        metrics, name = self.service.metrics, self.service.name
        accepted = rejected = 0
        held: dict[tuple[str, int], int] = {}
        trips: list[Trip] = []
        for record in records:
            province = province_of_raw_topic(record.topic)
            tp = (record.topic, record.partition)
            if tp in held or (
                self.limiter is not None and province is not None and self.limiter.is_held(province)
            ):
                held.setdefault(tp, record.offset)
                continue
            result = validate(record.value, province, self.registry)
            if self.limiter is not None and province is not None:
                trip = self.limiter.observe(province, not isinstance(result, Accepted))
                if trip is not None:
                    trips.append(trip)
                    held[tp] = record.offset
                    continue
            if isinstance(result, Accepted):
                # Forward the original bytes: normalize re-reads them, nothing is rewritten.
                out.append(
                    Outgoing(
                        Topic.VALIDATED, result.province.encode(), record.value, record.timestamp_ms
                    )
                )
                accepted += 1
                continue
            out.append(self.service.dead_letter(record, result.reason, result.errors))
            rejected += 1
        await self.service.publish(out)
        metrics.accepted.labels(service=name).inc(accepted)
        if rejected:
            metrics.dead_lettered.labels(service=name).inc(rejected)
        if held:
            self._hold_back(held, trips)

    def _hold_back(self, held: dict[tuple[str, int], int], trips: list[Trip]) -> None:
        """Seek held partitions back to their first unprocessed message and pause them."""
        for (topic, partition), offset in held.items():
            first = min(offset, self._held_offsets.get((topic, partition), offset))
            self._held_offsets[(topic, partition)] = first
            self.service.seek(topic, partition, first)
            self.service.pause(topic, [partition])
        for trip in trips:
            topic = raw_topic(trip.province)
            # The whole province stops, not only the partition that tripped.
            self.service.pause(topic, self.service.assigned(topic))
            labels = {"service": self.service.name, "province": trip.province}
            self.service.metrics.dlq_limit_paused.labels(**labels).set(1)
            self.service.metrics.dlq_limit_pauses.labels(**labels).inc()
            log.warning(
                "dead-letter limit: pausing %s for %.0fs (%s: %.0f%% of the last %d rejected, "
                "%d in a row); its messages from offset %s on wait, none is lost",
                topic,
                self.cooldown_s,
                trip.cause,
                100 * trip.share,
                trip.window,
                trip.consecutive,
                ", ".join(f"{p}:{o}" for (t, p), o in sorted(held.items()) if t == topic),
                extra={"topic": topic, "reason": f"dlq_limit_{trip.cause}"},
            )
            self._timers[trip.province] = asyncio.get_running_loop().call_later(
                self.cooldown_s, self.release, trip.province
            )

    def release(self, province: str) -> None:
        """End a province's cool-down now: resume its topic from the first held-back message."""
        timer = self._timers.pop(province, None)
        if timer is not None:
            timer.cancel()
        if self.limiter is not None:
            self.limiter.release(province)
        topic = raw_topic(province)
        for tp in [tp for tp in self._held_offsets if tp[0] == topic]:
            del self._held_offsets[tp]
        self.service.resume(topic)
        self.service.metrics.dlq_limit_paused.labels(
            service=self.service.name, province=province
        ).set(0)
        log.warning("dead-letter limit: resuming %s", topic, extra={"topic": topic})
