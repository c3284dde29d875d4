"""The cluster flavour of the migrations, generated from the single-node ones, defines the same
schema: every statement of both flavours is parsed by ClickHouse's own parser (chDB's
`formatQuery`), and the cluster statements — with only what makes them a cluster's taken away
(`ON CLUSTER`, the `Replicated` prefix and its Keeper path, the `_local` suffix, the Distributed
tables) — create the same tables, columns, keys, engines and views as the single-node ones, but
for the one documented difference (docs/cluster.md): on a cluster each fold input is fed by a
pass-through view from its shard's events, so a shard folds its blocks as they are written.

Every migration file present is carried over: a new one the generator cannot handle fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cchc_aggregate.clickhouse.client import connect
from cchc_aggregate.clickhouse.cluster import SHARDING_KEY, Cluster, generate
from cchc_aggregate.clickhouse.migrations import migration_files, statements
from clickhouse_connect.driver.client import Client

pytestmark = pytest.mark.connected

MIGRATIONS = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse"
CLUSTER = Cluster("cchc", "cchc")

FOLD_ON_INSERT = {
    "dossier_fold_input_mv": ("dossier_fold_input", "dossier_events"),
    "feedback_fold_input_mv": ("feedback_fold_input", "feedback_events"),
}
"""The cluster flavour's only extra objects: view → (the fold input it fills, its events)."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    c = connect(f"chdb://{tmp_path_factory.mktemp('cluster-chdb')}")
    yield c
    c.close()


def _single() -> dict[str, list[str]]:
    return {p.name: statements(p.read_text(encoding="utf-8")) for p in migration_files(MIGRATIONS)}


def _parsed(client: Client, sql: str) -> str:
    """ClickHouse's own parse of `sql` (raises on a syntax error)."""
    result: Any = client.query("SELECT formatQuerySingleLine(%(q)s)", parameters={"q": sql})
    return str(result.result_rows[0][0])


def test_every_statement_of_both_flavours_parses(client: Client) -> None:
    single, cluster = _single(), generate(MIGRATIONS, CLUSTER)
    assert list(single) == list(cluster)  # every file carried over, in order
    for name in single:
        for sql in single[name]:
            _parsed(client, sql)
        for sql in cluster[name]:
            parsed = _parsed(client, sql)
            if not parsed.startswith("INSERT"):
                assert " ON CLUSTER cchc" in parsed, (name, parsed)


def test_fact_tables_are_replicated_and_distributed_by_province(client: Client) -> None:
    everything = [
        _parsed(client, s) for sqls in generate(MIGRATIONS, CLUSTER).values() for s in sqls
    ]
    tables = [s for s in everything if s.startswith("CREATE TABLE")]
    distributed = {
        re.search(r"Distributed\('cchc', currentDatabase\(\), (\w+), (.+)\)$", s): s
        for s in tables
        if "ENGINE = Distributed" in s
    }
    assert distributed
    assert None not in distributed
    assert {m.group(2) for m in distributed if m} == {SHARDING_KEY}
    for s in tables:
        if "MergeTree" in s:
            assert re.search(
                r"ENGINE = Replicated\w*MergeTree\('/clickhouse/tables/\{uuid\}/", s
            ), s
    for match in distributed:
        assert match is not None
        local = match.group(1)
        made = (f"CREATE TABLE IF NOT EXISTS {local} ON CLUSTER", "RENAME TABLE ")
        assert any(
            s.startswith(made[0]) or (s.startswith(made[1]) and f" TO {local} ON" in s)
            for s in everything
        ), local


def _unclustered(sql: str, distributed: set[str]) -> str | None:
    """A cluster statement with what makes it a cluster's taken away (None: nothing left)."""
    created = re.match(
        r"CREATE TABLE IF NOT EXISTS (\w+) ON CLUSTER 'cchc' AS \w+\s+ENGINE = Distributed", sql
    )
    if created:
        distributed.add(created.group(1))
        return None
    dropped = re.match(r"DROP TABLE (IF EXISTS )?(\w+) ON CLUSTER", sql)
    if dropped and dropped.group(2) in distributed:
        distributed.discard(dropped.group(2))
        return None
    sql = sql.replace(" ON CLUSTER 'cchc'", "")
    sql = re.sub(
        r"ENGINE = Replicated(\w+)\('/clickhouse/tables/\{uuid\}/[^']*', '\{replica\}'(, )?",
        r"ENGINE = \1(",
        sql,
    )
    sql = re.sub(r"\b(\w+)_local\b", r"\1", sql)
    return sql.replace("replicated_deduplication_window", "non_replicated_deduplication_window")


def _schema(client: Client, database: str) -> dict[str, Any]:
    def rows(query: str) -> list[tuple[Any, ...]]:
        result = client.query(query, parameters={"db": database})
        return [
            tuple(str(v).replace(f"{database}.", "DB.") for v in row) for row in result.result_rows
        ]

    return {
        "tables": rows(
            "SELECT name, engine, sorting_key, partition_key, primary_key, as_select "
            "FROM system.tables WHERE database = %(db)s ORDER BY name"
        ),
        "columns": rows(
            "SELECT table, name, type, default_kind, default_expression, comment "
            "FROM system.columns WHERE database = %(db)s ORDER BY table, position"
        ),
        "settings": rows(
            "SELECT name, extract(engine_full, 'SETTINGS (.*)') FROM system.tables "
            "WHERE database = %(db)s ORDER BY name"
        ),
    }


def _apply_unclustered(client: Client, database: str) -> None:
    """The cluster flavour, with what makes it a cluster's taken away, run in `database`."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(f"USE {database}")
    distributed: set[str] = set()
    for sqls in generate(MIGRATIONS, CLUSTER).values():
        for sql in sqls:
            plain = _unclustered(sql, distributed)
            if plain is not None:
                client.command(plain)
    client.command("USE default")


def test_both_flavours_define_the_same_tables_columns_keys_and_views(client: Client) -> None:
    client.command("CREATE DATABASE IF NOT EXISTS single")
    client.command("USE single")
    for sqls in _single().values():
        for sql in sqls:
            client.command(sql)
    _apply_unclustered(client, "clustered")
    single, clustered = _schema(client, "single"), _schema(client, "clustered")
    assert single["tables"], "the single-node migrations created nothing"
    # The documented difference: the pass-through views of the synchronous fold, and nothing else.
    extra = {
        row[0]: row for row in clustered["tables"] if row[0] not in {t[0] for t in single["tables"]}
    }
    assert set(extra) == set(FOLD_ON_INSERT)
    for view, (target, source) in FOLD_ON_INSERT.items():
        _, engine, *_, as_select = extra[view]
        assert engine == "MaterializedView"
        assert as_select == f"SELECT * FROM DB.{source}", as_select
        made = [s for sqls in generate(MIGRATIONS, CLUSTER).values() for s in sqls if view in s]
        assert len(made) == 1
        assert f" TO {target}_local" in made[0]
        assert made[0].endswith(f"FROM {source}_local")
    # And the deduplication window. A single server keeps no insert tokens (0018); a cluster's
    # replicated tables keep theirs in Keeper — except a table on every node fed by the shards'
    # views (each shard's share of an insert carries the same token): cluster.py `_view`.
    window = re.compile(r",? ?non_replicated_deduplication_window = (\d+)")

    def windows(schema: dict[str, list[Any]]) -> dict[str, int]:
        return {t: int(m.group(1)) for t, s in schema["settings"] if (m := window.search(s))}

    assert set(windows(single).values()) == {0}, (
        "a single-server table keeps an insert deduplication log: see 0018 and docs/platform.md "
        f'"Retried inserts": {windows(single)}'
    )
    assert {t for t, n in windows(clustered).items() if n == 0} == {"report_receipts"}
    assert set(windows(clustered)) - {"report_receipts"} == set(windows(single))
    for part in ("tables", "columns", "settings"):
        rest = [row for row in clustered[part] if row[0] not in FOLD_ON_INSERT]
        mine = single[part]
        if part == "settings":
            rest = [(t, window.sub("", s)) for t, s in rest]
            mine = [(t, window.sub("", s)) for t, s in mine]
        assert rest == mine, part


def test_on_a_cluster_each_shard_folds_its_inserts_with_no_fold_step(client: Client) -> None:
    """The cluster flavour, run as one shard: events inserted into the shard's events table reach
    the dossier states and the counters within the insert, with no fold_log step and no Folder."""
    _apply_unclustered(client, "shard")
    client.command("USE shard")
    try:
        client.command(
            "INSERT INTO dossier_events (province, unit_key, dossier_id, event_id, procedure_code, "
            "status, occurred_at, due_at, channel, online_mode, level, commune_code, agency, "
            "kafka_ts) VALUES "
            "('01', '01', 'D1', 'D1:r', '1.001', 'received', '2026-10-01 02:00:00', "
            "'2026-10-05 02:00:00', 'online', 'full', 'province', '00001', 'a', now64(3)), "
            "('01', '01', 'D1', 'D1:s', '1.001', 'resolved', '2026-10-02 02:00:00', NULL, "
            "'online', 'full', 'province', '00001', 'a', now64(3)), "
            "('01', '01', 'D2', 'D2:r', '1.001', 'received', '2026-10-01 03:00:00', NULL, "
            "'counter', 'none', 'province', '00001', 'a', now64(3))"
        )
        state = client.query(
            "SELECT dossier_id, received_at IS NOT NULL, resolved_at IS NOT NULL "
            "FROM dossier_state ORDER BY dossier_id"
        ).result_rows
        assert [tuple(r) for r in state] == [("D1", True, True), ("D2", True, False)]
        daily = client.query(
            "SELECT sum(received), sum(resolved), sum(resolved_on_time) FROM service_province_daily"
        ).result_rows
        assert tuple(daily[0]) == (2, 1, 1)
        scores = client.query("SELECT count() FROM dossier_scores").result_rows
        assert scores[0][0] == 2
        # and no background fold took part: fold_log holds only the migration's watermarks
        steps = client.query("SELECT count() FROM fold_log WHERE phase = 'begin'").result_rows
        assert steps[0][0] == 0
    finally:
        client.command("USE default")


def test_a_dependent_view_gives_every_share_of_an_insert_the_same_block_id(client: Client) -> None:
    """Why cluster.py turns deduplication off on a table on every node that the shards' views
    write into: a view's block id is made of the insert's token and the ids of the table and
    the view, not of the rows. One server stands in for two shards: the same token, different
    rows, one target keeping a log (as the one Keeper path for every node would)."""
    client.command("CREATE DATABASE IF NOT EXISTS shares")
    client.command("USE shares")
    try:
        client.command("CREATE TABLE src (k String) ENGINE = MergeTree ORDER BY k")
        client.command(
            "CREATE TABLE dst (k String) ENGINE = MergeTree ORDER BY k "
            "SETTINGS non_replicated_deduplication_window = 1000"
        )
        client.command("CREATE MATERIALIZED VIEW mv TO dst AS SELECT k FROM src")
        token = {"insert_deduplication_token": "batch-1"}
        for share in ("shard-1", "shard-2"):
            client.command(f"INSERT INTO src VALUES ('{share}')", settings=token)
        assert client.query("SELECT count() FROM src").result_rows == [(2,)]
        assert client.query("SELECT k FROM dst").result_rows == [("shard-1",)]  # shard-2 lost
        client.command("ALTER TABLE dst MODIFY SETTING non_replicated_deduplication_window = 0")
        client.command("INSERT INTO src VALUES ('shard-3')", settings=token)
        assert client.query("SELECT k FROM dst ORDER BY k").result_rows == [
            ("shard-1",),
            ("shard-3",),
        ]
    finally:
        client.command("DROP DATABASE IF EXISTS shares")
        client.command("USE default")
