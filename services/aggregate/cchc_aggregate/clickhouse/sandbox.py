"""The analysts' own path to ClickHouse (``POST /v1/sql``): never the writer's session.

Each query runs in a session of its own, opened read-only with the limits set *before*
``readonly=1`` (after it ClickHouse refuses any change of setting, from a SETTINGS clause or a
SET alike), and thrown away after the query:

* **chDB** (``chdb://path``): a new clickhouse-connect client on the same path in this process —
  its own chDB connection handle, so its own session (``USE``, ``SET``) and its own lock. Measured:
  ``USE system`` on such a handle leaves the writer's handle in ``default``, and an insert on the
  writer's handle takes milliseconds while a reader's query sleeps. Opening one costs ~15 ms.
* **a server** (``http(s)://``): one HTTP client without a session id (each request its own
  session) and the limits as request settings; in production its DSN names the ``cchc_analyst``
  user, whose settings profile pins the same limits (deploy/clickhouse/access/).

The statement is checked by the guard (:mod:`cchc_aggregate.query.sql_guard`), rendered by
ClickHouse's own parser (``formatQuerySingleLine``: one statement or an error), checked again in
that form, and that form is what runs. A SELECT's result is read block by block and given up once
it passes ``max_result_bytes``: ClickHouse's own result-bytes limit counts a constant column once
per block, not once per row (``SELECT repeat('x', 1000000) FROM numbers(300)`` passes it: measured),
so the memory limit bounds one block and this budget the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from clickhouse_connect.driver.client import Client

from cchc_aggregate.clickhouse.client import connect, is_embedded
from cchc_aggregate.query.sql_guard import Checked, RefusedSql, check_sql

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SqlLimits:
    """What one analyst query may use; enforced by ClickHouse (and the result size here too)."""

    max_rows: int = 100_000
    max_result_bytes: int = 64 * 1024 * 1024
    max_memory_bytes: int = 256 * 1024 * 1024
    max_seconds: float = 10.0
    # Rows per block: the result is checked block by block (here and by ClickHouse), so a block
    # is what may pass the byte limit before it is refused. ClickHouse's default (65,409) let
    # one block of `repeat('x', 3000)` hold 196 MB; 8,192 (one MergeTree granule) holds 25 MB.
    # Measured on chDB, aggregate's peak for the three attacks of tests/security: 1.4 → 0.67 GB.
    block_rows: int = 8192

    def settings(self) -> dict[str, Any]:
        """Session settings, in the order they must be applied: ``readonly`` last."""
        return {
            "max_block_size": self.block_rows,
            "max_result_rows": self.max_rows,
            "max_result_bytes": self.max_result_bytes,
            "result_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_bytes,
            # "10", not "10.0": compared as text with a server profile's value
            "max_execution_time": int(self.max_seconds)
            if float(self.max_seconds).is_integer()
            else self.max_seconds,
            "readonly": 1,
        }


class ResultTooLarge(RefusedSql):
    """The result passed the byte budget."""


def _size(value: Any) -> int:
    """Roughly how many bytes a decoded value holds."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return 8 + sum(_size(v) for v in value)
    if isinstance(value, dict):
        return 8 + sum(_size(k) + _size(v) for k, v in value.items())
    return 8


class SqlSandbox:
    """Runs analysts' statements, each in a fresh read-only session with limits."""

    def __init__(self, dsn: str, limits: SqlLimits | None = None) -> None:
        self.dsn = dsn
        self.limits = limits or SqlLimits()
        self._embedded = is_embedded(dsn)
        self._server: Client | None = None
        self._server_settings: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- sessions --------------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[tuple[Client, dict[str, Any]]]:
        """A client whose session nothing else uses, and the settings to send per query."""
        if self._embedded:
            client = connect(self.dsn, settings=self.limits.settings())
            try:
                yield client, {}
            finally:
                client.close()
            return
        with self._lock:
            if self._server is None:
                self._server = connect(self.dsn, autogenerate_session_id=False)
                self._server_settings = self._settings_for(self._server)
        yield self._server, self._server_settings

    def _settings_for(self, client: Client) -> dict[str, Any]:
        """The limits to send with each request; those a server profile pins are left to it."""
        wanted = self.limits.settings()
        sent: dict[str, Any] = {}
        for name, value in wanted.items():
            known = client.server_settings.get(name)
            if known is not None and known.readonly:
                if known.value != str(value):
                    log.warning(
                        "ClickHouse pins %s=%s for the analyst user (the app asks %s): the "
                        "server's profile applies",
                        name,
                        known.value,
                        value,
                    )
                continue
            sent[name] = value
        return sent

    # -- queries ---------------------------------------------------------------------------
    def canonical(self, client: Client, sql: str, settings: dict[str, Any] | None = None) -> str:
        """ClickHouse's own rendering of `sql` (its parser: exactly one statement, or an error)."""
        result = client.query(
            "SELECT formatQuerySingleLine({q:String})", parameters={"q": sql}, settings=settings
        )
        return str(result.result_rows[0][0])

    def run(self, sql: str) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
        """Check and run one analyst statement; raises RefusedSql or the driver's error."""
        check_sql(sql)
        with self.session() as (client, settings):
            checked = check_sql(self.canonical(client, sql, settings))
            if not checked.streams:
                result = client.query(checked.sql, settings=settings)
                return result.column_names, [tuple(r) for r in result.result_rows]
            return self._stream(client, checked, settings)

    def _stream(
        self, client: Client, checked: Checked, settings: dict[str, Any]
    ) -> tuple[Sequence[str], list[tuple[Any, ...]]]:
        budget = self.limits.max_result_bytes
        rows: list[tuple[Any, ...]] = []
        used = 0
        with client.query_row_block_stream(checked.sql, settings=settings) as stream:
            columns = list(stream.source.column_names)
            for block in stream:
                for row in block:
                    used += sum(_size(v) for v in row)
                    rows.append(tuple(row))
                if used > budget:
                    rows.clear()
                    raise ResultTooLarge(
                        f"the result is larger than {budget // (1024 * 1024)} MB: "
                        "aggregate, select fewer columns or add a LIMIT"
                    )
        if not columns:  # an empty result streams no block, hence no names: ask for them
            described = client.query(f"DESCRIBE ({checked.sql})", settings=settings)
            columns = [str(row[0]) for row in described.result_rows]
        return columns, rows

    def close(self) -> None:
        """Close the server client, if any (chDB sessions close after each query)."""
        if self._server is not None:
            self._server.close()
            self._server = None
