"""The dead-letter envelope on `cchc.dlq` (docs/contract.md "Dead letters").

The envelope is bounded whatever the input (docs/security.md "Dead letters"): a payload over
`PAYLOAD_LIMIT` bytes is cut there, with its full length and SHA-256 recorded; the errors list,
each error's text and the key are capped too. The worst case — every byte a control character
that JSON writes as `\\u0000` (×6) — stays well under 1 MiB (`MAX_ENCODED_BYTES`), Kafka's
default message limit, so a dead letter can always be published.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from cchc_shared.topics import RAW_PREFIX, Topic, province_of_raw_topic

Stage = Literal["ingest", "normalize", "aggregate"]

PAYLOAD_LIMIT = 64 * 1024
"""Bytes of the original message kept in an envelope: ingest's own limit for a message
(`oversized` above it), so every message the pipeline could accept is kept whole, replayable."""
MAX_ERRORS = 16
"""Errors kept per envelope (the first ones); `errors_total` says how many there were."""
MAX_LOC_CHARS = 256
MAX_MSG_CHARS = 1024
KEY_LIMIT = 1024
"""Bytes of the source key kept; a longer key is cut and flagged (`key_truncated`)."""
MAX_ENCODED_BYTES = 640 * 1024
"""A bound on `len(encode(letter))` for any input (tested): payload 64 KiB × 6, errors
16 × (256 + 1024) × 6, key 1 KiB × 6, and the rest; about 60 % of Kafka's default 1 MiB."""


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
    key_truncated: bool = False

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
    payload_truncated: bool = False
    """The payload holds only the first `PAYLOAD_LIMIT` bytes (or none: a minimal envelope)."""
    payload_bytes: int | None = None
    """Length of the original message in bytes (None only in envelopes older than the field)."""
    payload_sha256: str | None = None
    """SHA-256 (hex) of the original message."""
    errors_total: int | None = None
    """How many errors the stage found (more than `errors` holds when they were capped)."""

    def kept_bytes(self) -> bytes:
        """The payload as the envelope holds it (the whole message unless truncated)."""
        if self.payload_encoding == "base64":
            return base64.b64decode(self.payload)
        return self.payload.encode("utf-8")

    def original_bytes(self) -> bytes:
        """The payload exactly as it was received; ValueError when the envelope holds only part."""
        if self.payload_truncated or (self.source.key_truncated and self.source.key is not None):
            what = "a truncated payload" if self.payload_truncated else "a truncated key"
            raise ValueError(
                f"{what}: the envelope holds {len(self.kept_bytes())} of the message's "
                f"{self.payload_bytes} bytes, so it cannot be replayed"
            )
        return self.kept_bytes()


def _source(topic: str, partition: int, offset: int, key: bytes | None) -> SourceRef:
    if key is None:
        return SourceRef(topic=topic[:MAX_LOC_CHARS], partition=partition, offset=offset, key=None)
    cut = len(key) > KEY_LIMIT
    text, encoding = _text(key[:KEY_LIMIT])
    return SourceRef(
        topic=topic[:MAX_LOC_CHARS],
        partition=partition,
        offset=offset,
        key=text,
        key_encoding=encoding,
        key_truncated=cut,
    )


def _text(data: bytes) -> tuple[str, Literal["utf-8", "base64"]]:
    """UTF-8 text when it is; base64 otherwise."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def _cut_utf8(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes of `data`, not splitting a UTF-8 character when `data` is UTF-8."""
    head = data[:limit]
    for back in range(4):  # a character is at most 4 bytes: drop a partial one at the end
        try:
            head[: len(head) - back].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return head[: len(head) - back]
    return head


def _capped(errors: list[ErrorDetail], max_errors: int) -> list[ErrorDetail]:
    return [
        e
        if len(e.loc) <= MAX_LOC_CHARS and len(e.msg) <= MAX_MSG_CHARS
        else ErrorDetail(loc=e.loc[:MAX_LOC_CHARS], msg=_ellipsis(e.msg, MAX_MSG_CHARS))
        for e in errors[:max_errors]
    ]


def _ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    minimal: bool = False,
) -> DeadLetter:
    """Build the bounded envelope; a payload that is not UTF-8 is kept as base64.

    A payload over `PAYLOAD_LIMIT` bytes keeps its first `PAYLOAD_LIMIT` bytes (whole UTF-8
    characters when it is text); `minimal` keeps none of it and only the first error — the
    envelope the runtime falls back to when Kafka refused the full one. Either way
    `payload_bytes` and `payload_sha256` describe the original message.
    """
    limit = 0 if minimal else PAYLOAD_LIMIT
    kept = _cut_utf8(payload, limit) if len(payload) > limit else payload
    text, encoding = _text(kept)
    return DeadLetter(
        stage=stage,
        reason=reason,
        errors=_capped(errors, 1 if minimal else MAX_ERRORS),
        errors_total=len(errors),
        source=_source(topic, partition, offset, key),
        payload=text,
        payload_encoding=encoding,
        payload_truncated=len(kept) < len(payload),
        payload_bytes=len(payload),
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        rejected_at=rejected_at or datetime.now(UTC),
    )


def replay_topic(source: SourceRef, provinces: Collection[str]) -> str:
    """The raw topic a dead letter from `source` is replayed to; ValueError saying why not.

    Only a province's raw topic, never an internal one, so ingest validates the message again,
    the province's authority included: `cchc.raw.NN` → itself; `cchc.validated` (normalize's
    dead letters, keyed by the current province code) → `cchc.raw.<key>`. `provinces`: the 2025
    province codes; anything else — `cchc.normalized`, `cchc.dlq`, another topic, a code that is
    no 2025 province — is refused (the envelope may be forged: anyone who can write `cchc.dlq`
    can write one).
    """
    topic = source.topic
    if topic.startswith(RAW_PREFIX):
        code = province_of_raw_topic(topic)
        if code is None or code not in provinces:
            raise ValueError(f"source {topic!r} is not the raw topic of a 2025 province")
        return topic
    if topic == Topic.VALIDATED:
        code = source.key if source.key_encoding == "utf-8" and not source.key_truncated else None
        if code is None or code not in provinces:
            raise ValueError(f"source {topic!r} with key {source.key!r}: not a 2025 province code")
        return f"{RAW_PREFIX}{code}"
    raise ValueError(f"source {topic!r} is not replayable (only cchc.raw.NN and cchc.validated)")


def encode(letter: DeadLetter) -> bytes:
    """The envelope as JSON bytes; `payload_encoding` only when base64.

    As docs/contract.md "Dead letters" shows it.

    Likewise `source.key_encoding` appears only for a key that is not UTF-8 (kept as base64).
    """
    data = letter.model_dump(
        mode="json",
        exclude={
            "payload_encoding": True,
            "payload_truncated": True,
            "source": {"key_encoding", "key_truncated"},
        },
    )
    if letter.payload_encoding == "base64":
        data["payload_encoding"] = "base64"
    if letter.payload_truncated:
        data["payload_truncated"] = True
    if letter.source.key_encoding == "base64":
        data["source"]["key_encoding"] = "base64"
    if letter.source.key_truncated:
        data["source"]["key_truncated"] = True
    return orjson.dumps(data)
