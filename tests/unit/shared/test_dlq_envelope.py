"""The dead-letter envelope stays bounded whatever the input (docs/contract.md "Dead letters")."""

from __future__ import annotations

import hashlib

import pytest
from cchc_shared import dlq
from cchc_shared.dlq import (
    MAX_ENCODED_BYTES,
    PAYLOAD_LIMIT,
    DeadLetter,
    ErrorDetail,
    Reason,
    SourceRef,
    replay_topic,
)
from hypothesis import given, settings
from hypothesis import strategies as st

MiB = 1024 * 1024


def build(
    payload: bytes, errors: list[ErrorDetail] | None = None, key: bytes | None = None
) -> DeadLetter:
    return dlq.dead_letter(
        stage="ingest",
        reason=Reason.OVERSIZED,
        errors=errors or [ErrorDetail(loc="$", msg="too big")],
        topic="cchc.raw.01",
        partition=0,
        offset=7,
        key=key,
        payload=payload,
    )


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\x00" * 200_000, id="200KB-of-NUL"),
        pytest.param(bytes(range(32)) * 6_250, id="200KB-of-control-characters"),
        pytest.param(b"x" * 2_000_000, id="2MB"),
        pytest.param(b"\x01" * 2_000_000, id="2MB-of-control-characters"),
        pytest.param(b"\xff" * 2_000_000, id="2MB-not-utf8"),
    ],
)
def test_a_big_or_hostile_message_gives_a_small_envelope(payload: bytes) -> None:
    encoded = dlq.encode(build(payload))
    assert len(encoded) < MAX_ENCODED_BYTES < MiB
    letter = DeadLetter.model_validate_json(encoded)
    assert letter.payload_truncated
    assert letter.payload_bytes == len(payload)
    assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert payload.startswith(letter.kept_bytes())
    assert len(letter.kept_bytes()) <= PAYLOAD_LIMIT
    with pytest.raises(ValueError, match="truncated payload"):
        letter.original_bytes()


def test_a_message_ingest_could_accept_is_kept_whole() -> None:
    payload = b'{"a": "' + "ă".encode() * 30_000 + b'"}'
    assert len(payload) <= PAYLOAD_LIMIT
    letter = DeadLetter.model_validate_json(dlq.encode(build(payload)))
    assert not letter.payload_truncated
    assert letter.original_bytes() == payload
    assert b"payload_truncated" not in dlq.encode(build(payload))


def test_a_cut_never_splits_a_character() -> None:
    payload = "ă".encode() * PAYLOAD_LIMIT
    letter = build(payload)
    assert letter.payload_encoding == "utf-8"
    assert len(letter.kept_bytes()) in (PAYLOAD_LIMIT, PAYLOAD_LIMIT - 1)


def test_errors_and_keys_are_capped() -> None:
    errors = [ErrorDetail(loc="\x00" * 10_000, msg="\x00" * 100_000)] * 1_000
    letter = build(b"{}", errors, key=b"\x00" * 1_000_000)
    encoded = dlq.encode(letter)
    assert len(encoded) < MAX_ENCODED_BYTES
    back = DeadLetter.model_validate_json(encoded)
    assert back.errors_total == 1_000
    assert len(back.errors) == dlq.MAX_ERRORS
    assert back.source.key_truncated
    with pytest.raises(ValueError, match="truncated key"):
        back.original_bytes()


def test_a_minimal_envelope_has_no_payload_but_says_what_it_was() -> None:
    payload = b"x" * 10_000
    letter = dlq.dead_letter(
        stage="ingest",
        reason=Reason.MALFORMED_JSON,
        errors=[ErrorDetail(loc="$", msg="a"), ErrorDetail(loc="$", msg="b")],
        topic="cchc.raw.01",
        partition=0,
        offset=7,
        key=b"k",
        payload=payload,
        minimal=True,
    )
    assert (letter.payload, letter.payload_truncated, letter.payload_bytes) == ("", True, 10_000)
    assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert [e.msg for e in letter.errors] == ["a"]
    assert letter.errors_total == 2


def test_an_envelope_written_before_the_bounds_still_reads() -> None:
    old = (
        b'{"stage":"ingest","reason":"malformed_json","errors":[{"loc":"$","msg":"x"}],'
        b'"source":{"topic":"cchc.raw.01","partition":0,"offset":1,"key":null},'
        b'"payload":"{broken","rejected_at":"2025-08-04T01:15:02.113000Z"}'
    )
    letter = DeadLetter.model_validate_json(old)
    assert letter.original_bytes() == b"{broken"
    assert (letter.payload_bytes, letter.payload_sha256, letter.payload_truncated) == (
        None,
        None,
        False,
    )


@settings(max_examples=60)
@given(
    payload=st.one_of(
        st.binary(max_size=4 * MiB),
        st.integers(0, 4 * MiB).flatmap(
            lambda n: st.sampled_from([b"\x00", b"\x1f", b'"', b"\\", b"\xff", "ă".encode()]).map(
                lambda unit: unit * (n // len(unit))
            )
        ),
    ),
    key=st.one_of(st.none(), st.binary(max_size=4096)),
    errors=st.lists(
        st.builds(ErrorDetail, loc=st.text(max_size=2000), msg=st.text(max_size=5000)),
        max_size=40,
    ),
)
def test_any_input_gives_an_envelope_well_under_1_mib(
    payload: bytes, key: bytes | None, errors: list[ErrorDetail]
) -> None:
    encoded = dlq.encode(build(payload, errors, key))
    assert len(encoded) < MAX_ENCODED_BYTES
    letter = DeadLetter.model_validate_json(encoded)
    assert letter.payload_bytes == len(payload)
    assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert payload.startswith(letter.kept_bytes())
    if len(payload) <= PAYLOAD_LIMIT and (key is None or len(key) <= dlq.KEY_LIMIT):
        assert letter.original_bytes() == payload
        assert letter.source.original_key() == key


PROVINCES = {"01", "14", "15", "82"}


@pytest.mark.parametrize(
    ("topic", "key", "expected"),
    [
        ("cchc.raw.14", None, "cchc.raw.14"),
        ("cchc.raw.14", "anything", "cchc.raw.14"),
        ("cchc.validated", "14", "cchc.raw.14"),
    ],
)
def test_replay_goes_to_the_province_raw_topic(topic: str, key: str | None, expected: str) -> None:
    source = SourceRef(topic=topic, partition=0, offset=0, key=key)
    assert replay_topic(source, PROVINCES) == expected


@pytest.mark.parametrize(
    ("topic", "key"),
    [
        ("cchc.normalized", "14"),
        ("cchc.dlq", "14"),
        ("cchc.validated", None),
        ("cchc.validated", "99"),
        ("cchc.validated", "14 "),
        ("cchc.validated", "../14"),
        ("cchc.raw.99", None),
        ("cchc.raw.1", None),
        ("cchc.raw.014", None),
        ("cchc.raw.", None),
        ("cchc.raw.14.x", None),
        ("CCHC.RAW.14", None),
        ("", None),
    ],
)
def test_replay_refuses_any_other_source(topic: str, key: str | None) -> None:
    with pytest.raises(ValueError, match="not"):
        replay_topic(SourceRef(topic=topic, partition=0, offset=0, key=key), PROVINCES)


def test_replay_refuses_a_base64_key_even_when_it_decodes_to_a_code() -> None:
    source = SourceRef(
        topic="cchc.validated", partition=0, offset=0, key="MTQ=", key_encoding="base64"
    )
    with pytest.raises(ValueError, match="not a 2025 province"):
        replay_topic(source, PROVINCES)
