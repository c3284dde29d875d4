"""The stream processor: the one owner of a service's batch life cycle.

For each batch: fetch (contiguous, `consumer.py`) → optionally top up → the step (`stage.py`) →
its output and dead letters produced durably in one send (acks=all) → holds applied → commit.
The commit is the last thing and covers only records the step processed, so a crash anywhere
re-reads the batch (delivery at least once; every stage downstream drops duplicates).

A bad *record* never raises: the step rejects it and the runtime dead-letters it. An outage (Kafka
or the sink's storage away) is retried in place with backoff (`retry.py`), nothing committed
meanwhile. Any other exception is a bug: the loop stops and the service exits non-zero, so the
supervisor restarts it and the batch is read again — loud, never a silent loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from cchc_shared.settings import KafkaSettings

from cchc_runtime.consumer import Consumer
from cchc_runtime.dlq import dead_letter, envelope
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.producer import Output
from cchc_runtime.records import Outgoing, Record
from cchc_runtime.retry import Abandoned, kafka_refusal, kafka_transient, retry_transient
from cchc_runtime.stage import Pause, Reject, Result, Sink, Stage

log = logging.getLogger(__name__)


class StreamProcessor:
    """Runs `step` over `consumer`'s batches, producing through `output`."""

    def __init__(
        self,
        name: str,
        consumer: Consumer,
        output: Output,
        step: Stage | Sink,
        metrics: CoreMetrics,
        *,
        max_records: int,
        batch_timeout_ms: int,
        top_up_ms: int = 0,
    ) -> None:
        """`top_up_ms` > 0: before handling a batch, also take what reaches the broker meanwhile.

        For a step whose batches take long (aggregate's ClickHouse insert): the consumer fetches
        ahead while a batch is handled, but only once, right after the batch was taken, so the
        next batch would start with records already a whole batch old, and what arrived since
        waits one more batch. Topping up asks the broker again (waiting at most `top_up_ms` per
        round) so a batch holds everything there is, and a record waits one batch, not two.
        """
        self.name = name
        self.consumer = consumer
        self.output = output
        self.step = step
        self.metrics = metrics
        self.max_records = max_records
        self.batch_timeout_ms = batch_timeout_ms
        self.top_up_ms = top_up_ms
        self.failure: BaseException | None = None
        self.on_failure: Callable[[BaseException], None] = lambda _: None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._pauses: dict[str, asyncio.TimerHandle] = {}

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect the output first, then join the group and start the loop."""
        await self.output.start()
        await self.consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"{self.name}-loop")
        self._task.add_done_callback(self._ended)

    async def stop(self) -> None:
        """Let the batch in hand finish and commit, then leave the group and flush the output."""
        self._stopping = True
        self.consumer.give_up_batch.set()  # an outage retry in hand ends now, uncommitted
        for timer in self._pauses.values():
            timer.cancel()
        if self._task is not None:
            await asyncio.wait([self._task])
        await self.consumer.stop()
        await self.output.stop()

    def is_ready(self) -> bool:
        """Running, with partitions assigned."""
        return self._task is not None and not self._task.done() and bool(self.consumer.assignment())

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        self.failure = task.exception()
        log.critical(
            "%s stopped on an error; exiting so it restarts", self.name, exc_info=self.failure
        )
        self.on_failure(self.failure)  # type: ignore[arg-type]

    # -- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        consumer = self.consumer
        while not self._stopping:
            generation = consumer.generation
            records = await consumer.fetch(self.max_records, self.batch_timeout_ms)
            if self.top_up_ms and records:
                records += await self._top_up(self.max_records - len(records))
            async with consumer.batch(generation) as current:
                if not records:
                    continue
                if not current:
                    # Fetched across a rebalance: not processed. Partitions still ours are
                    # read again from the first of these records; the others' new owners
                    # start from the commit.
                    consumer.unread(records)
                    log.info("rebalanced: %d fetched records read again", len(records))
                    continue
                try:
                    await self.process(records)
                except Abandoned:
                    log.warning(
                        "gave up a batch of %d during an outage (%s); it is read again",
                        len(records),
                        "stopping" if self._stopping else "partitions revoked",
                    )

    async def _top_up(self, room: int, rounds: int = 4) -> list[Record]:
        """Records that reached the broker since the batch was fetched, at most `room`."""
        extra: list[Record] = []
        for _ in range(rounds):
            if room <= 0:
                break
            got = await self.consumer.fetch(room, self.top_up_ms)
            if not got:
                break
            extra += got
            room -= len(got)
        return extra

    async def process(self, records: Sequence[Record]) -> None:
        """One batch, from step to commit."""
        started = time.perf_counter()
        self.metrics.consumed.labels(service=self.name).inc(len(records))
        result = await self._step(records)
        letters = [
            dead_letter(self.name, self.metrics, r.record, r.reason, r.errors)
            for r in result.rejects
        ]
        await self._send(result.out, letters, result.rejects)
        for (topic, partition), offset in result.held.items():
            self.consumer.hold(topic, partition, offset)
        for pause in result.pauses:
            self._pause(pause)
        await self.consumer.commit({(r.topic, r.partition) for r in records})
        labels = {"service": self.name}
        self.metrics.accepted.labels(**labels).inc(result.processed(records) - len(letters))
        if letters:
            self.metrics.dead_lettered.labels(**labels).inc(len(letters))
        self.metrics.batch_size.labels(**labels).observe(len(records))
        self.metrics.batch_duration.labels(**labels).observe(time.perf_counter() - started)

    async def _step(self, records: Sequence[Record]) -> Result:
        step = self.step
        if isinstance(step, Sink):
            sink = step
            return await retry_transient(
                lambda: asyncio.to_thread(sink.write, records),
                what=f"{self.name}: writing a batch of {len(records)}",
                is_transient=sink.is_transient,
                give_up=self.consumer.give_up_batch,
            )
        return step.process(records)

    async def _send(
        self, out: list[Outgoing], letters: list[Outgoing], rejects: Sequence[Reject]
    ) -> None:
        """Produce the batch's output and dead letters in one durable send.

        An outage is waited out (nothing committed meanwhile). A refusal — Kafka answered no,
        e.g. a message too large for the topic — while the batch has dead letters is tried once
        more with minimal envelopes (no payload; its length and SHA-256 kept); refused again,
        it propagates and the service stops loudly (exit, restart, CchcServiceRestarting)
        instead of retrying one batch forever while every province waits behind it.
        """
        messages = [*out, *letters]
        if not messages:
            return
        try:
            await self._produce(messages)
        except Exception as exc:
            if not (letters and kafka_refusal(exc)):
                raise
            log.error(
                "%s: Kafka refused the batch (%s); sending it once more with minimal dead letters",
                self.name,
                exc,
                extra={"dead_letters": len(letters)},
            )
            minimal = [
                envelope(self.name, r.record, r.reason, r.errors, minimal=True) for r in rejects
            ]
            messages = [*out, *minimal]
            await self._produce(messages)
        for topic, count in Counter(m.topic for m in messages).items():
            self.metrics.produced.labels(service=self.name, topic=topic).inc(count)

    async def _produce(self, messages: list[Outgoing]) -> None:
        await retry_transient(
            lambda: self.output.send_all(messages),
            what=f"{self.name}: producing {len(messages)} messages",
            is_transient=kafka_transient,
            give_up=self.consumer.give_up_batch,
        )

    def _pause(self, pause: Pause) -> None:
        self.consumer.pause_topic(pause.topic)

        def release() -> None:
            self._pauses.pop(pause.topic, None)
            self.consumer.release_topic(pause.topic)
            pause.on_resume()

        earlier = self._pauses.pop(pause.topic, None)
        if earlier is not None:
            earlier.cancel()
        self._pauses[pause.topic] = asyncio.get_running_loop().call_later(pause.seconds, release)


def kafka_processor(
    name: str,
    kafka: KafkaSettings,
    topics: Sequence[str],
    group_id: str,
    step: Stage | Sink,
    metrics: CoreMetrics,
    *,
    top_up_ms: int = 0,
) -> StreamProcessor:
    """A processor reading `topics` as `group_id` and producing durably, from the settings."""
    return StreamProcessor(
        name,
        Consumer(name, kafka, topics, group_id, metrics),
        Output(
            kafka.bootstrap_servers,
            linger_ms=kafka.linger_ms,
            client_id=name,
            security=kafka.aiokafka_security(),
            idempotence=kafka.idempotence,
        ),
        step,
        metrics,
        max_records=kafka.max_records,
        batch_timeout_ms=kafka.batch_timeout_ms,
        top_up_ms=top_up_ms,
    )
