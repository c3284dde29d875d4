"""End to end: several systems of one province push at once, and not one dossier goes missing.

Four producers write the same raw topic (one partition) at a paced rate while the pipeline tails
it — the shape in which the embedded broker hands a consumer a later batch before an earlier one
(docs/platform.md "Embedded broker"). Every hop must re-read the hole: the service index counts
exactly the dossiers sent, and no service gave a record up.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from cchc_shared.provinces import default_registry
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningStack, wait_until

pytestmark = pytest.mark.connected

PROVINCE = "38"  # Thanh Hóa: no other test streams dossiers of this province
DAY = "2025-10-21"
PRODUCERS, DOSSIERS_PER_S, SECONDS = 4, 625, 4  # 4 × 625 dossiers/s × 2 events = 5,000 events/s


def _events(producer: int, i: int, commune: str) -> list[bytes]:
    dossier = f"race-{producer}-{i}"
    base = {
        "schema": "cchc.dossier_event/1",
        "province": PROVINCE,
        "dossier_id": dossier,
        "procedure_code": "1.004227",
        "commune_code": commune,
    }
    received = {
        **base,
        "event_id": f"{dossier}-r",
        "status": "received",
        "occurred_at": f"{DAY}T08:00:00+07:00",
        "due_at": f"{DAY}T17:00:00+07:00",
        "channel": "online",
    }
    resolved = {
        **base,
        "event_id": f"{dossier}-s",
        "status": "resolved",
        "occurred_at": f"{DAY}T10:00:00+07:00",
    }
    return [orjson.dumps(received), orjson.dumps(resolved)]


async def _push(bootstrap: str, producer: int, commune: str) -> int:
    topic = f"cchc.raw.{PROVINCE}"
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await client.start()
    try:
        started, futures = time.monotonic(), []
        for i in range(DOSSIERS_PER_S * SECONDS):
            key = f"race-{producer}-{i}".encode()
            for value in _events(producer, i, commune):  # a dossier's two events: one batch
                futures.append(await client.send(topic, value, key=key))
            if (delay := started + (i + 1) / DOSSIERS_PER_S - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        await asyncio.gather(*futures)
        return DOSSIERS_PER_S * SECONDS
    finally:
        await client.stop()


def _given_up(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "cchc_offset_gap_records_total" and s.labels.get("outcome") == "given_up"
    )


async def test_racing_pushes_are_all_counted(stack: RunningStack) -> None:
    commune = min(c for c, p in default_registry().communes.items() if p == PROVINCE)
    sent = sum(
        await asyncio.gather(*(_push(stack.bootstrap, p, commune) for p in range(PRODUCERS)))
    )
    await asyncio.to_thread(stack.drained, 120)

    def answer() -> dict[str, Any] | None:
        r = httpx.get(
            f"{stack.api}/v1/service-index",
            params={"period": DAY, "province": PROVINCE},
            headers=stack.headers(),
        )
        body: dict[str, Any] = r.json()
        return body if body["resolved"] >= sent else None

    body = await asyncio.to_thread(wait_until, answer, 60)
    assert (body["received"], body["resolved"], body["resolved_on_time"]) == (sent, sent, sent)
    rows = stack.sql(
        "SELECT uniqExact(event_id) FROM dossier_events "
        f"WHERE province = '{PROVINCE}' AND dossier_id LIKE 'race-%'"
    )
    assert rows == [[2 * sent]]
    ports = {"ingest": 1, "normalize": 2, "aggregate": 0}
    base = stack.config.api_port
    for service, offset in ports.items():
        assert _given_up(f"http://127.0.0.1:{base + offset}") == 0, service
