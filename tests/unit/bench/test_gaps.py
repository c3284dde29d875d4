"""The bench's reading of the offset-gap metrics, and of the contiguity check's cost."""

from __future__ import annotations

from cchc_bench.probe import contiguity_cost, offset_gaps
from cchc_runtime.metrics import CoreMetrics
from prometheus_client import generate_latest


def test_offset_gaps_are_the_growth_between_two_scrapes() -> None:
    metrics = CoreMetrics.create("ingest")
    gap = metrics.offset_gaps.labels(service="ingest", topic="cchc.raw.14")
    records = metrics.offset_gap_records
    gap.inc()
    before = {"ingest": generate_latest(metrics.registry).decode()}
    gap.inc(2)
    records.labels(service="ingest", topic="cchc.raw.14", outcome="recovered").inc(7)
    records.labels(service="ingest", topic="cchc.raw.01", outcome="given_up").inc(1)
    after = {"ingest": generate_latest(metrics.registry).decode()}
    assert offset_gaps(before, after) == {"ingest": {"gaps": 2, "recovered": 7, "given_up": 1}}


def test_the_check_cost_is_measured_per_record() -> None:
    assert 0 < contiguity_cost(records=50_000) < 50  # a sanity bound, not a speed target


def test_stalled_is_true_only_after_no_growth_for_the_interval(monkeypatch) -> None:
    import cchc_bench.runner as runner

    now = [0.0]
    monkeypatch.setattr(runner.time, "monotonic", lambda: now[0])
    count = [0]
    stalled = runner._Stalled(lambda: count[0], after_s=30)
    assert not stalled()
    now[0], count[0] = 20.0, 5
    assert not stalled()
    now[0] = 45.0
    assert not stalled()
    now[0] = 51.0
    assert stalled()
