"""The processor's bookkeeping for one batch, with the Kafka side recorded in memory.

Order (output durable → holds → commit), counting, dead-letter envelopes, and which failures
are retried. Delivery on the real broker: tests/integration/test_processor_kafka.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import StreamProcessor
from cchc_runtime.records import Outgoing, Record
from cchc_runtime.stage import Pause, Reject, Result
from cchc_runtime.testing import records
from cchc_shared.dlq import DeadLetter, ErrorDetail, Reason

from tests.fakes import RecordingConsumer, RecordingOutput


class Echo:
    """Forwards even values, rejects odd ones, holds what `hold` says."""

    def __init__(self, hold: dict[tuple[str, int], int] | None = None) -> None:
        self.hold = hold or {}
        self.pauses: list[Pause] = []

    def process(self, batch: Sequence[Record]) -> Result:
        result = Result(held=dict(self.hold), pauses=list(self.pauses))
        for r in batch:
            if (r.topic, r.partition) in self.hold and r.offset >= self.hold[
                (r.topic, r.partition)
            ]:
                continue
            if int(r.value) % 2:
                result.rejects.append(
                    Reject(r, Reason.SCHEMA_VIOLATION, [ErrorDetail(loc="$", msg="odd")])
                )
            else:
                result.out.append(Outgoing("out", r.key, r.value, r.timestamp_ms))
        return result


class Sink:
    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.calls = 0

    def write(self, batch: Sequence[Record]) -> Result:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return Result()

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(exc, ConnectionError)

    def is_ready(self) -> bool:
        return True


def make(step: Any, output: RecordingOutput | None = None) -> tuple[StreamProcessor, Any, Any]:
    consumer, out = RecordingConsumer(), output or RecordingOutput()
    processor = StreamProcessor(
        "ingest",
        consumer,  # type: ignore[arg-type]
        out,  # type: ignore[arg-type]
        step,
        CoreMetrics.create("ingest"),
        max_records=100,
        batch_timeout_ms=10,
    )
    return processor, consumer, out


def sample(processor: StreamProcessor, name: str, **labels: str) -> float:
    value = processor.metrics.registry.get_sample_value(name, {"service": "ingest", **labels})
    return value or 0.0


async def test_outputs_then_dead_letters_in_one_send_then_commit() -> None:
    processor, consumer, output = make(Echo())
    batch = records("in", [b"2", b"3", b"4"], key=b"k1", timestamp_ms=123)
    batch += records("in", [b"5"], partition=1, start=9, key=b"k2")
    await processor.process(batch)
    assert [m.topic for m in output.sent] == ["out", "out", "cchc.dlq", "cchc.dlq"]
    letters = [DeadLetter.model_validate_json(m.value) for m in output.sent[2:]]
    assert [(dl.stage, dl.source.partition, dl.source.offset) for dl in letters] == [
        ("ingest", 0, 1),
        ("ingest", 1, 9),
    ]
    # A dead letter keeps its source's key and push time, so a province's rejections stay
    # together and latency is measured from the push.
    assert [(m.key, m.timestamp_ms) for m in output.sent[2:]] == [(b"k1", 123), (b"k2", 0)]
    assert consumer.commits == [{("in", 0), ("in", 1)}]
    assert sample(processor, "cchc_messages_consumed_total") == 4
    assert sample(processor, "cchc_messages_accepted_total") == 2
    assert sample(processor, "cchc_messages_dead_lettered_total") == 2
    assert sample(processor, "cchc_messages_rejected_total", reason="schema_violation") == 2
    assert sample(processor, "cchc_messages_produced_total", topic="cchc.dlq") == 2


async def test_held_records_are_held_before_the_commit_and_not_counted() -> None:
    step = Echo(hold={("in", 0): 11})
    step.pauses = [Pause("in", 0.05, lambda: resumed.append(True))]
    resumed: list[bool] = []
    processor, consumer, _ = make(step)
    await processor.process(records("in", [b"2", b"4", b"6"], start=10))
    assert consumer.holds == {("in", 0): 11}
    assert consumer.paused == {"in"}
    assert consumer.commits == [{("in", 0)}]
    assert sample(processor, "cchc_messages_accepted_total") == 1
    await asyncio.sleep(0.2)
    assert consumer.paused == set()
    assert resumed == [True]


async def test_a_broker_outage_is_retried_and_the_batch_committed_once() -> None:
    processor, consumer, output = make(Echo(), RecordingOutput(fail=2))
    await processor.process(records("in", [b"2"]))
    assert output.attempts == 3
    assert [m.value for m in output.sent] == [b"2"]
    assert consumer.commits == [{("in", 0)}]


async def test_a_bug_is_not_retried_and_nothing_is_committed() -> None:
    class Broken:
        def process(self, batch: Sequence[Record]) -> Result:
            raise KeyError("bug")

    processor, consumer, output = make(Broken())
    with pytest.raises(KeyError):
        await processor.process(records("in", [b"2"]))
    assert consumer.commits == []
    assert output.attempts == 0


async def test_a_sink_outage_is_retried_a_sink_bug_is_not() -> None:
    sink = Sink([ConnectionError("ClickHouse away")])
    processor, consumer, _ = make(sink)
    await processor.process(records("in", [b"2"]))
    assert sink.calls == 2
    assert consumer.commits == [{("in", 0)}]

    sink = Sink([ValueError("a bug")])
    processor, consumer, _ = make(sink)
    with pytest.raises(ValueError, match="a bug"):
        await processor.process(records("in", [b"2"]))
    assert sink.calls == 1
    assert consumer.commits == []


def test_tune_gc_freezes_what_is_loaded_and_collects_the_young_less_often() -> None:
    import gc

    from cchc_runtime.http import tune_gc

    before = gc.get_threshold()
    try:
        tune_gc(gen0_threshold=12_345)
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 10_000  # modules, schemas, reference data
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_outages_and_refusals_are_told_apart() -> None:
    from aiokafka.errors import (
        KafkaConnectionError,
        KafkaTimeoutError,
        MessageSizeTooLargeError,
        NotLeaderForPartitionError,
        RequestTimedOutError,
        TopicAuthorizationFailedError,
    )
    from cchc_runtime.retry import kafka_refusal, kafka_transient

    outages = [
        KafkaConnectionError(),
        KafkaTimeoutError(),
        NotLeaderForPartitionError(),
        RequestTimedOutError(),
        ConnectionRefusedError(),
        TimeoutError(),
    ]
    refusals = [MessageSizeTooLargeError(), TopicAuthorizationFailedError()]
    assert [kafka_transient(e) for e in outages] == [True] * len(outages)
    assert [kafka_refusal(e) for e in outages] == [False] * len(outages)
    assert [kafka_transient(e) for e in refusals] == [False] * len(refusals)
    assert [kafka_refusal(e) for e in refusals] == [True] * len(refusals)
    assert not kafka_refusal(ValueError("a bug"))


async def test_a_refused_send_with_dead_letters_is_sent_once_more_with_minimal_ones() -> None:
    from aiokafka.errors import MessageSizeTooLargeError

    output = RecordingOutput(fail=1, error=MessageSizeTooLargeError)
    processor, consumer, _ = make(Echo(), output)
    huge = b"3" + b" " * 200_000  # odd: rejected, with a payload worth dropping
    await processor.process(records("in", [b"2", huge]))
    assert output.attempts == 2
    assert [m.topic for m in output.sent] == ["out", "cchc.dlq"]
    letter = DeadLetter.model_validate_json(output.sent[1].value)
    assert letter.payload == ""
    assert letter.payload_truncated
    assert letter.payload_bytes == len(huge)
    assert letter.payload_sha256 == __import__("hashlib").sha256(huge).hexdigest()
    assert (letter.source.offset, letter.reason) == (1, Reason.SCHEMA_VIOLATION)
    assert len(output.sent[1].value) < 2048
    assert consumer.commits == [{("in", 0)}]
    # counted once, not once per attempt
    assert sample(processor, "cchc_messages_rejected_total", reason="schema_violation") == 1
    assert sample(processor, "cchc_messages_dead_lettered_total") == 1


@pytest.mark.parametrize(
    "error_name", ["MessageSizeTooLargeError", "TopicAuthorizationFailedError"]
)
async def test_a_send_refused_twice_stops_the_service_and_commits_nothing(error_name: str) -> None:
    import aiokafka.errors

    error = getattr(aiokafka.errors, error_name)
    output = RecordingOutput(fail=2, error=error)
    processor, consumer, _ = make(Echo(), output)
    with pytest.raises(error):
        await processor.process(records("in", [b"2", b"3"]))
    assert output.attempts == 2  # the full send, the minimal one: no loop
    assert consumer.commits == []


async def test_a_refusal_without_dead_letters_stops_at_once() -> None:
    from aiokafka.errors import MessageSizeTooLargeError

    output = RecordingOutput(fail=5, error=MessageSizeTooLargeError)
    processor, consumer, _ = make(Echo(), output)
    with pytest.raises(MessageSizeTooLargeError):
        await processor.process(records("in", [b"2"]))
    assert output.attempts == 1
    assert consumer.commits == []


async def test_a_refused_send_stops_the_running_loop_loudly() -> None:
    """In the loop (not just `process`): the task ends, `on_failure` fires (the service exits)."""
    from aiokafka.errors import MessageSizeTooLargeError

    class OneBatch(RecordingConsumer):
        served = False

        async def fetch(self, max_records: int, timeout_ms: int) -> list[Record]:
            if self.served:
                await asyncio.sleep(0.01)
                return []
            self.served = True
            return records("in", [b"3"])

        async def start(self) -> None:
            pass

        async def stop(self) -> None:
            pass

        def assignment(self) -> set[tuple[str, int]]:
            return {("in", 0)}

    consumer = OneBatch()
    output = RecordingOutput(fail=2, error=MessageSizeTooLargeError)
    processor = StreamProcessor(
        "ingest",
        consumer,  # type: ignore[arg-type]
        output,  # type: ignore[arg-type]
        Echo(),
        CoreMetrics.create("ingest"),
        max_records=100,
        batch_timeout_ms=10,
    )
    failures: list[BaseException] = []
    processor.on_failure = failures.append
    await processor.start()
    for _ in range(100):
        if failures:
            break
        await asyncio.sleep(0.01)
    assert [type(f) for f in failures] == [MessageSizeTooLargeError]
    assert not processor.is_ready()
    assert consumer.commits == []
