"""The ingest stage: raw in; validated out, the rest rejected, a misbehaving province held back.

Per batch: each record is validated (steps/validate.py) and its outcome fed to the dead-letter
limit (steps/dlq_limit.py). Good events go to cchc.validated keyed by their current province,
unchanged; bad ones are rejected with their reason (the runtime writes the dead letters).

When a province trips the limit, its messages from the tripping one on are held back: not
processed and not committed, and the province's topic is paused for the cool-down; then it is
re-read from that message. Restarting the service also resumes it at once, from the same
committed offset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cchc_runtime.metrics import counter, gauge
from cchc_runtime.records import Outgoing, Record
from cchc_runtime.stage import Pause, Reject, Result
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.topics import Topic, province_of_raw_topic, raw_topic
from prometheus_client import CollectorRegistry, Counter, Gauge

from cchc_ingest.steps.dlq_limit import DlqLimit, DlqLimiter, Trip
from cchc_ingest.steps.validate import Accepted, validate

log = logging.getLogger(__name__)

SERVICE = "ingest"


@dataclass
class IngestMetrics:
    """The dead-letter limit's own metrics (the runtime counts records and dead letters)."""

    paused: Gauge
    pauses: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IngestMetrics:
        """Registered on the service's registry."""
        return cls(
            paused=gauge(
                registry,
                "cchc_dlq_limit_paused",
                "1 while a province's consumption is paused by the dead-letter limit",
                ["province"],
            ),
            pauses=counter(
                registry,
                "cchc_dlq_limit_pauses_total",
                "Times the dead-letter limit paused a province",
                ["province"],
            ),
        )


class IngestStage:
    """Validates each record; good ones to cchc.validated, the rest rejected or held back."""

    def __init__(
        self,
        registry: ProvinceRegistry,
        metrics: IngestMetrics,
        limit: DlqLimit | None = None,
        cooldown_s: float = 60.0,
    ) -> None:
        """`limit=None` disables the dead-letter limit; `cooldown_s` is how long a trip pauses."""
        self.registry = registry
        self.metrics = metrics
        self.limiter = DlqLimiter(limit) if limit is not None else None
        self.cooldown_s = cooldown_s
        self._held_until: dict[str, float] = {}  # province → time.monotonic() of its release

    def process(self, records: Sequence[Record]) -> Result:
        """Validate a batch."""
        result = Result()
        out, rejects, held = result.out, result.rejects, result.held
        limiter = self.limiter
        for record in records:
            province = province_of_raw_topic(record.topic)
            tp = (record.topic, record.partition)
            if tp in held or (
                limiter is not None and province is not None and limiter.is_held(province)
            ):
                held.setdefault(tp, record.offset)
                continue
            verdict = validate(record.value, province, self.registry)
            if limiter is not None and province is not None:
                trip = limiter.observe(province, not isinstance(verdict, Accepted))
                if trip is not None:
                    held[tp] = record.offset
                    result.pauses.append(self._pause(trip, held))
                    continue
            if isinstance(verdict, Accepted):
                # Forward the original bytes: normalize re-reads them, nothing is rewritten.
                out.append(
                    Outgoing(
                        Topic.VALIDATED,
                        verdict.province.encode(),
                        record.value,
                        record.timestamp_ms,
                    )
                )
            else:
                rejects.append(Reject(record, verdict.reason, verdict.errors))
        return result

    def _pause(self, trip: Trip, held: dict[tuple[str, int], int]) -> Pause:
        """The whole province stops, not only the partition that tripped."""
        topic = raw_topic(trip.province)
        self.metrics.paused.labels(service=SERVICE, province=trip.province).set(1)
        self.metrics.pauses.labels(service=SERVICE, province=trip.province).inc()
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
        self._held_until[trip.province] = time.monotonic() + self.cooldown_s
        return Pause(topic, self.cooldown_s, lambda: self.release(trip.province))

    def retry_after(self, province: str) -> float | None:
        """Seconds until `province`'s cool-down ends (at least 1), or None when it is not held.

        The HTTPS push asks this before it takes a province's events (429 with Retry-After).
        """
        if self.limiter is None or not self.limiter.is_held(province):
            return None
        until = self._held_until.get(province)
        remaining = self.cooldown_s if until is None else until - time.monotonic()
        return max(1.0, remaining)

    def release(self, province: str) -> None:
        """End a province's cool-down (the runtime resumes its topic)."""
        if self.limiter is not None:
            self.limiter.release(province)
        self._held_until.pop(province, None)
        self.metrics.paused.labels(service=SERVICE, province=province).set(0)
        log.warning("dead-letter limit: resuming %s", raw_topic(province))
