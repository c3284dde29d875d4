"""The only module that consumes from Kafka: fetch, contiguity, seek, pause, commit, rebalance.

aiokafka is used directly, not through FastStream: this module must decide where each partition
is read from next (to re-read a hole the embedded broker skipped, to hold back what a step could
not process) and commit exact offsets, and FastStream's subscriber hides the consumer that does
both. Everything Kafka-specific stays here; the processor sees `Record`s and calls these methods.

Offsets committed are those this module handed on and the processor finished: per partition, the
next expected offset (`cchc_runtime.offsets.Contiguity`), never the client's fetch position.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from cchc_shared.settings import KafkaSettings

from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.offsets import Contiguity, Verdict
from cchc_runtime.records import Record

log = logging.getLogger(__name__)


class Consumer:
    """A consumer group member that hands on every record exactly in offset order."""

    def __init__(
        self,
        service: str,
        kafka: KafkaSettings,
        topics: Iterable[str],
        group_id: str,
        metrics: CoreMetrics,
        *,
        check_contiguity: bool = True,
    ) -> None:
        """`check_contiguity=False` turns the gap check off: only to show, in a test, what it
        prevents."""
        self.service = service
        self.kafka = kafka
        self.topics = list(topics)
        self.group_id = group_id
        self.metrics = metrics
        self.check_contiguity = check_contiguity
        self.contiguity = Contiguity(give_up_after_s=kafka.gap_give_up_s)
        self._consumer: AIOKafkaConsumer | None = None
        # Held by one batch from fetch to commit; a rebalance waits for it before revoking.
        self._batch_lock = asyncio.Lock()
        self._held: set[TopicPartition] = set()
        self._retrying: dict[TopicPartition, asyncio.TimerHandle] = {}
        for topic in self.topics:  # at 0 from the start, so increase() sees the first one
            metrics.offset_gaps.labels(service=service, topic=topic)
            for outcome in ("recovered", "given_up"):
                metrics.offset_gap_records.labels(service=service, topic=topic, outcome=outcome)

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and join the group (the assignment arrives with the first fetches)."""
        k = self.kafka
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=k.bootstrap_servers,
            group_id=self.group_id,
            client_id=f"cchc-{self.service}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=k.fetch_max_wait_ms,
            fetch_max_bytes=k.fetch_max_bytes,
            session_timeout_ms=k.session_timeout_ms,
            heartbeat_interval_ms=k.heartbeat_interval_ms,
            **k.aiokafka_security(),
        )
        await self._consumer.start()
        self._consumer.subscribe(self.topics, listener=_Listener(self))
        log.info("consuming %d topics as group %s", len(self.topics), self.group_id)

    async def stop(self) -> None:
        """Leave the group (the processor has finished and committed its last batch)."""
        for timer in self._retrying.values():
            timer.cancel()
        self._retrying.clear()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    def assignment(self) -> set[tuple[str, int]]:
        """The partitions assigned now (none before the group was joined)."""
        if self._consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}

    # -- one batch ----------------------------------------------------------------------------

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Fetch, process and commit one batch inside this: no rebalance happens meanwhile."""
        async with self._batch_lock:
            yield

    async def fetch(self, max_records: int, timeout_ms: int) -> list[Record]:
        """Up to `max_records` records, each partition's in order and without holes."""
        consumer = self._consumer
        assert consumer is not None, "Consumer.start() was not awaited"
        fetched = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        records: list[Record] = []
        for tp, consumed in fetched.items():
            if not consumed:
                continue
            if not self.check_contiguity:
                records += _records(consumed)
                continue
            key = (tp.topic, tp.partition)
            verdict = self.contiguity.check(key, [r.offset for r in consumed])
            records += _records(consumed[verdict.start : verdict.stop])
            if verdict.seek_to is not None or verdict.recovered or verdict.given_up:
                self._apply(tp, verdict)
        return records

    async def commit(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Commit, for each of `partitions` still assigned, the next offset expected.

        A partition revoked meanwhile is left to its new owner, which re-reads from the last
        commit: delivery is at least once, and every stage downstream drops duplicates.
        """
        consumer = self._consumer
        assert consumer is not None
        assigned = consumer.assignment()
        offsets: dict[TopicPartition, int] = {}
        for topic, partition in partitions:
            tp = TopicPartition(topic, partition)
            offset = self.contiguity.expected.get((topic, partition))
            if offset is not None and tp in assigned:
                offsets[tp] = offset
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning(
                "commit skipped, the group is rebalancing (%s); the batch may be re-read", exc
            )

    # -- holding back (the processor applies a step's `held` and `pauses`) --------------------

    def hold(self, topic: str, partition: int, offset: int) -> None:
        """Read `topic`/`partition` from `offset` again once released; fetch none of it before."""
        consumer = self._consumer
        tp = TopicPartition(topic, partition)
        if consumer is None or tp not in consumer.assignment():
            return
        key = (topic, partition)
        expected = self.contiguity.expected.get(key)
        if tp in self._held and expected is not None and expected <= offset:
            return  # already held from an earlier record: never move a hold forward
        self.contiguity.expect(key, offset)
        consumer.seek(tp, offset)
        self._held.add(tp)
        consumer.pause(tp)

    def pause_topic(self, topic: str) -> None:
        """Fetch no partition of `topic` until `release_topic`."""
        consumer = self._consumer
        if consumer is None:
            return
        tps = [tp for tp in consumer.assignment() if tp.topic == topic]
        self._held.update(tps)
        consumer.pause(*tps)

    def release_topic(self, topic: str) -> None:
        """Fetch `topic` again, from where each partition was held."""
        consumer = self._consumer
        self._held = {tp for tp in self._held if tp.topic != topic}
        if consumer is not None:
            consumer.resume(
                *(tp for tp in consumer.paused() if tp.topic == topic and tp not in self._retrying)
            )

    # -- contiguity ---------------------------------------------------------------------------

    def _apply(self, tp: TopicPartition, verdict: Verdict) -> None:
        """Count and log a verdict; seek back and wait before re-reading a hole."""
        labels = {"service": self.service, "topic": tp.topic}
        if verdict.new_gap is not None:
            gap = verdict.new_gap
            self.metrics.offset_gaps.labels(**labels).inc()
            log.warning(
                "offset gap in %s/%d: expected %d, fetch returned %d; re-reading",
                tp.topic,
                tp.partition,
                gap.expected,
                gap.found,
                extra={"topic": tp.topic, "partition": tp.partition, "offset": gap.expected},
            )
        if verdict.recovered:
            self.metrics.offset_gap_records.labels(**labels, outcome="recovered").inc(
                verdict.recovered
            )
            log.info(
                "offset gap in %s/%d: %d records recovered",
                tp.topic,
                tp.partition,
                verdict.recovered,
                extra={"topic": tp.topic, "partition": tp.partition},
            )
        if verdict.given_up and verdict.gave_up is not None:
            gap = verdict.gave_up
            self.metrics.offset_gap_records.labels(**labels, outcome="given_up").inc(
                verdict.given_up
            )
            log.error(
                "offset gap in %s/%d: offsets %d–%d never arrived after %d re-reads; "
                "going on without them",
                tp.topic,
                tp.partition,
                gap.expected,
                gap.expected + verdict.given_up - 1,
                gap.retries,
                extra={"topic": tp.topic, "partition": tp.partition, "offset": gap.expected},
            )
        if verdict.seek_to is not None:
            self._reread(tp, verdict.seek_to, verdict.retry_in_s)

    def _reread(self, tp: TopicPartition, offset: int, after_s: float) -> None:
        consumer = self._consumer
        if consumer is None or tp not in consumer.assignment():
            return
        consumer.seek(tp, offset)
        consumer.pause(tp)
        old = self._retrying.pop(tp, None)
        if old is not None:
            old.cancel()
        self._retrying[tp] = asyncio.get_running_loop().call_later(after_s, self._resume, tp)

    def _resume(self, tp: TopicPartition) -> None:
        self._retrying.pop(tp, None)
        consumer = self._consumer
        if consumer is not None and tp not in self._held and tp in consumer.assignment():
            consumer.resume(tp)

    # -- rebalance ----------------------------------------------------------------------------

    async def _revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        async with self._batch_lock:  # the batch in hand finishes and commits first
            for tp in revoked:
                self.contiguity.forget((tp.topic, tp.partition))
                self._held.discard(tp)
                timer = self._retrying.pop(tp, None)
                if timer is not None:
                    timer.cancel()

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        """Learn where each new partition starts: its committed offset, else its beginning."""
        consumer = self._consumer
        if consumer is None or not assigned:
            return
        fresh: list[TopicPartition] = []
        for tp in assigned:
            committed = await consumer.committed(tp)
            if committed is None:
                fresh.append(tp)
            else:
                self.contiguity.expect((tp.topic, tp.partition), committed)
        if fresh:
            beginnings = await consumer.beginning_offsets(fresh)
            for tp in fresh:
                self.contiguity.expect((tp.topic, tp.partition), beginnings[tp])


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: Consumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.owner._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.owner._assigned(set(assigned))


def _records(consumed: Iterable[object]) -> list[Record]:
    """aiokafka ConsumerRecords → Records."""
    return [
        Record(r.topic, r.partition, r.offset, r.key, r.value or b"", r.timestamp)  # type: ignore[attr-defined]
        for r in consumed
    ]
