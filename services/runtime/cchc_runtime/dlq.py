"""A rejected record → its dead-letter message on cchc.dlq (docs/contract.md "Dead letters").

The one place envelopes are built and rejections counted, for every stage."""

from __future__ import annotations

import logging
from typing import cast

from cchc_shared import dlq
from cchc_shared.dlq import ErrorDetail, Reason, Stage
from cchc_shared.topics import Topic

from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.records import Outgoing, Record

log = logging.getLogger(__name__)


def envelope(
    stage: str, record: Record, reason: Reason, errors: list[ErrorDetail], *, minimal: bool = False
) -> Outgoing:
    """The envelope for `record` (bounded: `cchc_shared.dlq`), keyed like its source, with the
    source's push time. `minimal`: without the payload (its length and SHA-256 kept)."""
    letter = dlq.dead_letter(
        stage=cast(Stage, stage),
        reason=reason,
        errors=errors,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        payload=record.value,
        minimal=minimal,
    )
    return Outgoing(Topic.DLQ, record.key, dlq.encode(letter), record.timestamp_ms)


def dead_letter(
    stage: str, metrics: CoreMetrics, record: Record, reason: Reason, errors: list[ErrorDetail]
) -> Outgoing:
    """The envelope for `record` (`envelope`).

    Counts `cchc_messages_rejected_total{reason}` and logs the rejection with its position.
    """
    message = envelope(stage, record, reason, errors)
    metrics.rejected.labels(service=stage, reason=reason.value).inc()
    log.info(
        "rejected: %s",
        reason.value,
        extra={
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "reason": reason.value,
        },
    )
    return message
