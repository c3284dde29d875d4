"""Reporting, data quality, targets and the seeds' own shapes on a real chDB, through the query
API: the stories of docs/analysts.md "Reporting", "Data quality" and "Targets", by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query import routes
from cchc_aggregate.settings import AggregateSettings
from cchc_runtime.records import Record
from cchc_shared.provinces import VIETNAM_TZ, Era, default_registry
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.test_aggregate_store import observation, sink
from tests.integration.test_scoreboard import feedback, procedure

pytestmark = pytest.mark.connected

QUARTERLY = [
    "dossiers.received", "dossiers.received_online", "dossiers.resolved",
    "dossiers.resolved_on_time", "dossiers.resolved_late", "online_services.total",
    "online_services.integrated",
]  # fmt: skip
UNITS = {
    "dossiers.received": "dossier", "dossiers.received_online": "dossier",
    "dossiers.resolved": "dossier", "dossiers.resolved_on_time": "dossier",
    "dossiers.resolved_late": "dossier", "online_services.total": "service",
    "online_services.integrated": "service", "index.dti": "score", "org.units_cut": "unit",
    "staff.cut_rate": "percent", "dossiers.late_rate": "percent",
    "index.service_766": "point",
}  # fmt: skip


@pytest.fixture
def clean(db: Store) -> Store:
    for table in ("observations", "dossier_events", "report_receipts"):
        db.client.command(f"TRUNCATE TABLE {table}")
    return db


@pytest.fixture
def http(clean: Store) -> TestClient:
    app = FastAPI()
    routes.install(app, clean, None, AggregateSettings())
    return TestClient(app)


def write(db: Store, rows: list[tuple[dict[str, Any], dt.datetime]]) -> None:
    """Canonical observations, each with the Kafka timestamp it reached the pipeline at."""
    records = [
        Record(
            "cchc.normalized", 0, i, p["event_id"].encode(), orjson.dumps(p),
            int(at.timestamp() * 1000),
        )
        for i, (p, at) in enumerate(rows)
    ]  # fmt: skip
    result = sink(db).write(records)
    assert not result.rejects, result.rejects


def obs(
    event_id: str, indicator: str, period: str, unit_key: str, value: float | None, **kw: Any
) -> dict[str, Any]:
    return observation(
        event_id, indicator=indicator, period=period, unit_key=unit_key, value=value,
        unit=UNITS[indicator], **kw,
    )  # fmt: skip


AT = dt.datetime(2026, 9, 10, 9, tzinfo=VIETNAM_TZ)
LATE = dt.datetime(2026, 9, 22, 9, tzinfo=VIETNAM_TZ)


def test_the_quarter_30_complete_2_partial_2_missing_3_late(clean: Store, http: TestClient) -> None:
    codes = [u.code for u in default_registry().units(Era.POST_2025)]
    complete, partial = codes[:30], codes[30:32]
    rows = []
    for code in complete:
        for ind in QUARTERLY:
            at = LATE if code in complete[:3] and ind == "online_services.total" else AT
            rows.append((obs(f"q-{code}-{ind}", ind, "2026-Q3", f"2025:{code}", 5.0), at))
    # A revision after the deadline does not make an on-time report late: first receipt counts.
    rows.append(
        (obs("q-rev", "dossiers.received", "2026-Q3", f"2025:{complete[5]}", 6.0, revision=1), LATE)
    )
    for code in partial:
        rows.append((obs(f"q-{code}", "dossiers.received", "2026-Q3", f"2025:{code}", 1.0), AT))
        # A tier or an agency figure is not the province-wide report.
        rows.append((obs(f"q-{code}-t", "dossiers.resolved", "2026-Q3", f"2025:{code}", 1.0,
                         level="province"), AT))  # fmt: skip
    write(clean, rows)
    body = http.get("/v1/reporting", params={"period": "2026-Q3"}).json()
    assert (body["expected"], body["complete"], body["partial"], body["missing"]) == (34, 30, 2, 2)
    assert body["on_time"] == 27
    assert (body["reporting_rate"], body["on_time_rate"]) == (88.24, 79.41)
    assert body["deadline"] == "2026-09-20T23:59:59.999000+07:00"
    rows_by = {p["province"]: p for p in body["provinces"]}
    assert rows_by[complete[0]]["late_indicators"] == ["online_services.total"]
    assert rows_by[complete[5]]["on_time"] is True
    assert rows_by[partial[0]]["missing_indicators"] == QUARTERLY[1:]
    first = dt.datetime.fromisoformat(rows_by[complete[5]]["first_received_at"])
    assert first == AT
    refused = http.get("/v1/reporting", params={"period": "2026-07"})
    assert (refused.status_code, refused.json()["error"]) == (400, "no_report_due")


def test_a_rule_broken_by_one_province_is_noted_on_the_national_figure(
    clean: Store, http: TestClient
) -> None:
    write(clean, [
        (obs("h-t", "online_services.total", "2026-Q3", "2025:79", 100.0), AT),
        (obs("h-i", "online_services.integrated", "2026-Q3", "2025:79", 200.0), AT),
        (obs("n-t", "online_services.total", "2026-Q3", "2025:01", 100.0), AT),
        (obs("n-i", "online_services.integrated", "2026-Q3", "2025:01", 10.0), AT),
    ])  # fmt: skip
    params = {"indicator": "online_services.integration_rate", "period": "2026-Q3"}
    body = http.get("/v1/national", params=params).json()
    assert body["value"] == pytest.approx(105.0)
    notes = "\n".join(body["notes"])
    assert "derived" not in notes
    assert "lacks" not in notes
    assert "rate above 100 % for 1 unit(s)" in notes
    assert "1 input(s) break a validation rule" in notes
    assert "79 Hồ Chí Minh 2026-Q3: online_services.integrated ≤ online_services.total" in notes
    quality = http.get("/v1/quality", params={"period": "2026-Q3"}).json()
    assert (quality["rules"], quality["broken"], quality["outliers"]) == (7, 1, 0)
    (finding,) = quality["findings"]
    assert (finding["kind"], finding["rule"], finding["province"]) == (
        "rule", "integrated_le_total", "79",
    )  # fmt: skip
    assert (
        http.get("/v1/quality", params={"period": "2026-Q3", "province": "01"}).json()["findings"]
        == []
    )
    # Never rejected: both reports are stored and in the value.
    assert body["provinces_reported"] == 2


def test_an_outlier_in_a_long_history_and_none_in_a_short_one(
    clean: Store, http: TestClient
) -> None:
    long = [100.0, 110.0, 90.0, 105.0, 95.0]  # median 100, MAD 5
    rows = [(obs(f"l{y}", "dossiers.received", str(y), "2004:14", v), AT)
            for y, v in zip(range(2018, 2023), long, strict=True)]  # fmt: skip
    rows += [(obs(f"s{y}", "dossiers.received", str(y), "2004:12", 100.0 + y % 3), AT)
             for y in (2020, 2021, 2022)]  # fmt: skip
    rows += [
        (obs("l2023", "dossiers.received", "2023", "2004:14", 1000.0), AT),
        (obs("s2023", "dossiers.received", "2023", "2004:12", 1000.0), AT),
    ]
    write(clean, rows)
    findings = http.get("/v1/quality", params={"period": "2023"}).json()["findings"]
    (outlier,) = findings  # Lai Châu has only 3 earlier values: never flagged
    assert (outlier["kind"], outlier["unit_key"], outlier["history"]) == ("outlier", "2004:14", 5)
    assert outlier["score"] == pytest.approx(121.41)
    body = http.get("/v1/national", params={"indicator": "dossiers.received", "period": "2023"})
    assert any("1 input(s) are outliers" in n and "14 Sơn La" in n for n in body.json()["notes"])


def test_the_dti_rank_is_kept_as_a_rank(clean: Store, http: TestClient) -> None:
    write(clean, [
        (obs("dti-12", "index.dti", "2020", "2004:12", None, rank=50, rank_of=63), AT),
        (obs("dti-14", "index.dti", "2020", "2004:14", 0.55), AT),
    ])  # fmt: skip
    assert clean.query("SELECT value, rank, rank_of FROM observations WHERE event_id = 'dti-12'")[
        1
    ] == [(None, 50, 63)]
    params = {"indicator": "index.dti", "period": "2020"}
    ranking = http.get("/v1/provinces", params=params).json()
    assert ranking["rows"][0] == {
        "province": "14", "name": "Sơn La", "value": 0.55, "rank": 1, "reported_rank": None,
    }  # fmt: skip
    assert ranking["rows"][1] == {
        "province": "12", "name": "Lai Châu", "value": None, "rank": None, "reported_rank": "50/63",
    }  # fmt: skip
    national = http.get("/v1/national", params=params).json()
    assert national["value"] == pytest.approx(0.55)
    assert national["provinces_reported"] == 1
    assert clean.query("SELECT units_reported FROM v_national_mean WHERE indicator = 'index.dti'")[
        1
    ] == [(1,)]


def test_a_tier_only_province_adds_up_and_never_on_top(clean: Store, http: TestClient) -> None:
    write(clean, [
        (obs("lc-all", "org.units_cut", "2018", "2004:12", 130.0), AT),
        (obs("lc-p", "org.units_cut", "2018", "2004:12", 65.0, level="province"), AT),
        (obs("lc-d", "org.units_cut", "2018", "2004:12", 65.0, level="district"), AT),
        (obs("sl-p", "org.units_cut", "2018", "2004:14", 7.0, level="province"), AT),
        (obs("sl-d", "org.units_cut", "2018", "2004:14", 3.0, level="district"), AT),
    ])  # fmt: skip
    body = http.get("/v1/national", params={"indicator": "org.units_cut", "period": "2018"}).json()
    assert body["value"] == 140.0  # 130 + (7 + 3)
    assert body["provinces_reported"] == 2
    assert any("14 Sơn La (province + district)" in n for n in body["notes"])


def test_a_target_met_and_one_missed(clean: Store, http: TestClient) -> None:
    write(clean, [
        (obs("cut", "staff.cut_rate", "2016/2020", "2004:10", 10.0, status="estimated"), AT),
        (obs("late", "dossiers.late_rate", "2023", "2004:10", 3.0, numerator=3.0,
             denominator=100.0), AT),
        (obs("top", "index.service_766", "2023", "2004:10", None, rank=50, rank_of=63), AT),
    ])  # fmt: skip
    body = http.get("/v1/targets", params={"province": "15"}).json()
    by_code = {t["code"]: t for t in body["targets"]}
    cut = by_code["lao-cai-2016-2020-staff-cut-10pct"]
    assert (cut["status"], cut["actual"]) == ("met", 10.0)
    assert "the figure is not final: estimated" in cut["notes"]
    late = by_code["lao-cai-2023-late-rate-below-2pct"]
    assert (late["status"], late["actual"], late["gap"]) == ("missed", 3.0, 1.0)
    top = by_code["lao-cai-2023-service-index-top-10"]
    assert (top["status"], top["actual_text"]) == ("missed", "50/63")
    assert (body["met"], body["missed"], body["no_data"]) == (1, 2, 0)
    assert "nam-dinh-2025-par-group-kha" not in by_code  # Nam Định is now in Ninh Bình (37)
    only_2023 = http.get("/v1/targets", params={"period": "2023"}).json()
    assert {t["code"] for t in only_2023["targets"]} == {
        "lao-cai-2023-late-rate-below-2pct", "lao-cai-2023-service-index-top-10",
    }  # fmt: skip


def test_last_event_per_province_is_exported_and_survives_a_restart(clean: Store) -> None:
    from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
    from prometheus_client import CollectorRegistry

    def last(registry: CollectorRegistry, province: str) -> float | None:
        return registry.get_sample_value(
            "cchc_province_last_event_timestamp_seconds",
            {"service": "aggregate", "province": province},
        )

    early, later = AT, AT + dt.timedelta(hours=5)
    registry = CollectorRegistry()
    writer = ClickHouseSink(clean, SinkMetrics.create(registry, quiet_s=3600))
    records = [
        Record("cchc.normalized", 0, i, p["event_id"].encode(), orjson.dumps(p),
               int(at.timestamp() * 1000))
        for i, (p, at) in enumerate([
            (obs("e1", "dossiers.received", "2026-Q3", "2025:15", 1.0), later),
            (obs("e2", "dossiers.resolved", "2026-Q3", "2025:15", 1.0), early),
            (obs("e3", "dossiers.received", "2026-Q3", "2025:01", 1.0), early),
            # A province that sends only feedback, and one only procedure acts, is heard from.
            (feedback("PA-1", "received", "2026-10-01T09:00", province="79"), early),
            (procedure("1.001", "published", "2026-10-01T09:00", "2026-10-02T09:00",
                       province="33", online="full"), later),
        ])
    ]  # fmt: skip
    assert not writer.write(records).rejects
    assert last(registry, "15") == later.timestamp()
    assert last(registry, "01") == early.timestamp()
    assert last(registry, "79") == early.timestamp()
    assert last(registry, "33") == later.timestamp()
    assert (
        registry.get_sample_value("cchc_province_quiet_threshold_seconds", {"service": "aggregate"})
        == 3600
    )
    # A restarted aggregate reads the same times back from ClickHouse.
    fresh = CollectorRegistry()
    ClickHouseSink(clean, SinkMetrics.create(fresh)).load_last_events()
    assert last(fresh, "15") == later.timestamp()
    assert last(fresh, "01") == early.timestamp()
    assert last(fresh, "79") == early.timestamp()
    assert last(fresh, "33") == later.timestamp()
    assert last(fresh, "48") is None  # never heard from: no series, no alert
