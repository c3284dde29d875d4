"""`cchc top`'s parsing and arithmetic, on exposition text as prometheus_client writes it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cchc_cli.options import Format
from cchc_cli.top import (
    Exposition,
    Scrape,
    counter_delta,
    export,
    layout,
    mean_duration,
    rate,
    render,
    rows,
)
from rich.console import Console

INGEST_T0 = """\
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 6.7108864e+07
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.0e+09
# HELP cchc_messages_consumed_total Messages read from Kafka
# TYPE cchc_messages_consumed_total counter
cchc_messages_consumed_total{service="ingest"} 1000.0
# HELP cchc_messages_consumed_created Messages read from Kafka
# TYPE cchc_messages_consumed_created gauge
cchc_messages_consumed_created{service="ingest"} 1.0e+09
# HELP cchc_messages_accepted_total Messages passed downstream
# TYPE cchc_messages_accepted_total counter
cchc_messages_accepted_total{service="ingest"} 990.0
# HELP cchc_messages_rejected_total Messages rejected, by reason
# TYPE cchc_messages_rejected_total counter
cchc_messages_rejected_total{reason="malformed_json",service="ingest"} 7.0
cchc_messages_rejected_total{reason="province_mismatch",service="ingest"} 3.0
# HELP cchc_batch_duration_seconds Time to process one batch, output durable
# TYPE cchc_batch_duration_seconds histogram
cchc_batch_duration_seconds_bucket{le="0.01",service="ingest"} 5.0
cchc_batch_duration_seconds_bucket{le="+Inf",service="ingest"} 10.0
cchc_batch_duration_seconds_count{service="ingest"} 10.0
cchc_batch_duration_seconds_sum{service="ingest"} 0.5
# HELP cchc_dlq_limit_paused 1 while a province's consumption is paused
# TYPE cchc_dlq_limit_paused gauge
cchc_dlq_limit_paused{province="15",service="ingest"} 1.0
cchc_dlq_limit_paused{province="01",service="ingest"} 0.0
# HELP cchc_dlq_limit_pauses_total Times the dead-letter limit paused a province
# TYPE cchc_dlq_limit_pauses_total counter
cchc_dlq_limit_pauses_total{province="15",service="ingest"} 2.0
"""


def _ingest_t1(consumed: float, count: float, total: float) -> str:
    return (
        INGEST_T0.replace(
            'cchc_messages_consumed_total{service="ingest"} 1000.0',
            f'cchc_messages_consumed_total{{service="ingest"}} {consumed}',
        )
        .replace(
            'cchc_batch_duration_seconds_count{service="ingest"} 10.0',
            f'cchc_batch_duration_seconds_count{{service="ingest"}} {count}',
        )
        .replace(
            'cchc_batch_duration_seconds_sum{service="ingest"} 0.5',
            f'cchc_batch_duration_seconds_sum{{service="ingest"}} {total}',
        )
    )


AGGREGATE = """\
# TYPE cchc_consumer_lag_messages gauge
cchc_consumer_lag_messages{partition="0",service="ingest",topic="cchc.raw.15"} 40.0
cchc_consumer_lag_messages{partition="0",service="normalize",topic="cchc.validated"} 5.0
cchc_consumer_lag_messages{partition="1",service="normalize",topic="cchc.validated"} 7.0
# TYPE cchc_service_restarts_total counter
cchc_service_restarts_total{service="aggregate"} 2.0
# TYPE cchc_clickhouse_insert_errors_total counter
cchc_clickhouse_insert_errors_total{service="aggregate"} 1.0
# TYPE cchc_clickhouse_insert_duration_seconds histogram
cchc_clickhouse_insert_duration_seconds_bucket{le="+Inf",service="aggregate"} 4.0
cchc_clickhouse_insert_duration_seconds_count{service="aggregate"} 4.0
cchc_clickhouse_insert_duration_seconds_sum{service="aggregate"} 0.2
"""


def _scrape(service: str, at: float, text: str | None, ready: bool = True) -> Scrape:
    return Scrape(service, at, None if text is None else Exposition.parse(text), ready)


def test_parse_sums_samples_by_label_match() -> None:
    m = Exposition.parse(INGEST_T0)
    assert m.sum("cchc_messages_consumed_total", service="ingest") == 1000
    assert m.sum("cchc_messages_rejected_total") == 10
    assert m.sum("cchc_messages_rejected_total", reason="malformed_json") == 7
    assert m.sum("cchc_messages_consumed_total", service="normalize") is None
    assert m.by_label("cchc_messages_rejected_total", "reason") == {
        "malformed_json": 7,
        "province_mismatch": 3,
    }
    assert m.sum("cchc_batch_duration_seconds_count") == 10


def test_counter_delta_treats_a_decrease_as_a_restart_from_zero() -> None:
    assert counter_delta(150, 100) == 50
    assert counter_delta(30, 100) == 30
    assert counter_delta(5, None) == 5  # the labelled series appeared since
    assert counter_delta(None, 100) is None


def test_rate_is_the_counter_delta_over_the_time_between_scrapes() -> None:
    before = _scrape("ingest", 10.0, INGEST_T0)
    after = _scrape("ingest", 12.0, _ingest_t1(1500, 10, 0.5))
    assert rate(after, before, "cchc_messages_consumed_total", service="ingest") == 250
    assert rate(after, None, "cchc_messages_consumed_total") is None
    restarted = _scrape("ingest", 14.0, _ingest_t1(100, 1, 0.1))
    assert rate(restarted, after, "cchc_messages_consumed_total") == 50


def test_mean_duration_uses_deltas_and_falls_back_to_the_lifetime_mean_when_idle() -> None:
    before = _scrape("ingest", 10.0, INGEST_T0)
    after = _scrape("ingest", 11.0, _ingest_t1(1000, 14, 1.3))
    assert mean_duration(after, before, "cchc_batch_duration_seconds") == pytest.approx(0.2)
    idle = _scrape("ingest", 12.0, _ingest_t1(1000, 14, 1.3))
    assert mean_duration(idle, after, "cchc_batch_duration_seconds") == pytest.approx(1.3 / 14)
    assert mean_duration(after, before, "cchc_clickhouse_insert_duration_seconds") is None


def test_rows_combine_services_and_take_lag_from_aggregate() -> None:
    previous = {
        "ingest": _scrape("ingest", 10.0, INGEST_T0),
        "normalize": _scrape("normalize", 10.0, None),
        "aggregate": _scrape("aggregate", 10.0, AGGREGATE),
    }
    current = {
        "ingest": _scrape("ingest", 11.0, _ingest_t1(1100, 10, 0.5)),
        "normalize": _scrape("normalize", 11.0, None),
        "aggregate": _scrape("aggregate", 11.0, AGGREGATE, ready=False),
    }
    ingest, normalize, aggregate = rows(current, previous, now=1.0e9 + 3725)
    assert (ingest.up, ingest.ready, ingest.consume_rate) == (True, True, 100)
    assert ingest.lag == 40
    assert ingest.rejected == 10
    assert ingest.rejects_by_reason == {"malformed_json": 7, "province_mismatch": 3}
    assert ingest.batch_seconds == pytest.approx(0.05)  # idle: lifetime mean
    assert ingest.paused_provinces == ["15"]
    assert ingest.dlq_pauses == 2
    assert ingest.rss_bytes == 64 * 2**20
    assert ingest.uptime_seconds == 3725
    assert (normalize.up, normalize.lag) == (False, 12)
    assert (aggregate.up, aggregate.ready, aggregate.restarts) == (True, False, 2)
    assert aggregate.insert_seconds == pytest.approx(0.05)
    assert aggregate.insert_errors == 1


def test_lag_falls_back_to_the_pipeline_endpoint() -> None:
    current = {"aggregate": _scrape("aggregate", 1.0, "# nothing\n")}
    current["aggregate"].lag_fallback = {"ingest": 3.0, "aggregate": 0.0}
    (aggregate,) = rows(current, None, now=0)
    assert aggregate.lag == 0
    assert aggregate.consume_rate is None


def test_render_shows_states_reasons_and_paused_provinces() -> None:
    current = {
        "ingest": _scrape("ingest", 11.0, INGEST_T0),
        "normalize": _scrape("normalize", 11.0, None),
        "aggregate": _scrape("aggregate", 11.0, AGGREGATE, ready=False),
    }
    console = Console(width=220, record=True, color_system=None)
    console.print(render(rows(current, None, now=1.0e9 + 61), "cchc top"))
    text = console.export_text()
    assert "ingest" in text
    assert "ready" in text
    assert "down" in text  # normalize
    assert "malformed_json" in text
    assert "province_mismatch" in text
    assert "pausing province(s) 15" in text
    assert "64 MiB" in text
    assert "1m01s" in text


def test_provinces_gone_quiet_are_shown() -> None:
    # The exposition as aggregate's sink writes it: province 15 last heard 4 days ago,
    # province 01 a minute ago, with the default quiet period of 3 days.
    from cchc_aggregate.sink.writer import SERVICE, SinkMetrics
    from prometheus_client import CollectorRegistry, generate_latest

    now = 2_000_000_000.0
    registry = CollectorRegistry()
    metrics = SinkMetrics.create(registry)
    metrics.province_last_event.labels(service=SERVICE, province="15").set(now - 4 * 86_400)
    metrics.province_last_event.labels(service=SERVICE, province="01").set(now - 60)
    text = generate_latest(registry).decode()
    (aggregate,) = rows({"aggregate": _scrape("aggregate", now, text)}, None, now=now)
    assert aggregate.quiet_threshold_seconds == 3 * 86_400
    assert aggregate.quiet_provinces == [("15", 4 * 86_400)]
    console = Console(width=220, record=True, color_system=None)
    console.print(render([aggregate], "cchc top"))
    assert "province(s) silent for over 72h00m (ProvinceSilent): 15 (96h00m)" in (
        console.export_text()
    )


def test_at_80_columns_every_header_is_whole_and_zero_rejects_are_not_listed() -> None:
    current = {
        "ingest": _scrape("ingest", 11.0, INGEST_T0),
        "normalize": _scrape("normalize", 11.0, None),
        "aggregate": _scrape("aggregate", 11.0, AGGREGATE, ready=False),
    }
    view = rows(current, None, now=1.0e9 + 61)
    view[0].rejects_by_reason["unknown_indicator"] = 0.0
    console = Console(width=80, record=True, color_system=None)
    console.print(render(view, "cchc top", console.width))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, text
    assert "…" not in text, text
    header = next(line for line in lines if "ingest" in line and "normalize" in line)
    assert "aggregate" in header
    for name in ("state", "msg/s", "consumed", "accepted", "rejected", "lag", "push→query",
                 "dlq pauses", "restarts", "rss", "uptime"):  # fmt: skip
        assert any(line.startswith(f"│ {name} ") for line in lines), (name, text)
    assert "malformed_json" in text
    assert "unknown_indicator" not in text  # a zero is not a reject


def test_export_json_and_csv_for_scripts() -> None:
    current = {"ingest": _scrape("ingest", 11.0, INGEST_T0)}
    view = rows(current, None, now=1.0e9 + 61)
    records = json.loads(export(view, Format.JSON))
    assert records[0]["service"] == "ingest"
    assert records[0]["rejects_by_reason"]["malformed_json"] > 0
    table = list(csv.reader(io.StringIO(export(view, Format.CSV))))
    assert table[0][0] == "service"
    assert table[1][0] == "ingest"
    assert "malformed_json=" in ",".join(table[1])


def test_each_instance_is_a_row_with_its_own_rates_and_the_group_lag_once(
    tmp_path: Path,
) -> None:
    (tmp_path / "stack.json").write_text(
        '{"instances": {"ingest": {"service": "ingest", "port": 8081},'
        ' "ingest-2": {"service": "ingest", "port": 8084},'
        ' "aggregate": {"service": "aggregate", "port": 8080}}}'
    )
    assert layout(tmp_path, 8080) == {
        "ingest": ("ingest", 8081),
        "ingest-2": ("ingest", 8084),
        "aggregate": ("aggregate", 8080),
    }
    assert layout(tmp_path, 9080)["ingest"] == ("ingest", 9081)  # another stack: defaults
    previous = {
        "ingest": _scrape("ingest", 10.0, INGEST_T0),
        "ingest-2": _scrape("ingest", 10.0, INGEST_T0),
        "aggregate": _scrape("aggregate", 10.0, AGGREGATE),
    }
    current = {
        "ingest": _scrape("ingest", 11.0, _ingest_t1(1100, 10, 0.5)),
        "ingest-2": _scrape("ingest", 11.0, _ingest_t1(1300, 10, 0.5)),
        "aggregate": _scrape("aggregate", 11.0, AGGREGATE),
    }
    first, second, _ = rows(current, previous, now=1.0e9)
    assert (first.service, first.consume_rate, first.lag) == ("ingest", 100, 40)
    assert (second.service, second.consume_rate, second.lag) == ("ingest-2", 300, None)
