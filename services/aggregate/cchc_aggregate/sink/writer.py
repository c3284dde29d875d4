"""Writes a batch of canonical records to ClickHouse: one insert per table, each deduplicated.

Failure handling (docs/contract.md "Dead letters"):

* a payload that is not a canonical record → rejected ``schema_violation``;
* rows ClickHouse refuses (a value that does not fit its column) → found by bisecting the batch
  (:mod:`cchc_aggregate.sink.rejects`), rejected ``storage_rejected``; the rest is inserted;
* an outage (connection, timeout, memory, too many parts) → raised, and retried by the runtime
  with backoff without committing: the lag grows, nothing is lost. A batch written again (after
  a failed attempt, or a crash between insert and commit) is stored again on a single server and
  read once: every table it writes is collapsed by key when read. On a cluster each insert
  carries a deduplication token derived from the batch's offsets and the replicas drop the copy
  (`Store.deduplicate` says why not on a single server);
* any other error is a bug: raised and not retried, so the service restarts loudly.

Records of cchc.dlq (aggregate consumes it too) become rows of `dead_letters`
(:mod:`cchc_aggregate.sink.dead_letters`) and are never rejected: a dead letter of a dead letter
would loop through cchc.dlq. A row ClickHouse refuses anyway is logged and dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cchc_runtime.metrics import SECONDS, counter, gauge, histogram, observe_many
from cchc_runtime.records import Record
from cchc_runtime.stage import Reject, Result
from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.topics import Topic
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.errors import is_data_error, is_transient
from cchc_aggregate.sink.dead_letters import dead_letter_columns
from cchc_aggregate.sink.rejects import InsertRange, insert_isolating
from cchc_aggregate.sink.rows import to_columns
from cchc_aggregate.sink.tokens import dedup_token

log = logging.getLogger(__name__)

SERVICE = "aggregate"
# The table behind each insert's token suffix.
_TABLES = {
    "o": "observations",
    "d": "dossier_events",
    "f": "feedback_events",
    "p": "procedure_events",
}
_LATENCY = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)


@dataclass
class SinkMetrics:
    """The sink's own metrics (the runtime counts records, batches and dead letters)."""

    insert_rows: Counter
    insert_errors: Counter
    insert_duration: Histogram
    push_to_queryable: Histogram
    province_last_event: Gauge
    province_quiet_threshold: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry, quiet_s: float = 3 * 86_400) -> SinkMetrics:
        """Registered on the service's registry, insert errors at 0 from the start.

        ``quiet_s`` is exported as ``cchc_province_quiet_threshold_seconds``: the ProvinceSilent
        alert reads its quiet period from it, so that it is set where the service is configured
        (CCHC_AGGREGATE_PROVINCE_QUIET_S) rather than in the alert rules.
        """
        metrics = cls(
            insert_rows=counter(
                registry, "cchc_clickhouse_insert_rows_total", "Rows inserted", ["table"]
            ),
            insert_errors=counter(
                registry,
                "cchc_clickhouse_insert_errors_total",
                "Failed ClickHouse inserts (retried)",
            ),
            insert_duration=histogram(
                registry,
                "cchc_clickhouse_insert_duration_seconds",
                "Time of one acknowledged ClickHouse insert",
                SECONDS,
            ),
            push_to_queryable=histogram(
                registry,
                "cchc_push_to_queryable_seconds",
                "From the Kafka record timestamp (push) to the acknowledged ClickHouse insert",
                _LATENCY,
            ),
            province_last_event=gauge(
                registry,
                "cchc_province_last_event_timestamp_seconds",
                "Kafka timestamp of the latest event of the province (2025 code) stored",
                ["province"],
            ),
            province_quiet_threshold=gauge(
                registry,
                "cchc_province_quiet_threshold_seconds",
                "How long a province may send nothing before ProvinceSilent fires",
            ),
        )
        metrics.insert_errors.labels(service=SERVICE)
        metrics.province_quiet_threshold.labels(service=SERVICE).set(quiet_s)
        return metrics


class ClickHouseSink:
    """Inserts each batch; what ClickHouse refuses comes back as rejects."""

    def __init__(self, store: Store, metrics: SinkMetrics) -> None:
        self.store = store
        self.metrics = metrics
        # Whether the last write failed: a ClickHouse that answers queries but refuses inserts
        # (read-only or full disk, too many parts) is not ready — /readyz says so while the
        # batch is retried, and says ready again once a write went through.
        self.writes_failing = False
        self._last_event_ms: dict[str, int] = {}

    def load_last_events(self) -> None:
        """Set each province's last-event gauge from what ClickHouse holds (at start: a restart
        must not make every province look silent, nor hide one that already was)."""
        _, rows = self.store.query(LAST_EVENTS_SQL, readonly=False)
        self._saw({str(province): int(ms) for province, ms in rows})

    def _saw(self, latest: dict[str, int]) -> None:
        """Move the gauges forward to ``latest`` (province → Kafka timestamp in ms)."""
        gauge = self.metrics.province_last_event
        for province, ms in latest.items():
            if ms > self._last_event_ms.get(province, -1):
                self._last_event_ms[province] = ms
                gauge.labels(service=SERVICE, province=province).set(ms / 1000)

    def is_transient(self, exc: BaseException) -> bool:
        """An outage worth waiting for (see :func:`is_transient`)."""
        return is_transient(exc)

    def is_ready(self) -> bool:
        """ClickHouse answers, and took the last write."""
        return not self.writes_failing and self.store.ping()

    def write(self, records: Sequence[Record]) -> Result:
        """Insert the batch; returns once ClickHouse acknowledged it. Blocking (worker thread).

        Canonical records and dead letters (records of cchc.dlq) go to their own tables.
        """
        try:
            result = self._write(records)
        except Exception:
            self.writes_failing = True
            raise
        self.writes_failing = False
        return result

    def _write(self, records: Sequence[Record]) -> Result:
        letters = [r for r in records if r.topic == Topic.DLQ]
        if not letters:
            return self._write_records(records)
        canonical = [r for r in records if r.topic != Topic.DLQ]
        result = self._write_records(canonical) if canonical else Result()
        try:
            self._write_dead_letters(letters)
        except Exception:
            self.metrics.insert_errors.labels(service=SERVICE).inc()
            raise
        return result

    def _write_dead_letters(self, records: Sequence[Record]) -> None:
        rows = dead_letter_columns(records)
        refused = insert_isolating(
            len(records),
            # The shared token (offsets and record timestamps) tells a batch written again
            # from new dead letters at offsets a restarted embedded broker hands out again.
            self._range_inserter("dead_letters", rows, f"{dedup_token(records)}#l"),
            is_data_error,
        )
        for row, message in refused:  # never dead-lettered again: logged, and dropped
            r = records[row]
            log.error(
                "dead_letters refused the record at cchc.dlq %d:%d: %s",
                r.partition,
                r.offset,
                message,
            )

    def _write_records(self, records: Sequence[Record]) -> Result:
        columns = to_columns([(r.value, r.timestamp_ms) for r in records])
        token = dedup_token(records)
        try:
            refused = self._insert(columns.observations, columns.observation_records, token, "o")
            refused += self._insert(columns.dossiers, columns.dossier_records, token, "d")
            if columns.feedback_records:
                refused += self._insert(columns.feedback, columns.feedback_records, token, "f")
            if columns.procedure_records:
                refused += self._insert(columns.procedures, columns.procedure_records, token, "p")
        except Exception:
            self.metrics.insert_errors.labels(service=SERVICE).inc()
            raise
        self._observe_queryable(records)
        self._saw(
            _latest_by_province(
                columns.observations, columns.dossiers, columns.feedback, columns.procedures
            )
        )
        return Result(
            rejects=[
                *_rejects(records, columns.invalid, Reason.SCHEMA_VIOLATION),
                *_rejects(records, sorted(refused), Reason.STORAGE_REJECTED),
            ]
        )

    def _insert(
        self, rows: dict[str, list[Any]], origin: list[int], token: str, suffix: str
    ) -> list[tuple[int, str]]:
        """Insert one table's rows; ``(record index, error)`` of the rows it refused."""
        table = _TABLES[suffix]
        refused = insert_isolating(
            len(origin), self._range_inserter(table, rows, f"{token}#{suffix}"), is_data_error
        )
        for row, message in refused:
            log.warning("%s refused row from record %d: %s", table, origin[row], message)
        return [(origin[row], message) for row, message in refused]

    def _range_inserter(self, table: str, rows: dict[str, list[Any]], token: str) -> InsertRange:
        count = len(next(iter(rows.values())))
        metrics, labels = self.metrics, {"service": SERVICE}

        def insert(lo: int, hi: int) -> None:
            started = time.perf_counter()
            if (lo, hi) == (0, count):
                self.store.insert(table, rows, token)
            else:
                # A part's token is a function of the batch's token and the part's range, both
                # deterministic, so a batch written again bisects to the same tokens and dedups.
                part = {name: values[lo:hi] for name, values in rows.items()}
                self.store.insert(table, part, f"{token}[{lo}:{hi}]")
            metrics.insert_duration.labels(**labels).observe(time.perf_counter() - started)
            metrics.insert_rows.labels(**labels, table=table).inc(hi - lo)

        return insert

    def _observe_queryable(self, records: Sequence[Record]) -> None:
        """Push-to-queryable latency: Kafka record timestamp → insert acknowledged (now)."""
        now_ms = time.time() * 1000
        observe_many(
            self.metrics.push_to_queryable.labels(service=SERVICE),
            [max(now_ms - r.timestamp_ms, 0.0) / 1000 for r in records],
        )


LAST_EVENTS_SQL = """
SELECT province, toUnixTimestamp64Milli(max(ts))
FROM
(
    SELECT province, max(kafka_ts) AS ts FROM observations GROUP BY province
    UNION ALL
    SELECT province, max(kafka_ts) AS ts FROM dossier_events GROUP BY province
    UNION ALL
    SELECT province, max(kafka_ts) AS ts FROM feedback_events GROUP BY province
    UNION ALL
    SELECT province, max(kafka_ts) AS ts FROM procedure_events GROUP BY province
)
GROUP BY province
"""


def _latest_by_province(*tables: dict[str, list[Any]]) -> dict[str, int]:
    """The latest Kafka timestamp (ms) per province among the rows of ``tables``."""
    latest: dict[str, int] = {}
    for rows in tables:
        for province, ms in zip(rows["province"], rows["kafka_ts"], strict=True):
            if ms > latest.get(province, -1):
                latest[province] = ms
    return latest


def _rejects(
    records: Sequence[Record], failures: list[tuple[int, str]], reason: Reason
) -> list[Reject]:
    return [
        Reject(records[i], reason, [ErrorDetail(loc="$", msg=message[:2000])])
        for i, message in failures
    ]
