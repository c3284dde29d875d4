"""`cchc query …` prints the API's answers as a table, JSON or CSV; errors exit non-zero."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from cchc_cli import query
from cchc_cli.main import app
from typer.testing import CliRunner

NATIONAL = {
    "indicator": "dossiers.late_rate", "period": "2024", "unit": "percent",
    "aggregation": "ratio", "value": 1.188, "numerator": 1200.0, "denominator": 101000.0,
    "provinces_reported": 2, "provinces_expected": 34, "boundary": "current",
    "notes": ["one note"],
}  # fmt: skip


SCOREBOARD = {
    "period": "2026-10", "province": None, "name": "Toàn quốc", "total": 73.6, "max": 100.0,
    "max_available": 100.0, "rank": None, "rank_of": 3, "avg_resolution_hours": 30.0,
    "province_mean": 70.25,
    "groups": [
        {"code": "progress", "name": "Tiến độ giải quyết", "points": 17.5, "max": 20.0,
         "criteria": [{"code": "p1_resolved_on_time", "name": "Hồ sơ giải quyết trước và đúng hạn",
                       "numerator": 7, "denominator": 8, "rate": 87.5, "points": 17.5,
                       "max": 20.0}]},
        {"code": "online", "name": "Dịch vụ công trực tuyến", "points": None, "max": 12.0,
         "criteria": [{"code": "o1_full_online", "name": "Hồ sơ trực tuyến toàn trình",
                       "numerator": 0, "denominator": 0, "rate": None, "points": None,
                       "max": 12.0}]},
    ],
    "provinces": [{"province": "79", "name": "Hồ Chí Minh", "total": 80.5, "rank": 1}],
    "notes": ["o1_full_online (Hồ sơ trực tuyến toàn trình): no data"],
    "as_of": "2026-11-30T02:47:21.019000Z",
}  # fmt: skip

SERVICE_INDEX = {
    "period": "2026-10-15", "province": "01", "received": 8, "received_online": 4, "resolved": 5,
    "resolved_on_time": 4, "resolved_late": 1, "resolved_unclassified": 0, "on_time_rate": 80.0,
    "late_rate": 20.0, "online_rate": 50.0, "overdue_in_progress": 1,
    "avg_resolution_hours": 32.7, "as_of": "2026-11-30T02:47:21.019000Z",
}  # fmt: skip


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def fake(method: str, url: str, **kwargs: Any) -> httpx.Response:
        seen.append((method, url, kwargs))
        if "nope" in str(kwargs.get("params")):
            body: Any = {"error": "unknown_indicator", "detail": "no indicator 'nope'"}
            return httpx.Response(404, content=orjson.dumps(body))
        if url.endswith("/v1/provinces"):
            row = {"province": "01", "name": "Hà Nội", "value": 1.0, "rank": 1}
            body = {"indicator": "x", "period": "2024", "boundary": "current", "notes": []}
            body["rows"] = [row]
        elif url.endswith("/v1/scoreboard"):
            body = SCOREBOARD | (
                {"province": "01", "name": "Hà Nội", "rank": 2, "rank_of": 3}
                if kwargs["params"].get("province")
                else {}
            )
        elif url.endswith("/v1/service-index"):
            body = SERVICE_INDEX | (
                {"as_of": None} if kwargs["params"].get("province") == "79" else {}
            )
            if kwargs["params"].get("group_by"):
                body = {k: body[k] for k in ("period", "province", "as_of")}
                body |= {"group_by": "procedure", "order": "best", "rows": [{"key": "1.001"}]}
        elif url.endswith("/v1/sql"):
            body = {"columns": ["n"], "rows": [[97]]}
        else:
            body = NATIONAL
        return httpx.Response(200, content=orjson.dumps(body))

    monkeypatch.setattr(query.httpx, "request", fake)
    monkeypatch.setenv("CCHC_TOKEN", "cchc_test-token")
    return seen


def test_national_as_json_and_table(calls: list[Any]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["query", "national", "dossiers.late_rate", "2024", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["value"] == 1.188
    assert calls[0][2]["params"] == {
        "indicator": "dossiers.late_rate",
        "period": "2024",
        "boundary": "current",
    }
    table = runner.invoke(app, ["query", "national", "dossiers.late_rate", "2024"])
    assert "provinces_expected" in table.stdout
    assert "one note" in table.stdout


def test_provinces_as_csv(calls: list[Any]) -> None:
    result = CliRunner().invoke(app, ["query", "provinces", "x", "2024", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["rank,province,name,value", "1,01,Hà Nội,1.0"]


def test_sql_and_api_errors(calls: list[Any]) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["query", "sql", "SELECT 1", "-f", "csv", "--api", "http://h:1"])
    assert ok.stdout.splitlines() == ["n", "97"]
    assert calls[-1][1] == "http://h:1/v1/sql"
    bad = runner.invoke(app, ["query", "national", "nope", "2024"])
    assert bad.exit_code == 1


def test_every_query_sends_the_analyst_token(calls: list[Any]) -> None:
    result = CliRunner().invoke(app, ["query", "sql", "SELECT 1"])
    assert result.exit_code == 0, result.output
    assert calls[-1][2]["headers"] == {"Authorization": "Bearer cchc_test-token"}


def test_without_a_token_the_error_says_where_to_get_one(
    calls: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("CCHC_TOKEN")
    result = CliRunner().invoke(app, ["query", "--data-dir", str(tmp_path), "sql", "SELECT 1"])
    assert result.exit_code == 2
    assert "cchc up" in result.output
    assert "Traceback" not in result.output
    assert calls == []


def test_reporting_prints_who_is_missing_what(monkeypatch: pytest.MonkeyPatch) -> None:
    # The body is the rules' own answer, serialised as the API serialises it.
    import datetime as dt

    from cchc_aggregate.query.rules.reporting import (
        Receipt,
        ReportingRate,
        default_calendar,
        reporting,
    )
    from cchc_shared.catalogue import default_catalogue
    from cchc_shared.periods import parse_period
    from cchc_shared.provinces import VIETNAM_TZ, default_registry
    from pydantic import TypeAdapter

    calendar = default_calendar(default_catalogue())
    required = calendar.reports["quarter"].indicators
    on_time = dt.datetime(2026, 9, 1, tzinfo=VIETNAM_TZ)
    late = dt.datetime(2026, 10, 1, tzinfo=VIETNAM_TZ)
    receipts = [Receipt("2025:01", c, on_time) for c in required]
    receipts += [Receipt("2025:79", c, late if c == required[0] else on_time) for c in required]
    receipts += [Receipt("2025:92", required[0], on_time)]
    answer = reporting(parse_period("2026-Q3"), calendar, receipts, default_registry())
    body = TypeAdapter(ReportingRate).dump_json(answer)
    seen: list[Any] = []

    def fake(method: str, url: str, **kwargs: Any) -> httpx.Response:
        seen.append((url, kwargs["params"]))
        return httpx.Response(200, content=body)

    monkeypatch.setattr(query.httpx, "request", fake)
    monkeypatch.setenv("CCHC_TOKEN", "cchc_test-token")
    result = CliRunner().invoke(app, ["query", "reporting", "2026-Q3"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert seen == [("http://127.0.0.1:8080/v1/reporting", {"period": "2026-Q3"})]
    out = result.stdout
    assert "2/34 complete (5.88 %), 1 partial, 31 missing, 1 on time (2.94 %)" in out
    assert "late: dossiers.received" in out  # 79 complete but late
    assert "Cần Thơ" in out  # 92 partial
    assert "dossiers.received_online" in out
    assert "Hà Nội" not in out  # complete and on time: not listed without --all
    every = CliRunner().invoke(app, ["query", "reporting", "2026-Q3", "--all", "-f", "csv"])
    assert every.stdout.count("\n") == 35  # header + 34 provinces


def test_scoreboard_table_is_labelled_in_vietnamese(calls: list[Any]) -> None:
    runner = CliRunner()
    national = runner.invoke(app, ["query", "scoreboard", "2026-10"])
    assert national.exit_code == 0, national.output
    text = national.stdout
    labels = [
        *("Bộ chỉ số 766", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa"),
        *("Tổng điểm: 73.6 / 100", "Bình quân điểm các tỉnh: 70.25"),
        *("Xếp hạng các tỉnh, thành phố", "Hồ Chí Minh", "p1. Hồ sơ giải quyết"),
    ]
    for label in labels:
        assert label in text, label
    assert "o1_full_online (Hồ sơ trực tuyến toàn trình): no data" in text
    assert calls[-1][2]["params"] == {"period": "2026-10"}
    one = runner.invoke(app, ["query", "scoreboard", "2026-10", "--province", "01"])
    assert "Xếp hạng: 2/3" in one.stdout
    assert calls[-1][2]["params"] == {"period": "2026-10", "province": "01"}


def test_scoreboard_as_csv_and_json(calls: list[Any]) -> None:
    runner = CliRunner()
    csv = runner.invoke(app, ["query", "scoreboard", "2026-10", "-f", "csv"])
    assert csv.stdout.splitlines() == [
        "period,province,group,code,name,numerator,denominator,rate,points,max",
        "2026-10,,progress,p1_resolved_on_time,Hồ sơ giải quyết trước và đúng hạn,"
        "7,8,87.5,17.5,20.0",
        "2026-10,,online,o1_full_online,Hồ sơ trực tuyến toàn trình,0,0,,,12.0",
    ]
    body = orjson.loads(
        runner.invoke(app, ["query", "scoreboard", "2026-10", "--format", "json"]).stdout
    )
    assert body["total"] == 73.6


def test_live_answers_say_from_when_they_are_complete(calls: list[Any]) -> None:
    runner = CliRunner()
    index = runner.invoke(app, ["query", "service-index", "2026-10-15", "--province", "01"])
    assert index.exit_code == 0, index.output
    # 02:47:21 UTC is 09:47:21 in Vietnam; a footer line, not a row of the table
    footer = "figures as of: 2026-11-30 09:47:21 Vietnam time"
    assert index.stdout.rstrip().splitlines()[-1].startswith(footer)
    assert "│ as_of" not in index.stdout
    groups = runner.invoke(
        app, ["query", "service-index", "2026-10-15", "--province", "01", "--group-by", "procedure"]
    )
    assert groups.stdout.rstrip().splitlines()[-1].startswith(footer)
    never = runner.invoke(app, ["query", "service-index", "2026-10-15", "--province", "79"])
    assert "figures as of: not folded yet" in never.stdout
    board = runner.invoke(app, ["query", "scoreboard", "2026-10"])
    last = board.stdout.rstrip().splitlines()[-1]
    assert last == "Số liệu tính đến: 2026-11-30 09:47:21 (giờ Việt Nam)"
    csv = runner.invoke(
        app, ["query", "service-index", "2026-10-15", "--province", "01", "-f", "csv"]
    )
    assert csv.stdout.splitlines()[0].endswith(",as_of")
