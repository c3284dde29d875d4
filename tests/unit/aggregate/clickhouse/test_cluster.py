"""The cluster generator on statements the current migrations do not have yet (others will add
them): each kind is carried over, and one it does not know stops it instead of being copied."""

from __future__ import annotations

import pytest
from cchc_aggregate.clickhouse.cluster import Catalogue, Cluster, ClusterError, cluster_statements

FACT = (
    "CREATE TABLE IF NOT EXISTS facts (province String, n UInt64) "
    "ENGINE = MergeTree ORDER BY province"
)
REF = "CREATE TABLE IF NOT EXISTS codes (code String) ENGINE = MergeTree ORDER BY code"


def _run(*sqls: str) -> list[str]:
    return cluster_statements(sqls, Cluster("c", "db"), Catalogue())


def test_alter_of_a_sharded_table_changes_the_local_and_the_distributed_table() -> None:
    out = _run(FACT, "ALTER TABLE facts ADD COLUMN extra String DEFAULT ''")
    assert out[-2:] == [
        "ALTER TABLE facts_local ON CLUSTER 'c' ADD COLUMN extra String DEFAULT ''",
        "ALTER TABLE facts ON CLUSTER 'c' ADD COLUMN extra String DEFAULT ''",
    ]
    settings = _run(FACT, "ALTER TABLE facts MODIFY SETTING merge_with_ttl_timeout = 3600")
    assert (
        settings[-1]
        == "ALTER TABLE facts_local ON CLUSTER 'c' MODIFY SETTING merge_with_ttl_timeout = 3600"
    )


def test_a_table_without_province_is_replicated_to_every_node_under_its_name() -> None:
    (created,) = _run(REF)
    assert created.startswith("CREATE TABLE IF NOT EXISTS codes ON CLUSTER 'c'")
    assert "ReplicatedMergeTree('/clickhouse/tables/{uuid}/all', '{replica}')" in created
    assert (
        _run(REF, "RENAME TABLE codes TO codes_v2")[-1]
        == "RENAME TABLE codes TO codes_v2 ON CLUSTER 'c'"
    )


def test_a_materialized_view_reads_and_writes_the_local_tables() -> None:
    target = (
        "CREATE TABLE totals (province String, n UInt64) "
        "ENGINE = SummingMergeTree ORDER BY province"
    )
    view = (
        "CREATE MATERIALIZED VIEW totals_mv TO totals "
        "AS SELECT province, sum(n) AS n FROM facts GROUP BY province"
    )
    out = _run(FACT, target, view, "CREATE VIEW v AS SELECT * FROM totals")
    assert out[-2] == (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS totals_mv ON CLUSTER 'c' TO totals_local\n"
        "AS SELECT province, sum(n) AS n FROM facts_local GROUP BY province"
    )
    assert out[-1] == "CREATE VIEW IF NOT EXISTS v ON CLUSTER 'c'\nAS SELECT * FROM totals"


def test_truncate_and_optimize_act_on_the_local_tables() -> None:
    assert _run(FACT, "TRUNCATE TABLE facts")[-1] == "TRUNCATE TABLE facts_local ON CLUSTER 'c'"
    assert (
        _run(FACT, "OPTIMIZE TABLE facts FINAL")[-1]
        == "OPTIMIZE TABLE facts_local ON CLUSTER 'c' FINAL"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE DICTIONARY d (k UInt64) PRIMARY KEY k SOURCE(NULL()) LAYOUT(FLAT()) LIFETIME(0)",
        "CREATE TABLE f (province String) ENGINE = File(CSV)",
        "CREATE MATERIALIZED VIEW m ENGINE = MergeTree ORDER BY tuple() AS SELECT 1",
    ],
)
def test_a_statement_without_a_cluster_form_stops_the_generator(sql: str) -> None:
    with pytest.raises(ClusterError):
        _run(sql)


def test_a_fold_input_is_fed_by_its_shards_inserts() -> None:
    fold_input = "CREATE TABLE IF NOT EXISTS facts_fold_input AS facts ENGINE = Null"
    out = _run(FACT, fold_input)
    assert out[-2:] == [
        "CREATE TABLE IF NOT EXISTS facts_fold_input_local ON CLUSTER 'c'\nAS facts_local\n"
        "ENGINE = Null",
        "CREATE MATERIALIZED VIEW IF NOT EXISTS facts_fold_input_mv ON CLUSTER 'c' "
        "TO facts_fold_input_local\nAS SELECT * FROM facts_local",
    ]
    # dropped with its view first; any other Null table gets no view
    assert _run(FACT, fold_input, "DROP TABLE facts_fold_input")[-2:] == [
        "DROP VIEW IF EXISTS facts_fold_input_mv ON CLUSTER 'c'",
        "DROP TABLE facts_fold_input_local ON CLUSTER 'c'",
    ]
    plain = _run(FACT, "CREATE TABLE IF NOT EXISTS facts_feed AS facts ENGINE = Null")
    assert not any("MATERIALIZED VIEW" in s for s in plain)
    with pytest.raises(ClusterError, match="sharded"):
        _run(REF, "CREATE TABLE IF NOT EXISTS codes_fold_input AS codes ENGINE = Null")


def test_a_table_on_every_node_fed_by_the_shards_views_does_not_deduplicate() -> None:
    """Each shard's view writes its share of one insert with the insert's token: on one Keeper
    path for every node the second share would be dropped as a retry of the first."""
    receipts = "CREATE TABLE receipts (code String, at DateTime) ENGINE = MergeTree ORDER BY code"
    from_shards = (
        "CREATE MATERIALIZED VIEW receipts_mv TO receipts "
        "AS SELECT 'x' AS code, now() AS at FROM facts"
    )
    from_reference = (
        "CREATE MATERIALIZED VIEW codes_mv TO receipts AS SELECT code, now() AS at FROM codes"
    )
    out = _run(FACT, REF, receipts, from_shards)
    assert out[-1] == (
        "ALTER TABLE receipts ON CLUSTER 'c' MODIFY SETTING replicated_deduplication_window = 0"
    )
    assert not _run(REF, receipts, from_reference)[-1].startswith("ALTER")
    # A sharded target keeps its shard's deduplication (the shares go to different paths).
    totals = (
        "CREATE TABLE totals (province String, n UInt64) "
        "ENGINE = SummingMergeTree ORDER BY province"
    )
    view = "CREATE MATERIALIZED VIEW totals_mv TO totals AS SELECT province, n FROM facts"
    assert not _run(FACT, totals, view)[-1].startswith("ALTER")


def test_turning_off_a_single_servers_deduplication_log_leaves_the_cluster_alone() -> None:
    """0018: a replicated table's tokens live in Keeper with the part; they stay."""
    off = "ALTER TABLE facts MODIFY SETTING non_replicated_deduplication_window = 0"
    assert _run(FACT, off) == _run(FACT)
    other = "ALTER TABLE facts MODIFY SETTING merge_with_ttl_timeout = 3600"
    assert _run(FACT, other) != _run(FACT)
    # Not a window of 0: carried over (renamed) like any other setting.
    some = "ALTER TABLE facts MODIFY SETTING non_replicated_deduplication_window = 5"
    assert _run(FACT, some) != _run(FACT)


def test_in_its_place_the_tables_fed_by_the_shards_are_set_again_once() -> None:
    """A cluster that applied a view's migration before the generator turned deduplication off
    on its target gets the setting with 0018 (idempotent where it was applied)."""
    receipts = "CREATE TABLE receipts (code String) ENGINE = MergeTree ORDER BY code"
    view = "CREATE MATERIALIZED VIEW receipts_mv TO receipts AS SELECT 'x' AS code FROM facts"
    off = "ALTER TABLE facts MODIFY SETTING non_replicated_deduplication_window = 0"
    again = "ALTER TABLE receipts MODIFY SETTING non_replicated_deduplication_window = 0"
    out = _run(FACT, receipts, view, off, again)
    expected = (
        "ALTER TABLE receipts ON CLUSTER 'c' MODIFY SETTING replicated_deduplication_window = 0"
    )
    assert out.count(expected) == 2  # with the view, and once in 0018's place
    assert out[-1] == expected


def test_a_view_from_a_per_node_table_into_a_table_on_every_node_does_not_deduplicate() -> None:
    """A Null table is fed on every shard: a view reading it writes every shard's share."""
    null = "CREATE TABLE moves (province String, n UInt64) ENGINE = Null"
    receipts = "CREATE TABLE receipts (code String) ENGINE = MergeTree ORDER BY code"
    view = "CREATE MATERIALIZED VIEW receipts_mv TO receipts AS SELECT 'x' AS code FROM moves"
    assert _run(null, receipts, view)[-1] == (
        "ALTER TABLE receipts ON CLUSTER 'c' MODIFY SETTING replicated_deduplication_window = 0"
    )
