"""Metrics move as operators expect when good and bad events flow through the real stack."""

from __future__ import annotations

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningStack, wait_until

pytestmark = pytest.mark.connected

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(stack: RunningStack, service: str) -> Samples:
    port = stack.config.ports()[service]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    # Every series names the instance that exported it (the first instance is named like its
    # service); the checks below are about the other labels.
    assert {s.labels.get("instance") for s in samples} == {service}
    return {
        (s.name, frozenset((k, v) for k, v in s.labels.items() if k != "instance")): s.value
        for s in samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _report(event_id: str, value: object) -> bytes:
    return orjson.dumps(
        {
            "schema": "cchc.indicator_report/1",
            "event_id": event_id,
            "province": "Khánh Hòa",
            "indicator": "procedures.abolished",
            "period": "2023",
            "value": value,
            "reported_at": "2024-01-15T09:00:00+07:00",
        }
    )


def test_counters_by_reason_insert_metrics_latency_and_lag(stack: RunningStack) -> None:
    stack.drained()
    before = {s: _scrape(stack, s) for s in ("ingest", "normalize", "aggregate")}
    good = [_report(f"metrics-{i}", 10 + i) for i in range(3)]
    stack.send("cchc.raw.56", [*good, b"{broken", _report("metrics-bad", "1.5")])
    stack.drained()

    def moved() -> dict[str, Samples] | None:
        after = {s: _scrape(stack, s) for s in ("ingest", "normalize", "aggregate")}
        done = _value(after["aggregate"], "cchc_messages_accepted_total", service="aggregate")
        start = _value(before["aggregate"], "cchc_messages_accepted_total", service="aggregate")
        return after if done - start >= 5 else None

    after = wait_until(moved, timeout_s=30)

    def delta(service: str, name: str, **labels: str) -> float:
        labels = {"service": service, **labels}
        return _value(after[service], name, **labels) - _value(before[service], name, **labels)

    assert delta("ingest", "cchc_messages_consumed_total") == 5
    assert delta("ingest", "cchc_messages_accepted_total") == 4
    assert delta("ingest", "cchc_messages_rejected_total", reason="malformed_json") == 1
    assert delta("ingest", "cchc_messages_produced_total", topic="cchc.validated") == 4
    assert delta("normalize", "cchc_messages_rejected_total", reason="bad_number") == 1
    assert delta("normalize", "cchc_messages_dead_lettered_total") == 1
    # aggregate takes the 3 good records and stores the 2 dead letters (it consumes cchc.dlq)
    assert delta("aggregate", "cchc_messages_accepted_total") == 5
    assert delta("aggregate", "cchc_clickhouse_insert_rows_total", table="dead_letters") == 2
    assert delta("aggregate", "cchc_clickhouse_insert_rows_total", table="observations") == 3
    assert delta("aggregate", "cchc_push_to_queryable_seconds_count") == 3
    # Reasons not seen yet are exported at 0, so increase() catches their first occurrence.
    assert ("cchc_messages_rejected_total", frozenset(
        {("service", "ingest"), ("reason", "oversized")}
    )) in after["ingest"]  # fmt: skip
    for service in ("ingest", "normalize", "aggregate"):
        assert _value(after[service], "cchc_service_ready", service=service) == 1
        assert ("cchc_service_restarts_total", frozenset({("service", service)})) in after[service]

    # Lag per group and partition, exported by aggregate, is back to zero.
    def lag_zero() -> bool:
        lags = {
            labels: v
            for (name, labels), v in _scrape(stack, "aggregate").items()
            if name == "cchc_consumer_lag_messages"
        }
        services = {dict(labels)["service"] for labels in lags}
        return services == {"ingest", "normalize", "aggregate"} and not any(lags.values())

    wait_until(lag_zero, timeout_s=30)
