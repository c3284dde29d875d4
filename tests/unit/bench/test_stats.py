"""Percentiles, counter rates, target evaluation and the results document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from cchc_bench.command import summary
from cchc_bench.probe import batch_work, consumed, proc_cpu_s
from cchc_bench.profile import breakdown, categorize
from cchc_bench.runner import _cpu_figures, _why
from cchc_bench.stats import (
    RESULTS_SCHEMA,
    Results,
    Target,
    Thresholds,
    active_rate,
    percentile,
    summarize,
    targets,
)


def test_percentile_interpolates_between_ranks():
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 4.0
    assert percentile(values, 0.5) == pytest.approx(2.5)
    assert percentile(list(range(101)), 0.99) == pytest.approx(99.0)
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError, match="quantile"):
        percentile(values, 1.5)


def test_summarize_does_not_depend_on_order():
    assert summarize([3.0, 1.0, 2.0]) == summarize([1.0, 2.0, 3.0])
    assert summarize([])["p50"] is None


def test_active_rate_ignores_idle_time_around_the_work():
    samples = [(0.0, 0.0), (1.0, 0.0), (2.0, 100.0), (3.0, 200.0), (4.0, 200.0), (9.0, 200.0)]
    rate = active_rate(samples)
    assert rate["total"] == 200.0
    assert rate["seconds"] == 2.0  # from the last idle sample (1.0) to the first final one (3.0)
    assert rate["rate"] == 100.0
    assert rate["peak"] == 100.0


def test_active_rate_of_a_counter_that_never_moved():
    assert active_rate([(0.0, 5.0), (1.0, 5.0)])["rate"] is None
    assert active_rate([(0.0, 5.0)])["total"] is None


def test_target_pass_and_miss_say_how_far():
    ok = Target("t", 120_000, 100_000, ">=", "events/s").evaluate()
    assert ok.passed is True
    assert ok.gap == ""
    short = Target("t", 50_000, 100_000, ">=", "events/s").evaluate()
    assert short.passed is False
    assert "50% of the target" in short.gap
    over = Target("t", 2.0, 1.0, "<=", "s").evaluate()
    assert over.passed is False
    assert "2.0× the limit" in over.gap
    assert Target("t", None, 1.0, "<=", "s").evaluate().passed is None


def test_targets_from_figures():
    figures = {
        "end_to_end": {"events_per_s": 120_000.0},
        "ceiling": {"events_per_s": 150_000.0},
        "naive": {"events_per_s": 100.0},
        "latency": {"offered_eps": 10_000, "push_to_queryable_s": {"p99": 0.8}},
        "rss_mb": {"ingest": {"peak": 100.0}, "normalize": {"peak": 300.0}},
    }
    by_name = {t.name: t for t in targets(figures, Thresholds())}
    assert by_name["end-to-end throughput"].passed is True
    assert by_name["share of the broker ceiling"].value == pytest.approx(0.8)
    assert by_name["speed-up over the naive pipeline"].value == pytest.approx(1200)
    assert by_name["p99 push-to-queryable at 10000 events/s"].passed is True
    assert by_name["normalize peak RSS"].passed is False
    assert by_name["aggregate peak RSS"].passed is None  # not measured


def test_results_document_is_json_with_targets():
    results = Results(started_at="2026-11-21T00:00:00+00:00")
    results.figures = {"end_to_end": {"events_per_s": 1.0}}
    results.evaluate()
    doc = json.loads(json.dumps(results.to_json()))
    assert doc["schema"] == RESULTS_SCHEMA
    assert {"name", "value", "target", "op", "passed", "gap", "note"} <= set(doc["targets"][0])


def test_consumed_counter_is_read_per_service():
    text = (
        "# HELP cchc_messages_consumed_total Messages read from Kafka\n"
        'cchc_messages_consumed_total{service="ingest"} 1234.0\n'
        'cchc_messages_consumed_created{service="ingest"} 1.7e9\n'
    )
    assert consumed(text) == {"ingest": 1234.0}


def test_profile_samples_fall_into_their_innermost_category():
    stack = [
        "_run (asyncio/events.py:80)",
        "__call__ (cchc_ingest/handler.py:60)",
        "validate_json (pydantic/type_adapter.py:400)",
    ]
    assert categorize(stack) == "pydantic validate"
    folded = ";".join(stack) + " 3\n" + "select (selectors.py:1);poll (x.py:2) 1\n"
    summary = breakdown(folded)
    assert summary["samples"] == 4
    assert summary["percent_by_category"] == {"pydantic validate": 75.0, "other": 25.0}


def test_cpu_seconds_of_a_process_grow_with_its_work_and_a_gone_one_has_none():
    before = proc_cpu_s(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    after = proc_cpu_s(os.getpid())
    assert before is not None
    assert after is not None
    assert after - before >= 0.2
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert proc_cpu_s(child.pid) is None


def test_cpu_figures_per_event_and_in_total():
    figures = _cpu_figures(
        {"ingest": 10.0, "broker": 1.0, "gone": None},
        {"ingest": 12.5, "broker": 1.5, "gone": 3.0},
        100_000,
    )
    assert figures["processes"] == {
        "ingest": {"cpu_s": 2.5, "us_per_event": 25.0},
        "broker": {"cpu_s": 0.5, "us_per_event": 5.0},
    }
    assert figures["total_us_per_event"] == 30.0


def test_a_throughput_miss_says_what_the_cores_can_move():
    figures = {
        "stages": {"ingest": {"rate": 30_000.0}, "aggregate": {"rate": 20_000.0}},
        "cpu": {
            "processes": {"ingest": {"us_per_event": 15.0}, "aggregate": {"us_per_event": 35.0}},
            "total_us_per_event": 50.0,
        },
    }
    note = _why("end-to-end throughput", figures, 2)
    assert "slowest stage: aggregate" in note
    assert "2 cores move at most 40,000 events/s" in note


def test_batch_work_is_what_the_histograms_grew_by_between_two_scrapes():
    def exposition(batches: int, busy: float, records: int, inserts: int, insert_s: float) -> str:
        labels = '{service="aggregate"}'
        return "\n".join(
            [
                f"cchc_batch_duration_seconds_count{labels} {batches}",
                f"cchc_batch_duration_seconds_sum{labels} {busy}",
                f'cchc_batch_duration_seconds_bucket{{le="0.1",service="aggregate"}} {batches}',
                f"cchc_batch_size_messages_count{labels} {batches}",
                f"cchc_batch_size_messages_sum{labels} {records}",
                f"cchc_clickhouse_insert_duration_seconds_count{labels} {inserts}",
                f"cchc_clickhouse_insert_duration_seconds_sum{labels} {insert_s}",
            ]
        )

    before = {"aggregate": exposition(10, 2.0, 1_000, 20, 1.0)}
    after = {"aggregate": exposition(60, 17.0, 151_000, 120, 11.0), "ingest": "# nothing"}
    assert batch_work(before, after, seconds=20.0) == {
        "aggregate": {
            "batches": 50,
            "mean_batch_records": 3000.0,
            "mean_batch_s": 0.3,
            "busy_share": 0.75,
            "mean_insert_s": 0.1,
        }
    }


def test_the_summary_table_lists_cpu_per_event_by_process():
    results = Results(started_at="now")
    results.figures = {
        "cpu": {
            "processes": {"ingest": {"cpu_s": 1.0, "us_per_event": 13.3}},
            "total_us_per_event": 13.3,
        }
    }
    table = summary(results)
    rows = dict(zip(table.columns[0]._cells, table.columns[1]._cells, strict=True))
    assert rows["CPU per event: ingest"] == "13.3 µs"
    assert rows["CPU per event: all"] == "13.3 µs"
