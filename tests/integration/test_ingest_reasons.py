"""Each ingest reason code, through the real broker: the envelope on cchc.dlq says it all.

All cases are pushed to cchc.raw.86 (Vĩnh Long, used by no other test) in one go by a module
fixture; each test then checks its own envelope.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pytest
from cchc_shared.dlq import PAYLOAD_LIMIT, DeadLetter

from tests.conftest import RunningStack, wait_until
from tests.integration.ingest_support import dumps, report, send, wait_letters

pytestmark = pytest.mark.connected

TOPIC = "cchc.raw.86"
VINH_LONG = {"province": "Vĩnh Long", "period": "2024-Q4"}


@dataclass(frozen=True)
class Case:
    payload: bytes
    key: bytes | None


CASES: dict[str, Case] = {
    "oversized": Case(
        dumps(report("vl-oversized", **VINH_LONG, agency="Sở Nội vụ " * 8000)), b"vl-oversized"
    ),
    "malformed": Case(
        b'{"schema": "cchc.indicator_report/1", "event_id": "vl-1", "value": 12,', b"vl-1"
    ),
    "nan": Case(dumps(report("vl-nan", **VINH_LONG)).replace(b'"1.502"', b"NaN"), b"vl-nan"),
    # Latin-1 bytes from a legacy system, and a key that is not UTF-8 either.
    "latin1": Case(
        dumps(report("vl-latin1", **VINH_LONG)).replace("ĩ".encode(), b"\xef"), b"\xff\x01"
    ),
    "unknown_schema": Case(
        dumps({**report("vl-schema2", **VINH_LONG), "schema": "cchc.indicator_report/2"}),
        b"vl-schema2",
    ),
    "schema_violation": Case(
        dumps(
            {
                **report("vl bad id", **VINH_LONG),
                "valeu": "1.502",
                "reported_at": "2024-12-28T09:00:00",
            }
        ),
        b"vl-bad",
    ),
    # Yên Bái before the merger belongs to Lào Cai (15), not to Bắc Ninh (24)'s topic. The test
    # sends it to cchc.raw.24 (below), as a misconfigured Bắc Ninh system would.
    "province_mismatch": Case(
        dumps(report("yb-2024", province="Yên Bái", period="2024-Q4")), b"yb-2024"
    ),
    "unknown_province": Case(
        dumps(report("vl-atlantis", province="Tỉnh Atlantis", period="2024-Q4")), b"vl-atlantis"
    ),
}
MISMATCH_TOPIC = "cchc.raw.24"


@pytest.fixture(scope="module")
def letters(stack: RunningStack) -> dict[str, tuple[int, DeadLetter]]:
    """Push every case and one valid event; wait for the dead letters: name → (offset, letter)."""
    names = [n for n in CASES if n != "province_mismatch"]
    payloads = [CASES[n].payload for n in names] + [dumps(report("vl-ok", **VINH_LONG))]
    keys = [CASES[n].key for n in names] + [b"vl-ok"]
    offsets = send(stack, TOPIC, payloads, keys)
    (mismatch_offset,) = send(
        stack, MISMATCH_TOPIC, [CASES["province_mismatch"].payload], [b"yb-2024"]
    )
    found = wait_letters(stack, TOPIC, offsets[:-1])
    mismatch = wait_letters(stack, MISMATCH_TOPIC, [mismatch_offset])
    result = {n: (o, found[o]) for n, o in zip(names, offsets, strict=False)}
    result["province_mismatch"] = (mismatch_offset, mismatch[mismatch_offset])
    return result


def check_envelope(
    letters: dict[str, tuple[int, DeadLetter]], name: str, reason: str
) -> DeadLetter:
    offset, letter = letters[name]
    case = CASES[name]
    assert letter.stage == "ingest"
    assert letter.reason == reason
    assert letter.source.topic == (MISMATCH_TOPIC if name == "province_mismatch" else TOPIC)
    assert (letter.source.partition, letter.source.offset) == (0, offset)
    assert letter.source.original_key() == case.key
    assert (letter.payload_bytes, letter.payload_sha256) == (
        len(case.payload),
        hashlib.sha256(case.payload).hexdigest(),
    )
    if len(case.payload) <= PAYLOAD_LIMIT:
        assert letter.original_bytes() == case.payload
    else:  # bounded envelope: the start of the message only (docs/contract.md "Dead letters")
        assert letter.payload_truncated
        assert case.payload.startswith(letter.kept_bytes())
        assert len(letter.kept_bytes()) == PAYLOAD_LIMIT
    assert letter.errors
    return letter


def test_oversized(letters: dict[str, tuple[int, DeadLetter]]) -> None:
    letter = check_envelope(letters, "oversized", "oversized")
    assert letter.payload_encoding == "utf-8"
    assert "65536 bytes limit" in letter.errors[0].msg


def test_malformed_json(letters: dict[str, tuple[int, DeadLetter]]) -> None:
    letter = check_envelope(letters, "malformed", "malformed_json")
    assert letter.errors[0].loc == "$"


def test_malformed_json_nan(letters: dict[str, tuple[int, DeadLetter]]) -> None:
    check_envelope(letters, "nan", "malformed_json")


def test_malformed_json_invalid_utf8_is_kept_as_base64(
    letters: dict[str, tuple[int, DeadLetter]],
) -> None:
    letter = check_envelope(letters, "latin1", "malformed_json")
    assert letter.payload_encoding == "base64"
    assert base64.b64decode(letter.payload) == CASES["latin1"].payload
    assert letter.source.key_encoding == "base64"
    assert "UTF-8" in letter.errors[0].msg


def test_unknown_schema(letters: dict[str, tuple[int, DeadLetter]]) -> None:
    letter = check_envelope(letters, "unknown_schema", "unknown_schema")
    assert letter.errors[0].loc == "schema"
    assert "cchc.indicator_report/2" in letter.errors[0].msg


def test_schema_violation_carries_the_field_errors(
    letters: dict[str, tuple[int, DeadLetter]],
) -> None:
    letter = check_envelope(letters, "schema_violation", "schema_violation")
    by_loc = {e.loc: e.msg for e in letter.errors}
    assert set(by_loc) == {"event_id", "valeu", "reported_at"}
    assert "pattern" in by_loc["event_id"]
    assert "Extra inputs are not permitted" in by_loc["valeu"]
    assert "timezone" in by_loc["reported_at"]


def test_province_mismatch_yen_bai_on_bac_ninh_topic(
    letters: dict[str, tuple[int, DeadLetter]],
) -> None:
    letter = check_envelope(letters, "province_mismatch", "province_mismatch")
    assert letter.errors[0].loc == "province"
    assert "Yên Bái" in letter.errors[0].msg
    assert "cchc.raw.24" in letter.errors[0].msg


def test_unknown_province(letters: dict[str, tuple[int, DeadLetter]]) -> None:
    letter = check_envelope(letters, "unknown_province", "unknown_province")
    assert "Atlantis" in letter.errors[0].msg


def test_the_valid_neighbour_is_not_dead_lettered(
    stack: RunningStack, letters: dict[str, tuple[int, DeadLetter]]
) -> None:
    wait_until(
        lambda: (
            stack.sql("SELECT province, value FROM observations FINAL WHERE event_id = 'vl-ok'")
            == [["86", 1502.0]]
        )
    )
