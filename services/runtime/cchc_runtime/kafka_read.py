"""Reading topics without a consumer group: to the end, or just the end's position.

For tools and monitors (the lag monitor, `cchc dlq`, tests), with kafka-python. Two rules hold
here as in the services' consumer (docs/platform.md "Embedded broker"):

* the end of a partition is the high-water mark a Fetch response reports, never ListOffsets
  (the embedded broker answers ListOffsets below the true end);
* a read that tails a partition while producers write may be handed a later batch before an
  earlier one is stored: offsets are checked contiguous (`cchc_runtime.offsets`) and a hole is
  read again rather than jumped over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from cchc_runtime.offsets import Contiguity

log = logging.getLogger(__name__)


def groupless_consumer(bootstrap_servers: str, client_id: str, **config: Any) -> KafkaConsumer:
    """A consumer that belongs to no group: reading never moves anyone's offsets."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=client_id,
        **config,
    )


def partitions(consumer: KafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of `topics` the broker knows."""
    return [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]


def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    idle_s: float = 2.0,
    timeout_s: float = 60.0,
    gap_give_up_s: float = 5.0,
    security: dict[str, Any] | None = None,
) -> list[Any]:
    """Every record of `topic` (kafka-python ConsumerRecords), partition by partition in order.

    Stops once every partition is read up to the high-water mark its last fetch reported, or
    after `idle_s` without a record (a partition that never answered), or after `timeout_s`.
    A hole in a partition's offsets is read again until it fills, for at most `gap_give_up_s`.
    `security`: `KafkaSettings.kafka_python_security()` (protocol, SASL, TLS).
    """
    consumer = groupless_consumer(
        bootstrap_servers,
        "cchc-reader",
        fetch_max_wait_ms=100,
        check_crcs=False,
        **(security or {}),
    )
    try:
        tps = partitions(consumer, [topic])
        if not tps:
            raise LookupError(f"no topic {topic} at {bootstrap_servers}")
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        contiguity = Contiguity(give_up_after_s=gap_give_up_s)
        for tp in tps:
            contiguity.expect((tp.topic, tp.partition), consumer.position(tp))
        records: dict[int, list[Any]] = {tp.partition: [] for tp in tps}
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=200, max_records=10_000)
            for tp, recs in batch.items():
                verdict = contiguity.check((tp.topic, tp.partition), [r.offset for r in recs])
                records[tp.partition].extend(recs[verdict.start : verdict.stop])
                if verdict.seek_to is not None:
                    consumer.seek(tp, verdict.seek_to)
                    time.sleep(verdict.retry_in_s)  # the hole's batch is being stored: wait
                if verdict.given_up:
                    log.error(
                        "%s/%d: %d records never arrived", topic, tp.partition, verdict.given_up
                    )
            if batch:
                quiet_since = time.monotonic()
            if all(_at_end(consumer, contiguity, tp) for tp in tps):
                break
            if time.monotonic() - quiet_since > idle_s:
                break
        return [r for p in sorted(records) for r in records[p]]
    finally:
        consumer.close()


def _at_end(consumer: KafkaConsumer, contiguity: Contiguity, tp: TopicPartition) -> bool:
    highwater = consumer.highwater(tp)
    expected = contiguity.expected.get((tp.topic, tp.partition), 0)
    return highwater is not None and expected >= highwater


def fresh_highwater(
    consumer: KafkaConsumer,
    tps: list[TopicPartition],
    known: dict[TopicPartition, int],
    timeout_s: float,
) -> dict[TopicPartition, int]:
    """The high-water mark of each of `tps` as a fetch reports it now (updates `known`).

    kafka-python keeps the last high-water mark it saw and sets a new one only from a fetch at
    the current position, so each partition is sought to its last known end, its mark cleared,
    and fetched until every partition answered. (Private state of kafka-python: the public API
    cannot tell a fresh mark from a stale one. tests/integration/test_kafka_read.py fails if an
    upgrade changes it.) Raises TimeoutError when some partition did not answer in time.
    """
    if set(consumer.assignment()) != set(tps):
        consumer.assign(tps)
        fresh = [tp for tp in tps if tp not in known]
        if fresh:
            # A lower bound on the embedded broker; the fetch below corrects it.
            for tp, end in consumer.end_offsets(fresh).items():
                known[tp] = end
    states = consumer._subscription.assignment
    for tp in tps:
        consumer.seek(tp, known.get(tp, 0))
        states[tp].highwater = None
    deadline = time.monotonic() + timeout_s
    while True:
        consumer.poll(timeout_ms=50, max_records=10_000)
        missing = [tp for tp in tps if consumer.highwater(tp) is None]
        if not missing or time.monotonic() > deadline:
            break
    for tp in tps:
        hw = consumer.highwater(tp)
        if hw is not None:
            known[tp] = hw
    if missing:
        raise TimeoutError(f"no high-water mark for {len(missing)} partitions")
    return known
