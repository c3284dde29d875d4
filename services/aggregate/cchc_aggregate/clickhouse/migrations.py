"""The migrations runner: applies deploy/clickhouse/NNNN_name.sql in order, each once.

Run by ``python -m cchc_aggregate migrate``, which then reloads the dimension tables
(:func:`cchc_aggregate.clickhouse.reference.sync_reference`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from clickhouse_connect.driver.client import Client

log = logging.getLogger(__name__)

_MIGRATION = re.compile(r"^(\d{4})_[\w-]+\.sql$")


def statements(sql: str) -> list[str]:
    """Split a migration file on `;` at line ends (our files keep `;` out of strings)."""
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def migration_files(directory: Path) -> list[Path]:
    """The numbered migration files of `directory`, in order."""
    files = sorted(p for p in directory.iterdir() if _MIGRATION.match(p.name))
    if not files:
        raise FileNotFoundError(f"no migrations (NNNN_name.sql) in {directory}")
    return files


def migrate(client: Client, directory: Path, cluster: str | None = None) -> list[str]:
    """Apply the numbered migrations not applied yet, in order; returns their names. Idempotent.

    `cluster`: apply their cluster flavour (`cchc_aggregate.clickhouse.cluster`, every DDL
    `ON CLUSTER` that cluster) instead, the bookkeeping table replicated to every node.
    """
    from cchc_aggregate.clickhouse.cluster import Cluster, generate

    if cluster is None:
        client.command(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
            "ENGINE = MergeTree ORDER BY version"
        )
        flavour = {
            p.name: statements(p.read_text(encoding="utf-8")) for p in migration_files(directory)
        }
    else:
        database = client.query("SELECT currentDatabase()").result_rows[0][0]
        client.command(
            f"CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER '{cluster}' "
            "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
            f"ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/schema_migrations', "
            "'{replica}') ORDER BY version"
        )
        flavour = generate(directory, Cluster(cluster, database))
    applied = {row[0] for row in client.query("SELECT version FROM schema_migrations").result_rows}
    done = []
    for name, sqls in flavour.items():
        version = int(name[:4])
        if version in applied:
            continue
        for statement in sqls:
            client.command(statement)
        path = directory / name
        client.insert("schema_migrations", [[version, path.name]], column_names=["version", "name"])
        log.info("applied migration %s", path.name)
        done.append(path.name)
    return done
