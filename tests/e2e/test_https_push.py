"""Provinces push over HTTPS on the real stack: what lands, what cannot, what the answer says.

A province token for 15 (Lào Cai since 2025: the old Lào Cai, 10, and the old Yên Bái, 15, merged
into it) pushes to ingest's port; docs/contract.md "Province push", docs/security.md "Province
push". The answers that need no broker (413 while streaming, 429) are also tried on the app in
tests/security/test_province_push.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from cchc_runtime.tokens import Role
from cchc_shared.reasons import describe

from tests import events
from tests.conftest import RunningStack, wait_until
from tests.e2e.push_support import (
    highwater,
    ingest_url,
    letters_for,
    post,
    province_token,
    store,
)
from tests.integration.ingest_support import metric

pytestmark = pytest.mark.connected


def old_report(event_id: str, province: str, **fields: Any) -> dict[str, Any]:
    """A valid report of 2024 (before the merger), as an old province's system writes it."""
    return events.report(
        event_id=event_id,
        province=province,
        period="2024-Q1",
        reported_at="2024-03-28T09:00:00+07:00",
        agency=event_id,
        **fields,
    )


def lines(*items: Any) -> bytes:
    return b"\n".join(i if isinstance(i, bytes) else orjson.dumps(i) for i in items) + b"\n"


def test_old_yen_bai_and_old_lao_cai_land_through_the_province_15_token(
    stack: RunningStack,
) -> None:
    _, secret = province_token(stack, "15")
    body = lines(old_report("https-land-yb", "Yên Bái"), old_report("https-land-lc", "10"))
    r = post(stack, "/v1/events", body, secret)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "province": "15",
        "accepted": 2,
        "results": [
            {"line": 1, "status": "queued", "reason": None, "errors": []},
            {"line": 2, "status": "queued", "reason": None, "errors": []},
        ],
    }
    # A JSON array works too: a dossier event of today's Lào Cai.
    dossier = events.dossier_event(event_id="https-land-d1", dossier_id="LCI-HTTPS-0001")
    r = post(stack, "/v1/events", orjson.dumps([dossier]), secret)
    assert (r.status_code, r.json()["accepted"]) == (200, 1)

    query = (
        "SELECT event_id, unit_key, province FROM observations FINAL "
        "WHERE event_id LIKE 'https-land-%' ORDER BY event_id"
    )
    rows = wait_until(lambda: (rows := stack.sql(query)) and len(rows) == 2 and rows)
    assert rows == [["https-land-lc", "2004:10", "15"], ["https-land-yb", "2004:15", "15"]]
    dossiers = "SELECT event_id, province FROM dossier_events WHERE event_id = 'https-land-d1'"
    assert wait_until(lambda: stack.sql(dossiers)) == [["https-land-d1", "15"]]


def test_the_token_cannot_put_anything_on_another_province_topic(stack: RunningStack) -> None:
    _, secret = province_token(stack, "15")
    before_79, before_15 = highwater(stack, "cchc.raw.79"), highwater(stack, "cchc.raw.15")
    hcm = orjson.dumps(old_report("https-hcm-1", "TP.HCM"))
    r = post(stack, "/v1/events", hcm + b"\n", secret)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "queued"  # the consumer judges the province

    found = wait_until(lambda: letters_for(stack, [hcm]).get(hcm))
    (letter,) = found
    assert (letter.stage, letter.reason.value) == ("ingest", "province_mismatch")
    assert letter.source.topic == "cchc.raw.15"
    assert "cchc.raw.15" in letter.errors[0].msg
    stack.drained()
    assert highwater(stack, "cchc.raw.79") == before_79
    assert highwater(stack, "cchc.raw.15") == before_15 + 1
    assert stack.sql("SELECT count() FROM observations WHERE event_id = 'https-hcm-1'") == [[0]]


def test_revoked_analyst_and_operator_tokens_are_refused(stack: RunningStack) -> None:
    name, secret = province_token(stack, "15")
    body = lines(old_report("https-auth-1", "10"))
    assert post(stack, "/v1/validate", body, secret).status_code == 200
    store(stack).revoke(name)
    for path in ("/v1/events", "/v1/validate"):
        r = post(stack, path, body, secret)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
        assert post(stack, path, body, None).status_code == 401
        for role in (Role.ANALYST, Role.OPERATOR):
            r = post(stack, path, body, stack.stack.tokens[role])
            assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (path, role)
    # Nor does a province token open the query API.
    _, other = province_token(stack, "15")
    r = httpx.post(
        f"{stack.api}/v1/sql",
        json={"sql": "SELECT 1"},
        headers={"Authorization": f"Bearer {other}"},
        timeout=30,
    )
    assert r.status_code == 403


MIX = [
    old_report("https-mix-1", "Yên Bái"),
    b'{"event_id": "https-mix-2", oops',
    old_report("https-mix-3", "Yên Bái", colour="red"),
    {"schema": "cchc.nope/1", "event_id": "https-mix-4"},
    old_report("https-mix-5", "Yên Bái", source={"title": "x" * 70_000}),
    old_report("https-mix-6", "Hà Nội"),
    old_report("https-mix-7", "Lào Cai", value="1.5"),
    old_report("https-mix-8", "10"),
]
# line: (status of the push, stage and reason of the dead letter, or None when it lands)
EXPECTED: dict[int, tuple[str, tuple[str, str] | None]] = {
    1: ("queued", None),
    3: ("rejected", ("ingest", "malformed_json")),
    4: ("rejected", ("ingest", "schema_violation")),
    5: ("rejected", ("ingest", "unknown_schema")),
    6: ("rejected", ("ingest", "oversized")),
    7: ("queued", ("ingest", "province_mismatch")),
    8: ("queued", ("normalize", "bad_number")),
    9: ("queued", None),
}


def mixed_body() -> tuple[bytes, dict[int, bytes]]:
    """The MIX lines with a blank line 2; and each line number's bytes."""
    payloads = [m if isinstance(m, bytes) else orjson.dumps(m) for m in MIX]
    numbered = dict(zip([1, *range(3, 10)], payloads, strict=True))
    return payloads[0] + b"\n\n" + b"\n".join(payloads[1:]), numbered


def test_a_mixed_batch_gets_per_line_results_that_match_the_dead_letters(
    stack: RunningStack,
) -> None:
    _, secret = province_token(stack, "15")
    body, numbered = mixed_body()
    raw_before = highwater(stack, "cchc.raw.15")
    oversized_before = metric(stack, "cchc_messages_rejected_total", reason="oversized")
    r = post(stack, "/v1/events", body, secret)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["accepted"] == 4
    assert [(x["line"], x["status"]) for x in answer["results"]] == [
        (n, status) for n, (status, _) in EXPECTED.items()
    ]
    for result in answer["results"]:
        status, letter = EXPECTED[result["line"]]
        if status == "rejected":
            assert letter is not None
            assert result["reason"] == letter[1]
            assert result["errors"], result
            assert result["meaning_vi"] == describe(result["reason"]).vi_meaning
        else:
            assert (result["reason"], result["errors"]) == (None, [])

    # Only the queued lines reached the raw topic; the early rejects are dead letters only.
    assert highwater(stack, "cchc.raw.15") == raw_before + 4
    rejected = {n: numbered[n] for n, (_, letter) in EXPECTED.items() if letter is not None}
    found = wait_until(
        lambda: (
            (f := letters_for(stack, list(rejected.values()))) and len(f) == len(rejected) and f
        ),
        timeout_s=60,
    )
    for n, payload in rejected.items():
        (letter,) = found[payload]  # exactly one dead letter each
        stage, reason = EXPECTED[n][1]  # type: ignore[misc]
        assert (letter.stage, letter.reason.value) == (stage, reason), n
        if EXPECTED[n][0] == "rejected":
            assert (letter.source.topic, letter.source.partition, letter.source.offset) == (
                "cchc.raw.15",
                -1,
                -1,
            )
            by_push = next(x for x in answer["results"] if x["line"] == n)
            assert [e.model_dump() for e in letter.errors] == by_push["errors"]
    query = (
        "SELECT event_id FROM observations FINAL WHERE event_id LIKE 'https-mix-%' "
        "ORDER BY event_id"
    )
    assert wait_until(lambda: (rows := stack.sql(query)) and len(rows) == 2 and rows) == [
        ["https-mix-1"],
        ["https-mix-8"],
    ]
    stack.drained()
    assert not letters_for(stack, [numbered[1], numbered[9]])
    assert metric(stack, "cchc_messages_rejected_total", reason="oversized") == oversized_before + 1


def test_the_dry_run_answers_every_check_and_stores_nothing(stack: RunningStack) -> None:
    _, secret = province_token(stack, "15")
    body, _ = mixed_body()
    body = body.replace(b"https-mix-", b"https-dry-")
    stack.drained()
    raw_before, dlq_before = highwater(stack, "cchc.raw.15"), highwater(stack, "cchc.dlq")
    r = post(stack, "/v1/validate", body, secret)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["accepted"], answer["rejected"]) == (2, 6)
    for result in answer["results"]:
        _, letter = EXPECTED[result["line"]]
        if letter is None:
            assert (result["status"], result["stage"], result["reason"]) == ("accepted", None, None)
        else:
            assert (result["status"], result["stage"], result["reason"]) == ("rejected", *letter)
            assert result["errors"]
    stack.drained()
    assert highwater(stack, "cchc.raw.15") == raw_before
    assert highwater(stack, "cchc.dlq") == dlq_before
    rows = stack.sql("SELECT count() FROM observations WHERE event_id LIKE 'https-dry-%'")
    assert rows == [[0]]


def test_a_body_over_the_limit_is_413(stack: RunningStack) -> None:
    _, secret = province_token(stack, "15")
    r = post(stack, "/v1/events", b"\n" * (4 * 1024 * 1024 + 1), secret)
    assert (r.status_code, r.json()["error"]) == (413, "payload_too_large")
    assert ingest_url(stack).startswith("http://127.0.0.1:")
