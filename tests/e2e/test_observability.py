"""Observability against the running stack: `cchc top`, the analyst dashboard's SQL, the
services' metric names, and a real Prometheus scraping the stack with the alert rules loaded.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from cchc_aggregate.clickhouse.fold import SOURCES
from cchc_cli.main import app
from cchc_cli.top import Exposition
from cchc_devstack.stack import HOST, Stack, StackConfig
from cchc_shared.metrics import METRIC_NAMES
from typer.testing import CliRunner

from tests.conftest import RunningStack, free_port_block, wait_until

pytestmark = pytest.mark.connected

ROOT = Path(__file__).resolve().parents[2]


def test_top_once_prints_every_service_ready(stack: RunningStack) -> None:
    # A topic no other test reads: they may parse every record on theirs.
    stack.send("cchc.raw.66", [b"{not json"], key=b"top")
    stack.drained()
    result = CliRunner().invoke(
        app,
        ["top", "--once", "--interval", "0.5", "--api", stack.api],
        env={"COLUMNS": "220"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for service in ("ingest", "normalize", "aggregate"):
        line = next(x for x in lines if x.startswith(f"│ {service} "))  # the services table
        assert "ready" in line, line
    assert "malformed_json" in result.output  # rejects by reason
    # Without a terminal (80 columns), every header whole; for scripts, JSON.
    narrow = CliRunner().invoke(
        app, ["top", "--once", "--interval", "0.5", "--api", stack.api], env={"COLUMNS": "80"}
    )
    assert narrow.exit_code == 0, narrow.output
    assert max(len(line) for line in narrow.output.splitlines()) <= 80, narrow.output
    for word in ("ingest", "normalize", "aggregate", "consumed", "rejected", "uptime"):
        assert word in narrow.output, (word, narrow.output)
    as_json = CliRunner().invoke(
        app, ["top", "--interval", "0.5", "--api", stack.api, "--format", "json"]
    )
    assert as_json.exit_code == 0, as_json.output
    services = {row["service"]: row for row in json.loads(as_json.output)}
    assert set(services) == {"ingest", "normalize", "aggregate"}
    assert services["ingest"]["rejects_by_reason"].get("malformed_json", 0) >= 1


def test_top_once_exits_1_when_nothing_answers() -> None:
    port = free_port_block(3)
    result = CliRunner().invoke(
        app,
        ["top", "--once", "--interval", "0.1", "--api", f"http://127.0.0.1:{port}"],
        env={"COLUMNS": "220"},
    )
    assert result.exit_code == 1
    assert result.output.count("down") == 3


def test_services_export_only_names_from_the_closed_list(stack: RunningStack) -> None:
    for name, port in stack.config.ports().items():
        page = httpx.get(f"http://{HOST}:{port}/metrics", timeout=5).text
        names = set(Exposition.parse(page).samples)
        ours = {n for n in names if n.startswith("cchc_") and not n.endswith("_created")}
        assert ours, name
        for sample in ours:
            base = re.sub(r"_(bucket|sum|count)$", "", sample)
            assert sample in METRIC_NAMES or base in METRIC_NAMES, f"{name}: {sample}"
        assert "process_resident_memory_bytes" in names


def test_aggregate_exports_the_fold_lag_of_each_source(stack: RunningStack) -> None:
    """The background fold's lag (the FoldBehind alert's input): a number of seconds per source
    once the fold has caught up (known from the fold log or the first tick)."""
    port = stack.config.ports()["aggregate"]

    def lags() -> dict[str, float] | None:
        page = httpx.get(f"http://{HOST}:{port}/metrics", timeout=5).text
        found = {
            m.group(1): float(m.group(2))
            for m in re.finditer(
                r'^cchc_fold_lag_seconds\{[^}]*source="(\w+)"[^}]*\} (\S+)$', page, re.M
            )
        }
        known = {source: lag for source, lag in found.items() if lag == lag}  # not NaN
        return known if set(known) == set(SOURCES) else None

    found = wait_until(lags, timeout_s=30)
    assert all(lag >= 0 for lag in found.values()), found
    assert "cchc_fold_rows_total" in httpx.get(f"http://{HOST}:{port}/metrics", timeout=5).text


def _grafana_macros(sql: str) -> str:
    """What Grafana's ClickHouse plugin would send, with fixed values for the variables."""
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        r"(\1 >= toDateTime(0) AND \1 <= toDateTime(4102444800))",
        sql,
    )
    return sql.replace("${period}", "2017-Q1").replace("${indicator}", "procedures.published")


def test_analyst_dashboard_sql_runs_on_the_real_schema(stack: RunningStack) -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/cchc-analyst.json").read_text())
    queries = [t["rawSql"] for p in dashboard["panels"] for t in p.get("targets", [])]
    queries += [v["query"] for v in dashboard["templating"]["list"]]
    assert len(queries) >= 8
    for sql in queries:
        r = httpx.post(
            f"{stack.api}/v1/sql",
            json={"sql": _grafana_macros(sql)},
            headers=stack.headers(),
            timeout=30,
        )
        assert r.status_code == 200, f"{sql}\n→ {r.text}"


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus binary not on PATH")
def test_with_prometheus_scrapes_the_stack_and_loads_the_rules(
    stack: RunningStack, tmp_path: Path
) -> None:
    config = StackConfig(
        data_dir=tmp_path,
        api_port=stack.config.api_port,
        with_prometheus=True,
        prometheus_port=free_port_block(1),
    )
    prom = Stack(config, say=print)
    try:
        message = prom.start_prometheus()
        assert message == f"prometheus: http://{HOST}:{config.prometheus_port}"
        base = f"http://{HOST}:{config.prometheus_port}"

        def all_up() -> bool:
            try:
                r = httpx.get(f"{base}/api/v1/query", params={"query": "up"}, timeout=2)
                result = r.json()["data"]["result"]
            except (httpx.HTTPError, KeyError, ValueError):
                return False
            return sorted((s["metric"]["service"], s["value"][1]) for s in result) == [
                ("aggregate", "1"),
                ("ingest", "1"),
                ("normalize", "1"),
            ]

        wait_until(all_up, timeout_s=30, interval_s=0.5)
        rules = httpx.get(f"{base}/api/v1/rules", timeout=5).json()["data"]["groups"]
        loaded = [r for g in rules for r in g["rules"]]
        assert len(loaded) >= 9
        assert all(r["health"] != "err" for r in loaded), loaded
        process = prom.prometheus
        assert process is not None
        assert process.proc is not None
    finally:
        prom.stop()
    assert process.proc.poll() is not None, "prometheus still running after stop()"
