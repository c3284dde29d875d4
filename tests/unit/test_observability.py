"""Alerts, scrape configs and dashboards refer only to metrics that exist, and are well formed.

The metric-name check is what keeps a renamed metric from silently emptying a panel or muting
an alert: every name in a PromQL expression must be in the closed list (shared/cchc_shared/
metrics.py), with the suffixes prometheus_client adds, or come from Prometheus itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cchc_devstack.prometheus import ALERT_RULES, prometheus_config
from cchc_devstack.stack import StackConfig
from cchc_shared.metrics import METRIC_NAMES

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))

# Series Prometheus makes itself: scrape health and the alert state.
PROMETHEUS_OWN = {"up", "ALERTS", "ALERTS_FOR_STATE"}
SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "offset", "bool", "inf", "nan",
    # Aggregation operators: `sum by (x) (…)` puts the modifier between name and parenthesis.
    "sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk",
    "quantile", "count_values",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, labels and keywords removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings: label values, regexes
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges, subqueries, Grafana's $__rate_interval
    # Label lists of by/without/on/ignoring/group_*.
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", text, flags=re.I
    )
    text = re.sub(r"\$\w+", "", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        name, call = match.groups()
        if call or name.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


def is_known(name: str) -> bool:
    """In the closed list (with a histogram suffix), from Prometheus, or a process metric."""
    if name in METRIC_NAMES or name in PROMETHEUS_OWN or name.startswith("process_"):
        return True
    return any(name.endswith(s) and name.removesuffix(s) in METRIC_NAMES for s in SUFFIXES)


def _alert_rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows hold their panels
    return out


def _dashboard(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GRAFANA / "dashboards" / name).read_text())
    return data


# -- the extractor itself --------------------------------------------------------------------


def test_metric_names_ignores_functions_labels_and_variables() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (service, le) (rate(cchc_push_to_queryable_seconds_bucket"
        '{service=~"$service"}[$__rate_interval]))) > 5 and on (service) '
        "deriv(sum by (service) (cchc_consumer_lag_messages)[10m:1m]) > 0 or up == 0"
    )
    assert metric_names(expr) == {
        "cchc_push_to_queryable_seconds_bucket",
        "cchc_consumer_lag_messages",
        "up",
    }
    assert not is_known("cchc_messages_consumed")  # a counter is read with its _total
    assert is_known("cchc_batch_duration_seconds_count")
    assert not is_known("cchc_no_such_metric_total")


# -- alert rules ------------------------------------------------------------------------------


def test_every_alert_reads_only_known_metrics_and_is_documented() -> None:
    rules = _alert_rules()
    assert rules
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, rule
        unknown = sorted(n for n in names if not is_known(n))
        assert not unknown, f"{rule.get('alert')}: unknown metrics {unknown}"
        if "alert" in rule:
            assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
            assert {"summary", "description", "runbook"} <= set(rule["annotations"])
            anchor = rule["alert"].lower()
            assert f"#{anchor}" in rule["annotations"]["runbook"]
            assert f"## {rule['alert']}\n" in runbook, f"docs/runbook.md lacks {rule['alert']}"


def test_every_alert_has_a_firing_and_a_quiet_test() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in _alert_rules() if "alert" in rule}
    assert alerts - fires == set(), "alerts never shown firing"
    assert alerts - quiet == set(), "alerts never shown staying quiet"


# -- dashboards -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_valid_json_with_unique_panel_ids(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    panels = _panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


def test_dashboards_use_the_provisioned_data_sources() -> None:
    provisioned = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "cchc.yml").read_text()
    )["datasources"]
    by_uid = {ds["uid"]: ds["type"] for ds in provisioned}
    assert by_uid == {"prometheus": "prometheus", "clickhouse": "grafana-clickhouse-datasource"}
    for path in DASHBOARDS:
        for panel in _panels(json.loads(path.read_text())):
            for item in [panel, *panel.get("targets", [])]:
                ds = item.get("datasource")
                if ds is not None:
                    assert by_uid.get(ds["uid"]) == ds["type"], (path.name, panel["title"])
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "cchc.yml").read_text())[
        "providers"
    ]
    assert [p["options"]["path"] for p in providers] == ["/etc/grafana/dashboards"]


def _created_tables() -> set[str]:
    return set(
        re.findall(
            r"CREATE (?:TABLE|VIEW) IF NOT EXISTS (\w+)",
            "\n".join(p.read_text() for p in (ROOT / "deploy" / "clickhouse").glob("*.sql")),
        )
    )


def test_operator_dashboard_reads_only_known_metrics_and_covers_the_questions() -> None:
    dashboard = _dashboard("cchc-operator.json")
    used: set[str] = set()
    tables: set[str] = set()
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            if "rawSql" in target:  # ClickHouse: only tables the migrations create
                tables |= set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]\w*)", target["rawSql"]))
                continue
            names = metric_names(target["expr"])
            assert names, (panel["title"], target["expr"])
            unknown = sorted(n for n in names if not is_known(n))
            assert not unknown, f"panel {panel['title']!r}: unknown metrics {unknown}"
            used |= names
    for variable in dashboard["templating"]["list"]:
        assert is_known(re.findall(r"label_values\((\w+)", variable["definition"])[0])
    # Up, keeping up, rejecting, writing, and what the process costs.
    assert {
        "up",
        "cchc_messages_consumed_total",
        "cchc_consumer_lag_messages",
        "cchc_messages_rejected_total",
        "cchc_dlq_limit_paused",
        "cchc_clickhouse_insert_duration_seconds_bucket",
        "cchc_clickhouse_insert_errors_total",
        "cchc_push_to_queryable_seconds_bucket",
        "cchc_service_restarts_total",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    } <= used
    # Dead letters by reason and province, from ClickHouse (deploy/clickhouse/0007).
    assert tables == {"dead_letters"}
    assert tables <= _created_tables()


def test_analyst_dashboard_reads_tables_and_views_the_migrations_create() -> None:
    created = set(
        re.findall(
            r"CREATE (?:TABLE|VIEW) IF NOT EXISTS (\w+)",
            "\n".join(p.read_text() for p in (ROOT / "deploy" / "clickhouse").glob("*.sql")),
        )
    )
    dashboard = _dashboard("cchc-analyst.json")
    sql = [t["rawSql"] for p in _panels(dashboard) for t in p.get("targets", [])]
    sql += [v["query"] for v in dashboard["templating"]["list"]]
    read = {name for q in sql for name in re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]\w*)", q)}
    assert {"observations", "dossier_events"} <= read
    assert read <= created, f"not created by any migration: {sorted(read - created)}"
    for q in sql:
        if re.search(r"\bFROM observations\b|\bFROM dossier_events\b", q):
            assert re.search(r"\b(observations|dossier_events)( AS \w+)? FINAL\b", q), q


# -- compose and scrape configs ---------------------------------------------------------------


def test_compose_runs_prometheus_and_grafana_on_loopback() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert prometheus["ports"] == ["127.0.0.1:9090:9090"]
    assert grafana["ports"] == ["127.0.0.1:3000:3000"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro" in grafana["volumes"]
    # No plugin is downloaded at start: the ClickHouse data source is read from a local folder.
    assert "GF_INSTALL_PLUGINS" not in grafana["environment"]
    assert grafana["environment"]["GF_PLUGINS_PREINSTALL_DISABLED"] == "true"
    assert "./deploy/grafana/plugins:/var/lib/grafana-plugins:ro" in grafana["volumes"]
    assert grafana["environment"]["GF_PATHS_PLUGINS"] == "/var/lib/grafana-plugins"


def test_compose_scrape_config_has_the_jobs_the_embedded_one_generates() -> None:
    deployed = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    compose_targets = {"ingest": "ingest:8081", "normalize": "normalize:8082"}
    compose_targets["aggregate"] = "aggregate:8080"
    generated = yaml.safe_load(prometheus_config(compose_targets, ["alerts.yml"]))
    assert deployed["scrape_configs"] == generated["scrape_configs"]
    assert deployed["rule_files"] == generated["rule_files"] == ["alerts.yml"]
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for target in compose_targets.values():
        name, port = target.split(":")
        assert f"127.0.0.1:{port}:{port}" in services[name]["ports"]


def test_embedded_scrape_config_targets_the_stack_ports() -> None:
    config = StackConfig(api_port=18080)
    generated = yaml.safe_load(prometheus_config(config.scrape_targets(), [ALERT_RULES]))
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in generated["scrape_configs"]
    }
    assert targets == {
        "ingest": ["127.0.0.1:18081"],
        "normalize": ["127.0.0.1:18082"],
        "aggregate": ["127.0.0.1:18080"],
    }
    assert generated["rule_files"] == [str(ALERT_RULES)]
    assert all(job["honor_labels"] for job in generated["scrape_configs"])


# -- promtool ----------------------------------------------------------------------------------

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not on PATH (Debian package `prometheus`; `make test` installs it)",
)


def _promtool(*args: str | Path) -> str:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@needs_promtool
def test_promtool_accepts_config_and_rules_and_the_alert_tests_pass() -> None:
    assert "SUCCESS" in _promtool("check", "config", PROMETHEUS / "prometheus.yml")
    assert "SUCCESS" in _promtool("check", "rules", PROMETHEUS / "alerts.yml")
    assert "SUCCESS" in _promtool("test", "rules", PROMETHEUS / "alerts_test.yml")


@needs_promtool
def test_promtool_accepts_the_generated_embedded_config(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(StackConfig().scrape_targets(), [ALERT_RULES]))
    assert "SUCCESS" in _promtool("check", "config", config)


def _dossier_keys(sql: str) -> list[list[str]]:
    """The column lists that identify a dossier in `sql`: every GROUP BY and every uniq*(…)
    that names `dossier_id`."""
    import sqlglot
    from sqlglot import exp

    plain = re.sub(r"\$__timeFilter\((\w+)\)", r"(\1 > 0)", sql)
    keys = []
    for node in sqlglot.parse_one(plain, read="clickhouse").walk():
        counts = isinstance(node, exp.Anonymous) and node.name.lower().startswith("uniq")
        if not (isinstance(node, exp.Group) or counts):
            continue
        columns = [c.name for c in node.expressions if isinstance(c, exp.Column)]
        if "dossier_id" in columns:
            keys.append(columns)
    return keys


def test_the_analyst_dashboard_tells_two_old_units_dossiers_apart() -> None:
    """A dossier is (province, unit_key, dossier_id) since 0012: two old provinces merged into
    one may have used the same dossier number, and they are two dossiers."""
    dashboard = json.loads((GRAFANA / "dashboards" / "cchc-analyst.json").read_text())
    queries = [t["rawSql"] for p in dashboard["panels"] for t in p.get("targets", [])]
    keys = [k for sql in queries for k in _dossier_keys(sql)]
    assert keys, "no panel counts dossiers any more: update this test"
    assert all({"province", "unit_key", "dossier_id"} <= set(k) for k in keys), keys
