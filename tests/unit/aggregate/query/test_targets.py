"""Targets as data and progress against them (docs/domain.md "Reporting and data quality")."""

from __future__ import annotations

import pytest
from cchc_aggregate.query.rules.targets import default_targets, load_targets, progress
from cchc_shared.catalogue import default_catalogue
from cchc_shared.provinces import default_registry

CAT = default_catalogue()
REG = default_registry()
TARGETS = {t.code: t for t in default_targets(CAT, REG)}


def test_the_seeds_targets_are_data_with_their_sources() -> None:
    assert set(TARGETS) == {
        "lao-cai-2016-2020-staff-cut-10pct",
        "lao-cai-2023-late-rate-below-2pct",
        "lao-cai-2023-service-index-top-10",
        "nam-dinh-2025-par-group-kha",
    }
    late = TARGETS["lao-cai-2023-late-rate-below-2pct"]
    assert (late.unit, late.indicator, late.comparison, late.target) == (
        "2004:10", "dossiers.late_rate", "<", 2,
    )  # fmt: skip
    assert late.source.seed == "002"


def test_a_target_met_and_one_missed() -> None:
    below_2 = TARGETS["lao-cai-2023-late-rate-below-2pct"]
    met = progress(below_2, "10 Lào Cai", "15", 1.5, None, [])
    assert (met.status, met.actual, met.gap) == ("met", 1.5, -0.5)
    missed = progress(below_2, "10 Lào Cai", "15", 2.0, None, [])  # "dưới 2 %": 2 is not below
    assert (missed.status, missed.gap) == ("missed", 0.0)
    cut = TARGETS["lao-cai-2016-2020-staff-cut-10pct"]
    assert progress(cut, "10 Lào Cai", "15", 10.0, None, []).status == "met"  # "ít nhất" 10


def test_a_rank_target_reads_the_reported_rank() -> None:
    top_10 = TARGETS["lao-cai-2023-service-index-top-10"]
    missed = progress(top_10, "10 Lào Cai", "15", 0.9, "50/63", [])
    assert (missed.status, missed.actual_text, missed.gap) == ("missed", "50/63", 40.0)
    assert progress(top_10, "10 Lào Cai", "15", None, "7/63", []).status == "met"
    # A score without a reported rank says nothing about the rank.
    assert progress(top_10, "10 Lào Cai", "15", 0.9, None, []).status == "no_data"


def test_no_data_and_qualitative() -> None:
    none = progress(TARGETS["lao-cai-2023-late-rate-below-2pct"], "x", "15", None, None, [])
    assert none.status == "no_data"
    assert none.notes == ["no figure of dossiers.late_rate for 2023"]
    kha = progress(TARGETS["nam-dinh-2025-par-group-kha"], "36 Nam Định", "37", 80.0, None, [])
    assert kha.status == "not_measurable"
    assert kha.actual is None


def test_targets_file_is_checked() -> None:
    text = (
        "schema_version: 1\ntargets:\n  - {code: x, unit: '2004:99', indicator: staff.cut, "
        "period: '2023', comparison: '<', target: 1, text_vi: t, source: {title: s}}\n"
    )
    with pytest.raises(ValueError, match="unknown unit"):
        load_targets(text, CAT, REG)
