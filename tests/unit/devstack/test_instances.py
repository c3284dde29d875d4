"""Several instances per service: the layout `cchc up --instances` asks for, and the label that
tells their metrics apart."""

from __future__ import annotations

import pytest
from cchc_devstack.stack import StackConfig, parse_instances
from cchc_runtime.metrics import CoreMetrics
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families


def test_instances_parse_and_get_ports_three_apart() -> None:
    counts = parse_instances("ingest=2, normalize=3")
    assert counts == {"ingest": 2, "normalize": 3}
    config = StackConfig(api_port=8080, instances=counts)
    assert config.instance_ports() == {
        "ingest": ("ingest", 8081),
        "ingest-2": ("ingest", 8084),
        "normalize": ("normalize", 8082),
        "normalize-2": ("normalize", 8085),
        "normalize-3": ("normalize", 8088),
        "aggregate": ("aggregate", 8080),
    }
    ports = [port for _, port in config.instance_ports().values()]
    assert len(set(ports)) == len(ports)


@pytest.mark.parametrize("text", ["ingest", "ingest=0", "query=2", "ingest=two"])
def test_a_malformed_layout_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"SERVICE=N|at least one"):
        parse_instances(text)


def test_aggregate_is_one_process_on_chdb_and_any_number_on_a_server() -> None:
    config = StackConfig(instances={"aggregate": 2})
    with pytest.raises(ValueError, match="one process"):
        config.check_instances({})
    config.check_instances({"CCHC_AGGREGATE_DSN": "http://clickhouse:8123/cchc"})


def test_every_series_carries_the_instance_label() -> None:
    metrics = CoreMetrics.create("ingest", instance="ingest-2")
    metrics.consumed.labels(service="ingest").inc(5)
    page = generate_latest(metrics.exposition()).decode()
    samples = [s for f in text_string_to_metric_families(page) for s in f.samples]
    assert samples
    assert all(s.labels.get("instance") == "ingest-2" for s in samples)
    consumed = [s for s in samples if s.name == "cchc_messages_consumed_total"]
    assert [s.value for s in consumed] == [5.0]


def test_prometheus_scrapes_every_instance() -> None:
    targets = StackConfig(api_port=8080, instances={"ingest": 2}).scrape_targets()
    assert targets == {
        "ingest": ["127.0.0.1:8081", "127.0.0.1:8084"],
        "normalize": ["127.0.0.1:8082"],
        "aggregate": ["127.0.0.1:8080"],
    }
