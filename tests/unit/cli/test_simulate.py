"""`cchc simulate`'s generator: deterministic, realistic shares, every event valid."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from functools import cache
from typing import Any

import orjson
import pytest
from cchc_cli import simulate
from cchc_shared.events import RAW_EVENT, DossierEvent
from cchc_shared.provinces import default_registry

NOW = datetime.fromisoformat("2025-08-10T12:00:00+07:00")
START = date(2025, 8, 1)


# Long after the stream: every dossier has run its course.
SETTLED = datetime.fromisoformat("2025-11-01T12:00:00+07:00")


@cache
def _stream(seed: int, now: datetime) -> tuple[dict[str, Any], ...]:
    events = simulate.generate(
        ["01", "79", "48"],
        150,
        7,
        START,
        seed=seed,
        now=now,
        communes=simulate.commune_pool(default_registry()),
    )
    return tuple(events)


def stream(seed: int = 7, now: datetime = NOW) -> list[dict[str, Any]]:
    return list(_stream(seed, now))


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    assert stream(7) == stream(7)
    assert stream(7) != stream(8)


def test_every_event_is_a_valid_raw_dossier_event_of_its_province() -> None:
    registry = default_registry()
    for event in stream():
        parsed = RAW_EVENT.validate_json(orjson.dumps(event))
        assert isinstance(parsed, DossierEvent)
        assert parsed.occurred_at <= NOW
        if parsed.commune_code is not None:
            assert registry.commune_province(parsed.commune_code) == parsed.province
        if parsed.due_at is not None:
            assert parsed.due_at >= parsed.occurred_at


def test_shares_are_in_realistic_ranges() -> None:
    summary = simulate.summarize(stream(now=SETTLED), SETTLED)
    assert summary.dossiers == 3 * 150 * 7
    assert 0.40 <= summary.online_share <= 0.60
    assert 0.02 <= summary.late_share <= 0.05
    statuses = summary.by_status
    assert statuses["received"] == summary.dossiers
    assert 0.05 <= statuses["supplement_requested"] / summary.dossiers <= 0.11
    assert 0 < statuses["rejected"] < 0.04 * summary.dossiers
    assert 0 < statuses["withdrawn"] < 0.03 * summary.dossiers
    assert 0 < summary.duplicates < 0.03 * summary.events
    assert summary.open_not_due == summary.open_overdue == 0


def test_some_dossiers_are_still_in_progress_and_some_of_those_overdue() -> None:
    summary = simulate.summarize(stream(), NOW)
    assert summary.open_not_due > 0
    assert summary.open_overdue > 0


def test_duplicates_repeat_an_event_and_some_resolutions_precede_their_receipt() -> None:
    events = stream()
    ids = Counter(e["event_id"] for e in events)
    copies = [i for i, n in ids.items() if n > 1]
    assert copies
    for event_id in copies:
        same = [e for e in events if e["event_id"] == event_id]
        assert all(e == same[0] for e in same)  # the same event, not a new one
    position = {e["event_id"]: i for i, e in reversed(list(enumerate(events)))}
    overtaking = [
        e
        for e in events
        if e["status"] == "resolved"
        and position[e["event_id"]] < position[f"{e['dossier_id']}:received"]
    ]
    assert overtaking


def test_due_dates_follow_the_procedure_time_limit() -> None:
    limits = {p.code: p for p in simulate.PROCEDURES}
    for e in stream():
        if e["status"] != "received":
            continue
        procedure = limits[e["procedure_code"]]
        received = datetime.fromisoformat(e["occurred_at"])
        due = datetime.fromisoformat(e["due_at"])
        hours = (due - received).total_seconds() / 3600
        if procedure.unit == "hours":
            assert hours == procedure.limit
        else:  # working days: at least the limit, weekends added
            assert (
                procedure.limit * 24
                <= hours
                <= (procedure.limit + 2 * (procedure.limit // 5 + 1)) * 24
            )


def test_nothing_after_now_is_sent() -> None:
    events = simulate.generate(
        ["01"], 20, 1, NOW.date(), seed=1, now=NOW, communes={"01": ["00004"]}
    )
    assert all(datetime.fromisoformat(e["occurred_at"]) <= NOW for e in events)
    assert len({e["dossier_id"] for e in events}) < 20  # afternoon receipts have not happened


def test_rate_paces_the_push(monkeypatch: pytest.MonkeyPatch) -> None:
    pushed: list[int] = []

    def fake_push(lines: list[Any], *_: Any, **__: Any) -> simulate.pushing.PushReport:
        pushed.append(len(lines))
        return simulate.pushing.PushReport(sent=len(lines))

    monkeypatch.setattr(simulate.pushing, "push", fake_push)
    slept: list[float] = []
    report = simulate.simulate(
        stream()[:250],
        None,  # type: ignore[arg-type]
        default_registry(),
        rate=100,
        clock=lambda: 0.0,
        sleep=slept.append,
    )
    assert report.sent == 250
    assert pushed == [100, 100, 50]
    assert slept == [1.0, 2.0, 2.5]


def _others(now: datetime = SETTLED) -> list[dict[str, Any]]:
    return simulate.generate_766(["01", "79", "48"], 6, 7, START, seed=7, now=now)


def test_the_scoreboard_inputs_are_valid_events_of_their_province() -> None:
    events = _others()
    kinds = Counter(e["schema"] for e in events)
    # 12 initial publications + 2 acts a day × 7 days, per province; 6 feedback a day.
    assert kinds["cchc.procedure_event/1"] == 3 * (12 + 2 * 7)
    assert Counter(e["status"] for e in events if "feedback_id" in e)["received"] == 3 * 6 * 7
    for event in events:
        parsed = RAW_EVENT.validate_json(orjson.dumps(event))
        assert parsed.schema_ in ("cchc.feedback_event/1", "cchc.procedure_event/1")
        assert parsed.province in ("01", "79", "48")
    assert simulate.generate_766(["01"], 2, 3, START, seed=7, now=SETTLED) == (
        simulate.generate_766(["01"], 2, 3, START, seed=7, now=SETTLED)
    )


def test_every_procedure_is_published_before_the_stream_and_shares_are_realistic() -> None:
    events = _others()
    initial = [e for e in events if e["event_id"].endswith("-initial")]
    assert {(e["province"], e["procedure_code"]) for e in initial} == {
        (p, proc.code) for p in ("01", "79", "48") for proc in simulate.PROCEDURES
    }
    assert all(e["occurred_at"] < "2025-08-01" for e in initial)
    answers = [e for e in events if e.get("status") == "resolved"]
    received = [e for e in events if e.get("status") == "received"]
    assert 0.88 <= len(answers) / len(received) <= 0.99
    satisfied = Counter(e.get("satisfied") for e in answers)
    assert 0.75 <= satisfied[True] / len(answers) <= 0.93


def test_dossiers_carry_the_766_flags_and_some_ratings() -> None:
    events = stream(now=SETTLED)
    receipts = [e for e in events if e["status"] == "received"]
    share = {
        flag: sum(bool(e.get(flag)) for e in receipts) / len(receipts)
        for flag in ("synced_national", "fee_required", "digitized", "reused_data")
    }
    assert 0.88 <= share["synced_national"] <= 0.97
    assert 0.33 <= share["fee_required"] <= 0.47
    assert 0.58 <= share["digitized"] <= 0.72
    assert 0.28 <= share["reused_data"] <= 0.42
    rated = [e for e in events if e["status"] == "rated"]
    resolved = [e for e in events if e["status"] == "resolved"]
    assert 0.24 <= len(rated) / len(resolved) <= 0.36
    assert 0.85 <= sum(e["satisfied"] for e in rated) / len(rated) <= 0.97


def test_merged_streams_keep_each_order() -> None:
    a = [
        {"occurred_at": "2025-08-01T09:00:00+07:00", "n": 1},
        {"occurred_at": "2025-08-01T08:00:00+07:00", "n": 2},  # sent late on purpose
        {"occurred_at": "2025-08-01T10:00:00+07:00", "n": 3},
    ]
    b = [{"occurred_at": "2025-08-01T09:30:00+07:00", "n": 4}]
    assert [e["n"] for e in simulate.merge_streams(a, b)] == [1, 2, 4, 3]
