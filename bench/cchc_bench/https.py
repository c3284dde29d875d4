"""The HTTPS push, measured: the same kind of events as the Kafka push, posted to ingest's
``POST /v1/events`` in 1,000-line JSON-lines batches, one province token per province.

A batch answers once Kafka acknowledged every line (acks=all), so the push rate is what a
province can get durably accepted. TLS is left to the reverse proxy in front of ingest
(docs/security.md "Province push"): the figure is the service's own, over plain HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from cchc_shared.topics import province_of_raw_topic

from cchc_bench.events import Message
from cchc_bench.stats import summarize

BATCH_LINES = 1_000


@dataclass(frozen=True)
class Batch:
    """One request: a province and its JSON-lines body."""

    province: str
    lines: int
    body: bytes


def batches(messages: Sequence[Message], size: int = BATCH_LINES) -> list[Batch]:
    """The events grouped by their province's topic, cut into bodies of `size` lines.

    Provinces are interleaved (one batch of each in turn), as many provinces push at once.
    """
    by_province: dict[str, list[bytes]] = defaultdict(list)
    for topic, _, value in messages:
        province = province_of_raw_topic(topic)
        if province is None:
            raise ValueError(f"not a raw topic: {topic}")
        by_province[province].append(value)
    queues = {
        p: [
            Batch(p, len(values[i : i + size]), b"\n".join(values[i : i + size]))
            for i in range(0, len(values), size)
        ]
        for p, values in sorted(by_province.items())
    }
    out: list[Batch] = []
    while queues:
        for p in list(queues):
            out.append(queues[p].pop(0))
            if not queues[p]:
                del queues[p]
    return out


@dataclass
class PushOutcome:
    """What the push did: timings, and what the answers said."""

    first_at: float = 0.0
    last_at: float = 0.0
    accepted: int = 0
    rejected: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    request_s: list[float] = field(default_factory=list)

    def figures(self, events: int) -> dict[str, Any]:
        """The phase's figures."""
        seconds = self.last_at - self.first_at
        return {
            "events": events,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "requests": len(self.request_s),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds, 1) if seconds > 0 else None,
            "request_s": summarize(self.request_s) if self.request_s else None,
        }


async def _post_all(
    url: str, tokens: dict[str, str], work: list[Batch], concurrency: int
) -> PushOutcome:
    outcome = PushOutcome()
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    for batch in work:
        queue.put_nowait(batch)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                started = time.perf_counter()
                r = await client.post(
                    "/v1/events",
                    content=batch.body,
                    headers={
                        "Authorization": f"Bearer {tokens[batch.province]}",
                        "Content-Type": "application/x-ndjson",
                    },
                )
                outcome.request_s.append(time.perf_counter() - started)
                outcome.statuses[r.status_code] = outcome.statuses.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    answer = r.json()
                    outcome.accepted += answer["accepted"]
                    outcome.rejected += len(answer["results"]) - answer["accepted"]

        outcome.first_at = time.time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        outcome.last_at = time.time()
    return outcome


def push(url: str, tokens: dict[str, str], work: list[Batch], concurrency: int) -> PushOutcome:
    """POST every batch, `concurrency` requests in flight; returns when all were answered."""
    return asyncio.run(_post_all(url, tokens, work, concurrency))
