"""The dry run agrees with the pipeline: the same generated events, good and bad, are checked by
`POST /v1/validate`, then pushed with `POST /v1/events`, and every verdict and reason is compared
with what really happens — the push's own answer, the dead letters on cchc.dlq (stage, reason,
field errors), and the rows that land.

A province token for 68 (Lâm Đồng since 2025, with the old Lâm Đồng, Bình Thuận and Đắk Nông);
cchc.raw.68 is used by no other test.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cchc_shared.dlq import DeadLetter
from hypothesis import strategies as st

from tests import events
from tests.conftest import RunningStack, wait_until
from tests.e2e.push_support import dead_letters, kept, post, province_token

pytestmark = pytest.mark.connected

PROVINCE, TOPIC = "68", "cchc.raw.68"
EARLY = {"oversized", "malformed_json", "unknown_schema", "schema_violation"}

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
PROVINCES = st.sampled_from(
    ["Lâm Đồng", "68", 68, "Bình Thuận", "60", "Đắk Nông", "Hà Nội", "79", "Atlantis", "15"]
)
PERIODS = st.sampled_from(["2024-Q1", "2023", "2024-H1", "2025-Q3", "2016/2020", "2099", "2022-13"])
NUMBERS = (
    st.sampled_from(["1.502", "10,09", "1.5", "-3", "abc", "", "47"])
    | st.integers(-10, 10**7)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e3, max_value=1e9)
)
INDICATORS = st.sampled_from(
    [
        "procedures.published",
        "dossiers.on_time_rate",
        "staff.cut",
        "Số TTHC bãi bỏ",
        "index.pci",
        "nope",
    ]
)
UNITS = st.sampled_from(["thủ tục", "%", "tỷ đồng", "kg", "người"])


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    event = events.report(
        province=draw(PROVINCES),
        period=draw(PERIODS),
        indicator=draw(INDICATORS),
        value=draw(NUMBERS),
        reported_at="2024-03-28T09:00:00+07:00",
    )
    event.pop("unit")
    if draw(st.booleans()):
        event["unit"] = draw(UNITS)
    if draw(st.booleans()):
        event["numerator"], event["denominator"] = draw(NUMBERS), draw(NUMBERS)
    return event


@st.composite
def dossiers(draw: st.DrawFn) -> dict[str, Any]:
    event = events.dossier_event(province=draw(PROVINCES))
    if draw(st.booleans()):
        event["commune_code"] = draw(st.sampled_from(["99999", "1234", "00004"]))
    if draw(st.booleans()):
        event["due_at"] = "2025-08-01T08:00:00+07:00"  # before occurred_at: out_of_range
    return event


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    event = draw(reports() | dossiers())
    field = draw(st.sampled_from([k for k in event if k not in ("event_id", "agency")] + ["x"]))
    event[field] = draw(JSON)
    return event


# An event (the test gives it a unique event_id and agency, so that each one that lands is a
# row of its own), or junk bytes.
ITEMS = st.one_of(
    reports(), reports(), dossiers(), broken(), st.binary(max_size=60), st.text(max_size=40)
)


def body_lines(n: int) -> list[bytes]:
    """n distinct lines that a JSON-lines body keeps as they are; a good event first."""
    lines: list[bytes] = []
    seen: set[bytes] = set()
    first = events.report(
        province="Lâm Đồng", period="2024-Q1", reported_at="2024-03-28T09:00:00+07:00"
    )
    for i, item in enumerate([first, *events.examples(ITEMS, n)]):
        if isinstance(item, dict):
            item = {**item, "event_id": f"p68-{i}"}
            if item.get("schema") == "cchc.dossier_event/1":
                item["dossier_id"] = f"P68-{i}"
            else:
                item["agency"] = f"p68-{i}"
            line = orjson.dumps(item)
        else:
            line = item if isinstance(item, bytes) else item.encode()
        if b"\n" in line or not line.strip(b" \t\r") or line.endswith(b"\r") or line in seen:
            continue
        seen.add(line)
        lines.append(line)
    return lines


def _letters(stack: RunningStack, lines: set[bytes]) -> dict[bytes, list[DeadLetter]]:
    """Dead letters of province 68's messages, by payload."""
    found: dict[bytes, list[DeadLetter]] = {}
    for letter in dead_letters(stack):
        src = letter.source
        if src.topic == TOPIC or (src.topic == "cchc.validated" and src.key == PROVINCE):
            payload = kept(letter)
            if payload in lines:
                found.setdefault(payload, []).append(letter)
    return found


def _landed(stack: RunningStack) -> set[str]:
    rows = stack.sql(
        "SELECT DISTINCT event_id FROM observations WHERE event_id LIKE 'p68-%' "
        "UNION ALL SELECT DISTINCT event_id FROM dossier_events WHERE event_id LIKE 'p68-%'"
    )
    return {r[0] for r in rows}


def test_the_dry_run_agrees_with_the_pipeline(stack: RunningStack) -> None:
    lines = body_lines(70)
    body = b"\n".join(lines)
    _, secret = province_token(stack, PROVINCE)

    dry = post(stack, "/v1/validate", body, secret)
    assert dry.status_code == 200, dry.text
    verdicts = dry.json()["results"]
    assert [v["line"] for v in verdicts] == list(range(1, len(lines) + 1))
    by_line = dict(zip(lines, verdicts, strict=True))
    kinds = {(v["stage"], v["reason"]) for v in verdicts}
    assert (None, None) in kinds
    assert {s for s, _ in kinds} >= {"ingest", "normalize"}, kinds

    pushed = post(stack, "/v1/events", body, secret)
    assert pushed.status_code == 200, pushed.text
    for line, result in zip(lines, pushed.json()["results"], strict=True):
        verdict = by_line[line]
        if verdict["stage"] == "ingest" and verdict["reason"] in EARLY:
            assert (result["status"], result["reason"]) == ("rejected", verdict["reason"]), line
            assert result["errors"] == verdict["errors"], line
        else:
            assert result["status"] == "queued", (line, verdict)

    rejected = {line for line, v in by_line.items() if v["status"] == "rejected"}
    accepted = {
        orjson.loads(line)["event_id"] for line, v in by_line.items() if v["status"] == "accepted"
    }
    letters = wait_until(
        lambda: (f := _letters(stack, set(lines))) and rejected <= set(f) and f, timeout_s=90
    )
    landed = wait_until(lambda: (got := _landed(stack)) >= accepted and got, timeout_s=90)
    stack.drained()
    letters, landed = _letters(stack, set(lines)), _landed(stack)

    assert set(letters) == rejected, "a line the dry run accepted was dead-lettered"
    for line in rejected:
        verdict = by_line[line]
        (letter,) = letters[line]  # exactly one dead letter
        assert (letter.stage, letter.reason.value) == (verdict["stage"], verdict["reason"]), line
        assert [e.model_dump() for e in letter.errors] == verdict["errors"], line
    assert landed == accepted, "the dry run and the rows disagree"
