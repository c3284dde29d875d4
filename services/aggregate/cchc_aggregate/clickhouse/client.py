"""The ClickHouse connection through clickhouse-connect: chDB embedded (`chdb://`) or a server
(`http://`).

Only aggregate opens the chDB path: one process at a time may (docs/platform.md "Embedded
ClickHouse"). The client is synchronous and serialised; async callers go through
`asyncio.to_thread`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver import options
from clickhouse_connect.driver.client import Client


def _without_pandas() -> None:
    """Tell clickhouse-connect there is no pandas: we never insert or read DataFrames.

    Otherwise its first insert imports pandas (installed for chDB) to check the data's type:
    a 1–2 s stall in the middle of the stream and ~50 MB more resident memory (measured).
    """
    options.pd = None
    options.pd_time_test = None


def is_embedded(dsn: str) -> bool:
    """Whether `dsn` opens chDB in this process (rather than a ClickHouse server)."""
    return dsn.startswith("chdb://")


def connect(dsn: str, **options: Any) -> Client:
    """A client for `dsn`; creates the chDB directory when embedded. `options` go to
    ``clickhouse_connect.get_client`` (e.g. ``settings``, ``autogenerate_session_id``).

    chDB is the ``embedded`` extra of cchc-aggregate (the image leaves it out): without it a
    ``chdb://`` DSN fails here, saying what to do.
    """
    _without_pandas()
    if not is_embedded(dsn):
        return clickhouse_connect.get_client(dsn=dsn, **options)
    Path(dsn.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
    try:
        return clickhouse_connect.get_client(dsn=dsn, **options)
    except ImportError as exc:
        raise ImportError(
            "an embedded (chdb://) ClickHouse needs chDB: install cchc-aggregate[embedded], "
            "or set CCHC_AGGREGATE_DSN to a ClickHouse server (http://…)"
        ) from exc


class Store:
    """Batched column-oriented inserts and read-only queries on one client."""

    def __init__(
        self,
        client: Client,
        insert_settings: dict[str, Any] | None = None,
        inserts: threading.Lock | None = None,
        *,
        deduplicate: bool = False,
    ) -> None:
        """`insert_settings`: sent with every insert (a cluster's:
        `AggregateSettings.cluster_insert_settings`). ``inserts``: held around every insert; a
        fold on another connection shares it to read the newest committed block with no insert
        half-done (:mod:`.fold`).

        ``deduplicate``: send each insert's token so that ClickHouse drops a retried copy — for
        replicated tables only (a cluster), where Keeper records a block's id in the same
        transaction as its part. A plain MergeTree writes the id to its deduplication log
        *before* the part is in place: an insert that fails in between (the rename refused, the
        process killed) leaves the id without the rows, and the retry is dropped as a copy — lost
        (docs/platform.md "Retried inserts"; migration 0018 also turns the tables' log off).
        Without it every insert is stored, a retried batch again, and every reader collapses
        the copies (`FINAL`, `argMax`, `min`, the fold)."""
        self.client = client
        self.deduplicate = deduplicate
        self._store_every: dict[str, Any] | None = None
        self.insert_settings = dict(insert_settings or {})
        self._lock = threading.Lock()
        self.inserts = inserts or threading.Lock()

    def insert(self, table: str, columns: dict[str, list[Any]], token: str) -> None:
        """Insert columns; with ``deduplicate``, a retried insert with the same `token` is
        dropped by ClickHouse."""
        names = list(columns)
        dedup = {"insert_deduplication_token": token} if self.deduplicate else self.no_dedup()
        with self.inserts, self._lock:
            self.client.insert(
                table,
                [columns[n] for n in names],
                column_names=names,
                column_oriented=True,
                settings={**self.insert_settings, **dedup},
            )

    def no_dedup(self) -> dict[str, Any]:
        """The setting that turns deduplication off for one insert: ``deduplicate_insert`` since
        ClickHouse 26 (which ignores ``insert_deduplicate`` by default), ``insert_deduplicate``
        before (which refuses the newer name). Asked once per store: a server upgraded in place
        is asked again when aggregate restarts."""
        if self._store_every is None:
            _, rows = self.query(
                "SELECT count() FROM system.settings WHERE name = 'deduplicate_insert'"
            )
            self._store_every = (
                {"deduplicate_insert": "disable"} if rows[0][0] else {"insert_deduplicate": 0}
            )
        return self._store_every

    def insert_arrow(self, table: str, block: Any) -> None:
        """Insert a pyarrow Table (bench/dossier_scale.py), serialised with everything else."""
        settings = {} if self.deduplicate else self.no_dedup()
        with self.inserts, self._lock:
            self.client.insert_arrow(table, block, settings=settings)

    def command(self, sql: str, settings: dict[str, Any] | None = None) -> None:
        """Run one statement that writes (the background fold: :mod:`.fold`)."""
        with self._lock:
            self.client.command(sql, settings=settings or {})

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
            # 2, not 1: the chDB backend applies per-call settings with SET on its one session and
            # restores them afterwards, and under readonly=1 even that restoring SET is refused —
            # the session would stay read-only and every later insert would fail (found by
            # tests/integration/test_aggregate_store.py). readonly=2 still refuses every write
            # and any change of `readonly` itself.
            settings["readonly"] = 2
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
