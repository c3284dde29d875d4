"""aggregate runs the background fold on one server only: on a cluster each shard folds its events
within the insert (docs/cluster.md), so no Folder is made, and the log says why."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cchc_aggregate import __main__ as aggregate_main
from cchc_aggregate.__main__ import background_fold
from cchc_aggregate.settings import AggregateSettings
from clickhouse_connect.driver.exceptions import OperationalError
from prometheus_client import CollectorRegistry


def test_on_a_cluster_no_folder_is_started_and_the_log_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No ClickHouse listens there: making a Folder would have to connect, and fail.
    settings = AggregateSettings(cluster="cchc", dsn="http://127.0.0.1:9/cchc")
    registry = CollectorRegistry()
    with caplog.at_level(logging.INFO, logger="cchc_aggregate"):
        assert background_fold(settings, None, registry) is None  # type: ignore[arg-type]
    assert "no background fold" in caplog.text
    assert "cluster cchc" in caplog.text
    assert (
        registry.get_sample_value(
            "cchc_fold_lag_seconds", {"service": "aggregate", "source": "dossier_events"}
        )
        is None
    )


def test_on_one_server_the_folder_connects_to_clickhouse() -> None:
    settings = AggregateSettings(dsn="http://127.0.0.1:9/cchc")
    writer = SimpleNamespace(inserts=threading.Lock())
    with pytest.raises(OperationalError):  # it tried: nothing listens there
        background_fold(settings, writer, CollectorRegistry())  # type: ignore[arg-type]


def test_an_embedded_fold_stops_on_a_latched_table_and_a_server_fold_does_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A restart reopens an embedded database's tables, not a server's (docs/runbook.md)."""
    monkeypatch.setattr(aggregate_main, "connect", lambda dsn: SimpleNamespace(dsn=dsn))
    writer: Any = SimpleNamespace(inserts=threading.Lock())
    embedded = background_fold(AggregateSettings(data_dir=tmp_path), writer, CollectorRegistry())
    server = background_fold(
        AggregateSettings(dsn="http://127.0.0.1:9/cchc"), writer, CollectorRegistry()
    )
    assert embedded is not None
    assert embedded.store.client.dsn.startswith("chdb://")
    assert embedded.stop_when_latched
    assert server is not None
    assert not server.stop_when_latched
