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
from cchc_shared.catalogue import Catalogue, default_catalogue
from cchc_shared.provinces import ProvinceRegistry, default_registry
from clickhouse_connect.driver import options
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, DataError

from cchc_aggregate.steps.reference import reference_tables

log = logging.getLogger(__name__)

_MIGRATION = re.compile(r"^(\d{4})_[\w-]+\.sql$")
_ERROR_CODE = re.compile(r"\bCode:\s*(\d+)")


def _without_pandas() -> None:
    """Tell clickhouse-connect there is no pandas: we never insert or read DataFrames.

    Otherwise its first insert imports pandas (installed for chDB) to check the data's type:
    a 1–2 s stall in the middle of the stream and ~50 MB more resident memory (measured).
    """
    options.pd = None
    options.pd_time_test = None


def connect(dsn: str) -> Client:
    """A client for `dsn`; creates the chDB directory when embedded."""
    _without_pandas()
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


def sync_reference(
    client: Client,
    registry: ProvinceRegistry | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, int]:
    """Replace the dimension tables' rows with the shared reference data; returns row counts.

    Run after :func:`migrate` by the migrate command. Idempotent: each table is emptied and
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


# ClickHouse error codes that mean "this data cannot be stored" (the same rows would fail on every
# retry), as opposed to the server or the connection failing. From ClickHouse's ErrorCodes.cpp.
_DATA_ERROR_CODES = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA
        131,  # TOO_LARGE_STRING_SIZE
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        407,  # DECIMAL_OVERFLOW
    }
)


def is_data_error(exc: BaseException) -> bool:
    """Whether ClickHouse (or the client serialising for it) refused the *rows*, not the write.

    clickhouse-connect raises ``DataError`` when a value does not fit its column type (an
    out-of-range UInt16 rank, a version beyond UInt64); a server answers data errors with one of
    :data:`_DATA_ERROR_CODES`. Everything else — connection refused, timeouts, memory limits, a
    missing table — is infrastructure: the caller retries it forever.
    """
    if isinstance(exc, DataError):
        return True
    if not isinstance(exc, DatabaseError):
        return False
    code = getattr(exc, "code", None)
    if code is None:
        # chDB raises with the code only in the message: "Code: 53. DB::Exception: …".
        found = _ERROR_CODE.search(str(exc))
        code = int(found.group(1)) if found else None
    return code in _DATA_ERROR_CODES


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
