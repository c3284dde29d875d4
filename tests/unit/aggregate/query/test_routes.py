"""The query API's shape without ClickHouse: the rules' dataclasses are the response models, so
the JSON objects and the OpenAPI schema must keep the fields, in order, that clients read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from cchc_aggregate.query import routes
from cchc_aggregate.query.sql_guard import check_sql
from cchc_aggregate.settings import AggregateSettings
from fastapi import FastAPI
from fastapi.testclient import TestClient

NOW = dt.datetime(2025, 7, 16, 5, tzinfo=dt.UTC)

NATIONAL = [
    "indicator", "period", "unit", "aggregation", "value", "numerator", "denominator",
    "provinces_reported", "provinces_expected", "boundary", "notes", "provisional", "estimated",
]  # fmt: skip
PROVINCES = ["indicator", "period", "boundary", "rows", "notes"]
PROVINCE_ROW = ["province", "name", "value", "rank", "reported_rank"]
FIGURES = [
    "received", "received_online", "resolved", "resolved_on_time", "resolved_late",
    "resolved_unclassified", "on_time_rate", "late_rate", "online_rate", "overdue_in_progress",
    "avg_resolution_hours",
]  # fmt: skip
SERVICE_INDEX = ["period", "province", *FIGURES, "as_of"]
GROUPS = ["period", "province", "group_by", "order", "rows", "as_of"]
GROUP_ROW = ["key", *FIGURES]
SCORE = [
    "period", "province", "name", "total", "max", "max_available", "rank", "rank_of",
    "avg_resolution_hours",
]  # fmt: skip
PROVINCE_SCORE = [*SCORE, "groups", "notes", "as_of"]
NATIONAL_SCORE = [*SCORE, "province_mean", "groups", "provinces", "notes", "as_of"]
FOLDED = dt.datetime(2026, 11, 30, 2, 47, 21, 19000, tzinfo=dt.UTC)  # the fold log's last cutoff
SCORE_GROUP = ["code", "name", "points", "max", "criteria"]
SCORE_CRITERION = ["code", "name", "numerator", "denominator", "rate", "points", "max"]


class FakeStore:
    """Answers every query with canned rows, chosen by what the SQL reads."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def query(self, sql: str, parameters: Any = None, **_: Any) -> tuple[list[str], list[Any]]:
        self.sql.append(sql)
        if "FROM fold_log" in sql:
            return [], [(FOLDED,)]
        if "FROM observations FINAL" in sql and "period_end < {before" in sql:
            return [], []  # no history: no outliers
        if "FROM scoreboard_monthly" in sql:  # the scoreboard's counters, summed months
            return [], [
                ("01", {"res_on_time": 3, "res_late": 1, "resolved": 4}),
                ("79", {"res_on_time": 1, "resolved": 1}),
            ]
        if "ARRAY JOIN c AS kv" in sql:  # the same, from the daily tables (a cluster)
            return [], [
                ("", "01", "res_on_time", 3),
                ("", "01", "res_late", 1),
                ("", "01", "resolved", 4),
                ("", "79", "res_on_time", 1),
                ("", "79", "resolved", 1),
            ]
        if "FROM observations FINAL" in sql:
            return [], [
                ("dossiers.received", "2024", "2004:14", "14", 3.0, None, None, "final", None,
                 None, "all"),
                ("dossiers.received", "2024", "2004:01", "01", 2.0, None, None, "final", None,
                 None, "all"),
            ]  # fmt: skip
        if "dossier_open" in sql:
            key = "1.004227" if "procedure_code AS key" in sql else ""
            return [], [("counts", key, 4, 1, 3, 2, 1, 0), ("open", key, 0, 0, 0, 0, 0, 1)]
        return ["n", "d"], [(97, dt.date(2024, 1, 2))]


class FakeSandbox:
    """The SQL sandbox's seam: the guard, then canned rows (the real one: tests/security/)."""

    def run(self, sql: str) -> tuple[list[str], list[Any]]:
        check_sql(sql)
        return ["n", "d"], [(97, dt.date(2024, 1, 2))]


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    routes.install(
        app,
        FakeStore(),  # type: ignore[arg-type]
        None,
        AggregateSettings(),
        clock=lambda: NOW,
        sandbox=FakeSandbox(),  # type: ignore[arg-type]
    )
    return app


@pytest.fixture
def http(app: FastAPI) -> TestClient:
    return TestClient(app)


def keys(response: Any) -> list[str]:
    """The top-level keys of a JSON response, in the order they were written."""
    assert response.status_code == 200, response.text
    return list(orjson.loads(response.content))


def test_national_and_provinces_json_fields_in_order(http: TestClient) -> None:
    params = {"indicator": "dossiers.received", "period": "2024"}
    national = http.get("/v1/national", params=params)
    assert keys(national) == NATIONAL
    assert national.json()["value"] == 5.0
    provinces = http.get("/v1/provinces", params=params)
    assert keys(provinces) == PROVINCES
    first = provinces.json()["rows"][0]
    assert list(first) == PROVINCE_ROW
    assert first == {
        "province": "14",
        "name": "Sơn La",
        "value": 3.0,
        "rank": 1,
        "reported_rank": None,
    }


def test_service_index_json_fields_in_order(http: TestClient) -> None:
    figure = http.get("/v1/service-index", params={"period": "2025-07", "province": "01"})
    assert keys(figure) == SERVICE_INDEX
    assert figure.json()["on_time_rate"] == pytest.approx(66.67)
    assert figure.json()["as_of"] == "2026-11-30T02:47:21.019000Z"
    groups = http.get(
        "/v1/service-index", params={"period": "2025-07", "province": "1", "group_by": "procedure"}
    )
    assert keys(groups) == GROUPS
    body = groups.json()
    assert (body["province"], body["group_by"], body["order"]) == ("01", "procedure", "best")
    assert [list(row) for row in body["rows"]] == [GROUP_ROW]
    assert body["rows"][0]["key"] == "1.004227"


def test_scoreboard_json_fields_in_order(http: TestClient) -> None:
    national = http.get("/v1/scoreboard", params={"period": "2025-07"})
    assert keys(national) == NATIONAL_SCORE
    body = national.json()
    assert [list(g) for g in body["groups"]] == [SCORE_GROUP] * 6
    assert [g["code"] for g in body["groups"]] == [
        "transparency", "progress", "online", "payment", "digitization", "satisfaction",
    ]  # fmt: skip
    assert list(body["groups"][0]["criteria"][0]) == SCORE_CRITERION
    # 79: p1 20 + s3 6 = 26 first; 01: 15 + 6 = 21.
    assert body["provinces"] == [
        {"province": "79", "name": "Hồ Chí Minh", "total": 26.0, "rank": 1},
        {"province": "01", "name": "Hà Nội", "total": 21.0, "rank": 2},
    ]
    one = http.get("/v1/scoreboard", params={"period": "2025-07", "province": "1"})
    assert keys(one) == PROVINCE_SCORE
    assert (one.json()["province"], one.json()["rank"], one.json()["rank_of"]) == ("01", 2, 2)
    assert one.json()["as_of"] == national.json()["as_of"] == "2026-11-30T02:47:21.019000Z"


def test_the_scoreboard_reads_the_months_on_one_server_and_the_days_on_a_cluster() -> None:
    answers = {}
    for cluster in (None, "cchc"):
        store, app = FakeStore(), FastAPI()
        routes.install(app, store, None, AggregateSettings(cluster=cluster), clock=lambda: NOW)  # type: ignore[arg-type]
        body = TestClient(app).get("/v1/scoreboard", params={"period": "2025-Q3"}).json()
        read = [sql for sql in store.sql if "scoreboard_monthly" in sql or "AS kv" in sql]
        assert len(read) == 1
        assert ("FROM scoreboard_monthly" in read[0]) is (cluster is None)
        answers[cluster] = body["provinces"]
    assert answers[None] == answers["cchc"]


def test_sql_rows_are_json_values(http: TestClient) -> None:
    r = http.post("/v1/sql", json={"sql": "SELECT count() AS n, toDate('2024-01-02') AS d"})
    assert r.content == b'{"columns":["n","d"],"rows":[[97,"2024-01-02"]]}'
    refused = http.post("/v1/sql", json={"sql": "SET readonly = 0"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "bad_sql"


def _fields(schema: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    ref = schema["$ref"].rsplit("/", 1)[-1]
    return list(spec["components"]["schemas"][ref]["properties"])


def test_openapi_lists_the_same_response_fields(app: FastAPI) -> None:
    spec = app.openapi()

    def response(path: str, method: str = "get") -> dict[str, Any]:
        content = spec["paths"][path][method]["responses"]["200"]["content"]
        schema: dict[str, Any] = content["application/json"]["schema"]
        return schema

    assert _fields(response("/v1/national"), spec) == NATIONAL
    provinces = response("/v1/provinces")
    assert _fields(provinces, spec) == PROVINCES
    ranking = spec["components"]["schemas"][provinces["$ref"].rsplit("/", 1)[-1]]
    assert _fields(ranking["properties"]["rows"]["items"], spec) == PROVINCE_ROW
    index, grouped = response("/v1/service-index")["anyOf"]
    assert _fields(index, spec) == SERVICE_INDEX
    assert _fields(grouped, spec) == GROUPS
    groups = spec["components"]["schemas"][grouped["$ref"].rsplit("/", 1)[-1]]
    assert _fields(groups["properties"]["rows"]["items"], spec) == GROUP_ROW
    first, second = response("/v1/scoreboard")["anyOf"]
    assert _fields(first, spec) == NATIONAL_SCORE
    assert _fields(second, spec) == PROVINCE_SCORE
    assert _fields(response("/v1/sql", "post"), spec) == ["columns", "rows"]
    assert _fields(response("/v1/pipeline"), spec) == ["lag", "dlq"]
    # The field descriptions come from the dataclasses' metadata.
    national = spec["components"]["schemas"][response("/v1/national")["$ref"].rsplit("/", 1)[-1]]
    assert national["properties"]["value"]["description"] == "null when no unit reported"
    assert set(national["required"]) == set(NATIONAL)
