"""Dead letters on a real chDB: a mixed batch, a retried one, offsets reused after a restart.

Its own chDB path (one per process: docs/platform.md "Embedded ClickHouse"), as
test_aggregate_store.py; the `db` fixture is module-scoped.
"""

from __future__ import annotations

from typing import Any

import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
from cchc_runtime.records import Record
from cchc_shared import dlq
from cchc_shared.dlq import ErrorDetail, Reason
from prometheus_client import CollectorRegistry

from tests.integration.test_aggregate_store import count, observation, records

pytestmark = pytest.mark.connected


def letter(offset: int, payload: bytes = b"{broken") -> bytes:
    return dlq.encode(
        dlq.dead_letter(
            stage="ingest",
            reason=Reason.MALFORMED_JSON,
            errors=[ErrorDetail(loc="$", msg="not JSON")],
            topic="cchc.raw.15",
            partition=0,
            offset=offset,
            key=b"k",
            payload=payload,
        )
    )


def dlq_records(
    values: list[bytes], start: int = 0, timestamp_ms: int = 1_750_000_000_000
) -> list[Record]:
    return [Record("cchc.dlq", 1, start + i, b"k", v, timestamp_ms) for i, v in enumerate(values)]


def rows(db: Store) -> list[tuple[Any, ...]]:
    return db.query(
        "SELECT dlq_offset, stage, reason, province, source_offset FROM dead_letters FINAL "
        "ORDER BY dlq_offset, source_offset"
    )[1]


def test_a_mixed_batch_stores_both_and_rejects_nothing_from_the_dlq(db: Store) -> None:
    db.client.command("TRUNCATE TABLE dead_letters")
    db.client.command("TRUNCATE TABLE observations")
    sink = ClickHouseSink(db, SinkMetrics.create(CollectorRegistry()))
    batch = [*records([observation("dl-mixed")]), *dlq_records([letter(7), b"not an envelope"])]
    result = sink.write(batch)
    assert result.rejects == []
    assert db.query("SELECT count() FROM observations WHERE event_id = 'dl-mixed'")[1] == [(1,)]
    assert rows(db) == [
        (0, "ingest", "malformed_json", "15", 7),
        (1, "unreadable", "unreadable", "", -1),
    ]
    # read again after a crash before the commit: stored again, read once (as every reader does)
    db.client.command("SYSTEM STOP MERGES dead_letters")  # the copy stays a copy meanwhile
    try:
        sink.write(batch)
        assert count(db, "SELECT count() FROM dead_letters") == 4
        assert len(rows(db)) == 2
    finally:
        db.client.command("SYSTEM START MERGES dead_letters")
    # a restarted embedded broker hands out offsets 0 and 1 again, for later dead letters:
    # they are new rows, not dropped and not replacing the old ones
    sink.write(dlq_records([letter(8), letter(9)], timestamp_ms=1_760_000_000_000))
    assert len(db.query("SELECT * FROM dead_letters FINAL")[1]) == 4
