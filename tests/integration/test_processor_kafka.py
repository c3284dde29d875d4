"""The stream processor on the real broker: nothing skipped, nothing stale.

* Several producers racing on one partition while a service tails it: the embedded broker can
  return a later batch before an earlier one is stored (docs/platform.md "Embedded broker"). A
  consumer without the contiguity check loses records for good; the processor loses none.
* Top-up: the batch after a slow one holds everything that arrived meanwhile, and a batch that
  fails after a top-up loses none of the topped-up records.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import pytest
from aiokafka import AIOKafkaProducer
from cchc_devstack.topics import ensure_topics
from cchc_runtime.consumer import Consumer
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import StreamProcessor
from cchc_runtime.producer import Output
from cchc_runtime.records import Record
from cchc_runtime.stage import Result
from cchc_shared.settings import KafkaSettings

from tests.conftest import RunningStack

pytestmark = pytest.mark.connected


class Recorder:
    """A stage that remembers every offset handed to it (and may run a hook per batch)."""

    def __init__(self, hook: Callable[[Sequence[Record]], None] = lambda _: None) -> None:
        self.offsets: list[int] = []
        self.values: list[bytes] = []
        self.batches: list[list[bytes]] = []
        self.hook = hook

    def process(self, records: Sequence[Record]) -> Result:
        self.hook(records)
        self.offsets += [r.offset for r in records]
        self.values += [r.value for r in records]
        self.batches.append([r.value for r in records])
        return Result()


class SlowSink(Recorder):
    """The same, as a sink: run in a worker thread, as aggregate's ClickHouse insert is."""

    def write(self, records: Sequence[Record]) -> Result:
        return self.process(records)

    def is_transient(self, exc: BaseException) -> bool:
        return False

    def is_ready(self) -> bool:
        return True


def processor(
    bootstrap: str,
    topic: str,
    step: Recorder,
    *,
    check: bool = True,
    top_up_ms: int = 0,
    max_records: int = 500,
    batch_timeout_ms: int = 20,
    group: str | None = None,
    name: str = "ingest",
) -> StreamProcessor:
    """A processor running `step` over `topic`, in its own group unless `group` is given."""
    kafka = KafkaSettings(bootstrap_servers=bootstrap, session_timeout_ms=2000)
    metrics = CoreMetrics.create(name)
    group = group or f"g-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(name, kafka, [topic], group, metrics, check_contiguity=check)
    return StreamProcessor(
        name,
        consumer,
        Output(bootstrap, client_id="test"),
        step,
        metrics,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        top_up_ms=top_up_ms,
    )


def new_topic(stack: RunningStack, partitions: int = 1) -> str:
    topic = f"test.proc.{uuid.uuid4().hex[:8]}"
    ensure_topics(stack.bootstrap, {topic: partitions})
    return topic


async def race(bootstrap: str, topic: str, producers: int, per_s: float, seconds: float) -> int:
    """`producers` clients writing partition 0 at once, paced; returns how many were acked."""

    async def one(index: int) -> int:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
        await producer.start()
        try:
            started, futures = time.monotonic(), []
            for i in range(int(per_s * seconds)):
                futures.append(await producer.send(topic, b"%d-%d" % (index, i), partition=0))
                if i % 10 == 9 and (delay := started + (i + 1) / per_s - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
            return len(await asyncio.gather(*futures))
        finally:
            await producer.stop()

    return sum(await asyncio.gather(*(one(i) for i in range(producers))))


async def wait_for(predicate: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def sample(p: StreamProcessor, name: str, **labels: str) -> float:
    return p.metrics.registry.get_sample_value(name, {"service": "ingest", **labels}) or 0.0


async def test_racing_producers_skip_records_without_the_check_and_none_with_it(
    stack: RunningStack,
) -> None:
    topic = new_topic(stack)
    guarded, bare = Recorder(), Recorder()
    processors = [
        processor(stack.bootstrap, topic, guarded),
        processor(stack.bootstrap, topic, bare, check=False),
    ]
    for p in processors:
        await p.start()
    try:
        await wait_for(lambda: all(p.is_ready() for p in processors))
        sent = 0
        # The race is a matter of timing: load in rounds until the unguarded consumer has been
        # hit (every run so far: in the first round), so the demonstration cannot pass vacuously.
        for _ in range(10):
            sent += await race(stack.bootstrap, topic, producers=6, per_s=2000, seconds=4)
            for step in (guarded, bare):
                await wait_for(lambda s=step, n=sent: max(s.offsets, default=-1) == n - 1)
            if len(set(bare.offsets)) < sent:
                break
    finally:
        for p in processors:
            await p.stop()
    lost_bare = sent - len(set(bare.offsets))
    assert guarded.offsets == list(range(sent))  # every acked record, once, in order
    if lost_bare == 0:
        # The race is timing: on a busy machine it may not come in 40 s. The guarded half
        # held anyway; the check's logic is proven without timing in tests/unit/runtime.
        pytest.skip(f"the broker's race did not occur in {sent:,} records: nothing to show")
    gaps = sample(processors[0], "cchc_offset_gaps_total", topic=topic)
    recovered = sample(
        processors[0], "cchc_offset_gap_records_total", topic=topic, outcome="recovered"
    )
    given_up = sample(
        processors[0], "cchc_offset_gap_records_total", topic=topic, outcome="given_up"
    )
    assert given_up == 0
    assert (gaps > 0) == (recovered > 0)


async def run_until(
    p: StreamProcessor, until: Callable[[], bool], started: Callable[[float], Awaitable[None]]
) -> None:
    await p.start()
    try:
        await started(0)
        await wait_for(until)
    finally:
        await p.stop()


async def send(bootstrap: str, topic: str, value: bytes, partition: int = 0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, partition=partition)
    finally:
        await producer.stop()


@pytest.mark.parametrize("top_up_ms", [0, 300])
async def test_the_batch_after_a_slow_one_holds_all_that_arrived_meanwhile(
    stack: RunningStack, top_up_ms: int
) -> None:
    topic = new_topic(stack, partitions=2)
    loop = asyncio.get_running_loop()

    def slow_first_batch(records: Sequence[Record]) -> None:
        if not step.batches:  # a slow insert (in its thread): two records arrive meanwhile
            asyncio.run_coroutine_threadsafe(late_arrivals(), loop)
            time.sleep(1.6)

    async def late_arrivals() -> None:
        await asyncio.sleep(0.2)
        await send(stack.bootstrap, topic, b"B1")
        await asyncio.sleep(0.6)
        await send(stack.bootstrap, topic, b"B2")

    step = SlowSink(slow_first_batch)
    p = processor(stack.bootstrap, topic, step, top_up_ms=top_up_ms, batch_timeout_ms=200)

    async def first(_: float) -> None:
        await send(stack.bootstrap, topic, b"A")

    await run_until(p, lambda: len(step.values) >= 3, first)
    assert step.batches[0] == [b"A"]
    if top_up_ms:
        assert step.batches[1] == [b"B1", b"B2"]
    else:
        # The prefetch made right after "A" holds only B1: B2 needs a batch of its own.
        assert step.batches[1:] == [[b"B1"], [b"B2"]]


async def test_an_outage_is_retried_in_place_and_a_bug_stops_before_the_commit(
    stack: RunningStack,
) -> None:
    topic = new_topic(stack, partitions=2)
    group = f"g-{uuid.uuid4().hex[:8]}"
    for value, partition in ((b"A", 0), (b"B", 1), (b"C", 0)):
        await send(stack.bootstrap, topic, value, partition)

    def member(step: Recorder) -> StreamProcessor:
        return processor(
            stack.bootstrap, topic, step, group=group, name="aggregate", batch_timeout_ms=200
        )

    class Flaky(SlowSink):
        def __init__(self, errors: list[BaseException]) -> None:
            super().__init__()
            self.errors = errors
            self.calls = 0

        def write(self, records: Sequence[Record]) -> Result:
            self.calls += 1
            if self.errors:
                raise self.errors.pop(0)
            return super().write(records)

        def is_transient(self, exc: BaseException) -> bool:
            return isinstance(exc, ConnectionError)

    # A bug: the loop stops, says so, and commits nothing.
    broken = Flaky([KeyError("a bug")])
    p = member(broken)
    await p.start()
    try:
        await wait_for(lambda: p.failure is not None)
    finally:
        await p.stop()
    assert isinstance(p.failure, KeyError)
    assert broken.values == []

    # The next member of the group reads the same records; an outage is waited out in place.
    flaky = Flaky([ConnectionError("ClickHouse away"), ConnectionError("still away")])
    p = member(flaky)
    await run_until(p, lambda: len(flaky.values) == 3, asyncio.sleep)
    assert sorted(flaky.values) == [b"A", b"B", b"C"]
    assert flaky.calls >= 3
    assert p.failure is None

    # Everything was committed: a third member finds nothing left to read.
    after = SlowSink()

    async def send_d(_: float) -> None:
        await send(stack.bootstrap, topic, b"D", 1)

    await run_until(member(after), lambda: b"D" in after.values, send_d)
    assert after.values == [b"D"]


async def test_members_joining_and_leaving_under_load_miss_nothing(stack: RunningStack) -> None:
    """Rebalances while producers race: a revoked partition's batch in hand finishes and commits
    before its new owner starts from the commit; every record reaches some member."""
    topic = new_topic(stack, partitions=4)
    group = f"g-{uuid.uuid4().hex[:8]}"

    def member(step: Recorder) -> StreamProcessor:
        return processor(stack.bootstrap, topic, step, group=group, max_records=200)

    done = asyncio.Event()

    async def spread(producers: int) -> int:
        """Like `race`, over all four partitions (keyed), until `done`."""

        async def one(index: int) -> int:
            producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", linger_ms=2)
            await producer.start()
            try:
                futures = []
                i = 0
                while not done.is_set():
                    value = b"%d-%d" % (index, i)
                    futures.append(await producer.send(topic, value, key=value))
                    if i % 10 == 9:
                        await asyncio.sleep(0.01)
                    i += 1
                return len(await asyncio.gather(*futures))
            finally:
                await producer.stop()

        return sum(await asyncio.gather(*(one(i) for i in range(producers))))

    first, second = Recorder(), Recorder()
    a, b = member(first), member(second)
    await a.start()
    await wait_for(a.is_ready)
    load = asyncio.create_task(spread(producers=2))
    await wait_for(lambda: bool(first.values), 60)
    await b.start()  # joins: partitions move from a to b
    # Under load on a shared machine the join takes a while: the rebalance is waited for, not
    # assumed after a fixed time; the producers go on meanwhile.
    await wait_for(lambda: bool(second.values), 60)
    await asyncio.sleep(1.0)
    await b.stop()  # leaves: they move back
    await asyncio.sleep(1.0)
    done.set()
    sent = await load
    try:
        await wait_for(lambda: len(set(first.values) | set(second.values)) >= sent, 60)
    finally:
        await a.stop()
    seen = set(first.values) | set(second.values)
    assert len(seen) == sent
    assert second.values, "the second member never got a partition: no rebalance was tested"


@pytest.mark.parametrize("top_up_ms", [0, 300])
async def test_a_member_joining_while_the_first_idles_in_a_fetch_stalls_nobody(
    stack: RunningStack, top_up_ms: int
) -> None:
    """A rebalance while a member waits in a fetch, records trickling in: aiokafka's fetch waits
    for the rebalance, the rebalance waits for the revoke listener. The listener must not wait
    for the fetch (it did: the whole group stalled). Both members consume, every record once
    at least, and both stop promptly."""
    topic = new_topic(stack, partitions=2)
    group = f"g-{uuid.uuid4().hex[:8]}"

    def member(step: Recorder) -> StreamProcessor:
        return processor(
            stack.bootstrap, topic, step, group=group, batch_timeout_ms=200, top_up_ms=top_up_ms
        )

    first, second = Recorder(), Recorder()
    a, b = member(first), member(second)
    await a.start()
    await wait_for(a.is_ready)
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
    await producer.start()
    sent = 0
    try:

        async def trickle(seconds: float) -> None:
            nonlocal sent
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await producer.send_and_wait(topic, b"%d" % sent, partition=sent % 2)
                sent += 1
                await asyncio.sleep(0.03)

        await trickle(1.0)
        await b.start()
        await trickle(6.0)
        await wait_for(lambda: len(set(first.values) | set(second.values)) >= sent, 30)
        assert second.values, "the second member never got a partition"
        assert first.offsets[-1] is not None
    finally:
        await producer.stop()
        for p in (b, a):
            await asyncio.wait_for(p.stop(), 20)  # stuck members would hang here
    assert len(set(first.values) | set(second.values)) == sent
