"""The group-less reader's use of the contiguity check, against a consumer that races.

A stand-in for kafka-python's consumer serves what the embedded broker serves in its fetch race:
the fetch at the tail returns a later batch before the earlier one is stored. The race itself,
on the real broker: tests/integration/test_processor_kafka.py.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import pytest
from cchc_runtime import kafka_read
from kafka import TopicPartition

Rec = namedtuple("Rec", "offset value")
TP = TopicPartition("t", 0)


class RacingConsumer:
    """Offsets 0–5 exist; 2–3 are stored only after the first fetch from 2 returned 4–5."""

    def __init__(self) -> None:
        self.position_ = 0
        self.late_stored = False
        self.seeks: list[int] = []

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0}

    def assign(self, tps: list[TopicPartition]) -> None:
        pass

    def seek_to_beginning(self, *tps: TopicPartition) -> None:
        self.position_ = 0

    def position(self, tp: TopicPartition) -> int:
        return self.position_

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)
        self.position_ = offset

    def highwater(self, tp: TopicPartition) -> int:
        return 6

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Rec]]:
        start = self.position_
        if start >= 6:
            return {}
        if start == 0:
            offsets = [0, 1]
        elif start == 2 and not self.late_stored:
            offsets = [4, 5]  # the later batch, served first
            self.late_stored = True
        else:
            offsets = list(range(start, 6))
        self.position_ = offsets[-1] + 1
        return {TP: [Rec(o, b"%d" % o) for o in offsets]}

    def close(self) -> None:
        pass


def test_a_hole_at_the_tail_is_read_again_not_jumped(monkeypatch: pytest.MonkeyPatch) -> None:
    consumer = RacingConsumer()
    monkeypatch.setattr(kafka_read, "groupless_consumer", lambda *a, **k: consumer)
    records: list[Any] = kafka_read.read_topic("x:1", "t", idle_s=1, timeout_s=5)
    assert [r.offset for r in records] == [0, 1, 2, 3, 4, 5]
    assert consumer.seeks == [2]  # back to the hole, once
