"""Prometheus collectors, on an explicit registry, named from the closed list.

`CoreMetrics` are what the runtime counts for every service (records in and out, batches,
dead letters, offset gaps, readiness). A step that has metrics of its own (ingest's dead-letter
limit, aggregate's inserts) registers them on the same registry with `counter`/`histogram`/`gauge`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from cchc_shared.metrics import METRIC_NAMES, MetricName
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
)
from prometheus_client.metrics_core import Metric

BATCH_SIZES = (1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000)
SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _name(name: MetricName) -> str:
    # prometheus_client appends `_total` to counters itself.
    assert name in METRIC_NAMES
    return name.removesuffix("_total")


def counter(
    registry: CollectorRegistry, name: MetricName, doc: str, labels: Sequence[str] = ()
) -> Counter:
    """A counter labelled by `service` and `labels`."""
    return Counter(_name(name), doc, ["service", *labels], registry=registry)


def gauge(
    registry: CollectorRegistry, name: MetricName, doc: str, labels: Sequence[str] = ()
) -> Gauge:
    """A gauge labelled by `service` and `labels`."""
    return Gauge(_name(name), doc, ["service", *labels], registry=registry)


def histogram(
    registry: CollectorRegistry,
    name: MetricName,
    doc: str,
    buckets: Sequence[float],
    labels: Sequence[str] = (),
) -> Histogram:
    """A histogram labelled by `service` and `labels`."""
    return Histogram(_name(name), doc, ["service", *labels], buckets=buckets, registry=registry)


@dataclass
class CoreMetrics:
    """What the runtime measures for every service; labels are low-cardinality."""

    service: str
    registry: CollectorRegistry
    consumed: Counter
    accepted: Counter
    rejected: Counter
    dead_lettered: Counter
    produced: Counter
    batch_size: Histogram
    batch_duration: Histogram
    ready: Gauge
    restarts: Counter
    offset_gaps: Counter
    offset_gap_records: Counter
    instance: str = field(default="")
    """Which instance of the service this process is: the `instance` label its /metrics page
    puts on every series (`InstanceLabelled`); empty: no such label."""

    def exposition(self) -> InstanceLabelled | CollectorRegistry:
        """What /metrics serves: the registry, every series labelled with the instance."""
        return InstanceLabelled(self.registry, self.instance) if self.instance else self.registry

    @classmethod
    def create(
        cls,
        service: str,
        registry: CollectorRegistry | None = None,
        *,
        restarts: int = 0,
        reasons: Iterable[str] = (),
        instance: str = "",
    ) -> CoreMetrics:
        """Collectors for `service`, registered on `registry` (a new one by default).

        `restarts`: how often the supervisor restarted this service before (so the counter is
        monotonic across process restarts). `reasons`: the reject reasons this service can
        give, exported at 0 from the start so that `increase()` sees their first occurrence.
        `instance`: this process's instance name (`ServiceSettings.instance`), the `instance`
        label of every series it exports — several instances of a service share one group
        and their series would otherwise collide in Prometheus (docs/runbook.md "Several
        instances per service").
        """
        registry = registry or CollectorRegistry()
        ProcessCollector(registry=registry)
        r = registry
        metrics = cls(
            service=service,
            instance=instance,
            registry=registry,
            consumed=counter(r, "cchc_messages_consumed_total", "Messages read from Kafka"),
            accepted=counter(r, "cchc_messages_accepted_total", "Messages passed downstream"),
            rejected=counter(
                r, "cchc_messages_rejected_total", "Messages rejected, by reason", ["reason"]
            ),
            dead_lettered=counter(
                r, "cchc_messages_dead_lettered_total", "Dead letters written to cchc.dlq"
            ),
            produced=counter(r, "cchc_messages_produced_total", "Messages produced", ["topic"]),
            batch_size=histogram(
                r, "cchc_batch_size_messages", "Messages per processed batch", BATCH_SIZES
            ),
            batch_duration=histogram(
                r,
                "cchc_batch_duration_seconds",
                "Time to process one batch, output durable",
                SECONDS,
            ),
            ready=gauge(r, "cchc_service_ready", "1 when ready"),
            restarts=counter(
                r, "cchc_service_restarts_total", "Restarts of this service by its supervisor"
            ),
            offset_gaps=counter(
                r,
                "cchc_offset_gaps_total",
                "Holes found in a partition's offsets by a fetch (each re-read until filled)",
                ["topic"],
            ),
            offset_gap_records=counter(
                r,
                "cchc_offset_gap_records_total",
                "Records of offset holes: recovered by re-reading, or given up after the bound",
                ["topic", "outcome"],
            ),
        )
        # Series exist from the start (at 0), so rates and increase() see the first event.
        for counter_metric in (
            metrics.consumed,
            metrics.accepted,
            metrics.dead_lettered,
            metrics.restarts,
        ):
            counter_metric.labels(service=service)
        for reason in reasons:
            metrics.rejected.labels(service=service, reason=reason)
        metrics.restarts.labels(service=service).inc(restarts)
        return metrics


def observe_many(histogram: Histogram, amounts: Iterable[float]) -> None:
    """``histogram.observe(a)`` for every amount, in one update per bucket instead of one per
    amount: the same buckets, sum and count (tested against ``observe``).

    For a batch's records: observing each took a lock and a bucket search per record (3 % of
    aggregate's CPU under load, py-spy). `histogram` is a labelled child.
    """
    ordered = sorted(amounts)
    if not ordered:
        return
    start = 0
    # prometheus_client keeps one non-cumulative count per bucket (an amount goes to the first
    # bound it does not exceed) and the sum: the attributes `observe` itself updates.
    for bound, count in zip(histogram._upper_bounds, histogram._buckets, strict=True):
        end = bisect_right(ordered, bound, lo=start)
        if end > start:
            count.inc(end - start)
            start = end
    histogram._sum.inc(sum(ordered))


class InstanceLabelled:
    """A registry's collectors seen with an `instance` label on every sample (a constant label
    added at exposition, so no collector or call site has to carry it)."""

    def __init__(self, registry: CollectorRegistry, instance: str) -> None:
        self.registry = registry
        self.instance = instance

    def collect(self) -> Iterator[Metric]:
        """The registry's metric families, each sample with `instance` added."""
        for family in self.registry.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [
                s._replace(labels={**s.labels, "instance": self.instance}) for s in family.samples
            ]
            yield labelled
