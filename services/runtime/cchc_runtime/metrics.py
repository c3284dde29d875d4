"""Prometheus collectors for one service, on an explicit registry, named from the closed list."""

from __future__ import annotations

from collections.abc import Iterable
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
_LATENCY = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
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
    restarts: Counter
    insert_rows: Counter
    insert_errors: Counter
    insert_duration: Histogram
    push_to_queryable: Histogram

    @classmethod
    def create(
        cls,
        service: str,
        registry: CollectorRegistry | None = None,
        *,
        restarts: int = 0,
        reasons: Iterable[str] = (),
    ) -> ServiceMetrics:
        """Collectors for `service`, registered on `registry` (a new one by default).

        `restarts`: how often the supervisor restarted this service before (so the counter is
        monotonic across process restarts). `reasons`: the reject reasons this service can
        give, exported at 0 from the start so that `increase()` sees their first occurrence.
        """
        registry = registry or CollectorRegistry()
        ProcessCollector(registry=registry)
        labels = ["service"]

        def counter(name: MetricName, doc: str, extra: tuple[str, ...] = ()) -> Counter:
            return Counter(_name(name), doc, [*labels, *extra], registry=registry)

        metrics = cls(
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
            restarts=counter(
                "cchc_service_restarts_total", "Restarts of this service by its supervisor"
            ),
            insert_rows=counter("cchc_clickhouse_insert_rows_total", "Rows inserted", ("table",)),
            insert_errors=counter(
                "cchc_clickhouse_insert_errors_total", "Failed ClickHouse inserts (retried)"
            ),
            insert_duration=Histogram(
                _name("cchc_clickhouse_insert_duration_seconds"),
                "Time of one acknowledged ClickHouse insert",
                labels,
                buckets=_SECONDS,
                registry=registry,
            ),
            push_to_queryable=Histogram(
                _name("cchc_push_to_queryable_seconds"),
                "From the Kafka record timestamp (push) to the acknowledged ClickHouse insert",
                labels,
                buckets=_LATENCY,
                registry=registry,
            ),
        )
        # Series exist from the start (at 0), so rates and increase() see the first event.
        for counter_metric in (
            metrics.consumed,
            metrics.accepted,
            metrics.dead_lettered,
            metrics.restarts,
            metrics.insert_errors,
        ):
            counter_metric.labels(service=service)
        for reason in reasons:
            metrics.rejected.labels(service=service, reason=reason)
        metrics.restarts.labels(service=service).inc(restarts)
        return metrics
