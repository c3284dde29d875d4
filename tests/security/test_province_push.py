"""Identity on ingest's province routes: enumerated against the table, and the answers that need
no broker (401, 403, 413, 429) tried on the app itself.

docs/security.md "Province push". The flow on the real stack (events landing, the topic that
cannot be reached, per-line results against cchc.dlq) is tests/e2e/test_https_push.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cchc_ingest.access import ROLES
from cchc_ingest.api import Border, create_app
from cchc_ingest.settings import IngestSettings
from cchc_ingest.stage import IngestMetrics, IngestStage
from cchc_ingest.steps.dlq_limit import DlqLimit
from cchc_normalize.steps.canonicalize import Reference
from cchc_runtime.auth import OPEN_PATHS
from cchc_runtime.consumer import Consumer
from cchc_runtime.http import http_app
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import StreamProcessor
from cchc_runtime.producer import Output
from cchc_runtime.testing import records, run
from cchc_runtime.tokens import Role, TokenStore
from cchc_shared.settings import KafkaSettings
from starlette.routing import Route

from tests import events

REFERENCE = Reference.load()


@dataclass
class App:
    app: Any
    stage: IngestStage
    store: TokenStore
    settings: IngestSettings


def _app(tmp_path: Path, limit: DlqLimit | None = None, max_bytes: int = 64 * 1024) -> App:
    """Ingest's app exactly as served (province routes and operations routes); no broker."""
    settings = IngestSettings(tokens_file=tmp_path / "tokens.json", push_max_bytes=max_bytes)
    metrics = CoreMetrics.create("ingest")
    stage = IngestStage(REFERENCE.provinces, IngestMetrics.create(metrics.registry), limit, 30)
    output = Output("127.0.0.1:1", client_id="x")
    processor = StreamProcessor(
        "ingest",
        Consumer("ingest", KafkaSettings(), ["t"], "g", metrics),
        output,
        stage,
        metrics,
        max_records=1,
        batch_timeout_ms=1,
    )
    app = http_app(processor, create_app(Border(stage, output, metrics, REFERENCE), settings))
    return App(app, stage, TokenStore(settings.tokens_path()), settings)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[App, httpx.AsyncClient]]:
    app = _app(tmp_path, DlqLimit(max_ratio=1, max_consecutive=2))
    transport = httpx.ASGITransport(app=app.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        yield app, client


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_every_ingest_route_is_open_by_name_or_has_a_role(tmp_path: Path) -> None:
    app = _app(tmp_path).app
    paths = {r.path for r in app.routes if isinstance(r, Route)}
    assert paths - OPEN_PATHS, "no protected route found: the enumeration is broken"
    unprotected = paths - OPEN_PATHS - set(ROLES)
    assert unprotected == set(), f"routes without a role: {unprotected}"
    assert set(ROLES) <= paths, f"roles for routes that do not exist: {set(ROLES) - paths}"
    assert set(ROLES.values()) == {Role.PROVINCE}


@pytest.mark.parametrize("path", sorted(ROLES))
async def test_only_an_active_province_token_gets_in(
    served: tuple[App, httpx.AsyncClient], path: str
) -> None:
    app, client = served
    body = orjson.dumps(events.report(province="Yên Bái", period="2024"))
    for headers in ({}, _auth("cchc_" + "A" * 43), _auth("nope")):
        r = await client.post(path, content=body, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
    for role in (Role.ANALYST, Role.OPERATOR):
        r = await client.post(path, content=body, headers=_auth(app.store.create(role, role)))
        assert (r.status_code, r.json()["error"]) == (403, "forbidden")
    secret = app.store.create("lao-cai", Role.PROVINCE, province="15")
    r = await client.post("/v1/validate", content=body, headers=_auth(secret))
    assert r.status_code == 200, r.text
    app.store.revoke("lao-cai")
    r = await client.post(path, content=body, headers=_auth(secret))
    assert r.status_code == 401


async def test_a_body_over_the_limit_is_413_before_it_is_read(
    served: tuple[App, httpx.AsyncClient],
) -> None:
    app, client = served
    headers = _auth(app.store.create("big", Role.PROVINCE, province="15"))
    limit = app.settings.push_max_bytes
    for path in ROLES:
        r = await client.post(path, content=b"\n" * (limit + 1), headers=headers)
        assert (r.status_code, r.json()["error"]) == (413, "payload_too_large"), path

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: cut while streaming
        for _ in range(limit // 1000 + 2):
            yield b" " * 1000

    r = await client.post("/v1/events", content=chunked(), headers=headers)
    assert r.status_code == 413
    r = await client.post("/v1/validate", content=b"\n" * limit, headers=headers)
    assert r.status_code == 200
    assert r.json()["results"] == []


async def test_a_paused_province_gets_429_with_retry_after_others_do_not(
    served: tuple[App, httpx.AsyncClient],
) -> None:
    app, client = served
    lao_cai = _auth(app.store.create("lao-cai", Role.PROVINCE, province="15"))
    son_la = _auth(app.store.create("son-la", Role.PROVINCE, province="14"))
    # The consumer's stage sees three bad records of cchc.raw.15 in a row: the limit trips.
    result = run(app.stage, records("cchc.raw.15", [b"{", b"{", b"{", b"{"]))
    assert result.pauses
    assert app.stage.retry_after("15") is not None

    r = await client.post("/v1/events", content=b"{}", headers=lao_cai)
    assert r.status_code == 429
    assert r.json()["error"] == "paused"
    assert 1 <= int(r.headers["retry-after"]) <= 30
    # The dry run stores nothing, so it stays open; another province is not held.
    assert (await client.post("/v1/validate", content=b"{}", headers=lao_cai)).status_code == 200
    assert app.stage.retry_after("14") is None
    r = await client.post("/v1/events", content=b"\n", headers=son_la)
    assert r.status_code == 200
    assert r.json() == {"province": "14", "accepted": 0, "results": []}

    app.stage.release("15")
    assert app.stage.retry_after("15") is None


async def test_an_array_that_cannot_be_split_is_400(
    served: tuple[App, httpx.AsyncClient],
) -> None:
    app, client = served
    headers = _auth(app.store.create("arr", Role.PROVINCE, province="15"))
    r = await client.post("/v1/events", content=b'[{"a": 1}, {oops]', headers=headers)
    assert (r.status_code, r.json()["error"]) == (400, "malformed_body")
