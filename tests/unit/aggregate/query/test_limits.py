"""The query API's request limits: body size (413) and concurrent SQL queries (429)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cchc_aggregate.query import routes
from cchc_aggregate.settings import AggregateSettings
from fastapi import FastAPI
from fastapi.testclient import TestClient


class SlowSandbox:
    """Holds every query until released; counts what it ran."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.ran: list[str] = []

    def run(self, sql: str) -> tuple[list[str], list[Any]]:
        self.started.release()
        self.release.wait(10)
        self.ran.append(sql)
        return ["x"], [(1,)]


@pytest.fixture
def sandbox() -> SlowSandbox:
    return SlowSandbox()


@pytest.fixture
def http(sandbox: SlowSandbox) -> Iterator[TestClient]:
    app = FastAPI()
    settings = AggregateSettings(sql_max_concurrent=1, max_request_bytes=1000, sql_max_seconds=7)
    routes.install(app, None, None, settings, sandbox=sandbox)  # type: ignore[arg-type]
    with TestClient(app) as client:
        yield client


def test_a_body_over_the_limit_is_refused_from_its_length(
    http: TestClient, sandbox: SlowSandbox
) -> None:
    sandbox.release.set()
    r = http.post("/v1/sql", content=b'{"sql": "SELECT 1", "pad": "' + b"x" * 2000 + b'"}')
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"
    assert sandbox.ran == []


def test_a_streamed_body_over_the_limit_is_refused(http: TestClient, sandbox: SlowSandbox) -> None:
    sandbox.release.set()

    def chunks() -> Iterator[bytes]:
        yield b'{"sql": "SELECT 1", "pad": "'
        for _ in range(100):
            yield b"x" * 100

    r = http.post("/v1/sql", content=chunks())
    assert r.status_code == 413
    assert sandbox.ran == []


def test_a_body_within_the_limit_and_other_routes_pass(
    http: TestClient, sandbox: SlowSandbox
) -> None:
    sandbox.release.set()
    r = http.post("/v1/sql", json={"sql": "SELECT 1"})
    assert r.status_code == 200, r.text
    assert sandbox.ran == ["SELECT 1"]
    assert http.get("/v1/pipeline").status_code == 503  # no lag monitor: unchanged


def test_a_query_over_the_concurrency_limit_is_answered_429(
    http: TestClient, sandbox: SlowSandbox
) -> None:
    first: list[Any] = []
    worker = threading.Thread(
        target=lambda: first.append(http.post("/v1/sql", json={"sql": "SELECT 1"}))
    )
    worker.start()
    assert sandbox.started.acquire(timeout=10)
    try:
        busy = http.post("/v1/sql", json={"sql": "SELECT 2"})
        assert busy.status_code == 429
        assert busy.json()["error"] == "busy"
        assert busy.headers["retry-after"] == "7"
    finally:
        sandbox.release.set()
        worker.join(10)
    assert first[0].status_code == 200
    assert http.post("/v1/sql", json={"sql": "SELECT 3"}).status_code == 200
    assert sandbox.ran == ["SELECT 1", "SELECT 3"]
