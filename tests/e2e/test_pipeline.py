"""End to end, as a province and an analyst would: raw JSON in with kafka-python, SQL out."""

from __future__ import annotations

import orjson
import pytest

from tests import events
from tests.conftest import RunningStack

pytestmark = pytest.mark.connected


def _report(event_id: str, **fields: object) -> bytes:
    return orjson.dumps(events.report(event_id=event_id, **fields))


def test_raw_event_on_cchc_raw_14_is_queryable_through_sql(stack: RunningStack) -> None:
    stack.send("cchc.raw.14", [_report("e2e-son-la-1")], key=b"e2e-son-la-1")
    stack.drained()
    rows = stack.sql(
        "SELECT province, unit_key, indicator, period, value, unit FROM observations FINAL "
        "WHERE event_id = 'e2e-son-la-1'"
    )
    assert rows == [["14", "2004:14", "procedures.published", "2017-Q1", 1502.0, "procedure"]]


def test_bad_message_is_dead_lettered_and_counted(stack: RunningStack) -> None:
    before = stack.drained()["dlq"]
    stack.send("cchc.raw.14", [b"{not json", _report("e2e-son-la-2", province="Lào Cai")])
    after = stack.drained()
    assert after["dlq"] == before + 2
    assert stack.sql("SELECT count() FROM observations WHERE event_id = 'e2e-son-la-2'") == [[0]]


def test_push_time_is_carried_to_clickhouse(stack: RunningStack) -> None:
    # Each stage produces with its input record's timestamp, so kafka_ts is the province's push
    # time however long the pipeline took (push-to-queryable latency is measured end to end).
    pushed_ms = 1_600_000_000_123  # 2020-09-13T12:26:40.123Z
    producer = stack.producer()
    try:
        producer.send("cchc.raw.14", value=_report("e2e-push-time"), timestamp_ms=pushed_ms)
        producer.flush()
    finally:
        producer.close()
    stack.drained()
    rows = stack.sql(
        "SELECT toUnixTimestamp64Milli(kafka_ts) FROM observations WHERE event_id = 'e2e-push-time'"
    )
    assert rows == [[pushed_ms]]
