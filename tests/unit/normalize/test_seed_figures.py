"""Every figure of the seeds, written as the seed report writes it, to its canonical record.

The seeds and their figures: docs/domain.md "Figures in the seeds".

The figures are copied here as literals from the seed reports (real provincial news items); the
file each comes from is named in the comment above its rows. Province names are as in the seed,
including "Nam Ðịnh" with U+00D0 (eth) in seed 003; numbers are Vietnamese strings; units and
indicator names are the seed's own words. The expected record says which historical unit
reported the figure (``unit_key``) and which current (2025) province it belongs to.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from cchc_normalize.steps.canonicalize import Reference
from cchc_shared.dlq import Reason

from tests.unit.normalize.builders import accepted, rejected, report

NAM_DINH_WITH_ETH = "Nam \u00d0ịnh"  # seed 003 writes "Ð" (U+00D0), not "Đ" (U+0110)

PHASE_2016_2020 = ("phase", date(2016, 1, 1), date(2020, 12, 31))
YEAR_2022 = ("year", date(2022, 1, 1), date(2022, 12, 31))
Q1_2017 = ("quarter", date(2017, 1, 1), date(2017, 3, 31))

# (event fields as the seed writes them) -> (indicator, value, unit, (period type, start, end),
# unit_key, province)
# fmt: off
SEED_FIGURES: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
    # 000_6a37c0280b7a9c02.txt — Lào Cai (old 10), giai đoạn 2016 - 2020
    (
        "000 khối Nhà nước tinh giản được 3.356 biên chế",
        {"province": "Lào Cai", "indicator": "Biên chế khối Nhà nước tinh giản",
         "period": "2016/2020", "value": "3.356", "unit": "biên chế"},
        ("staff.cut", 3356, "person", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 đạt trên 10%",
        {"province": "Lào Cai", "indicator": "Tỷ lệ tinh giản biên chế", "period": "2016/2020",
         "value": "10", "unit": "%", "status": "estimated"},
        ("staff.cut_rate", 10, "percent", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 khối đảng, đoàn thể tinh giản và cắt giảm biên chế 117 người",
        {"province": "Lào Cai", "indicator": "Biên chế khối đảng, đoàn thể tinh giản",
         "period": "2016/2020", "value": "117", "unit": "người"},
        ("staff.party_cut", 117, "person", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 117 người đạt 10,09%",
        {"province": "Lào Cai", "indicator": "Tỷ lệ tinh giản biên chế khối đảng, đoàn thể",
         "period": "2016/2020", "value": "10,09", "unit": "%"},
        ("staff.party_cut_rate", 10.09, "percent", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 giao quyền tự chủ ... đối với 462 đơn vị sự nghiệp công lập",
        {"province": "Lào Cai", "indicator": "Đơn vị sự nghiệp được giao quyền tự chủ",
         "period": "2016/2020", "value": "462", "unit": "đơn vị"},
        ("psu.autonomous", 462, "unit", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 đạt gần 60% tổng số đơn vị sự nghiệp công lập",
        {"province": "Lào Cai", "indicator": "Tỷ lệ đơn vị sự nghiệp công lập tự chủ",
         "period": "2016/2020", "value": "60", "unit": "%", "status": "estimated"},
        ("psu.autonomy_rate", 60, "percent", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 trên 80% văn bản đã được ký số",
        {"province": "Lào Cai", "indicator": "Tỷ lệ văn bản được ký số", "period": "2016/2020",
         "value": "80", "unit": "%", "status": "estimated"},
        ("documents.signed_rate", 80, "percent", PHASE_2016_2020, "2004:10", "15"),
    ),
    (
        "000 trên 90% văn bản được thực hiện song song văn bản giấy và văn bản điện tử",
        {"province": "Lào Cai",
         "indicator": "Văn bản song song văn bản giấy và văn bản điện tử",
         "period": "2016/2020", "value": "90", "unit": "%", "status": "estimated"},
        ("documents.dual_format_rate", 90, "percent", PHASE_2016_2020, "2004:10", "15"),
    ),
    # 001_fa996cf87d49a12a.txt — Sơn La (14), quý I năm 2017
    (
        "001 đã đăng tải 1.502 TTHC",
        {"province": "Sơn La", "indicator": "Số TTHC đã đăng tải", "period": "2017-Q1",
         "value": "1.502", "unit": "TTHC"},
        ("procedures.published", 1502, "procedure", Q1_2017, "2004:14", "14"),
    ),
    (
        "001 đã giải quyết được 13.989 hồ sơ qua hệ thống phần mềm một cửa",
        {"province": "Sơn La", "indicator": "Hồ sơ đã giải quyết qua phần mềm một cửa",
         "period": "2017-Q1", "value": "13.989", "unit": "hồ sơ"},
        ("dossiers.resolved", 13989, "dossier", Q1_2017, "2004:14", "14"),
    ),
    # The quota decision of Q1 2017 gives the quotas of the years 2016 and 2017.
    (
        "001 giảm 40 biên chế từ 2.619 biên chế",
        {"province": "Sơn La", "indicator": "Biên chế công chức được giao", "period": "2016",
         "value": "2.619", "unit": "biên chế"},
        ("staff.quota", 2619, "person", ("year", date(2016, 1, 1), date(2016, 12, 31)),
         "2004:14", "14"),
    ),
    (
        "001 giảm xuống còn 2.579 biên chế",
        {"province": "Sơn La", "indicator": "Biên chế công chức được giao", "period": "2017",
         "value": "2.579", "unit": "biên chế"},
        ("staff.quota", 2579, "person", ("year", date(2017, 1, 1), date(2017, 12, 31)),
         "2004:14", "14"),
    ),
    (
        "001 giảm 40 biên chế",
        {"province": "Sơn La", "indicator": "Giảm biên chế", "period": "2017", "value": "40",
         "unit": "biên chế"},
        ("staff.cut", 40, "person", ("year", date(2017, 1, 1), date(2017, 12, 31)),
         "2004:14", "14"),
    ),
    # 002_49dd44de43a9d070.txt — Lào Cai (old 10), năm 2022
    (
        "002 3 cấp tỉnh, huyện, xã có tổng số 1.972 thủ tục hành chính",
        {"province": "Lào Cai", "indicator": "Thủ tục hành chính 3 cấp", "period": "2022",
         "value": "1.972", "unit": "thủ tục hành chính"},
        ("procedures.in_force", 1972, "procedure", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 929 thủ tục hành chính, cắt giảm ít nhất 30% thời gian giải quyết",
        {"province": "Lào Cai", "indicator": "TTHC được cắt giảm thời gian giải quyết",
         "period": "2022", "value": "929", "unit": "thủ tục hành chính"},
        ("procedures.time_cut", 929, "procedure", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 (đạt 47% thủ tục hành chính toàn tỉnh): 929 of 1.972 is 47,1 %",
        {"province": "Lào Cai", "indicator": "Tỷ lệ TTHC cắt giảm thời gian", "period": "2022",
         "value": "47", "unit": "%", "numerator": "929", "denominator": "1.972"},
        ("procedures.time_cut_rate", 47, "percent", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 cắt giảm thời gian với hơn 50.000 lượt hồ sơ",
        {"province": "Lào Cai", "indicator": "Lượt hồ sơ được cắt giảm thời gian",
         "period": "2022", "value": "50.000", "unit": "lượt hồ sơ", "status": "estimated"},
        ("dossiers.time_cut", 50000, "dossier", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 tiết kiệm cho người dân, doanh nghiệp khoảng 60 tỷ đồng",
        {"province": "Lào Cai", "indicator": "Tiết kiệm cho người dân, doanh nghiệp",
         "period": "2022", "value": "60", "unit": "tỷ đồng", "status": "estimated"},
        ("savings.cost", 60_000_000_000, "VND", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 tích hợp 1.374/1.761 dịch vụ công trực tuyến (the integrated ones)",
        {"province": "Lào Cai",
         "indicator": "Dịch vụ công trực tuyến tích hợp lên Cổng dịch vụ công quốc gia",
         "period": "2022", "value": "1.374", "unit": "dịch vụ công trực tuyến"},
        ("online_services.integrated", 1374, "service", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 1.374/1.761 dịch vụ công trực tuyến mức độ 3, mức độ 4 (all of them)",
        {"province": "Lào Cai", "indicator": "Dịch vụ công trực tuyến mức độ 3, mức độ 4",
         "period": "2022", "value": "1.761", "unit": "dịch vụ công trực tuyến"},
        ("online_services.total", 1761, "service", YEAR_2022, "2004:10", "15"),
    ),
    (
        "002 1.374/1.761 as a rate: 78,02 %",
        {"province": "Lào Cai", "indicator": "online_services.integration_rate",
         "period": "2022", "value": "78,02", "unit": "%", "numerator": "1.374",
         "denominator": "1.761"},
        ("online_services.integration_rate", 78.02, "percent", YEAR_2022, "2004:10", "15"),
    ),
    # A target, not a result ("quyết tâm hạ tỷ lệ ... dưới 2%"); read here as the seed writes it.
    (
        "002 hạ tỷ lệ giải quyết chậm, muộn hồ sơ ... dưới 2%",
        {"province": "Lào Cai", "indicator": "Tỷ lệ giải quyết chậm, muộn hồ sơ",
         "period": "2022", "value": "2", "unit": "%", "status": "estimated"},
        ("dossiers.late_rate", 2, "percent", YEAR_2022, "2004:10", "15"),
    ),
    # 003_73b73fd0b5adfec9.txt — Nam Ðịnh (old 36, now part of Ninh Bình 37), 2016 – 2020
    (
        "003 sửa đổi 719 thủ tục hành chính (TTHC)",
        {"province": NAM_DINH_WITH_ETH, "indicator": "Thủ tục hành chính sửa đổi",
         "period": "2016/2020", "value": "719", "unit": "TTHC"},
        ("procedures.amended", 719, "procedure", PHASE_2016_2020, "2004:36", "37"),
    ),
    (
        "003 bãi bỏ 2.036 TTHC",
        {"province": NAM_DINH_WITH_ETH, "indicator": "Số TTHC bãi bỏ", "period": "2016/2020",
         "value": "2.036", "unit": "TTHC"},
        ("procedures.abolished", 2036, "procedure", PHASE_2016_2020, "2004:36", "37"),
    ),
    # 004_421f44de57733f7b.txt — Lai Châu (12), năm 2018
    (
        "004 giảm 130 tổ chức, đơn vị",
        {"province": "Lai Châu", "indicator": "Giảm tổ chức, đơn vị", "period": "2018",
         "value": "130", "unit": "tổ chức, đơn vị"},
        ("org.units_cut", 130, "unit", ("year", date(2018, 1, 1), date(2018, 12, 31)),
         "2004:12", "12"),
    ),
    (
        "004 giảm 116 lãnh đạo cấp phòng",
        {"province": "Lai Châu", "indicator": "Giảm lãnh đạo cấp phòng", "period": "2018",
         "value": 116, "unit": "người"},
        ("org.leaders_cut", 116, "person", ("year", date(2018, 1, 1), date(2018, 12, 31)),
         "2004:12", "12"),
    ),
    (
        "004 trong đó: cấp trưởng 70",
        {"province": "Lai Châu", "indicator": "Giảm lãnh đạo cấp trưởng", "period": "2018",
         "value": 70, "unit": "người"},
        ("org.heads_cut", 70, "person", ("year", date(2018, 1, 1), date(2018, 12, 31)),
         "2004:12", "12"),
    ),
    (
        "004 cấp phó 46",
        {"province": "Lai Châu", "indicator": "Giảm lãnh đạo cấp phó", "period": "2018",
         "value": 46, "unit": "người"},
        ("org.deputies_cut", 46, "person", ("year", date(2018, 1, 1), date(2018, 12, 31)),
         "2004:12", "12"),
    ),
    (
        "004 năm 2018 giảm 596 biên chế",
        {"province": "Lai Châu", "indicator": "Giảm biên chế", "period": "2018", "value": 596,
         "unit": "biên chế"},
        ("staff.cut", 596, "person", ("year", date(2018, 1, 1), date(2018, 12, 31)),
         "2004:12", "12"),
    ),
    (
        "004 giảm 989 biên chế so với năm 2015 (2016 to 2018)",
        {"province": "Lai Châu", "indicator": "Giảm biên chế", "period": "2016/2018",
         "value": "989", "unit": "biên chế"},
        ("staff.cut", 989, "person", ("phase", date(2016, 1, 1), date(2018, 12, 31)),
         "2004:12", "12"),
    ),
]
# fmt: on


def _fields(indicator: str) -> dict[str, Any]:
    """The event fields of the (first) seed figure of `indicator`."""
    return next(fields for _, fields, expected in SEED_FIGURES if expected[0] == indicator)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [pytest.param(fields, expected, id=what) for what, fields, expected in SEED_FIGURES],
)
def test_seed_figure_round_trips(
    ref: Reference, fields: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    fields = {**fields, "reported_at": "2026-01-01T00:00:00+07:00"}  # after every period
    obs = accepted(ref, report(**fields))
    indicator, value, unit, (period_type, start, end), unit_key, province = expected
    assert obs.indicator == indicator
    assert obs.value == value
    assert obs.unit == unit
    assert (obs.period_type, obs.period_start, obs.period_end) == (period_type, start, end)
    assert obs.period == fields["period"]
    assert obs.unit_key == unit_key
    assert (obs.unit_era, obs.unit_code) == tuple(unit_key.split(":"))
    assert obs.province == province
    assert obs.status == fields.get("status", "final")
    assert obs.ytd is False


# The date each seed report was published (its own header), and the status a figure without a
# stated status gets from it: provisional when dated before the period's data end (the 14th of
# its last month, Decree 09/2019 Art. 12; docs/domain.md "Reporting and data quality").
SEED_DATES = {
    "000": "2020-05-24T19:57:00+07:00",  # the 2016-2020 phase, "cơ bản hoàn thành", in May 2020
    "001": "2017-03-28T09:00:00+07:00",
    "002": "2022-12-13T17:00:00+07:00",  # one day before the yearly cut-off of 14/12
    "003": "2021-03-01T14:43:00+07:00",
    "004": "2018-12-21T09:26:09+07:00",
}
EXPECTED_STATUS = {
    ("000", "2016/2020"): "provisional",
    ("001", "2017-Q1"): "final",  # after the Q1 cut-off of 14/3
    ("001", "2016"): "final",
    ("001", "2017"): "provisional",
    ("002", "2022"): "provisional",
    ("003", "2016/2020"): "final",
    ("004", "2018"): "final",  # after the yearly cut-off of 14/12
    ("004", "2016/2018"): "final",
}


@pytest.mark.parametrize(("what", "fields"), [pytest.param(w, f, id=w) for w, f, _ in SEED_FIGURES])
def test_seed_status_follows_the_report_date(
    ref: Reference, what: str, fields: dict[str, Any]
) -> None:
    seed = what[:3]
    obs = accepted(ref, report(**{**fields, "reported_at": SEED_DATES[seed]}))
    expected = fields.get("status") or EXPECTED_STATUS[(seed, fields["period"])]
    assert obs.status == expected


def test_seed_003_really_writes_an_eth() -> None:
    assert "\u00d0" in NAM_DINH_WITH_ETH
    assert "\u0110" not in NAM_DINH_WITH_ETH


def test_seed_002_rates_keep_their_components(ref: Reference) -> None:
    time_cut = accepted(ref, report(**_fields("procedures.time_cut_rate")))
    assert (time_cut.numerator, time_cut.denominator) == (929, 1972)
    integration = accepted(ref, report(**_fields("online_services.integration_rate")))
    assert (integration.numerator, integration.denominator) == (1374, 1761)


def test_seed_004_dti_rank_stays_on_the_historical_unit(ref: Reference) -> None:
    # 004: "Lai Châu xếp hạng 50/63 ... về chuyển đổi số cấp tỉnh năm 2020". The report gives
    # the rank and no score: it is stored as written, a rank with no value.
    obs = accepted(
        ref,
        report(
            province="Lai Châu",
            indicator="Chuyển đổi số cấp tỉnh",
            period="2020",
            value=None,
            unit=None,
            rank=50,
            rank_of=63,
            reported_at="2021-10-20T08:13:45+07:00",
        ),
    )
    assert (obs.indicator, obs.rank, obs.rank_of, obs.value) == ("index.dti", 50, 63, None)
    assert (obs.unit_key, obs.province, obs.unit) == ("2004:12", "12", "score")
    assert obs.status == "final"


def test_a_report_without_value_needs_a_rank(ref: Reference) -> None:
    result = rejected(ref, report(value=None))
    assert result.reason is Reason.SCHEMA_VIOLATION
    # A rank on an indicator that is not an index is refused, value or not.
    result = rejected(ref, report(value=None, rank=5, rank_of=63))
    assert result.reason is Reason.OUT_OF_RANGE


def test_a_stated_status_is_kept_whatever_the_date(ref: Reference) -> None:
    obs = accepted(
        ref, report(period="2016/2020", status="final", reported_at="2020-05-24T19:57:00+07:00")
    )
    assert obs.status == "final"
