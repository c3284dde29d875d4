"""Fixtures for tests on the real parts: Tansu broker and chDB, started here, torn down after.

`stack` runs the whole pipeline exactly as `cchc up` does (broker, topics, migrations, three
service processes) on free ports and a temporary data dir, once per test session.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from cchc_cli import push as pushing
from cchc_devstack import ports
from cchc_devstack.ports import PortTaken
from cchc_devstack.stack import HOST, Stack, StackConfig
from cchc_runtime.tokens import Role
from cchc_shared.provinces import default_registry
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from kafka import KafkaProducer

# Properties, not timings: no per-example deadline (a loaded 2-core CI machine would make it
# flaky, and speed is measured by `make bench`, never asserted in a test).
hypothesis_settings.register_profile(
    "cchc", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("cchc")


def free_port_block(size: int = 1) -> int:
    """A port p such that p … p+size-1 are free on 127.0.0.1."""
    return ports.free_port_block(HOST, size)


@dataclass
class RunningStack:
    """A running embedded stack, as a test sees it."""

    stack: Stack
    config: StackConfig

    @property
    def bootstrap(self) -> str:
        return self.config.bootstrap

    @property
    def api(self) -> str:
        return self.config.api_url

    def producer(self) -> KafkaProducer:
        return KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=2)

    def send(self, topic: str, payloads: list[bytes], key: bytes | None = None) -> None:
        producer = self.producer()
        try:
            for payload in payloads:
                producer.send(topic, value=payload, key=key)
            producer.flush()
        finally:
            producer.close()

    def headers(self, role: Role = Role.ANALYST) -> dict[str, str]:
        """The Authorization header of the stack's own token for `role`."""
        return self.stack.auth(role)

    def drained(self, timeout_s: float = 60) -> dict[str, Any]:
        """Wait until every service's lag is zero; returns /v1/pipeline."""
        return self.stack.wait_drained(timeout_s)

    def sql(self, query: str) -> list[list[Any]]:
        r = httpx.post(
            f"{self.api}/v1/sql", json={"sql": query}, headers=self.headers(), timeout=30
        )
        assert r.status_code == 200, r.text
        rows: list[list[Any]] = r.json()["rows"]
        return rows


def start_stack(data_dir: Path, **overrides: Any) -> RunningStack:
    """Start a full stack on free ports (caller stops it).

    A port found free is free only until it is bound: another process on the machine (another
    test session) may take the Kafka port first. The broker then cannot listen there and
    `Stack.start` fails with `PortTaken` — having started nothing else — and the stack is
    started again on other ports. Only for that cause, and not for a port the caller chose.
    """
    # Instance n of a service listens on its port + 3(n-1): room for one more than asked
    # (a test may add an instance).
    most = max(overrides.get("instances", {}).values(), default=1)
    chosen = overrides.pop("kafka_port", None)
    for attempt in range(3):
        kafka_port = chosen or free_port_block(1)
        api_port = free_port_block(3 * (most + 1))
        while api_port <= kafka_port < api_port + 3 * (most + 1):  # the broker's is not free yet
            api_port = free_port_block(3 * (most + 1))
        config = StackConfig(
            data_dir=data_dir, kafka_port=kafka_port, api_port=api_port, **overrides
        )
        stack = Stack(config, say=lambda line: print(f"[stack] {line}"))
        try:
            stack.start(timeout_s=90)
        except PortTaken as taken:
            if chosen or attempt == 2:
                raise
            print(f"[stack] {taken}; again on other ports")
            continue
        return RunningStack(stack, config)
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The whole pipeline on the real broker and chDB, shared by the session's tests."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stack.stop()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A second stack, as `make run` leaves it: the demo data (cli/cchc_cli/data/demo_events.jsonl)
    pushed and landed. Its own, so that the demo's figures never mix with what the tests push
    into `stack` (and theirs never change the demo's)."""
    running = start_stack(tmp_path_factory.mktemp("demo"))
    try:
        demo_file = resources.files("cchc_cli.data").joinpath("demo_events.jsonl")
        with demo_file.open("rb") as stream:
            lines = list(pushing.read_lines("demo_events.jsonl", stream))
        try:
            producer = pushing.producer(running.bootstrap)
        except Exception:
            # Ready a moment ago: say what became of the broker (exited, not listening, not
            # answering) rather than only that this client could not bootstrap.
            running.stack.check_broker(answering=True)
            raise
        try:
            report = pushing.push(lines, producer, default_registry())
        finally:
            producer.close()
        assert not report.failures, report.failures
        running.drained(120)
        yield running
    finally:
        running.stack.stop()


def wait_until(predicate: Any, timeout_s: float = 30, interval_s: float = 0.2) -> Any:
    """Poll `predicate` until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met after {timeout_s}s")
        time.sleep(interval_s)
