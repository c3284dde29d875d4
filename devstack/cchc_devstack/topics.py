"""Kafka topic setup with kafka-python (Kafka protocol only: Tansu and Apache Kafka alike)."""

from __future__ import annotations

import contextlib

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
