"""Kafka topic setup with kafka-python (Kafka protocol only: Tansu and Apache Kafka alike)."""

from __future__ import annotations

import contextlib
import random
import socket
import time

from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import Topic, raw_topics
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError


def pipeline_topics(raw_partitions: int, internal_partitions: int) -> dict[str, int]:
    """The 34 `cchc.raw.NN` topics and the internal ones, with their partition counts."""
    codes = (u.code for u in default_registry().units(Era.POST_2025))
    topics = dict.fromkeys(raw_topics(codes), raw_partitions)
    topics.update(dict.fromkeys((t.value for t in Topic), internal_partitions))
    return topics


def ensure_topics(bootstrap_servers: str, topics: dict[str, int], timeout_s: float = 30) -> int:
    """Create the topics that do not exist yet; returns how many were created."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="cchc-admin",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        existing = set(admin.list_topics())
        missing = [NewTopic(t, n, 1) for t, n in sorted(topics.items()) if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing, timeout_ms=int(timeout_s * 1000))
        return len(missing)
    finally:
        admin.close()


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    """Block until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on {host}:{port} after {timeout_s:.0f}s"
                ) from exc
            time.sleep(0.05)


def free_port_block(host: str, size: int = 1) -> int:
    """A port p such that p … p+size-1 are all free on `host` (for stacks beside another)."""
    for _ in range(200):
        base = random.randint(20_000, 60_000)
        if all(port_is_free(host, base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no {size} free consecutive ports on {host}")


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port yet."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
