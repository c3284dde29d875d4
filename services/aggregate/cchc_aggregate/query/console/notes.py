# ruff: noqa: E501  (a table of messages: one line each reads better than split strings)
"""The rules' notes in the page's language (docs/console.md "Language").

A note is a :class:`~cchc_aggregate.query.rules.notes.Note`: a stable code and parameters whose
English text is the API's. The console renders it from its code: in English as the API says it,
in Vietnamese from :data:`VI` — one template per code, with the same fields as the English one
(tests/unit/aggregate/query/test_note_codes.py), numbers as Vietnamese write them ("2.036",
"10,5"). The words are the console's and docs/analysts.md's: *đơn vị* for a province or an old
unit, *tỉnh cũ* / "15 Yên Bái cũ" for the units merged on 1/7/2025, *sơ bộ* and *ước tính* for
provisional and estimated reports, *cấp tỉnh, cấp huyện, cấp xã* for the tiers.
"""

from __future__ import annotations

import re

from babel.numbers import format_decimal

from cchc_aggregate.query.console.i18n import LOCALES, Lang
from cchc_aggregate.query.rules.notes import Note

__all__ = ["VI", "note_text", "vietnamese_number"]

VI: dict[str, str] = {
    # --- national figures and rankings ------------------------------------------------------
    "national.score_not_rebased": '{indicator} là điểm số: điểm số không quy đổi được sang 34 tỉnh, thành phố từ năm 2025, nên kỳ {period} được tính trên 63 tỉnh, thành phố như thời kỳ đó (docs/domain.md, mục "Provinces and the 2025 merger")',
    "national.incomplete": "chưa đủ kỳ: {count} đơn vị chỉ báo cáo một phần kỳ {period} nên không được tính, vì số liệu cộng dồn theo thời gian chỉ cộng được qua các kỳ phủ kín cả kỳ: {units:; }",
    "national.derived_sum": "kỳ {period} được suy ra (cộng các kỳ ngắn hơn) cho {count} đơn vị: {units:; }",
    "national.derived_last": "kỳ {period} được suy ra (báo cáo gần nhất trong kỳ) cho {count} đơn vị: {units:; }",
    "national.derived_ratio": "kỳ {period} được suy ra (tử số, mẫu số suy ra từ các kỳ ngắn hơn) cho {count} đơn vị: {units:; }",
    "national.ytd_not_used": "không dùng các báo cáo lũy kế từ đầu năm nằm trong kỳ: số lũy kế không cộng được với số liệu của các kỳ khác",
    "national.percent_left_out": "tỷ lệ tính có trọng số trên {weighted} đơn vị báo cáo tử số và mẫu số; {count} đơn vị chỉ báo cáo tỷ lệ phần trăm, không tính trọng số được nên không được tính: {units}",
    "national.unweighted_mean": 'trung bình không trọng số của tỷ lệ phần trăm do {count} đơn vị báo cáo: không đơn vị nào báo cáo tử số và mẫu số nên không tính được tỷ lệ có trọng số (docs/domain.md, mục "How indicators aggregate")',
    "national.partly_reported": "tỉnh, thành phố (từ 1/7/2025) còn thiếu số liệu của tỉnh cũ (một số tỉnh cũ hợp nhất vào ngày 1/7/2025 chưa báo cáo, nên phần của các tỉnh này không có trong giá trị): {provinces:; }",
    "national.tiers": "{count} đơn vị không có số liệu toàn tỉnh, nên tổng số liệu theo từng cấp được dùng thay: {units}",
    "national.over_100": "tỷ lệ trên 100 % ở {count} đơn vị: tử số lớn hơn mẫu số, điều không thể đúng (vi phạm một quy tắc kiểm tra; xem /v1/quality): {units}.",
    "national.over_100_national": "tỷ lệ trên 100 % ở {count} đơn vị: tử số lớn hơn mẫu số, điều không thể đúng (vi phạm một quy tắc kiểm tra; xem /v1/quality): {units}. Vì các đơn vị này, giá trị toàn quốc cũng trên 100 %.",
    "national.not_final": "chưa chính thức: số liệu của một số đơn vị dùng báo cáo sơ bộ hoặc ước tính: {statuses:; }",
    "national.rule_findings": "{count} số liệu đầu vào vi phạm quy tắc kiểm tra (vẫn giữ, không bị loại; xem /v1/quality): {findings:; }",
    "national.outlier_findings": "{count} số liệu đầu vào bất thường so với chuỗi số liệu của chính đơn vị (vẫn giữ; xem /v1/quality): {findings:; }",
    "national.rank_only": "{count} đơn vị chỉ báo cáo thứ hạng — không phải điểm số — nên không được tính vào {aggregation}: {units}",
    "national.rank_only_ranking": "{count} đơn vị chỉ báo cáo thứ hạng: hiển thị đúng thứ hạng đã báo cáo (reported_rank), không xếp hạng cùng các điểm số: {units}",
    "national.no_value": "chưa đơn vị nào báo cáo {indicator} cho kỳ {period}",
    "national.no_value_rank_only": "chưa đơn vị nào báo cáo giá trị {indicator} cho kỳ {period}",
    # --- reporting --------------------------------------------------------------------------
    "reporting.straddles_merger": "kỳ {period} có thời điểm hợp nhất 1/7/2025: báo cáo của kỳ do {expected} tỉnh, thành phố tồn tại vào hạn nộp thực hiện; báo cáo cuối cùng của các tỉnh cũ là báo cáo của các kỳ kết thúc đến 30/6/2025",
    # --- Bộ chỉ số 766 ----------------------------------------------------------------------
    "scoreboard.no_data": "{criterion} ({name}): không có số liệu trong kỳ {period} (mẫu số bằng 0) — tỷ lệ và điểm để trống, không tính vào tổng điểm và điểm tối đa của các tiêu chí có số liệu",
    "scoreboard.pooled": "số liệu toàn quốc gộp số đếm của mọi tỉnh (Σ tử số ÷ Σ mẫu số): tổng điểm {total}; điểm trung bình các tỉnh {mean} là trung bình tổng điểm riêng của {count} tỉnh, một con số khác",
    "scoreboard.assumed_maxima": 'điểm tối đa của {criteria} là giả định của dự án này (docs/analysts.md, mục "Bộ chỉ số 766")',
    # --- targets ----------------------------------------------------------------------------
    "targets.qualitative": "mục tiêu định tính: thang đo của mục tiêu không có trong dữ liệu nên không đo được",
    "targets.no_figure": "chưa có số liệu {indicator} cho kỳ {period}",
    "targets.not_a_unit": "{unit} không phải đơn vị trong câu trả lời cho kỳ {period} (do hợp nhất năm 2025)",
    "targets.not_final": "số liệu chưa chính thức: {statuses}",
    # --- data-quality findings --------------------------------------------------------------
    "quality.rule_broken": "{left_side: + } ≤ {right_side: + } không thỏa mãn: {left} > {right}",
    "quality.outlier": "{indicator} = {value}, so với trung vị {median} của {history} giá trị theo {period_type} trước đó (MAD {mad}): z-score hiệu chỉnh {score:.2f}, vượt ngưỡng ±{threshold}",
    # --- parts of notes ---------------------------------------------------------------------
    "part.unit_periods": "{unit} ({periods})",
    "part.unit_percent": "{unit} ({value}\u00a0%)",
    "part.unit_tiers": "{unit} ({tiers: + })",
    "part.unit_of": "{unit} ({numerator} trên {denominator})",
    "part.unit_rank": "{unit} hạng {rank}",
    "part.unit_finding": "{unit} kỳ {period}: {detail}",
    "part.old_unit": "{unit} cũ",
    "part.province_lacks": "{province} thiếu số liệu của {units}",
    "part.province_lacks_in": "{province} thiếu số liệu của {gaps:; }",
    "part.units_in_period": "{units} kỳ {period}",
    "part.units_provisional": "{count} đơn vị sơ bộ ({units})",
    "part.units_estimated": "{count} đơn vị ước tính ({units})",
    "part.status.provisional": "sơ bộ",
    "part.status.estimated": "ước tính",
    "part.tier.province": "cấp tỉnh",
    "part.tier.district": "cấp huyện",
    "part.tier.commune": "cấp xã",
    "part.aggregation.sum": "tổng",
    "part.aggregation.ratio": "tỷ lệ",
    "part.aggregation.mean": "trung bình",
    "part.period_type.day": "ngày",
    "part.period_type.month": "tháng",
    "part.period_type.quarter": "quý",
    "part.period_type.half": "6 tháng",
    "part.period_type.ytd": "lũy kế",
    "part.period_type.year": "năm",
    "part.period_type.phase": "giai đoạn",
}
"""Every note code's Vietnamese template (same fields as ``rules.notes.TEMPLATES``)."""

_FIXED = re.compile(r"\.(\d+)f$")


def vietnamese_number(value: float, spec: str) -> str:
    """A note's number as Vietnamese write it: "2.036", "10,5", "3,5"; a spec ``.Nf`` keeps N
    decimals ("4,21"), any other shows up to six (Babel's CLDR data)."""
    fixed = _FIXED.search(spec)
    if fixed:
        pattern = "#,##0." + "0" * int(fixed.group(1)) if int(fixed.group(1)) else "#,##0"
    else:
        pattern = "#,##0.######"
    return format_decimal(value, format=pattern, locale=LOCALES["vi"])


def note_text(note: str, lang: Lang) -> str:
    """``note`` in ``lang``: the API's English text, or its code's Vietnamese template."""
    if lang == "en" or not isinstance(note, Note):
        return str(note)
    return note.render(VI, vietnamese_number)
