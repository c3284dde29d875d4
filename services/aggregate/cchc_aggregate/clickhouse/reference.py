"""Shared reference data → the ClickHouse dimension tables (deploy/clickhouse/0003).

The rows come from the same files every service validates at start (``cchc_shared/data``), so an
analyst's SQL join and the pipeline can never disagree about a province or an indicator. Every
function but :func:`sync_reference` (which writes them) is pure.
"""

from __future__ import annotations

from typing import Any

from cchc_shared.catalogue import Catalogue, default_catalogue
from cchc_shared.provinces import Era, ProvinceRegistry, default_registry
from clickhouse_connect.driver.client import Client

from cchc_aggregate.query.rules.scoreboard import ScoringTable

Table = dict[str, list[Any]]
"""Column name → values, for a column-oriented insert."""


def province_rows(registry: ProvinceRegistry) -> Table:
    """One row per unit of both eras (63 + 34), with its 2025 successor."""
    table: Table = {
        c: [] for c in ("key", "era", "code", "name", "type", "successor_code", "successor_name")
    }
    for era in Era:
        for unit in registry.units(era):
            successor = registry.successor(unit)
            for column, value in (
                ("key", unit.key),
                ("era", unit.era.value),
                ("code", unit.code),
                ("name", unit.name),
                ("type", unit.type.value),
                ("successor_code", successor.code),
                ("successor_name", successor.name),
            ):
                table[column].append(value)
    return table


def lineage_rows(registry: ProvinceRegistry) -> Table:
    """Every unit of either era → the 2025 province it belongs to (a 2025 unit maps to itself)."""
    table: Table = {
        c: [] for c in ("unit_key", "unit_code", "unit_name", "province", "province_name", "merged")
    }
    for era in Era:
        for unit in registry.units(era):
            successor = registry.successor(unit)
            for column, value in (
                ("unit_key", unit.key),
                ("unit_code", unit.code),
                ("unit_name", unit.name),
                ("province", successor.code),
                ("province_name", successor.name),
                ("merged", len(registry.predecessors(successor.code)) > 1),
            ):
                table[column].append(value)
    return table


def indicator_rows(catalogue: Catalogue) -> Table:
    """One row per catalogue entry."""
    table: Table = {
        c: []
        for c in (
            "code", "name_vi", "aliases", "unit", "min", "max", "across_provinces",
            "across_time", "numerator", "denominator", "higher_is_better", "source",
        )
    }  # fmt: skip
    for ind in catalogue:
        for column, value in (
            ("code", ind.code),
            ("name_vi", ind.name_vi),
            ("aliases", list(ind.aliases)),
            ("unit", ind.unit),
            ("min", ind.min),
            ("max", ind.max),
            ("across_provinces", ind.across_provinces.value),
            ("across_time", ind.across_time.value),
            ("numerator", ind.numerator or ""),
            ("denominator", ind.denominator or ""),
            ("higher_is_better", ind.higher_is_better),
            ("source", ind.source),
        ):
            table[column].append(value)
    return table


def criteria_rows(scoring: ScoringTable) -> Table:
    """One row per Bộ chỉ số 766 criterion, in the table's order (deploy/clickhouse/0009)."""
    table: Table = {
        c: []
        for c in (
            "code", "group_code", "group_name", "name", "name_en", "max", "assumption",
            "source", "position",
        )
    }  # fmt: skip
    position = 0
    for group in scoring.groups:
        for c in group.criteria:
            position += 1
            for column, value in (
                ("code", c.code),
                ("group_code", group.code),
                ("group_name", group.name),
                ("name", c.name),
                ("name_en", c.name_en),
                ("max", c.max),
                ("assumption", c.assumption),
                ("source", c.source),
                ("position", position),
            ):
                table[column].append(value)
    return table


def reference_tables(registry: ProvinceRegistry, catalogue: Catalogue) -> dict[str, Table]:
    """Every dimension table's full content, by table name."""
    return {
        "provinces": province_rows(registry),
        "province_lineage": lineage_rows(registry),
        "indicators": indicator_rows(catalogue),
        "scoreboard_criteria": criteria_rows(ScoringTable.load()),
    }


def sync_reference(
    client: Client,
    registry: ProvinceRegistry | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, int]:
    """Replace the dimension tables' rows with the shared reference data; returns row counts.

    Run by the migrate command after the migrations. Idempotent: each table is emptied and
    refilled, so a changed data file (a renamed province, a new indicator) lands on the next run.
    """
    tables = reference_tables(registry or default_registry(), catalogue or default_catalogue())
    counts: dict[str, int] = {}
    for table, columns in tables.items():
        names = list(columns)
        client.command(f"TRUNCATE TABLE IF EXISTS {table}")
        client.insert(table, [columns[n] for n in names], column_names=names, column_oriented=True)
        counts[table] = len(columns[names[0]])
    return counts
