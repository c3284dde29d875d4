"""The one retry policy: outages are waited out with capped exponential backoff, bugs are not.

Used for the durable output (Kafka) and for a sink's writes (ClickHouse). An exception the caller
calls transient is retried forever — the batch is not committed meanwhile, so the lag grows and
nothing is lost; any other exception propagates at once, so a bug stops the service loudly
instead of looping silently.

For Kafka, an *outage* (broker away, timed out, leader moving: `kafka_transient`) is told from a
*refusal* (the broker answered no: message too large, not authorized: `kafka_refusal`). Waiting
does not change a refusal, so it is not retried here; the processor decides what to do with it
(docs/runbook.md "A dead-letter publish is refused").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import (
    BrokerNotAvailableError,
    KafkaError,
    KafkaTimeoutError,
    KafkaUnavailableError,
)
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

log = logging.getLogger(__name__)

T = TypeVar("T")


class Abandoned(Exception):
    """The batch in hand was given up (its partitions were revoked, or the service stops)."""


_KAFKA_OUTAGES = (KafkaTimeoutError, KafkaUnavailableError, BrokerNotAvailableError)


def kafka_transient(exc: BaseException) -> bool:
    """An outage — broker unreachable, timed out, leader moving: worth waiting for.

    aiokafka's errors marked `retriable`, its timeouts and unavailability, and the network's
    (`OSError`, `asyncio.TimeoutError`). A non-retriable `KafkaError` is a refusal (message too
    large, not authorised, unknown topic): retrying it would stall every partition for good.
    """
    if isinstance(exc, KafkaError):
        return bool(exc.retriable) or isinstance(exc, _KAFKA_OUTAGES)
    return isinstance(exc, OSError | asyncio.TimeoutError)


def kafka_refusal(exc: BaseException) -> bool:
    """Kafka answered and said no (message too large, not authorized…): waiting will not help."""
    return isinstance(exc, KafkaError) and not kafka_transient(exc)


async def retry_transient(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    is_transient: Callable[[BaseException], bool],
    on_failure: Callable[[BaseException], None] = lambda _: None,
    give_up: asyncio.Event | None = None,
    first_s: float = 0.2,
    max_s: float = 30.0,
) -> T:
    """`await attempt()` until it succeeds; retry only what `is_transient` accepts.

    When `give_up` is set (a revocation, a stop), the wait ends at once and `Abandoned` is
    raised: nothing was committed, and the batch is read again by whoever owns it next.
    """
    stop = give_up or asyncio.Event()

    async def sleep(seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        if exc is not None:
            on_failure(exc)
        log.warning(
            "%s failed (%s); retry %d in %.1fs",
            what,
            exc,
            state.attempt_number,
            delay,
            extra={"attempt": state.attempt_number},
        )

    retrying = AsyncRetrying(
        sleep=sleep,
        retry=retry_if_exception(is_transient),
        wait=wait_exponential(multiplier=first_s, min=first_s, max=max_s),
        before_sleep=before_sleep,
        reraise=True,
    )

    async def call() -> T:  # tenacity awaits only what a coroutine *function* returns
        if stop.is_set():
            raise Abandoned
        return await attempt()

    result: T = await retrying(call)
    return result
