"""Records of cchc.dlq → rows of `dead_letters` (deploy/clickhouse/0007_dead_letters.sql). Pure.

Whatever is on cchc.dlq becomes exactly one row and never a dead letter again (that would loop
through cchc.dlq): an envelope that does not parse, or whose numbers do not fit the columns, is
kept as an `unreadable` row holding its bytes. Envelopes are bounded when services write them,
but anyone who can write cchc.dlq can write a bigger one, so the row is bounded again here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from cchc_runtime.records import Record
from cchc_shared.dlq import MAX_ERRORS, MAX_LOC_CHARS, MAX_MSG_CHARS, PAYLOAD_LIMIT, DeadLetter
from cchc_shared.topics import Topic, province_of_raw_topic
from pydantic import ValidationError

UNREADABLE = "unreadable"
"""stage and reason of a record of cchc.dlq that is not an envelope."""

DEAD_LETTER_COLUMNS = (
    "stage", "reason", "source_topic", "source_partition", "source_offset", "source_key",
    "source_key_encoding", "source_key_truncated", "province", "error_loc", "error_msg", "errors",
    "errors_total", "payload", "payload_encoding", "payload_truncated", "payload_bytes",
    "payload_sha256", "rejected_at", "dlq_partition", "dlq_offset", "kafka_ts",
)  # fmt: skip

_MAX_KEY_CHARS = 4096
_MAX_TOPIC_CHARS = 256
_INT32 = 2**31
_INT64 = 2**63
_LATEST_MS = 7_258_118_400_000  # 2200-01-01: DateTime64(3) holds up to 2299
_PROVINCE_KEYED = frozenset({Topic.VALIDATED.value, Topic.NORMALIZED.value})


def dead_letter_columns(records: Sequence[Record]) -> dict[str, list[Any]]:
    """One row per record, column by column."""
    columns: dict[str, list[Any]] = {c: [] for c in DEAD_LETTER_COLUMNS}
    for record in records:
        row = dead_letter_row(record)
        for name in DEAD_LETTER_COLUMNS:
            columns[name].append(row[name])
    return columns


def dead_letter_row(record: Record) -> dict[str, Any]:
    """The row of one record of cchc.dlq."""
    kafka_ms = min(max(record.timestamp_ms, 0), _LATEST_MS)
    try:
        letter = DeadLetter.model_validate_json(record.value)
    except ValidationError as exc:
        return _unreadable(record, kafka_ms, f"not a dead-letter envelope: {exc}")
    src = letter.source
    whole = letter.payload_bytes
    if not (
        -_INT32 <= src.partition < _INT32
        and -_INT64 <= src.offset < _INT64
        and (whole is None or 0 <= whole < _INT64)
    ):
        return _unreadable(record, kafka_ms, "numbers out of range for the dead_letters columns")
    try:
        kept = letter.kept_bytes()
    except ValueError:  # base64 that does not decode
        return _unreadable(record, kafka_ms, "payload is not valid base64")
    payload, encoding, cut = _bounded(kept)
    rejected_ms = int(letter.rejected_at.timestamp() * 1000)
    key = src.key or ""
    first = letter.errors[0] if letter.errors else None
    return {
        "stage": letter.stage,
        "reason": letter.reason.value,
        "source_topic": src.topic[:_MAX_TOPIC_CHARS],
        "source_partition": src.partition,
        "source_offset": src.offset,
        "source_key": key[:_MAX_KEY_CHARS],
        "source_key_encoding": src.key_encoding if src.key is not None else "",
        "source_key_truncated": src.key_truncated or len(key) > _MAX_KEY_CHARS,
        "province": _province(letter),
        "error_loc": first.loc[:MAX_LOC_CHARS] if first else "",
        "error_msg": first.msg[:MAX_MSG_CHARS] if first else "",
        "errors": orjson.dumps(
            [
                {"loc": e.loc[:MAX_LOC_CHARS], "msg": e.msg[:MAX_MSG_CHARS]}
                for e in letter.errors[:MAX_ERRORS]
            ]
        ).decode(),
        "errors_total": min(max(letter.errors_total or 0, len(letter.errors)), 2**32 - 1),
        "payload": payload,
        "payload_encoding": encoding,
        "payload_truncated": letter.payload_truncated or cut,
        "payload_bytes": whole if whole is not None else len(kept),
        "payload_sha256": (letter.payload_sha256 or hashlib.sha256(kept).hexdigest())[:64],
        "rejected_at": rejected_ms if 0 <= rejected_ms <= _LATEST_MS else kafka_ms,
        "dlq_partition": record.partition,
        "dlq_offset": record.offset,
        "kafka_ts": kafka_ms,
    }


def _province(letter: DeadLetter) -> str:
    """The 2025 province code the rejected message came from, or '' when the source does not say."""
    src = letter.source
    if (code := province_of_raw_topic(src.topic)) is not None:
        return code
    key = src.key
    if src.topic in _PROVINCE_KEYED and src.key_encoding == "utf-8" and key is not None:
        return key if len(key) == 2 and key.isdigit() else ""
    return ""


def _bounded(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding, cut): at most PAYLOAD_LIMIT bytes, as UTF-8 text or base64."""
    cut = len(data) > PAYLOAD_LIMIT
    data = data[:PAYLOAD_LIMIT]
    try:
        return data.decode("utf-8"), "utf-8", cut
    except UnicodeDecodeError:
        if cut:  # a character split by the cut: drop its start
            for back in range(1, 4):
                try:
                    return data[:-back].decode("utf-8"), "utf-8", cut
                except UnicodeDecodeError:
                    continue
        return base64.b64encode(data).decode("ascii"), "base64", cut


def _unreadable(record: Record, kafka_ms: int, why: str) -> dict[str, Any]:
    payload, encoding, cut = _bounded(record.value)
    return {
        "stage": UNREADABLE,
        "reason": UNREADABLE,
        "source_topic": "",
        "source_partition": -1,
        "source_offset": -1,
        "source_key": "",
        "source_key_encoding": "",
        "source_key_truncated": False,
        "province": "",
        "error_loc": "$",
        "error_msg": why[:MAX_MSG_CHARS],
        "errors": orjson.dumps([{"loc": "$", "msg": why[:MAX_MSG_CHARS]}]).decode(),
        "errors_total": 1,
        "payload": payload,
        "payload_encoding": encoding,
        "payload_truncated": cut,
        "payload_bytes": len(record.value),
        "payload_sha256": hashlib.sha256(record.value).hexdigest(),
        "rejected_at": kafka_ms,
        "dlq_partition": record.partition,
        "dlq_offset": record.offset,
        "kafka_ts": kafka_ms,
    }
