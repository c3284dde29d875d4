"""ClickHouse is slow, on the real stack: aggregate stops fetching instead of buffering the
backlog — the backlog waits in Kafka, aggregate's memory stays flat, and it all lands.

The slowness is ClickHouse's own back-pressure: with `parts_to_delay_insert` = 1 and
`min_delay_to_insert_ms` set on `dossier_events`, the server delays every insert into it (as it
does when merges fall behind). The setting is changed while aggregate is stopped (one process
owns a chDB path) by a short-lived process of its own, then aggregate starts again on it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import start_stack, wait_until
from tests.e2e import faults
from tests.load import dossier_events, landed

pytestmark = pytest.mark.connected

DELAY_MS = 700
BATCH = 4000
EVENTS = 80_000

SLOW_DOWN = """
import sys, clickhouse_connect
c = clickhouse_connect.get_client(dsn="chdb://" + sys.argv[1])
c.command(
    "ALTER TABLE dossier_events MODIFY SETTING parts_to_delay_insert = 1, "
    f"parts_to_throw_insert = 1000000, min_delay_to_insert_ms = {int(sys.argv[2])}, "
    "max_delay_to_insert = 2"
)
"""


def test_a_slow_clickhouse_leaves_the_backlog_in_kafka_not_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCHC_AGGREGATE_BATCH_MAX_RECORDS", str(BATCH))
    running = start_stack(tmp_path)
    stack = running.stack
    try:
        aggregate = stack.services["aggregate"]
        aggregate.stop()
        subprocess.run(
            [sys.executable, "-c", SLOW_DOWN, str(tmp_path / "clickhouse"), str(DELAY_MS)],
            check=True,
        )
        # The backlog reaches aggregate's topic whole before it starts: what follows measures
        # aggregate against a slow ClickHouse, not ingest and normalize against a busy machine.
        messages = dossier_events("slow", EVENTS)
        producer = running.producer()
        for topic, key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush()
        producer.close()
        wait_until(lambda: _upstream_drained(stack), timeout_s=180, interval_s=0.5)
        aggregate.start()
        stack.wait_ready(timeout_s=90)
        rss_before = faults.count(running, "process_resident_memory_bytes")

        # While the backlog drains through the slow inserts: how far aggregate reads ahead of
        # what ClickHouse took, and its memory.
        ahead, rss_peak, samples, waiting = 0.0, rss_before, 0, 0
        while landed(running, "slow")[0] < EVENTS:
            waiting = max(waiting, stack.lag()["aggregate"])
            m = faults.metrics(running)
            consumed = m.sum("cchc_messages_consumed_total", service="aggregate") or 0.0
            inserted = m.sum("cchc_clickhouse_insert_rows_total", table="dossier_events") or 0.0
            ahead = max(ahead, consumed - inserted)
            rss_peak = max(rss_peak, m.sum("process_resident_memory_bytes") or 0.0)
            samples += 1
            stack.supervise_once()
            time.sleep(0.5)
        running.drained(timeout_s=120)
        assert landed(running, "slow") == (EVENTS, EVENTS)
        m = faults.metrics(running)
        inserts = m.sum("cchc_clickhouse_insert_duration_seconds_count") or 0.0
        insert_s = m.sum("cchc_clickhouse_insert_duration_seconds_sum") or 0.0
    finally:
        stack.stop()
    backlog = sum(len(v) for _, _, v in messages)
    print(
        f"slow ClickHouse: {samples} samples; aggregate read ahead at most {ahead:.0f} records "
        f"(batch {BATCH}); RSS {rss_before / 2**20:.0f} → {rss_peak / 2**20:.0f} MiB; "
        f"raw backlog {backlog / 2**20:.0f} MiB; most waiting in Kafka {waiting}; "
        f"{inserts:.0f} inserts, {insert_s:.1f} s in all"
    )
    # The inserts really were slow: ClickHouse delayed each by at least DELAY_MS (its own
    # back-pressure), so the backlog had to wait for them.
    assert inserts >= EVENTS / (2 * BATCH)  # at most a batch and its top-up per insert
    assert insert_s / inserts >= 0.9 * DELAY_MS / 1000
    # Aggregate takes a batch only when the previous one is in ClickHouse (at most one batch
    # and its top-up in hand), so the backlog stays in Kafka …
    assert ahead <= 2 * BATCH
    assert waiting >= 2 * BATCH  # far more than it holds waited in Kafka, uncommitted
    # … and its memory stays bounded. The backlog is small next to chDB's own caches, so this
    # is a ceiling, not a proof: the bound that matters is the one above plus the consumer's
    # fetch buffer, `CCHC_KAFKA_FETCH_MAX_BYTES` (2 MiB; docs/platform.md "Fetch limits").
    assert rss_peak - rss_before < 256 * 2**20


def _upstream_drained(stack: Any) -> bool:
    lag = stack.lag()
    return not any(n for service, n in lag.items() if service != "aggregate")
