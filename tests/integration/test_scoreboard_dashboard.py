"""The Grafana dashboard "Bộ chỉ số 766" on a real chDB: its SQL, with Grafana's variables and
macros filled in, gives the figures GET /v1/scoreboard gives, on the hand-computed stories."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.fetch.scoreboard import dashboard_sql
from fastapi.testclient import TestClient

from tests.integration.test_scoreboard import (
    Feed,
    clean,  # noqa: F401 (fixture)
    hanoi_october,
    http,  # noqa: F401 (fixture)
    score,
    two_resolved,
)

pytestmark = pytest.mark.connected

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards/cchc-scoreboard.json"


def panels() -> dict[str, dict[str, Any]]:
    board = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    by_id = {p["id"]: p for p in board["panels"]}
    return {"ranking": by_id[2], "groups": by_id[3], "trend": by_id[5], "board": board}


def grafana(sql: str, month: str = "2026-10") -> str:
    """What Grafana's ClickHouse plugin sends: ${month} and the time range filled in."""
    sql = sql.replace("${month}", month)
    sql = sql.replace("$__fromTime", "toDateTime('2026-08-01 00:00:00')")
    return sql.replace("$__toTime", "toDateTime('2026-11-29 00:00:00')")


def run(db: Store, sql: str) -> list[tuple[Any, ...]]:
    assert "$" not in grafana(sql), re.findall(r"\$\S+", grafana(sql))
    return db.query(grafana(sql), readonly=False)[1]


def test_the_checked_in_dashboard_is_the_generated_sql() -> None:
    p = panels()
    for key in ("ranking", "groups", "trend"):
        assert p[key]["targets"][0]["rawSql"] == dashboard_sql()[key], key
    assert p["board"]["title"] == "Bộ chỉ số 766"


def test_dashboard_figures_are_the_api_figures(http: TestClient, clean: Store) -> None:  # noqa: F811
    feed = Feed(clean)
    hanoi_october(feed)
    feed.batch(*two_resolved("79", 1, 1), *two_resolved("48", 1, 1), *two_resolved("92", 2, 0))
    api = score(http, period="2026-10")
    sql = dashboard_sql()
    ranking = run(clean, sql["ranking"])
    assert [(r[0], r[1], r[3]) for r in ranking] == [
        (p["rank"], p["province"], p["total"]) for p in api["provinces"]
    ]
    # 48 and 79 tie (1 of 2 on time each): one rank, the next one skipped.
    assert [r[0] for r in ranking] == [1, 2, 3, 3]
    assert ranking[0][2] == "Hà Nội"
    one = score(http, period="2026-10", province="01")
    groups = {r[0]: r for r in run(clean, sql["groups"])}
    assert list(groups["01"][2:8]) == [g["points"] for g in one["groups"]]
    assert groups["01"][8] == one["total"] == 73.6
    # 79 has no procedure, payment or feedback data: those groups are empty, as in the API.
    api79 = score(http, period="2026-10", province="79")
    assert list(groups["79"][2:8]) == [g["points"] for g in api79["groups"]]
    # The trend: each month's totals per province, as the month's API answer. September has
    # P1's publication (on time, complete): t2 4 + t3 4 = 8.
    trend = {(r[0].strftime("%Y-%m"), r[1]): r[2] for r in run(clean, sql["trend"])}
    september = score(http, period="2026-09")
    assert trend == {
        **{("2026-09", p["province"]): p["total"] for p in september["provinces"]},
        **{("2026-10", p["province"]): p["total"] for p in api["provinces"]},
    }
    assert trend[("2026-09", "01")] == 8.0
