"""The aggregation rules of docs/domain.md "How indicators aggregate", one test per rule, with
hand-computed expectations."""

from __future__ import annotations

import pytest
from cchc_aggregate.query.rules.national import Report, national, provinces, rank_competition
from cchc_shared.catalogue import default_catalogue
from cchc_shared.periods import parse_period
from cchc_shared.provinces import Era, default_registry

CAT = default_catalogue()
REG = default_registry()


def rep(
    indicator: str,
    period: str,
    unit_key: str,
    value: float,
    numerator: float | None = None,
    denominator: float | None = None,
) -> Report:
    era, code = unit_key.split(":")
    unit = REG.get(code, Era(era))
    assert unit is not None
    return Report(indicator, period, unit_key, unit.successor_code, value, numerator, denominator)


def ask(code: str, period: str, reports: list[Report], boundary: str = "current"):  # type: ignore[no-untyped-def]
    ind = CAT.get(code)
    assert ind is not None
    return national(ind, parse_period(period), boundary, reports, CAT, REG)  # type: ignore[arg-type]


def test_ratio_is_sum_of_numerators_over_sum_of_denominators_not_mean_of_rates() -> None:
    fig = ask(
        "dossiers.late_rate",
        "2024",
        [
            rep("dossiers.late_rate", "2024", "2004:01", 1.0, 1_000, 100_000),
            rep("dossiers.late_rate", "2024", "2004:14", 20.0, 200, 1_000),
        ],
    )
    assert fig.value == pytest.approx(100 * 1_200 / 101_000)  # 1.188 %, not the 10.5 % mean
    assert round(fig.value, 2) == 1.19
    assert (fig.numerator, fig.denominator) == (1_200, 101_000)
    assert fig.provinces_reported == 2
    assert fig.provinces_expected == 34
    assert fig.aggregation == "ratio"


def test_ratio_from_component_indicators_of_the_same_period() -> None:
    fig = ask(
        "dossiers.late_rate",
        "2024",
        [
            rep("dossiers.resolved_late", "2024", "2004:01", 1_000),
            rep("dossiers.resolved", "2024", "2004:01", 100_000),
            rep("dossiers.resolved_late", "2024", "2004:14", 200),
            rep("dossiers.resolved", "2024", "2004:14", 1_000),
            rep("dossiers.resolved", "2023", "2004:14", 9_999),  # another period: ignored
        ],
    )
    assert fig.value == pytest.approx(100 * 1_200 / 101_000)
    assert fig.provinces_reported == 2


def test_percentage_only_provinces_are_averaged_unweighted_with_a_note() -> None:
    fig = ask(
        "documents.signed_rate",
        "2020",
        [
            rep("documents.signed_rate", "2020", "2004:10", 80.0),
            rep("documents.signed_rate", "2020", "2004:14", 90.0),
        ],
    )
    assert fig.value == pytest.approx(85.0)
    assert fig.numerator is None
    assert fig.provinces_reported == 2
    assert any("unweighted mean" in n for n in fig.notes)


def test_mix_weights_the_provinces_with_components_and_names_the_percentage_only_ones() -> None:
    fig = ask(
        "documents.signed_rate",
        "2020",
        [
            rep("documents.signed_rate", "2020", "2004:01", 50.0, 50, 100),
            rep("documents.signed_rate", "2020", "2004:14", 25.0, 100, 400),
            rep("documents.signed_rate", "2020", "2004:12", 99.0),
        ],
    )
    assert fig.value == pytest.approx(30.0)  # 150 / 500; the 99 % is not weighted
    assert fig.provinces_reported == 2
    assert any("only a percentage" in n and "12 Lai Châu" in n for n in fig.notes)


def test_mean_for_indices() -> None:
    fig = ask(
        "index.par",
        "2025",
        [rep("index.par", "2025", "2025:01", 90.0), rep("index.par", "2025", "2025:08", 80.0)],
    )
    assert fig.value == pytest.approx(85.0)
    assert fig.aggregation == "mean"
    assert (fig.provinces_reported, fig.provinces_expected) == (2, 34)


def test_flow_over_four_quarters_is_the_year() -> None:
    reports = [rep("staff.cut", f"2022-Q{q}", "2004:14", 10.0 * q) for q in (1, 2, 3, 4)]
    fig = ask("staff.cut", "2022", reports)
    assert fig.value == 100.0
    assert fig.provinces_reported == 1
    assert any("derived" in n for n in fig.notes)


def test_flow_over_three_quarters_is_incomplete_with_a_note() -> None:
    reports = [rep("staff.cut", f"2022-Q{q}", "2004:14", 10.0) for q in (1, 2, 3)]
    reports.append(rep("staff.cut", "2022", "2004:01", 7.0))
    fig = ask("staff.cut", "2022", reports)
    assert fig.value == 7.0
    assert fig.provinces_reported == 1
    assert any("incomplete" in n and "14 Sơn La" in n for n in fig.notes)


def test_flow_mixes_halves_and_quarters_that_tile_the_year() -> None:
    reports = [
        rep("staff.cut", "2022-H1", "2004:14", 5.0),
        rep("staff.cut", "2022-Q3", "2004:14", 3.0),
        rep("staff.cut", "2022-Q4", "2004:14", 2.0),
    ]
    assert ask("staff.cut", "2022", reports).value == 10.0


def test_exact_report_wins_over_its_parts() -> None:
    reports = [rep("staff.cut", f"2022-Q{q}", "2004:14", 10.0) for q in (1, 2, 3, 4)]
    reports.append(rep("staff.cut", "2022", "2004:14", 41.0))
    assert ask("staff.cut", "2022", reports).value == 41.0


def test_stock_takes_the_latest_quarter() -> None:
    reports = [
        rep("staff.quota", "2022-Q1", "2004:14", 2_619),
        rep("staff.quota", "2022-Q3", "2004:14", 2_579),
        rep("staff.quota", "2022-Q2", "2004:14", 2_600),
    ]
    fig = ask("staff.quota", "2022", reports)
    assert fig.value == 2_579  # not the sum 7,798
    assert any("latest report" in n for n in fig.notes)


def test_ytd_is_not_added_to_months() -> None:
    reports = [rep("dossiers.received", "2022-9M", "2004:14", 900.0)]
    reports += [rep("dossiers.received", f"2022-{m:02d}", "2004:14", 1.0) for m in (10, 11, 12)]
    fig = ask("dossiers.received", "2022", reports)
    assert fig.value is None  # 9M + Oct + Nov + Dec is not a year
    assert any("year-to-date" in n for n in fig.notes)
    # The YTD figure answers exactly its own period.
    assert ask("dossiers.received", "2022-9M", reports).value == 900.0


def test_ytd_query_is_built_from_whole_months() -> None:
    reports = [rep("dossiers.received", f"2022-{m:02d}", "2004:14", 1.0) for m in range(1, 10)]
    assert ask("dossiers.received", "2022-9M", reports).value == 9.0


def test_ratio_recomputes_from_components_summed_over_quarters() -> None:
    reports = []
    for q, (late, resolved) in enumerate([(10, 100), (30, 900)], start=1):
        reports.append(rep("dossiers.resolved_late", f"2022-H{q}", "2004:14", late))
        reports.append(rep("dossiers.resolved", f"2022-H{q}", "2004:14", resolved))
    fig = ask("dossiers.late_rate", "2022", reports)
    assert fig.value == pytest.approx(4.0)  # 40 / 1000, not the mean of 10 % and 3.3 %


def test_current_boundary_adds_ha_giang_into_tuyen_quang() -> None:
    reports = [
        rep("dossiers.received", "2024", "2004:02", 300.0),  # Hà Giang
        rep("dossiers.received", "2024", "2004:08", 700.0),  # Tuyên Quang (old)
    ]
    fig = ask("dossiers.received", "2024", reports)
    assert fig.value == 1_000.0
    assert (fig.provinces_reported, fig.provinces_expected) == (1, 34)
    ranking = provinces(
        CAT.get("dossiers.received"),  # type: ignore[arg-type]
        parse_period("2024"),
        "current",
        reports,
        CAT,
        REG,
    )
    assert ranking.rows[0].province == "08"
    assert ranking.rows[0].value == 1_000.0
    assert ranking.rows[0].name == "Tuyên Quang"


def test_current_boundary_notes_a_province_with_a_missing_predecessor() -> None:
    fig = ask("dossiers.received", "2024", [rep("dossiers.received", "2024", "2004:08", 700.0)])
    assert any("08 Tuyên Quang lacks old 02 Hà Giang" in n for n in fig.notes)


def test_historical_boundary_gives_63_expected_before_the_merger() -> None:
    reports = [
        rep("dossiers.received", "2024", "2004:02", 300.0),
        rep("dossiers.received", "2024", "2004:08", 700.0),
    ]
    fig = ask("dossiers.received", "2024", reports, boundary="historical")
    assert fig.value == 1_000.0
    assert (fig.provinces_reported, fig.provinces_expected) == (2, 63)
    assert fig.boundary == "historical"
    after = ask("dossiers.received", "2025-Q4", [], boundary="historical")
    assert after.provinces_expected == 34
    assert after.value is None


def test_scores_are_not_rebased_under_current_boundary_before_the_merger() -> None:
    reports = [rep("index.par", "2024", "2004:02", 80.0), rep("index.par", "2024", "2004:08", 90.0)]
    fig = ask("index.par", "2024", reports)
    assert fig.value == pytest.approx(85.0)
    assert (fig.provinces_reported, fig.provinces_expected) == (2, 63)
    assert any("cannot be re-based" in n for n in fig.notes)


def test_year_spanning_the_merger_adds_predecessors_first_half_to_successor() -> None:
    reports = [
        rep("dossiers.received", "2025-H1", "2004:02", 100.0),
        rep("dossiers.received", "2025-H1", "2004:08", 200.0),
        rep("dossiers.received", "2025-H2", "2025:08", 400.0),
    ]
    fig = ask("dossiers.received", "2025", reports)
    assert fig.value == 700.0
    assert fig.provinces_reported == 1


def test_nothing_reported_gives_null_with_a_note() -> None:
    fig = ask("staff.cut", "2022", [])
    assert fig.value is None
    assert fig.provinces_reported == 0
    assert fig.notes


def test_competition_ranks_share_ties() -> None:
    assert rank_competition([5.0, 9.0, 7.0, 7.0, None], higher_is_better=True) == [
        4,
        1,
        2,
        2,
        None,
    ]
    assert rank_competition([5.0, 9.0, 5.0], higher_is_better=False) == [1, 3, 1]


def test_provinces_best_first_by_polarity_with_unreported_last() -> None:
    reports = [
        rep("dossiers.late_rate", "2025-Q4", "2025:01", 2.0, 2, 100),
        rep("dossiers.late_rate", "2025-Q4", "2025:08", 1.0, 1, 100),
        rep("dossiers.late_rate", "2025-Q4", "2025:14", 1.0, 2, 200),
    ]
    ranking = provinces(
        CAT.get("dossiers.late_rate"),  # type: ignore[arg-type]
        parse_period("2025-Q4"),
        "current",
        reports,
        CAT,
        REG,
    )
    top = [(r.province, r.value, r.rank) for r in ranking.rows[:3]]
    assert top == [("08", 1.0, 1), ("14", 1.0, 1), ("01", 2.0, 3)]  # lower late rate is better
    assert len(ranking.rows) == 34
    assert ranking.rows[-1].rank is None
