"""Records of cchc.dlq → rows of `dead_letters`: every record one bounded row, never a reject."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from cchc_aggregate.sink.dead_letters import (
    DEAD_LETTER_COLUMNS,
    dead_letter_columns,
    dead_letter_row,
)
from cchc_aggregate.sink.tokens import dedup_token
from cchc_runtime.testing import records
from cchc_shared import dlq
from cchc_shared.dlq import PAYLOAD_LIMIT, ErrorDetail, Reason


def envelope(topic: str, key: bytes | None, payload: bytes = b"{}") -> bytes:
    return dlq.encode(
        dlq.dead_letter(
            stage="normalize",
            reason=Reason.BAD_NUMBER,
            errors=[ErrorDetail(loc="value", msg="not a number"), ErrorDetail(loc="x", msg="y")],
            topic=topic,
            partition=2,
            offset=40,
            key=key,
            payload=payload,
        )
    )


@pytest.mark.parametrize(
    ("topic", "key", "province"),
    [
        ("cchc.raw.15", b"anything", "15"),
        ("cchc.validated", b"15", "15"),
        ("cchc.normalized", b"15", "15"),
        ("cchc.normalized", b"15|LCI-1", ""),
        ("cchc.validated", b"\xff", ""),
        ("other", b"15", ""),
    ],
)
def test_the_province_comes_from_the_source(topic: str, key: bytes, province: str) -> None:
    (record,) = records("cchc.dlq", [envelope(topic, key)], partition=3, start=9)
    row = dead_letter_row(record)
    assert row["province"] == province
    assert (row["stage"], row["reason"], row["source_topic"]) == ("normalize", "bad_number", topic)
    assert (row["source_partition"], row["source_offset"]) == (2, 40)
    assert (row["dlq_partition"], row["dlq_offset"]) == (3, 9)
    assert (row["error_loc"], row["error_msg"], row["errors_total"]) == ("value", "not a number", 2)
    assert orjson.loads(row["errors"])[1] == {"loc": "x", "msg": "y"}
    assert row["payload_sha256"] == hashlib.sha256(b"{}").hexdigest()


@pytest.mark.parametrize(
    "value",
    [b"", b"garbage", b"\xff\xfe", b'{"stage": "ingest"}', b"[]", b"null"],
)
def test_a_record_that_is_not_an_envelope_is_kept_as_unreadable(value: bytes) -> None:
    (record,) = records("cchc.dlq", [value], timestamp_ms=1_750_000_000_000)
    row = dead_letter_row(record)
    assert (row["stage"], row["reason"]) == ("unreadable", "unreadable")
    assert row["payload_bytes"] == len(value)
    assert row["rejected_at"] == 1_750_000_000_000


def test_a_forged_envelope_is_bounded_again() -> None:
    forged = orjson.dumps(
        {
            "stage": "ingest",
            "reason": "oversized",
            "errors": [{"loc": "$" * 9999, "msg": "m" * 99_999}] * 99,
            "source": {"topic": "t" * 9999, "partition": 0, "offset": 0, "key": "k" * 99_999},
            "payload": "é" * 1_000_000,
            "rejected_at": "9999-12-31T00:00:00Z",
        }
    )
    (record,) = records("cchc.dlq", [forged], timestamp_ms=5)
    row = dead_letter_row(record)
    assert row["stage"] == "ingest"
    assert len(row["payload"].encode()) <= PAYLOAD_LIMIT
    assert row["payload_truncated"]
    assert row["payload_bytes"] == 2_000_000
    assert len(orjson.loads(row["errors"])) == 16
    assert len(row["error_loc"]) <= 256
    assert len(row["error_msg"]) <= 1024
    assert len(row["source_topic"]) <= 256
    assert row["source_key_truncated"]
    assert row["rejected_at"] == 5  # beyond what the column holds: the record's time instead


def test_numbers_that_do_not_fit_the_columns_make_it_unreadable() -> None:
    value = envelope("cchc.raw.15", None).replace(b'"offset":40', b'"offset":' + b"9" * 30)
    (record,) = records("cchc.dlq", [value])
    assert dead_letter_row(record)["stage"] == "unreadable"


def test_columns_and_tokens() -> None:
    batch = records("cchc.dlq", [envelope("cchc.raw.15", None), b"x"])
    columns = dead_letter_columns(batch)
    assert set(columns) == set(DEAD_LETTER_COLUMNS)
    assert columns["stage"] == ["normalize", "unreadable"]
    # the same records give the same token; later ones at the same offsets (a restarted
    # embedded broker starts again at 0) do not: their push times differ
    later = records("cchc.dlq", [b"y", b"x"], timestamp_ms=1_800_000_000_000)
    assert dedup_token(batch) == dedup_token(list(batch))
    assert dedup_token(batch) != dedup_token(later)
