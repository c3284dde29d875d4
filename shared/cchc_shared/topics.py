"""Kafka topic names (docs/contract.md "Topics")."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

RAW_PREFIX = "cchc.raw."


class Topic(StrEnum):
    """The internal topics; raw topics are one per 2025 province (`raw_topic`)."""

    VALIDATED = "cchc.validated"
    NORMALIZED = "cchc.normalized"
    DLQ = "cchc.dlq"


def raw_topic(province_code: str) -> str:
    """`cchc.raw.NN` for the 2025 province code NN."""
    return f"{RAW_PREFIX}{province_code}"


def province_of_raw_topic(topic: str) -> str | None:
    """NN for `cchc.raw.NN`, or None when the topic is not a raw topic."""
    if not topic.startswith(RAW_PREFIX):
        return None
    code = topic[len(RAW_PREFIX) :]
    return code if len(code) == 2 and code.isdigit() else None


def raw_topics(province_codes: Iterable[str]) -> list[str]:
    """The raw topics for the given 2025 province codes, sorted."""
    return sorted(raw_topic(code) for code in province_codes)
