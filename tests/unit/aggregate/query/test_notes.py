"""Every kind of note on a national figure states only what is true of the answer: one test per
kind, with the cases seen on a fresh stack (docs/analysts.md "Notes"). Hand-computed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cchc_aggregate.query.rules.national import (
    NationalFigure,
    Report,
    TierRow,
    national,
    province_wide,
    provinces,
)
from cchc_aggregate.query.rules.quality import default_rules, outliers, rule_findings
from cchc_shared.catalogue import default_catalogue
from cchc_shared.periods import parse_period
from cchc_shared.provinces import Era, default_registry

CAT = default_catalogue()
REG = default_registry()
NAMES = {u.key: f"{u.code} {u.name}" for era in Era for u in REG.units(era)}


def rep(indicator: str, period: str, unit_key: str, value: float | None, **kw: object) -> Report:
    era, code = unit_key.split(":")
    unit = REG.get(code, Era(era))
    assert unit is not None
    return Report(indicator, period, unit_key, unit.successor_code, value, **kw)  # type: ignore[arg-type]


def ask(code: str, period: str, reports: list[Report], **kw: object) -> NationalFigure:
    ind = CAT.get(code)
    assert ind is not None
    return national(ind, parse_period(period), "current", reports, CAT, REG, **kw)  # type: ignore[arg-type]


def joined(fig: NationalFigure) -> str:
    return "\n".join(fig.notes)


# HCMC and Hà Nội report both components for exactly 2026-Q3; HCMC 200 integrated of 100.
FRESH_STACK = [
    rep("online_services.total", "2026-Q3", "2025:79", 100.0),
    rep("online_services.integrated", "2026-Q3", "2025:79", 200.0),
    rep("online_services.total", "2026-Q3", "2025:01", 100.0),
    rep("online_services.integrated", "2026-Q3", "2025:01", 10.0),
]


def test_fresh_stack_rate_has_no_false_derived_or_partial_note_and_remarks_above_100() -> None:
    findings = rule_findings(FRESH_STACK, default_rules(CAT), NAMES)
    fig = ask("online_services.integration_rate", "2026-Q3", FRESH_STACK, findings=findings)
    assert fig.value == pytest.approx(105.0)  # (200 + 10) / (100 + 100)
    notes = joined(fig)
    assert "derived" not in notes  # both components were reported for exactly 2026-Q3
    assert "partly reported" not in notes  # after 1/7/2025 nobody has predecessors to report
    assert "lacks" not in notes
    assert "rate above 100 % for 1 unit(s)" in notes
    assert "79 Hồ Chí Minh (200 of 100)" in notes
    assert "The national value is above 100 %" in notes
    assert "01 Hà Nội (" not in notes  # 10 of 100 is fine
    assert "1 input(s) break a validation rule" in notes
    assert (
        "79 Hồ Chí Minh 2026-Q3: online_services.integrated ≤ online_services.total is "
        "broken: 200 > 100" in notes
    )


def test_above_100_note_only_when_a_unit_is_above() -> None:
    fine = [r if r.value != 200.0 else replace(r, value=90.0) for r in FRESH_STACK]
    fig = ask("online_services.integration_rate", "2026-Q3", fine)
    assert fig.value == pytest.approx(50.0)
    assert "above 100" not in joined(fig)
    assert fig.notes == []


def test_derived_note_names_units_that_used_finer_periods_only() -> None:
    reports = [rep("staff.cut", f"2022-Q{q}", "2004:14", 10.0) for q in (1, 2, 3, 4)]
    reports.append(rep("staff.cut", "2022", "2004:12", 5.0))
    fig = ask("staff.cut", "2022", reports)
    assert fig.value == 45.0
    (note,) = [n for n in fig.notes if "derived" in n]
    assert "for 1 unit(s): 14 Sơn La (2022-Q1, 2022-Q2, 2022-Q3, 2022-Q4)" in note
    assert "Lai Châu" not in note


def test_pre_merger_partial_note_names_old_units_never_the_province_itself() -> None:
    # Seed 003: old Nam Định (36) reports 2,036 procedures abolished for 2016–2020; the new Ninh
    # Bình (37) is made of old Ninh Bình (37), Hà Nam (35) and Nam Định (36).
    fig = ask(
        "procedures.abolished",
        "2016/2020",
        [rep("procedures.abolished", "2016/2020", "2004:36", 2036.0)],
    )
    assert fig.value == 2036.0
    assert "37 Ninh Bình lacks old 35 Hà Nam, old 37 Ninh Bình" in joined(fig)


def test_partial_note_for_a_year_spanning_the_merger_names_the_missing_old_unit() -> None:
    # 2025 for the new Lào Cai (15) = old Lào Cai (10) + old Yên Bái (15) in H1 + new Lào Cai H2.
    reports = [
        rep("dossiers.received", "2025-H1", "2004:10", 100.0),
        rep("dossiers.received", "2025-H2", "2025:15", 400.0),
    ]
    fig = ask("dossiers.received", "2025", reports)
    assert fig.value == 500.0
    assert "15 Lào Cai lacks old 15 Yên Bái for 2025-H1" in joined(fig)
    complete = [*reports, rep("dossiers.received", "2025-H1", "2004:15", 50.0)]
    fig = ask("dossiers.received", "2025", complete)
    assert fig.value == 550.0
    assert "lacks" not in joined(fig)


def test_post_merger_provinces_have_no_predecessors_to_lack() -> None:
    fig = ask("dossiers.received", "2026-Q3", [rep("dossiers.received", "2026-Q3", "2025:79", 1.0)])
    assert "lacks" not in joined(fig)


def test_status_counts_provisional_and_estimated_units() -> None:
    reports = [
        rep("staff.cut", "2016/2020", "2004:10", 3356.0, status="provisional"),
        rep("staff.cut", "2016/2020", "2004:14", 100.0, status="estimated"),
        rep("staff.cut", "2016/2020", "2004:01", 10.0),
    ]
    fig = ask("staff.cut", "2016/2020", reports)
    assert (fig.provisional, fig.estimated) == (1, 1)
    assert "1 provisional (15 Lào Cai); 1 estimated (14 Sơn La)" in joined(fig)
    final = ask("staff.cut", "2016/2020", [rep("staff.cut", "2016/2020", "2004:01", 10.0)])
    assert (final.provisional, final.estimated) == (0, 0)
    assert "not final" not in joined(final)


def tier(report: Report, level: str) -> TierRow:
    return TierRow(report, level)


def test_tier_figures_stand_for_a_missing_province_wide_one_never_on_top() -> None:
    # Seed 004: Lai Châu 2018 cuts 130 units province-wide, 65 at province and 65 at district
    # level. Sơn La (tier-only, invented) gives 7 at province and 3 at district level.
    rows = [
        tier(rep("org.units_cut", "2018", "2004:12", 130.0), "all"),
        tier(rep("org.units_cut", "2018", "2004:12", 65.0), "province"),
        tier(rep("org.units_cut", "2018", "2004:12", 65.0), "district"),
        tier(rep("org.units_cut", "2018", "2004:14", 7.0), "province"),
        tier(rep("org.units_cut", "2018", "2004:14", 3.0, status="estimated"), "district"),
    ]
    reports = province_wide(rows, CAT)
    by_unit = {r.unit_key: r for r in reports}
    assert by_unit["2004:12"].value == 130.0
    assert by_unit["2004:12"].tiers == ()
    assert by_unit["2004:14"].value == 10.0
    assert by_unit["2004:14"].tiers == ("province", "district")
    assert by_unit["2004:14"].status == "estimated"
    fig = ask("org.units_cut", "2018", reports)
    assert fig.value == 140.0  # 130 + (7 + 3), never 130 + 65 + 65
    assert "1 unit(s) gave no province-wide figure" in joined(fig)
    assert "14 Sơn La (province + district)" in joined(fig)
    only_wide = ask("org.units_cut", "2018", [by_unit["2004:12"]])
    assert "tier" not in joined(only_wide)


def test_tiers_of_a_rate_are_not_added() -> None:
    rows = [tier(rep("dossiers.late_rate", "2018", "2004:14", 3.0), "province")]
    assert province_wide(rows, CAT) == []


def test_rank_only_report_is_shown_as_reported_and_never_ranked_as_a_score() -> None:
    # Seed 004: "Lai Châu xếp hạng 50/63 ... chuyển đổi số cấp tỉnh năm 2020"; Sơn La's score
    # 0.55 is invented.
    lai_chau = rep("index.dti", "2020", "2004:12", None, rank=50, rank_of=63)
    son_la = rep("index.dti", "2020", "2004:14", 0.55)
    fig = ask("index.dti", "2020", [lai_chau, son_la])
    assert fig.value == pytest.approx(0.55)
    assert fig.provinces_reported == 1
    assert (
        "1 unit(s) reported only a rank, which is not a score and is not in the mean: "
        "12 Lai Châu 50/63" in joined(fig)
    )
    alone = ask("index.dti", "2020", [lai_chau])
    assert alone.value is None
    assert "no unit reported a value of index.dti for 2020" in joined(alone)
    ind = CAT.get("index.dti")
    assert ind is not None
    ranking = provinces(ind, parse_period("2020"), "current", [lai_chau, son_la], CAT, REG)
    first, second = ranking.rows[0], ranking.rows[1]
    assert (first.province, first.rank, first.value) == ("14", 1, 0.55)
    assert (second.province, second.rank, second.value, second.reported_rank) == (
        "12",
        None,
        None,
        "50/63",
    )
    assert any("12 Lai Châu 50/63" in n for n in ranking.notes)


def test_outlier_note_on_the_national_figure() -> None:
    history = [
        rep("dossiers.received", f"{y}", "2004:14", v)
        for y, v in zip(range(2018, 2023), [100.0, 110.0, 90.0, 105.0, 95.0], strict=True)
    ]
    current = [rep("dossiers.received", "2023", "2004:14", 1000.0)]
    found = outliers(current, history, NAMES)
    fig = ask("dossiers.received", "2023", current, findings=found)
    assert "1 input(s) are outliers" in joined(fig)
    assert "14 Sơn La 2023: dossiers.received = 1 000 against a median of 100" in joined(fig)
    # A finding about another period or unit is not noted.
    other = ask("dossiers.received", "2022", history, findings=found)
    assert "outlier" not in joined(other)


def test_a_percentage_left_out_of_a_weighted_rate_is_not_counted_as_reported() -> None:
    # Old Nam Định gives components, old Hà Nam only a percentage: Hà Nam is not in the value,
    # so the new Ninh Bình still lacks it.
    reports = [
        rep("documents.signed_rate", "2020", "2004:36", 50.0, numerator=50.0, denominator=100.0),
        rep("documents.signed_rate", "2020", "2004:35", 90.0),
    ]
    fig = ask("documents.signed_rate", "2020", reports)
    assert fig.value == pytest.approx(50.0)
    assert "37 Ninh Bình lacks old 35 Hà Nam, old 37 Ninh Bình" in joined(fig)
    # Alone, percentages are the value (unweighted), and Hà Nam is in it.
    alone = ask("documents.signed_rate", "2020", reports[1:])
    assert alone.value == pytest.approx(90.0)
    assert "37 Ninh Bình lacks old 36 Nam Định, old 37 Ninh Bình" in joined(alone)
