"""The ingest stage on its own: outputs, rejects, held-back records and pauses (no broker)."""

from __future__ import annotations

from typing import Any

import orjson
from cchc_ingest.stage import IngestMetrics, IngestStage
from cchc_ingest.steps.dlq_limit import DlqLimit
from cchc_runtime.testing import letters, records, run, topics
from cchc_shared.provinces import default_registry
from prometheus_client import CollectorRegistry

GOOD = orjson.dumps(
    {
        "schema": "cchc.indicator_report/1",
        "event_id": "e1",
        "province": "Sơn La",
        "indicator": "procedures.published",
        "period": "2017-Q1",
        "value": 1502,
        "reported_at": "2017-03-28T09:00:00+07:00",
    }
)
BAD = b"{oops"


def make(limit: DlqLimit | None = None, cooldown_s: float = 60) -> tuple[IngestStage, Any]:
    registry = CollectorRegistry()
    stage = IngestStage(default_registry(), IngestMetrics.create(registry), limit, cooldown_s)
    return stage, registry


def gauge(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {"service": "ingest", **labels})


def test_good_to_validated_bad_rejected_in_order() -> None:
    stage, _ = make()
    result = run(stage, records("cchc.raw.14", [GOOD, BAD, GOOD]))
    assert topics(result.out) == ["cchc.validated", "cchc.validated"]
    assert result.out[0].key == b"14"  # keyed by the current province code
    assert result.out[0].value == GOOD  # forwarded unchanged
    [letter] = letters(result, "ingest")
    assert (letter.source.topic, letter.source.offset, letter.reason) == (
        "cchc.raw.14",
        1,
        "malformed_json",
    )
    assert result.held == {}
    assert result.pauses == []


def test_trip_holds_back_the_rest_of_the_province_and_pauses_it() -> None:
    stage, registry = make(DlqLimit(max_ratio=1, max_consecutive=2))
    batch = records("cchc.raw.14", [GOOD, BAD, BAD, BAD, GOOD], start=10)
    batch += records("cchc.raw.14", [GOOD], partition=1, start=7)
    batch += records("cchc.raw.01", [BAD, BAD, BAD])  # another province: its own window
    result = run(stage, batch)
    # Offsets 10-12 processed; 13 tripped (third bad in a row): it and everything after waits.
    assert topics(result.out) == ["cchc.validated"]
    assert [r.record.offset for r in result.rejects if r.record.topic == "cchc.raw.14"] == [11, 12]
    assert result.held == {("cchc.raw.14", 0): 13, ("cchc.raw.14", 1): 7, ("cchc.raw.01", 0): 2}
    assert result.processed(batch) == 5  # 10, 11, 12 of raw.14 and 0, 1 of raw.01
    assert sorted(p.topic for p in result.pauses) == ["cchc.raw.01", "cchc.raw.14"]
    assert gauge(registry, "cchc_dlq_limit_paused", province="14") == 1
    assert gauge(registry, "cchc_dlq_limit_pauses_total", province="14") == 1
    assert gauge(registry, "cchc_dlq_limit_paused", province="01") == 1

    # Records of a held province fetched later (e.g. after a rebalance) are held too.
    later = run(stage, records("cchc.raw.14", [GOOD], start=20))
    assert later.held == {("cchc.raw.14", 0): 20}
    assert later.out == []
    assert later.pauses == []

    # The runtime calls the pause's on_resume when the cool-down ends.
    [pause_14] = [p for p in result.pauses if p.topic == "cchc.raw.14"]
    assert pause_14.seconds == 60
    pause_14.on_resume()
    assert gauge(registry, "cchc_dlq_limit_paused", province="14") == 0
    again = run(stage, records("cchc.raw.14", [BAD, BAD, GOOD], start=13))
    assert topics(again.out) == ["cchc.validated"]
    assert len(again.rejects) == 2
    assert again.held == {}


def test_without_a_limit_nothing_is_ever_held() -> None:
    stage, _ = make(None)
    result = run(stage, records("cchc.raw.14", [BAD] * 500))
    assert len(result.rejects) == 500
    assert result.held == {}
    assert result.pauses == []
