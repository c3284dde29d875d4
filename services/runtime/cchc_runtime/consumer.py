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
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
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
        # Held while a batch is processed and committed (not while fetching: aiokafka's fetch
        # waits for a rebalance to finish, and a rebalance waits for the revoke listener);
        # a revocation waits for it. `generation` counts revocations, so a batch fetched before
        # one is dropped, not processed: its partitions' new owner reads it from the commit.
        self._batch_lock = asyncio.Lock()
        self.generation = 0
        self.give_up_batch = asyncio.Event()
        # Partitions assigned but whose start is not known yet: nothing of them is handed on.
        self._starting: set[TopicPartition] = set()
        self.failure: BaseException | None = None
        self._held: set[TopicPartition] = set()
        self._retrying: dict[TopicPartition, asyncio.TimerHandle] = {}
        for topic in self.topics:  # at 0 from the start, so increase() sees the first one
            metrics.offset_gaps.labels(service=service, topic=topic)
            for outcome in ("recovered", "given_up", "expired"):
                metrics.offset_gap_records.labels(service=service, topic=topic, outcome=outcome)

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and join the group (the assignment arrives with the first fetches)."""
        k = self.kafka
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=k.bootstrap_servers,
            group_id=self.group_id,
            client_id=f"cchc-{self.metrics.instance or self.service}",
            # Instances of a service share its group (docs/runbook.md "Several instances per
            # service"). Round robin spreads partitions across all the group's topics: the
            # range assignor splits each topic alone, so with ingest's 34 one-partition raw
            # topics every partition would go to the same member. Only round robin is offered:
            # with two protocols listed the embedded broker gave a joining member no partition
            # (docs/platform.md "Embedded broker").
            partition_assignment_strategy=(RoundRobinPartitionAssignor,),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=k.fetch_max_wait_ms,
            fetch_min_bytes=k.fetch_min_bytes,
            fetch_max_bytes=k.fetch_max_bytes,
            session_timeout_ms=k.session_timeout_ms,
            heartbeat_interval_ms=k.heartbeat_interval_ms,
            # How long a rebalance waits for members' revoke listeners (ours waits for the batch
            # in hand, and abandons an outage retry at once): longer than a batch takes.
            rebalance_timeout_ms=k.rebalance_timeout_ms,
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
    async def batch(self, fetched_in: int) -> AsyncIterator[bool]:
        """Process and commit one batch inside this: no revocation happens meanwhile.

        Yields whether the batch, fetched in generation `fetched_in`, may be processed: False
        when a revocation came in between (its records go to their new owner, from the commit).
        """
        async with self._batch_lock:
            if self.failure is not None:
                raise self.failure
            yield fetched_in == self.generation

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
            if tp in self._starting or key not in self.contiguity.expected:
                # Assigned, but the listener has not read its committed offset yet: hand
                # nothing on; it seeks there and resumes the partition.
                self._starting.add(tp)
                consumer.pause(tp)
                continue
            verdict = self.contiguity.check(key, [r.offset for r in consumed])
            records += _records(consumed[verdict.start : verdict.stop])
            if verdict.new_gap is not None and await self._expired(tp, verdict.new_gap.expected):
                continue
            if verdict.seek_to is not None or verdict.recovered or verdict.given_up:
                self._apply(tp, verdict)
        return records

    def unread(self, records: Iterable[Record]) -> None:
        """Give back records fetched but not handed to the step: each partition still assigned
        (and started) is read again from the first of them.

        For a batch dropped because a rebalance came in while it was fetched: records fetched
        after the partition was assigned again moved the position and the expected offset,
        and would otherwise never be read again.
        """
        consumer = self._consumer
        if consumer is None:
            return
        first: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            first[key] = min(r.offset, first.get(key, r.offset))
        assigned = consumer.assignment()
        for (topic, partition), offset in first.items():
            tp = TopicPartition(topic, partition)
            if tp in assigned and tp not in self._starting:
                self.contiguity.expect((topic, partition), offset)
                consumer.seek(tp, offset)

    async def _expired(self, tp: TopicPartition, expected: int) -> bool:
        """Whether a hole is the log's start having moved past `expected` (retention): then
        reading goes on from the start, counted as expired — no wait, no false alert."""
        consumer = self._consumer
        assert consumer is not None
        start = (await consumer.beginning_offsets([tp])).get(tp, 0)
        if start <= expected:
            return False
        key = (tp.topic, tp.partition)
        self.contiguity.expect(key, start)
        consumer.seek(tp, start)
        labels = {"service": self.service, "topic": tp.topic}
        self.metrics.offset_gap_records.labels(**labels, outcome="expired").inc(start - expected)
        log.warning(
            "%s/%d: offsets %d–%d expired (the log now starts at %d) before they were read",
            tp.topic,
            tp.partition,
            expected,
            start - 1,
            start,
            extra={"topic": tp.topic, "partition": tp.partition, "offset": expected},
        )
        return True

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
        log.info(
            "rebalance: %d partitions revoked", len(revoked), extra={"partitions": len(revoked)}
        )
        self.generation += 1  # a batch fetched before now is not processed
        self.give_up_batch.set()  # an outage retry in hand gives up its batch at once
        try:
            async with self._batch_lock:  # the batch in hand finishes and commits first
                for tp in revoked:
                    self.contiguity.forget((tp.topic, tp.partition))
                    self._held.discard(tp)
                    self._starting.discard(tp)
                    timer = self._retrying.pop(tp, None)
                    if timer is not None:
                        timer.cancel()
        finally:
            self.give_up_batch.clear()

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        """Start each new partition at its committed offset (else its beginning), exactly.

        aiokafka may fetch a new partition before this listener runs: such records are not
        handed on (`fetch` pauses the partition), and here it is sought to where it starts and
        resumed. If the offsets cannot be read, the service stops (a restart joins afresh)
        rather than guess.
        """
        consumer = self._consumer
        if consumer is None or not assigned:
            return
        log.info(
            "rebalance: %d partitions assigned (%s)",
            len(assigned),
            ", ".join(sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)[:8])
            + (" …" if len(assigned) > 8 else ""),
            extra={"partitions": len(assigned)},
        )
        self._starting |= assigned
        for tp in assigned:
            consumer.pause(tp)
        try:
            # One round trip for all (ingest is assigned 34 topics at once), not one each.
            order = list(assigned)
            committed = await asyncio.gather(*(consumer.committed(tp) for tp in order))
            starts = {tp: c for tp, c in zip(order, committed, strict=True) if c is not None}
            fresh = [tp for tp, c in zip(order, committed, strict=True) if c is None]
            if fresh:
                starts.update(await consumer.beginning_offsets(fresh))
        except Exception as exc:
            log.critical("cannot read where the assigned partitions start: %s", exc)
            self.failure = exc
            return
        current = consumer.assignment()
        for tp, offset in starts.items():
            if tp not in current:
                continue  # revoked again meanwhile
            self.contiguity.expect((tp.topic, tp.partition), offset)
            consumer.seek(tp, offset)
            self._starting.discard(tp)
            if tp not in self._held and tp not in self._retrying:
                consumer.resume(tp)


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
