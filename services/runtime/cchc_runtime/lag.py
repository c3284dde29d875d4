"""Consumer lag per group, computed the way that is right on both Tansu and Apache Kafka.

The embedded broker answers ListOffsets below the true end (docs/platform.md "Embedded
broker"), so the end of a partition is taken from the high-water mark that every Fetch response
carries (`kafka_read.fresh_highwater`): a group-less consumer keeps one position at the end of
each partition and fetches there, which returns (almost) no data but the true high-water mark.
Lag = high-water − the group's committed offset.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cchc_runtime.kafka_read import fresh_highwater, groupless_consumer, partitions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    """A consumer group and the topics it reads."""

    group_id: str
    topics: Sequence[str]


@dataclass
class LagSnapshot:
    """Lag of each service's group, per partition and in total, and the dead-letter count."""

    per_partition: dict[str, dict[tuple[str, int], int]] = field(default_factory=dict)
    dlq: int = 0
    updated_at: float = 0.0

    def total(self, service: str) -> int:
        """All messages `service` still has to consume."""
        return sum(self.per_partition.get(service, {}).values())


class LagMonitor:
    """Refreshes a LagSnapshot in a background thread every `interval_s` seconds."""

    def __init__(
        self,
        bootstrap_servers: str,
        groups: Mapping[str, Group],
        dlq_topic: str,
        interval_s: float = 1.0,
        fetch_timeout_s: float = 3.0,
        security: dict[str, Any] | None = None,
    ) -> None:
        """`security`: `KafkaSettings.kafka_python_security()` (protocol, SASL, TLS)."""
        self.bootstrap_servers = bootstrap_servers
        self._security = dict(security or {})
        self.groups = dict(groups)
        self.dlq_topic = dlq_topic
        self.interval_s = interval_s
        self.fetch_timeout_s = fetch_timeout_s
        self.snapshot = LagSnapshot()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-monitor", daemon=True)
        self._highwater: dict[TopicPartition, int] = {}
        self._lock = threading.Lock()
        self._consumer: KafkaConsumer | None = None
        self._admin: KafkaAdminClient | None = None

    def start(self) -> None:
        """Start refreshing in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def close(self) -> None:
        """Close the clients of a monitor used only through `measure_now` (never started)."""
        with self._lock:
            self._close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.measure_now()
            self._stop.wait(self.interval_s)
        with self._lock:
            self._close()

    def measure_now(self) -> LagSnapshot:
        """Measure lag now (thread-safe); on a broker error keep the last snapshot."""
        with self._lock:
            try:
                if self._consumer is None or self._admin is None:
                    self._consumer, self._admin = self._connect()
                self.snapshot = self._measure(self._consumer, self._admin)
            except Exception as exc:  # broker away: keep the last snapshot, reconnect next time
                log.warning("lag monitor: %s", exc)
                self._close()
            return self.snapshot

    def _close(self) -> None:
        for client in (self._consumer, self._admin):
            if client is not None:
                client.close()
        self._consumer = self._admin = None

    def _connect(self) -> tuple[KafkaConsumer, KafkaAdminClient]:
        consumer = groupless_consumer(
            self.bootstrap_servers,
            "cchc-lag-monitor",
            # Only high-water marks are wanted. The embedded broker ignores the per-partition
            # limit but honours the request-level one: a fetch then carries at most one record
            # batch (for one partition) and the high-water mark of every partition. No CRC
            # checks: kafka-python does them in pure Python (a third of aggregate's CPU).
            max_partition_fetch_bytes=1024,
            fetch_max_bytes=1024,
            check_crcs=False,
            fetch_max_wait_ms=50,
            **self._security,
        )
        admin = KafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers,
            client_id="cchc-lag-monitor",
            **self._security,
        )
        return consumer, admin

    def _measure(self, consumer: KafkaConsumer, admin: KafkaAdminClient) -> LagSnapshot:
        # Committed offsets first, high-water marks second. A service commits only after its
        # output is produced, so anything committed before we read it already shows in the
        # downstream high-water we read next: "all zero" can never be claimed too early.
        committed = {
            service: admin.list_group_offsets(group.group_id).get(group.group_id, {})
            for service, group in self.groups.items()
        }
        topics = sorted({t for g in self.groups.values() for t in g.topics} | {self.dlq_topic})
        tps = partitions(consumer, topics)
        fresh_highwater(consumer, tps, self._highwater, self.fetch_timeout_s)
        snapshot = LagSnapshot(updated_at=time.time())
        for service, group in self.groups.items():
            lag: dict[tuple[str, int], int] = {}
            for tp in tps:
                if tp.topic in group.topics:
                    meta = committed[service].get(tp)
                    done = meta.offset if meta is not None and meta.offset >= 0 else 0
                    lag[(tp.topic, tp.partition)] = max(self._highwater.get(tp, 0) - done, 0)
            snapshot.per_partition[service] = lag
        snapshot.dlq = sum(hw for tp, hw in self._highwater.items() if tp.topic == self.dlq_topic)
        return snapshot


class LagCollector(Collector):
    """Exports the monitor's last snapshot as `cchc_consumer_lag_messages{service,topic,partition}`.

    Read at scrape time, so the gauge is never older than the monitor's refresh interval.
    """

    def __init__(self, monitor: LagMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One sample per service and partition."""
        family = GaugeMetricFamily(
            "cchc_consumer_lag_messages",
            "Messages a service's consumer group still has to consume",
            labels=["service", "topic", "partition"],
        )
        for service, lags in self.monitor.snapshot.per_partition.items():
            for (topic, partition), lag in sorted(lags.items()):
                family.add_metric([service, topic, str(partition)], lag)
        yield family
