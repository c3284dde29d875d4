"""The dead-letter envelope on `cchc.dlq` (docs/contract.md "Dead letters")."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

Stage = Literal["ingest", "normalize", "aggregate"]


class Reason(StrEnum):
    """Why a message was dead-lettered. Public codes: provincial systems match on them."""

    MALFORMED_JSON = "malformed_json"
    OVERSIZED = "oversized"
    UNKNOWN_SCHEMA = "unknown_schema"
    SCHEMA_VIOLATION = "schema_violation"
    PROVINCE_MISMATCH = "province_mismatch"
    UNKNOWN_PROVINCE = "unknown_province"
    UNKNOWN_INDICATOR = "unknown_indicator"
    BAD_NUMBER = "bad_number"
    BAD_UNIT = "bad_unit"
    BAD_PERIOD = "bad_period"
    FUTURE_PERIOD = "future_period"
    OUT_OF_RANGE = "out_of_range"
    INCONSISTENT_RATIO = "inconsistent_ratio"
    UNKNOWN_COMMUNE = "unknown_commune"
    STORAGE_REJECTED = "storage_rejected"


# Which reasons each stage can give (the others belong to earlier stages).
STAGE_REASONS: dict[str, tuple[Reason, ...]] = {
    "ingest": (
        Reason.OVERSIZED,
        Reason.MALFORMED_JSON,
        Reason.UNKNOWN_SCHEMA,
        Reason.SCHEMA_VIOLATION,
        Reason.PROVINCE_MISMATCH,
        Reason.UNKNOWN_PROVINCE,
    ),
    "normalize": (
        Reason.SCHEMA_VIOLATION,
        Reason.UNKNOWN_PROVINCE,
        Reason.UNKNOWN_INDICATOR,
        Reason.BAD_NUMBER,
        Reason.BAD_UNIT,
        Reason.BAD_PERIOD,
        Reason.FUTURE_PERIOD,
        Reason.OUT_OF_RANGE,
        Reason.INCONSISTENT_RATIO,
        Reason.UNKNOWN_COMMUNE,
    ),
    "aggregate": (Reason.SCHEMA_VIOLATION, Reason.STORAGE_REJECTED),
}


class ErrorDetail(BaseModel):
    """One field error: where (`loc`, dotted) and what (`msg`)."""

    model_config = ConfigDict(frozen=True)
    loc: str
    msg: str


class SourceRef(BaseModel):
    """Where the rejected message was read."""

    model_config = ConfigDict(frozen=True)
    topic: str
    partition: int
    offset: int
    key: str | None
    key_encoding: Literal["utf-8", "base64"] = "utf-8"

    def original_key(self) -> bytes | None:
        """The key exactly as it was received (for a replay to the same partition)."""
        if self.key is None:
            return None
        if self.key_encoding == "base64":
            return base64.b64decode(self.key)
        return self.key.encode("utf-8")


class DeadLetter(BaseModel):
    """One rejected message, with everything needed to understand and replay it."""

    model_config = ConfigDict(frozen=True)
    stage: Stage
    reason: Reason
    errors: list[ErrorDetail]
    source: SourceRef
    payload: str
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    rejected_at: datetime

    def original_bytes(self) -> bytes:
        """The payload exactly as it was received."""
        if self.payload_encoding == "base64":
            return base64.b64decode(self.payload)
        return self.payload.encode("utf-8")


def _source(topic: str, partition: int, offset: int, key: bytes | None) -> SourceRef:
    if key is None:
        return SourceRef(topic=topic, partition=partition, offset=offset, key=None)
    try:
        return SourceRef(topic=topic, partition=partition, offset=offset, key=key.decode("utf-8"))
    except UnicodeDecodeError:
        text = base64.b64encode(key).decode("ascii")
        return SourceRef(
            topic=topic, partition=partition, offset=offset, key=text, key_encoding="base64"
        )


def dead_letter(
    *,
    stage: Stage,
    reason: Reason,
    errors: list[ErrorDetail],
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    payload: bytes,
    rejected_at: datetime | None = None,
) -> DeadLetter:
    """Build the envelope; a payload that is not UTF-8 is kept as base64."""
    try:
        text, encoding = payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(payload).decode("ascii"), "base64"
    return DeadLetter(
        stage=stage,
        reason=reason,
        errors=errors,
        source=_source(topic, partition, offset, key),
        payload=text,
        payload_encoding=encoding,
        rejected_at=rejected_at or datetime.now(UTC),
    )


def encode(letter: DeadLetter) -> bytes:
    """The envelope as JSON bytes; `payload_encoding` only when base64.

    As docs/contract.md "Dead letters" shows it.

    Likewise `source.key_encoding` appears only for a key that is not UTF-8 (kept as base64).
    """
    data = letter.model_dump(
        mode="json", exclude={"payload_encoding": True, "source": {"key_encoding"}}
    )
    if letter.payload_encoding == "base64":
        data["payload_encoding"] = "base64"
    if letter.source.key_encoding == "base64":
        data["source"]["key_encoding"] = "base64"
    return orjson.dumps(data)
