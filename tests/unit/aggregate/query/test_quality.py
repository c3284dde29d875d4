"""Validation rules and outliers (docs/domain.md "Reporting and data quality"), hand-computed."""

from __future__ import annotations

import pytest
from cchc_aggregate.query.rules.national import Report
from cchc_aggregate.query.rules.quality import (
    default_rules,
    load_rules,
    modified_z,
    outliers,
    rule_findings,
)
from cchc_shared.catalogue import default_catalogue

CAT = default_catalogue()
NAMES = {"2004:14": "14 Sơn La", "2004:12": "12 Lai Châu"}


def r(indicator: str, period: str, value: float, unit_key: str = "2004:14") -> Report:
    return Report(indicator, period, unit_key, unit_key[-2:], value)


def test_a_rule_broken_by_one_province_only() -> None:
    reports = [
        r("dossiers.resolved", "2024-Q3", 100.0),
        r("dossiers.resolved_on_time", "2024-Q3", 80.0),
        r("dossiers.resolved_late", "2024-Q3", 30.0),  # 80 + 30 = 110 > 100
        r("dossiers.resolved", "2024-Q3", 100.0, "2004:12"),
        r("dossiers.resolved_on_time", "2024-Q3", 90.0, "2004:12"),
        r("dossiers.resolved_late", "2024-Q3", 10.0, "2004:12"),  # 100 ≤ 100
    ]
    (finding,) = rule_findings(reports, default_rules(CAT), NAMES)
    assert (finding.kind, finding.rule, finding.unit_key) == (
        "rule",
        "resolved_parts_le_resolved",
        "2004:14",
    )
    assert (finding.left, finding.right) == (110.0, 100.0)
    assert finding.detail == (
        "dossiers.resolved_on_time + dossiers.resolved_late ≤ dossiers.resolved is broken: "
        "110 > 100"
    )


def test_a_rule_needs_every_side_reported() -> None:
    assert (
        rule_findings([r("online_services.integrated", "2024", 5.0)], default_rules(CAT), NAMES)
        == []
    )


def test_rules_file_refuses_unknown_indicators() -> None:
    text = (
        "schema_version: 1\nrules:\n"
        "  - {code: x, description: d, left: [nope.x], right: [staff.cut]}\n"
    )
    with pytest.raises(ValueError, match=r"unknown indicator 'nope\.x'"):
        load_rules(text, CAT)


HISTORY = [
    r("dossiers.received", str(y), v)
    for y, v in zip(range(2018, 2023), [100.0, 110.0, 90.0, 105.0, 95.0], strict=True)
]


def test_modified_z_by_hand() -> None:
    # median 100; |x − 100| = 0, 10, 10, 5, 5 → MAD 5; 0.6745 × 900 / 5 = 121.41
    median, mad, score = modified_z(1000.0, [100.0, 110.0, 90.0, 105.0, 95.0])
    assert (median, mad) == (100.0, 5.0)
    assert score == pytest.approx(121.41)


def test_outlier_in_a_long_history_and_the_threshold() -> None:
    (found,) = outliers([r("dossiers.received", "2023", 1000.0)], HISTORY, NAMES)
    assert (found.kind, found.indicator, found.history, found.median, found.mad) == (
        "outlier",
        "dossiers.received",
        5,
        100.0,
        5.0,
    )
    # 0.6745 × 25 / 5 = 3.37 ≤ 3.5: not an outlier; 0.6745 × 26 / 5 = 3.51: one.
    assert outliers([r("dossiers.received", "2023", 125.0)], HISTORY, NAMES) == []
    assert len(outliers([r("dossiers.received", "2023", 126.0)], HISTORY, NAMES)) == 1


def test_no_outlier_in_a_short_history() -> None:
    # Three earlier values: fewer than four, so nothing can be flagged, however far.
    assert outliers([r("dossiers.received", "2023", 1000.0)], HISTORY[:3], NAMES) == []


def test_history_is_the_same_period_type_and_earlier_only() -> None:
    quarters = [r("dossiers.received", f"2022-Q{q}", 1.0) for q in (1, 2, 3, 4)]
    later = [r("dossiers.received", str(y), 100.0) for y in (2024, 2025, 2026, 2027)]
    assert outliers([r("dossiers.received", "2023", 1000.0)], quarters + later, NAMES) == []
