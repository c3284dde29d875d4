"""The console's pure parts: words in both languages, Vietnamese numbers, the files a table
downloads as, the tile map's places, and the route table the pages make."""

from __future__ import annotations

import csv
import io

from cchc_aggregate.query import console
from cchc_aggregate.query.access import ROLES
from cchc_aggregate.query.console import charts, export
from cchc_aggregate.query.console.i18n import MESSAGES, number, pick_lang
from cchc_aggregate.query.console.page import Column, Table
from cchc_aggregate.query.console.pages import PAGES
from cchc_runtime.tokens import Role
from cchc_shared.provinces import Era, default_registry
from openpyxl import load_workbook


def test_every_message_is_in_both_languages() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == {"vi", "en"}, key
        assert all(t.strip() for t in texts.values()), key


def test_numbers_as_vietnamese_and_english_write_them() -> None:
    assert number(1972, "vi") == "1.972"
    assert number(1972, "en") == "1,972"
    assert number(10.09, "vi", "percent") == "10,09\u00a0%"
    assert number(10.09, "en", "percent") == "10.09%"
    assert number(3356.0, "vi") == "3.356"
    assert number(None, "vi") == "—"
    assert pick_lang(None, None) == "vi"
    assert pick_lang("en", "vi") == "en"
    assert pick_lang(None, "en") == "en"
    assert pick_lang("fr", None) == "vi"


TABLE = Table(
    "xep-hang",
    "Xếp hạng",
    [Column("rank", numeric=True), Column("province"), Column("value", numeric=True)],
    [[1, "Lai Châu", 596.0], [None, "Hà Nội", None], [2, "Sơn La", 10.09]],
)


def test_csv_is_utf8_with_a_bom_and_plain_numbers() -> None:
    data = export.to_csv(TABLE, "vi")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["Hạng", "Tỉnh, thành phố", "Giá trị"],
        ["1", "Lai Châu", "596"],
        ["", "Hà Nội", ""],
        ["2", "Sơn La", "10.09"],
    ]
    assert export.to_csv(TABLE, "en").decode("utf-8-sig").startswith("Rank,Province,Value")


def test_xlsx_keeps_numbers_as_numbers() -> None:
    sheet = load_workbook(io.BytesIO(export.to_xlsx(TABLE, "vi"))).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1] == [1, "Lai Châu", 596]
    assert values[3] == [2, "Sơn La", 10.09]
    assert sheet["C2"].number_format == "#,##0.##"


def test_the_tile_map_places_every_2025_province_once() -> None:
    codes = [u.code for u in default_registry().units(Era.POST_2025)]
    assert set(charts.TILES_2025) == set(codes)
    assert len(set(charts.TILES_2025.values())) == 34  # no two on one tile
    historical = [u.code for u in default_registry().units(Era.PRE_2025)]
    places = charts.tile_positions(historical)
    assert len(set(places.values())) == 63


def test_the_tile_map_is_an_svg_with_every_name() -> None:
    svg = charts.tile_map(
        [("12", "Lai Châu", 596.0), ("01", "Hà Nội", None)], "staff.cut", True, "vi", "chưa báo cáo"
    )
    assert svg.startswith("<svg")
    assert "Lai Châu" in svg
    assert "chưa báo cáo" in svg


def test_every_page_and_its_download_has_the_page_role_in_the_access_table() -> None:
    for page in PAGES:
        assert ROLES[page.path] is page.role
        assert ROLES[page.download_path] is page.role
    assert ROLES["/"] is Role.ANALYST
    assert not {p for p in console.OPEN_PATHS if p in ROLES}
    assert console.cookie_auth().paths == frozenset(console.roles())
    assert not any(p.startswith("/v1") for p in console.cookie_auth().paths)


def test_every_catalogue_unit_has_a_name_in_both_languages() -> None:
    from cchc_aggregate.query.console.i18n import UNITS, unit_name
    from cchc_shared.catalogue import default_catalogue

    for indicator in default_catalogue().all():
        assert indicator.unit in UNITS, indicator.unit
    assert unit_name("procedure", "vi") == "thủ tục"
    assert unit_name("person", "en") == "people"
