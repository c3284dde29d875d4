"""Normalize's rejections through the real broker: raw events in, dead letters out.

Raw events are pushed to `cchc.raw.NN` with kafka-python, as a province would; ingest passes them
(each is valid and written by the right province), normalize rejects them. The dead letters are
read back from `cchc.dlq` with a group-less kafka-python consumer from the beginning, matched by
the event_id of their payload (the stack is shared by the session). A good event next to them
lands in ClickHouse.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from tests import events
from tests.conftest import RunningStack

pytestmark = pytest.mark.connected

RUN = uuid.uuid4().hex[:8]  # the stack is shared: keep this module's event ids apart


def _report(event_id: str, **fields: Any) -> dict[str, Any]:
    return events.report(event_id=f"{event_id}-{RUN}", **fields)


def _dossier(event_id: str, **fields: Any) -> dict[str, Any]:
    return events.dossier_event(
        **{"event_id": f"{event_id}-{RUN}", "dossier_id": f"LCI-{RUN}", **fields}
    )


# (raw topic, event, the reason normalize gives)
THROUGH_INGEST = [
    (
        "cchc.raw.14",
        _report("unknown-indicator", indicator="Số TTHC không có"),
        "unknown_indicator",
    ),
    ("cchc.raw.14", _report("bad-number", value="1.5"), "bad_number"),
    ("cchc.raw.14", _report("bad-unit", unit="tỷ đồng"), "bad_unit"),
    ("cchc.raw.14", _report("bad-period", period="2016-2020"), "bad_period"),
    ("cchc.raw.14", _report("future-period", period="2099"), "future_period"),
    ("cchc.raw.14", _report("out-of-range", value="-3"), "out_of_range"),
    (
        "cchc.raw.14",
        _report(
            "inconsistent-ratio",
            indicator="staff.cut_rate",
            value="50",
            unit="%",
            numerator=1,
            denominator=3,
        ),
        "inconsistent_ratio",
    ),
    ("cchc.raw.15", _dossier("unknown-commune", commune_code="99999"), "unknown_commune"),
]
# Ingest resolves provinces with the same registry and rejects unknown ones itself, so this one
# is written straight to cchc.validated, as a producer bypassing ingest would: normalize must
# not trust its input. Code 10 (old Lào Cai) does not exist after the merger.
BYPASSING_INGEST = _report("unknown-province", province="10", period="2025-Q3")

GOOD_REPORT = _report("good-report", province="Nam \u00d0ịnh", period="2016/2020", value="2.036",
                      unit="TTHC", indicator="Số TTHC bãi bỏ")  # fmt: skip
GOOD_DOSSIER = _dossier("good-dossier", commune_code="02647")


def _dead_letters(bootstrap: str, wanted: set[str], timeout_s: float = 30) -> dict[str, Any]:
    """The dead letters on cchc.dlq whose payload has one of the `wanted` event ids."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    found: dict[str, Any] = {}
    try:
        partitions = consumer.partitions_for_topic("cchc.dlq") or set()
        tps = [TopicPartition("cchc.dlq", p) for p in sorted(partitions)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        deadline = time.monotonic() + timeout_s
        while wanted - set(found) and time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=500).values():
                for message in messages:
                    letter = orjson.loads(message.value)
                    try:
                        event_id = orjson.loads(letter["payload"]).get("event_id")
                    except (orjson.JSONDecodeError, AttributeError):
                        continue  # other tests' garbage
                    if isinstance(event_id, str) and event_id in wanted:
                        found[event_id] = letter
    finally:
        consumer.close()
    return found


def test_rejections_reach_the_dlq_with_stage_normalize_and_good_events_clickhouse(
    stack: RunningStack,
) -> None:
    for topic, event, _ in THROUGH_INGEST:
        stack.send(topic, [orjson.dumps(event)], key=event["event_id"].encode())
    stack.send("cchc.validated", [orjson.dumps(BYPASSING_INGEST)], key=b"15")
    stack.send("cchc.raw.37", [orjson.dumps(GOOD_REPORT)], key=GOOD_REPORT["event_id"].encode())
    stack.send("cchc.raw.15", [orjson.dumps(GOOD_DOSSIER)], key=GOOD_DOSSIER["dossier_id"].encode())
    stack.drained()

    expected = {event["event_id"]: reason for _, event, reason in THROUGH_INGEST}
    expected[BYPASSING_INGEST["event_id"]] = "unknown_province"
    letters = _dead_letters(stack.bootstrap, set(expected))
    got = {event_id: (letter["stage"], letter["reason"]) for event_id, letter in letters.items()}
    assert got == {event_id: ("normalize", reason) for event_id, reason in expected.items()}
    for letter in letters.values():
        assert letter["errors"], letter
        assert letter["source"]["topic"] == "cchc.validated"
        assert letter["rejected_at"]

    rows = stack.sql(
        "SELECT indicator, period, value, unit, unit_key, province FROM observations FINAL "
        f"WHERE event_id = '{GOOD_REPORT['event_id']}'"
    )
    assert rows == [["procedures.abolished", "2016/2020", 2036.0, "procedure", "2004:36", "37"]]
    rows = stack.sql(
        "SELECT province, unit_key, dossier_id, status, commune_code, channel FROM dossier_events "
        f"FINAL WHERE event_id = '{GOOD_DOSSIER['event_id']}'"
    )
    assert rows == [["15", "2025:15", GOOD_DOSSIER["dossier_id"], "received", "02647", "online"]]
    # None of the rejected events was stored.
    ids = ", ".join(f"'{event_id}'" for event_id in expected)
    assert stack.sql(f"SELECT count() FROM observations WHERE event_id IN ({ids})") == [[0]]
