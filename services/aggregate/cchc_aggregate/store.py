"""ClickHouse access through clickhouse-connect: chDB embedded (`chdb://`) or a server (`http://`).

Only aggregate opens the chDB path: one process at a time may (PLATFORM.md). The client is
synchronous and serialised; async callers go through `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client

log = logging.getLogger(__name__)

_MIGRATION = re.compile(r"^(\d{4})_[\w-]+\.sql$")


def connect(dsn: str) -> Client:
    """A client for `dsn`; creates the chDB directory when embedded."""
    if dsn.startswith("chdb://"):
        Path(dsn.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
    return clickhouse_connect.get_client(dsn=dsn)


def _statements(sql: str) -> list[str]:
    """Split a migration file on `;` at line ends (our files keep `;` out of strings)."""
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def migrate(client: Client, directory: Path) -> list[str]:
    """Apply the numbered migrations not applied yet, in order; returns their names. Idempotent."""
    client.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
        "ENGINE = MergeTree ORDER BY version"
    )
    applied = {row[0] for row in client.query("SELECT version FROM schema_migrations").result_rows}
    files = sorted(p for p in directory.iterdir() if _MIGRATION.match(p.name))
    if not files:
        raise FileNotFoundError(f"no migrations (NNNN_name.sql) in {directory}")
    done = []
    for path in files:
        version = int(path.name[:4])
        if version in applied:
            continue
        for statement in _statements(path.read_text(encoding="utf-8")):
            client.command(statement)
        client.insert("schema_migrations", [[version, path.name]], column_names=["version", "name"])
        log.info("applied migration %s", path.name)
        done.append(path.name)
    return done


class Store:
    """Batched column-oriented inserts and read-only queries on one client."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._lock = threading.Lock()

    def insert(self, table: str, columns: dict[str, list[Any]], token: str) -> None:
        """Insert columns; a retried insert with the same `token` is dropped by ClickHouse."""
        names = list(columns)
        with self._lock:
            self.client.insert(
                table,
                [columns[n] for n in names],
                column_names=names,
                column_oriented=True,
                settings={"insert_deduplication_token": token},
            )

    def query(
        self,
        sql: str,
        parameters: dict[str, Any] | None = None,
        *,
        readonly: bool = True,
        max_rows: int | None = None,
        max_seconds: float | None = None,
    ) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
        """Run a query; read-only by default, with optional row and time limits."""
        settings: dict[str, Any] = {}
        if readonly:
            settings["readonly"] = 1
        if max_rows is not None:
            settings["max_result_rows"] = max_rows
            settings["result_overflow_mode"] = "throw"
        if max_seconds is not None:
            settings["max_execution_time"] = max_seconds
        with self._lock:
            result = self.client.query(sql, parameters=parameters, settings=settings)
        return result.column_names, [tuple(r) for r in result.result_rows]

    def ping(self) -> bool:
        """ClickHouse answers."""
        try:
            self.query("SELECT 1")
        except Exception:
            return False
        return True
