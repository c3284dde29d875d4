"""Prometheus collectors for one service, on an explicit registry, named from the closed list."""

from __future__ import annotations

from dataclasses import dataclass

from cchc_shared.metrics import METRIC_NAMES, MetricName
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
)

_BATCH_SIZES = (1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000)
_SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _name(name: MetricName) -> str:
    # prometheus_client appends `_total` to counters itself.
    assert name in METRIC_NAMES
    return name.removesuffix("_total")


@dataclass
class ServiceMetrics:
    """The metrics every service exports; labels are low-cardinality (service, topic, reason)."""

    registry: CollectorRegistry
    consumed: Counter
    accepted: Counter
    rejected: Counter
    dead_lettered: Counter
    produced: Counter
    batch_size: Histogram
    batch_duration: Histogram
    ready: Gauge
    dlq_limit_paused: Gauge
    dlq_limit_pauses: Counter

    @classmethod
    def create(cls, service: str, registry: CollectorRegistry | None = None) -> ServiceMetrics:
        """Collectors for `service`, registered on `registry` (a new one by default)."""
        registry = registry or CollectorRegistry()
        ProcessCollector(registry=registry)
        labels = ["service"]

        def counter(name: MetricName, doc: str, extra: tuple[str, ...] = ()) -> Counter:
            return Counter(_name(name), doc, [*labels, *extra], registry=registry)

        return cls(
            registry=registry,
            consumed=counter("cchc_messages_consumed_total", "Messages read from Kafka"),
            accepted=counter("cchc_messages_accepted_total", "Messages passed downstream"),
            rejected=counter(
                "cchc_messages_rejected_total", "Messages rejected, by reason", ("reason",)
            ),
            dead_lettered=counter(
                "cchc_messages_dead_lettered_total", "Dead letters written to cchc.dlq"
            ),
            produced=counter("cchc_messages_produced_total", "Messages produced", ("topic",)),
            batch_size=Histogram(
                _name("cchc_batch_size_messages"),
                "Messages per processed batch",
                labels,
                buckets=_BATCH_SIZES,
                registry=registry,
            ),
            batch_duration=Histogram(
                _name("cchc_batch_duration_seconds"),
                "Time to process one batch, output durable",
                labels,
                buckets=_SECONDS,
                registry=registry,
            ),
            ready=Gauge(_name("cchc_service_ready"), "1 when ready", labels, registry=registry),
            dlq_limit_paused=Gauge(
                _name("cchc_dlq_limit_paused"),
                "1 while a province's consumption is paused by the dead-letter limit",
                [*labels, "province"],
                registry=registry,
            ),
            dlq_limit_pauses=counter(
                "cchc_dlq_limit_pauses_total",
                "Times the dead-letter limit paused a province",
                ("province",),
            ),
        )
