"""The scoreboard and reporting pages' pure parts, and their build functions on a fake store
(the SQL is the API's own, tested on real ClickHouse by the browser tests)."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from cchc_aggregate.query import console
from cchc_aggregate.query.console import data
from cchc_aggregate.query.console.i18n import text
from cchc_aggregate.query.console.page import Context
from cchc_aggregate.query.console.pages import reporting as reporting_page
from cchc_aggregate.query.console.pages import scoreboard as scoreboard_page
from cchc_aggregate.query.fetch.national import REPORTS_SQL, tier_rows
from cchc_aggregate.query.fetch.quality import EARLIER_SQL, PERIOD_SQL
from cchc_aggregate.query.fetch.reporting import RECEIPTS_SQL
from cchc_aggregate.query.fetch.scoreboard import monthly_sql, scoreboard_sql
from cchc_aggregate.query.rules import reporting
from cchc_aggregate.query.rules.national import national, province_wide
from cchc_aggregate.query.rules.scoreboard import ScoringTable, build_scoreboard
from cchc_runtime.auth import protect
from cchc_runtime.tokens import Role, TokenStore
from cchc_shared.catalogue import default_catalogue
from cchc_shared.periods import parse_period
from cchc_shared.provinces import default_registry
from fastapi import FastAPI
from fastapi.testclient import TestClient

CATALOGUE = default_catalogue()


class FakeStore:
    """Answers each known query with canned rows; any other query fails the test."""

    def __init__(self, answers: dict[str, list[tuple[Any, ...]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def query(self, sql: str, parameters: Any = None, **_: Any) -> tuple[list[str], list[Any]]:
        self.asked.append(sql)
        assert sql in self.answers, sql[:200]
        return [], self.answers[sql]


def _ctx(store: FakeStore, **params: str) -> Context:
    return Context(
        params,
        "vi",
        Role.ANALYST,
        store,  # type: ignore[arg-type]
        None,
        default_catalogue(),
        default_registry(),
    )


def test_the_scoreboard_period_box_suggests_the_year_up_to_the_latest_month() -> None:
    assert scoreboard_page.month_of(dt.date(2025, 8, 4)) == "2025-08"
    choices = scoreboard_page.period_choices(dt.date(2025, 8, 4))
    assert choices[:2] == ["2025-08", "2025-07"]
    assert "2025-09" not in choices
    assert [c for c in choices if "Q" in c] == ["2025-Q3", "2025-Q2", "2025-Q1"]
    assert [c for c in choices if "H" in c] == ["2025-H2", "2025-H1"]
    assert choices[-1] == "2025"


COUNTERS = {"15": {"received": 4, "r_synced": 3, "resolved": 2, "res_electronic": 1}}


def test_group_rows_flatten_groups_and_criteria() -> None:
    board = build_scoreboard(ScoringTable.load(), "2025-08", COUNTERS, {"15": "Lào Cai"}, "15")
    summary, criteria = scoreboard_page.group_rows(board.groups)
    assert len(summary) == len(board.groups)
    assert len(criteria) == sum(len(g.criteria) for g in board.groups)
    synced = next(r for r in criteria if r[1] == "t4_dossiers_synced")
    assert synced[3:6] == [3, 4, 75.0]  # numerator, denominator, rate
    unscored = next(r for r in criteria if r[1] == "s1_feedback_on_time")
    assert unscored[5:7] == [None, None]


def _score_store(day: dt.date | None) -> FakeStore:
    rows = [("", "15", name, value) for name, value in COUNTERS["15"].items()]
    return FakeStore(
        {
            data.LATEST_SCORE_DAY_SQL: [(day or dt.date(1970, 1, 1),)],
            scoreboard_sql(False): rows,
            monthly_sql(False): [("15", COUNTERS["15"])],
        }
    )


def test_the_scoreboard_page_defaults_to_the_latest_month_and_ranks_the_provinces() -> None:
    view = scoreboard_page.build(_ctx(_score_store(dt.date(2025, 8, 8))))
    assert view.values["period"] == "2025-08"
    board = view.values["board"]
    assert board.period == "2025-08"
    assert board.provinces[0].name == "Lào Cai"
    ranking = view.table("xep-hang")
    assert ranking is not None
    assert ranking.rows == [[1, "15", "Lào Cai", board.total]]
    assert "Lào Cai" in view.values["tile_map"]
    assert {t.name for t in view.tables} == {"xep-hang", "nhom", "tieu-chi"}


def test_the_scoreboard_page_of_one_province_has_its_rank_and_no_ranking_table() -> None:
    view = scoreboard_page.build(_ctx(_score_store(None), period="2025-Q3", province="15"))
    board = view.values["board"]
    assert (board.province, board.rank, board.rank_of) == ("15", 1, 1)
    assert view.table("xep-hang") is None
    assert view.table("tieu-chi") is not None


def test_the_scoreboard_page_says_from_when_its_figures_are_complete() -> None:
    as_of = dt.datetime(2026, 11, 30, 2, 47, 21, 19000, tzinfo=dt.UTC)
    ctx = replace(_ctx(_score_store(dt.date(2025, 8, 8))), as_of=lambda: as_of)
    view = scoreboard_page.build(ctx)
    assert view.values["as_of_text"] == "Số liệu tính đến 09:47:21 30/11/2026 (giờ Việt Nam)."
    english = scoreboard_page.build(replace(ctx, lang="en"))
    assert english.values["as_of_text"] == "Figures as of 09:47:21 30/11/2026 (Vietnam time)."
    never = scoreboard_page.build(replace(ctx, as_of=lambda: None))
    assert never.values["as_of_text"].startswith("Số liệu chưa được tổng hợp")


def test_the_scoreboard_page_says_what_is_wrong_with_a_period() -> None:
    view = scoreboard_page.build(_ctx(_score_store(None), period="2025-10-05"))
    assert view.values["board"] is None
    assert "month, quarter" in view.values["error"]
    assert view.tables == []
    view = scoreboard_page.build(_ctx(_score_store(None), province="99"))
    assert "34 current provinces" in view.values["error"]


def _stored(period: str, end: dt.date) -> data.Stored:
    return data.Stored("procedures.in_force", period, 1, end)


def test_reporting_defaults_to_the_latest_stored_quarter_half_or_year() -> None:
    stored = [
        _stored("2016/2020", dt.date(2020, 12, 31)),
        _stored("2017-Q1", dt.date(2017, 3, 31)),
        _stored("2022", dt.date(2022, 12, 31)),
        _stored("2023-05", dt.date(2023, 5, 31)),
    ]
    assert reporting_page.default_period(stored, dt.date(2026, 1, 5)) == "2022"
    assert reporting_page.period_choices(stored) == ["2022", "2017-Q1"]
    assert reporting_page.default_period([], dt.date(2026, 1, 5)) == "2025-Q4"
    assert reporting_page.default_period([], dt.date(2026, 8, 5)) == "2026-Q2"


def test_reporting_rows_in_words_and_vietnam_time() -> None:
    assert reporting_page.when(dt.datetime(2025, 9, 20, 17, 0, tzinfo=dt.UTC)) == (
        "21/09/2025 00:00"
    )
    assert reporting_page.when(None) is None
    calendar = reporting.default_calendar(default_catalogue())
    period = parse_period("2025-Q3")
    due = calendar.due(period)
    assert due is not None
    at = dt.datetime(2025, 9, 1, 3, 0, tzinfo=dt.UTC)
    receipts = [reporting.Receipt("2025:15", due.indicators[0], at)]
    answer = reporting.reporting(period, calendar, receipts, default_registry())
    rows = reporting_page.province_rows(answer, lambda key, **kw: text(key, "vi", **kw))
    lao_cai = next(r for r in rows if r[0] == "15")
    assert lao_cai[1:5] == ["Lào Cai", "một phần", "không", "01/09/2025 10:00"]
    assert lao_cai[5] == ", ".join(due.indicators[1:])
    assert next(r for r in rows if r[0] == "01")[2:] == [
        "chưa báo cáo",
        "không",
        None,
        f"cả {len(due.indicators)} chỉ số",
    ]


def test_the_reporting_page_summarises_lists_and_checks_quality() -> None:
    calendar = reporting.default_calendar(default_catalogue())
    due = calendar.due(parse_period("2025-Q3"))
    assert due is not None
    at = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    store = FakeStore(
        {
            data.STORED_SQL: [("dossiers.received", "2025-Q3", 1, dt.date(2025, 9, 30))],
            RECEIPTS_SQL: [("2025:15", code, at) for code in due.indicators],
            PERIOD_SQL: [],
        }
    )
    view = reporting_page.build(_ctx(store))
    answer = view.values["answer"]
    assert (answer.period, answer.complete, answer.on_time, answer.expected) == (
        "2025-Q3",
        1,
        1,
        34,
    )
    table = view.table("tinh-hinh")
    assert table is not None
    assert len(table.rows) == 34
    assert table.rows[[r[0] for r in table.rows].index("15")][:4] == [
        "15",
        "Lào Cai",
        "đầy đủ",
        "có",
    ]
    quality = view.table("chat-luong")
    assert quality is not None
    assert quality.rows == []
    assert view.values["deadline"] == "23:59 20/09/2025"

    view = reporting_page.build(_ctx(store, period="2025-08"))
    assert view.values["answer"] is None
    assert "2025-08" in view.values["error"]


# --- the rules' notes on the pages, in the page's language (docs/console.md "Language") -------


def _pages(store: FakeStore, tmp_path: Path) -> tuple[TestClient, dict[str, str]]:
    """The console as the API serves it (same install and auth), on a fake store."""
    app = FastAPI()
    tokens = TokenStore(tmp_path / "tokens.json")
    secret = tokens.create("analyst", Role.ANALYST)
    console.install(app, store, None, tokens, as_of=lambda: None)  # type: ignore[arg-type]
    protect(
        app, tokens, console.roles(), open_paths=console.OPEN_PATHS, cookie=console.cookie_auth()
    )
    return TestClient(app), {"Authorization": f"Bearer {secret}"}


def _notes(page: str) -> list[str]:
    block = re.search(r'<ul class="notes">(.*?)</ul>', page, re.S)
    assert block is not None, "no notes on the page"
    return [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


# Lào Cai of 2025 = old Lào Cai (10) and old Yên Bái (15) until 30/6/2025, then the new province:
# old Yên Bái did not report 2025-H1, old Lào Cai's report is provisional.
def _report(period: str, unit_key: str, value: float, status: str) -> tuple[Any, ...]:
    """A row of REPORTS_SQL: a province-wide dossiers.received report of Lào Cai (15)."""
    return (
        "dossiers.received",
        period,
        unit_key,
        "15",
        value,
        None,
        None,
        status,
        None,
        None,
        "all",
    )


LAO_CAI_2025 = [
    _report("2025-H1", "2004:10", 100.0, "provisional"),
    _report("2025-H2", "2025:15", 400.0, "final"),
]


def test_the_overview_shows_the_notes_in_vietnamese_and_in_english(tmp_path: Path) -> None:
    store = FakeStore(
        {
            data.STORED_SQL: [
                ("dossiers.received", "2025-H1", 1, dt.date(2025, 6, 30)),
                ("dossiers.received", "2025-H2", 1, dt.date(2025, 12, 31)),
            ],
            REPORTS_SQL: LAO_CAI_2025,
        }
    )
    client, auth = _pages(store, tmp_path)
    page = client.get("/tong-quan?indicator=dossiers.received&period=2025", headers=auth)
    assert page.status_code == 200, page.text
    assert '<html lang="vi">' in page.text
    notes = _notes(page.text)
    assert len(notes) == 3
    derived, partly, not_final = notes
    assert (
        derived
        == "kỳ 2025 được suy ra (cộng các kỳ ngắn hơn) cho 1 đơn vị: 15 Lào Cai (2025-H1, 2025-H2)"
    )
    assert partly.startswith("tỉnh, thành phố (từ 1/7/2025) còn thiếu số liệu của tỉnh cũ")
    assert partly.endswith(": 15 Lào Cai thiếu số liệu của 15 Yên Bái cũ kỳ 2025-H1")
    assert not_final.endswith("báo cáo sơ bộ hoặc ước tính: 1 đơn vị sơ bộ (15 Lào Cai)")
    assert "lacks" not in page.text
    assert "provisional" not in page.text
    # The download's notes column is in the page's language too.
    csv_file = client.get(
        "/tong-quan/tai-ve?indicator=dossiers.received&period=2025&bang=tong-quan", headers=auth
    )
    assert "15 Yên Bái cũ kỳ 2025-H1" in csv_file.content.decode("utf-8-sig")

    # In English the notes are the API's own strings.
    figure = national(
        CATALOGUE.get("dossiers.received"),  # type: ignore[arg-type]
        parse_period("2025"),
        "current",
        province_wide(tier_rows(LAO_CAI_2025), CATALOGUE),
        CATALOGUE,
        default_registry(),
    )
    english = client.get("/tong-quan?indicator=dossiers.received&period=2025&lang=en", headers=auth)
    assert _notes(english.text) == list(figure.notes)
    assert "15 Lào Cai lacks old 15 Yên Bái for 2025-H1" in _notes(english.text)[1]


def test_the_reporting_page_shows_its_note_and_the_findings_in_vietnamese(tmp_path: Path) -> None:
    store = FakeStore(
        {
            data.STORED_SQL: [("online_services.total", "2025", 1, dt.date(2025, 12, 31))],
            RECEIPTS_SQL: [],
            PERIOD_SQL: [
                ("online_services.total", "2025", "2025:79", "79", 1000.0),
                ("online_services.integrated", "2025", "2025:79", "79", 1234.5),
            ],
            EARLIER_SQL: [],
        }
    )
    client, auth = _pages(store, tmp_path)
    page = client.get("/bao-cao?period=2025", headers=auth)
    assert page.status_code == 200, page.text
    assert _notes(page.text) == [
        "kỳ 2025 có thời điểm hợp nhất 1/7/2025: báo cáo của kỳ do 34 tỉnh, thành phố tồn tại "
        "vào hạn nộp thực hiện; báo cáo cuối cùng của các tỉnh cũ là báo cáo của các kỳ kết "
        "thúc đến 30/6/2025"
    ]
    assert (
        "online_services.integrated ≤ online_services.total không thỏa mãn: 1.234,5 &gt; 1.000"
        in page.text
    )
    english = client.get("/bao-cao?period=2025&lang=en", headers=auth)
    assert _notes(english.text)[0].startswith("2025 straddles the merger of 1/7/2025")
    assert "is broken: 1 234.5 &gt; 1 000" in english.text
