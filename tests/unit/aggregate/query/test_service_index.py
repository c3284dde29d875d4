"""The pure parts of the service index: rates, ordering, SQL building, request validation."""

from __future__ import annotations

import pytest
from cchc_aggregate.query.errors import ApiError
from cchc_aggregate.query.fetch.service_index import groups_sql, index_sql
from cchc_aggregate.query.requests import parse_service_question
from cchc_aggregate.query.rules import service_index as si
from cchc_shared.provinces import default_registry


def test_rates_are_percent_of_classified_resolutions_and_null_without_denominator() -> None:
    figure = si.build_index(
        "2025-07",
        None,
        si.Totals(
            received=3,
            received_online=1,
            resolved=5,
            resolved_on_time=3,
            resolved_late=1,
            overdue_in_progress=2,
        ),
    )
    assert figure.resolved_unclassified == 1  # its receipt has not arrived
    assert (figure.on_time_rate, figure.late_rate, figure.online_rate) == (75.0, 25.0, 33.33)
    empty = si.build_index("2025-07", "01", si.Totals())
    assert (empty.on_time_rate, empty.late_rate, empty.online_rate) == (None, None, None)
    assert si.rate(1, 0) is None
    assert si.rate(2, 3) == 66.67


def _row(key: str, on_time: int, late: int) -> si.GroupRow:
    totals = si.Totals(resolved=on_time + late, resolved_on_time=on_time, resolved_late=late)
    return si.build_group(key, totals)


def test_groups_best_or_worst_first_without_rate_last() -> None:
    rows = [_row("a", 1, 1), _row("b", 9, 1), _row("none", 0, 0), _row("c", 2, 2), _row("d", 9, 1)]
    assert [r.key for r in si.order_groups(rows, "best")] == ["b", "d", "c", "a", "none"]
    # At equal rates more resolutions first: c (4) before a (2).
    assert [r.key for r in si.order_groups(rows, "worst")] == ["c", "a", "b", "d", "none"]


def test_group_row_json_drops_period_and_province() -> None:
    body = _row("1.004227", 1, 0).as_json()
    assert body["key"] == "1.004227"
    assert "period" not in body
    assert "province" not in body
    assert body["on_time_rate"] == 100.0


def test_sql_reads_the_daily_tables_with_bound_parameters() -> None:
    national, overdue, time = index_sql(province=False)
    assert "FROM service_province_daily" in national
    assert "{province:String}" not in national
    assert "{start:Date}" in national
    assert "due_at < {now:DateTime64(3, 'UTC')}" in overdue
    assert "FROM scoreboard_province_daily" in time
    province, _, _ = index_sql(province=True)
    assert "AND province = {province:String}" in province
    by_commune, open_by_commune, time_by_commune = groups_sql("commune")
    assert "FROM service_daily" in by_commune
    assert "commune_code AS key" in by_commune
    assert "commune_code AS key" in open_by_commune
    assert "FROM scoreboard_daily" in time_by_commune
    assert "commune_code AS key" in time_by_commune


def test_average_resolution_hours() -> None:
    totals = si.Totals(resolved=3, resolved_timed=2, resolved_seconds=3 * 3600 + 1800)
    assert si.build_index("2025-07", "01", totals).avg_resolution_hours == 1.75
    assert si.build_index("2025-07", "01", si.Totals()).avg_resolution_hours is None


def test_service_questions_are_validated() -> None:
    registry = default_registry()
    whole, province, group, order = parse_service_question("2025-07", "1", None, "worst", registry)
    assert (whole.text, province, group, order) == ("2025-07", "01", None, "worst")
    with pytest.raises(ApiError) as bad:
        parse_service_question("2025-07", "27", None, "best", registry)  # retired code
    assert (bad.value.status, bad.value.error) == (404, "unknown_province")
    with pytest.raises(ApiError) as no_province:
        parse_service_question("2025-07", None, "procedure", "best", registry)
    assert no_province.value.error == "bad_group_by"
