# ruff: noqa: E501  (a table of messages: one line each reads better than split strings)
"""The console's words and numbers, Vietnamese first (docs/console.md "Language").

Vietnamese writes "1.972" and "10,09 %"; English "1,972" and "10.09%". Babel formats both (its
CLDR data, not hand-written separators). Every string a page shows is a key of ``MESSAGES``; a
test checks that both languages have the same keys. The rules' notes are rendered from their
codes by :mod:`.notes`.
"""

from __future__ import annotations

from typing import Literal

from babel.numbers import format_decimal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
LOCALES = {"vi": "vi_VN", "en": "en_GB"}

# Vega-Lite (d3-format) separators for the charts; d3 ships no Vietnamese locale.
D3_LOCALES: dict[str, dict[str, object]] = {
    "vi": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", ""]},
}

MESSAGES: dict[str, dict[Lang, str]] = {
    "app": {"vi": "Cải cách hành chính — số liệu", "en": "Administrative reform — figures"},
    "skip": {"vi": "Bỏ qua, tới nội dung", "en": "Skip to content"},
    "nav": {"vi": "Trang", "en": "Pages"},
    "language": {"vi": "English", "en": "Tiếng Việt"},
    "signed_in_as": {"vi": "Đăng nhập: {name} ({role})", "en": "Signed in: {name} ({role})"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "token": {"vi": "Mã truy cập (token)", "en": "Access token"},
    "token_help": {
        "vi": "Token của vai trò analyst hoặc operator (var/secrets/analyst.token khi chạy "
        "cchc up, hoặc cchc token create).",
        "en": "An analyst or operator token (var/secrets/analyst.token under cchc up, or "
        "cchc token create).",
    },
    "bad_token": {
        "vi": "Token không hợp lệ hoặc đã bị thu hồi.",
        "en": "The token is not valid or was revoked.",
    },
    "province_token": {
        "vi": "Token của tỉnh không dùng được cho trang này: cần vai trò analyst hoặc operator.",
        "en": "A province token cannot sign in here: an analyst or operator token is needed.",
    },
    "bad_form": {
        "vi": "Biểu mẫu đã hết hạn, vui lòng thử lại.",
        "en": "The form expired, please try again.",
    },
    "forbidden": {
        "vi": "Vai trò của bạn không được xem trang này.",
        "en": "Your role may not see this page.",
    },
    "indicator": {"vi": "Chỉ số", "en": "Indicator"},
    "period": {"vi": "Kỳ", "en": "Period"},
    "boundary": {"vi": "Địa giới", "en": "Boundary"},
    "boundary_current": {"vi": "34 tỉnh, thành phố (từ 2025)", "en": "34 provinces (2025)"},
    "boundary_historical": {
        "vi": "Đơn vị thời kỳ đó (63 trước 7/2025)",
        "en": "Units of the time (63 before 7/2025)",
    },
    "show": {"vi": "Xem", "en": "Show"},
    "national_figure": {"vi": "Số liệu toàn quốc", "en": "National figure"},
    "completeness": {
        "vi": "{reported}/{expected} tỉnh báo cáo",
        "en": "{reported}/{expected} provinces reported",
    },
    "no_value": {"vi": "chưa có số liệu", "en": "no figure"},
    "aggregation": {"vi": "Cách tổng hợp", "en": "Aggregation"},
    "agg_sum": {"vi": "cộng các tỉnh", "en": "sum of provinces"},
    "agg_ratio": {"vi": "tỷ lệ Σtử số/Σmẫu số", "en": "ratio Σnumerators/Σdenominators"},
    "agg_mean": {"vi": "trung bình các tỉnh", "en": "mean of provinces"},
    "notes": {"vi": "Ghi chú", "en": "Notes"},
    "trend": {"vi": "Diễn biến qua các kỳ", "en": "Trend over periods"},
    "trend_chart": {
        "vi": "Biểu đồ: {indicator} qua các kỳ",
        "en": "Chart: {indicator} over periods",
    },
    "value": {"vi": "Giá trị", "en": "Value"},
    "reported": {"vi": "Tỉnh báo cáo", "en": "Provinces reported"},
    "expected": {"vi": "Tỉnh phải báo cáo", "en": "Provinces expected"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "rank": {"vi": "Hạng", "en": "Rank"},
    "code": {"vi": "Mã", "en": "Code"},
    "province": {"vi": "Tỉnh, thành phố", "en": "Province"},
    "ranking": {"vi": "Xếp hạng", "en": "Ranking"},
    "best_first_high": {
        "vi": "Cao hơn là tốt hơn: xếp từ cao xuống thấp.",
        "en": "Higher is better: highest first.",
    },
    "best_first_low": {
        "vi": "Thấp hơn là tốt hơn: xếp từ thấp lên cao.",
        "en": "Lower is better: lowest first.",
    },
    "map": {"vi": "Bản đồ ô", "en": "Tile map"},
    "map_caption": {
        "vi": "Mỗi ô là một tỉnh, đặt gần vị trí địa lý; màu đậm hơn là giá trị cao hơn, ô xám: chưa báo cáo.",
        "en": "One tile per province, placed near where it lies; darker is higher, grey: not reported.",
    },
    "map_caption_historical": {
        "vi": "Mỗi ô là một đơn vị thời kỳ đó, xếp theo mã (từ bắc vào nam); màu đậm hơn là giá trị cao hơn, ô xám: chưa báo cáo.",
        "en": "One tile per unit of the time, in code order (north to south); darker is higher, grey: not reported.",
    },
    "not_reported": {"vi": "chưa báo cáo", "en": "not reported"},
    "download": {"vi": "Tải về", "en": "Download"},
    "download_csv": {"vi": "CSV", "en": "CSV"},
    "download_xlsx": {"vi": "Excel (XLSX)", "en": "Excel (XLSX)"},
    "no_data": {"vi": "Chưa có số liệu nào trong kho.", "en": "No figures stored yet."},
    "lag": {
        "vi": "Độ trễ theo khâu (số bản tin chưa xử lý)",
        "en": "Lag per stage (messages not yet processed)",
    },
    "stage": {"vi": "Khâu", "en": "Stage"},
    "messages": {"vi": "Bản tin", "en": "Messages"},
    "lag_unavailable": {
        "vi": "Không đo được độ trễ trong tiến trình này.",
        "en": "No lag monitor in this process.",
    },
    "dead_letters": {
        "vi": "Bản tin lỗi (dead letters) theo lý do và tỉnh",
        "en": "Dead letters by reason and province",
    },
    "reason": {"vi": "Lý do", "en": "Reason"},
    "count": {"vi": "Số lượng", "en": "Count"},
    "none": {"vi": "Không có.", "en": "None."},
    "last_events": {"vi": "Sự kiện gần nhất của mỗi tỉnh", "en": "Last event per province"},
    "last_report": {"vi": "Báo cáo chỉ số gần nhất", "en": "Last indicator report"},
    "last_dossier": {"vi": "Sự kiện hồ sơ gần nhất", "en": "Last dossier event"},
    "reports": {"vi": "Báo cáo chỉ số", "en": "Indicator reports"},
    "dossier_events": {"vi": "Sự kiện hồ sơ", "en": "Dossier events"},
    "times_utc": {"vi": "Giờ UTC.", "en": "Times in UTC."},
    # Bộ chỉ số 766
    "score_period": {
        "vi": "Kỳ (tháng, quý, 6 tháng, năm)",
        "en": "Period (month, quarter, half, year)",
    },
    "score_period_help": {
        "vi": "Ví dụ: 2025-08, 2025-Q3, 2025-H2, 2025.",
        "en": "For example: 2025-08, 2025-Q3, 2025-H2, 2025.",
    },
    "score_latest": {
        "vi": "Tháng gần nhất có số liệu: {month}.",
        "en": "Latest month with data: {month}.",
    },
    "as_of": {
        "vi": "Số liệu tính đến {time} (giờ Việt Nam).",
        "en": "Figures as of {time} (Vietnam time).",
    },
    "as_of_none": {
        "vi": "Số liệu chưa được tổng hợp lần nào: sự kiện mới chưa được tính.",
        "en": "Figures not folded yet: recent events are not counted.",
    },
    "whole_country": {"vi": "Toàn quốc", "en": "Whole country"},
    "points_word": {"vi": "điểm", "en": "points"},
    "max_available": {
        "vi": "Điểm tối đa của các tiêu chí có số liệu",
        "en": "Maximum of the criteria with data",
    },
    "province_mean": {"vi": "Điểm trung bình các tỉnh", "en": "Mean of the provinces' totals"},
    "ranked": {"vi": "Tỉnh được xếp hạng", "en": "Provinces ranked"},
    "rank_of": {"vi": "{rank}/{of}", "en": "{rank} of {of}"},
    "not_ranked": {"vi": "chưa xếp hạng (chưa có số liệu)", "en": "not ranked (no data)"},
    "avg_hours": {
        "vi": "Thời gian giải quyết trung bình (giờ)",
        "en": "Mean resolution time (hours)",
    },
    "score_map_caption": {
        "vi": "Mỗi ô là một tỉnh, đặt gần vị trí địa lý; màu đậm hơn là tổng điểm cao hơn, ô xám: chưa có số liệu.",
        "en": "One tile per province, placed near where it lies; darker is a higher total, grey: no data.",
    },
    "score_total": {"vi": "Tổng điểm", "en": "Total"},
    "no_score": {"vi": "chưa có", "en": "no data"},
    "score_groups": {"vi": "Nhóm chỉ số", "en": "Groups"},
    "score_group": {"vi": "Nhóm", "en": "Group"},
    "score_criteria": {"vi": "Tiêu chí", "en": "Criteria"},
    "criterion": {"vi": "Tiêu chí", "en": "Criterion"},
    "numerator": {"vi": "Tử số", "en": "Numerator"},
    "denominator": {"vi": "Mẫu số", "en": "Denominator"},
    "rate": {"vi": "Tỷ lệ", "en": "Rate"},
    "points": {"vi": "Điểm", "en": "Points"},
    "max": {"vi": "Tối đa", "en": "Maximum"},
    # Báo cáo
    "report_period": {
        "vi": "Kỳ báo cáo (quý, 6 tháng, năm)",
        "en": "Reporting period (quarter, half, year)",
    },
    "report_period_help": {
        "vi": "Ví dụ: 2025-Q3, 2025-H1, 2024. Gợi ý: các kỳ đã có số liệu.",
        "en": "For example: 2025-Q3, 2025-H1, 2024. Suggested: the periods with figures.",
    },
    "no_report_due": {
        "vi": "{period}: báo cáo định kỳ chỉ có theo quý (2025-Q3), 6 tháng (2025-H1) và năm (2025).",
        "en": "{period}: periodic reports are due for quarters (2025-Q3), halves (2025-H1) and years (2025).",
    },
    "reported_fully": {
        "vi": "{complete}/{expected} tỉnh đã báo cáo đầy đủ",
        "en": "{complete}/{expected} provinces reported in full",
    },
    "reporting_rate": {"vi": "Tỷ lệ báo cáo đầy đủ", "en": "Reporting rate"},
    "on_time_rate": {"vi": "Tỷ lệ đúng hạn", "en": "On-time rate"},
    "partial_missing": {"vi": "Một phần / chưa báo cáo", "en": "Partial / not reported"},
    "partial_missing_counts": {
        "vi": "{partial} một phần, {missing} chưa báo cáo",
        "en": "{partial} partial, {missing} not reported",
    },
    "deadline": {"vi": "Hạn nộp (giờ Việt Nam)", "en": "Deadline (Vietnam time)"},
    "data_window": {
        "vi": "Thời gian lấy số liệu (NĐ 09/2019)",
        "en": "Data window (Decree 09/2019)",
    },
    "required_indicators": {"vi": "Chỉ số phải báo cáo", "en": "Required indicators"},
    "reporting_table": {"vi": "Tình hình báo cáo của các tỉnh", "en": "Each province's report"},
    "status": {"vi": "Tình trạng", "en": "Status"},
    "on_time": {"vi": "Đúng hạn", "en": "On time"},
    "first_receipt": {"vi": "Nhận lần đầu (giờ Việt Nam)", "en": "First received (Vietnam time)"},
    "missing_indicators": {"vi": "Chỉ số còn thiếu", "en": "Missing indicators"},
    "all_missing": {"vi": "cả {n} chỉ số", "en": "all {n} indicators"},
    "status_complete": {"vi": "đầy đủ", "en": "complete"},
    "status_partial": {"vi": "một phần", "en": "partial"},
    "status_missing": {"vi": "chưa báo cáo", "en": "not reported"},
    "yes": {"vi": "có", "en": "yes"},
    "no": {"vi": "không", "en": "no"},
    "quality_table": {"vi": "Chất lượng số liệu của kỳ", "en": "Data quality of the period"},
    "finding_kind": {"vi": "Loại", "en": "Kind"},
    "finding_about": {"vi": "Quy tắc / chỉ số", "en": "Rule / indicator"},
    "detail": {"vi": "Chi tiết", "en": "Detail"},
    "finding_rule": {"vi": "vi phạm quy tắc", "en": "broken rule"},
    "finding_outlier": {"vi": "giá trị bất thường", "en": "outlier"},
}


UNITS: dict[str, dict[Lang, str]] = {
    "procedure": {"vi": "thủ tục", "en": "procedures"},
    "person": {"vi": "người", "en": "people"},
    "dossier": {"vi": "hồ sơ", "en": "dossiers"},
    "service": {"vi": "dịch vụ", "en": "services"},
    "unit": {"vi": "đơn vị", "en": "units"},
    "VND": {"vi": "đồng", "en": "VND"},
    "point": {"vi": "điểm", "en": "points"},
    "score": {"vi": "điểm", "en": "score"},
    "percent": {"vi": "%", "en": "%"},
}
"""The catalogue's canonical units in words."""


def unit_name(unit: str, lang: Lang) -> str:
    """The canonical ``unit`` as people of ``lang`` say it ("thủ tục"), or the code itself."""
    return UNITS.get(unit, {}).get(lang, unit)


def text(key: str, lang: Lang, **values: object) -> str:
    """The message ``key`` in ``lang``, with ``{name}`` fields filled in."""
    message = MESSAGES[key][lang]
    return message.format(**values) if values else message


def number(value: float | None, lang: Lang, unit: str = "") -> str:
    """``value`` as people of ``lang`` write it: "1.972", "10,09 %" (vi); "1,972", "10.09%" (en).

    At most two decimals; percent (unit ``percent`` or ``%``) gets its sign.
    """
    if value is None:
        return "—"
    formatted = format_decimal(value, format="#,##0.##", locale=LOCALES[lang])
    if unit in ("percent", "%"):
        return f"{formatted}\u00a0%" if lang == "vi" else f"{formatted}%"
    return formatted


def pick_lang(query: str | None, cookie: str | None) -> Lang:
    """The page's language: ``?lang=`` first, then the cookie, Vietnamese by default."""
    for candidate in (query, cookie):
        if candidate == "en":
            return "en"
        if candidate == "vi":
            return "vi"
    return "vi"
