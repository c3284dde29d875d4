"""Migration 0006 on a real chDB: dossier_events rebuilt by year, nothing lost, nothing re-counted.

A database migrated to 0005 gets dossier events through aggregate's handler (so the 0005 views
fold them), then 0006 runs: the rows, the dossier states and the service counters must be what
they were, the table partitioned by year, and the views attached again for the next insert.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cchc_aggregate.clickhouse.client import Store, connect
from cchc_aggregate.clickhouse.fold import fold
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.sink.rows import DOSSIER_COLUMNS, to_columns

from tests.integration.conftest import MIGRATIONS

pytestmark = pytest.mark.connected


def dossier(dossier_id: str, status: str, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "dossier",
        "event_id": f"{dossier_id}:{status}",
        "unit_key": "2025:01",
        "province": "01",
        "dossier_id": dossier_id,
        "procedure_code": "1.004227",
        "status": status,
        "occurred_at": at,
        **extra,
    }


# The columns dossier_events had up to 0007 (0008 added the Bộ chỉ số 766 fields).
_BEFORE_0008 = frozenset({"fee_required", "synced_national", "reused_data", "satisfied"})
_OLD_COLUMNS = ", ".join(c for c in DOSSIER_COLUMNS if c not in _BEFORE_0008)


def feed(db: Store, first_offset: int, *events: dict[str, Any]) -> None:
    """The sink's rows, as aggregate wrote them before 0008 (the columns of the time)."""
    columns = to_columns([(orjson.dumps(e), 0) for e in events]).dossiers
    old = {name: values for name, values in columns.items() if name not in _BEFORE_0008}
    db.insert("dossier_events", old, f"migration-test-{first_offset}")


def snapshot(db: Store) -> dict[str, Any]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return db.query(sql)[1]

    return {
        "events": rows(f"SELECT {_OLD_COLUMNS} FROM dossier_events ORDER BY event_id"),
        "inserted_at": rows("SELECT event_id, inserted_at FROM dossier_events ORDER BY event_id"),
        "states": rows("SELECT * FROM dossier_state ORDER BY dossier_key"),
        "daily": rows(
            "SELECT day, sum(received), sum(resolved), sum(resolved_on_time), sum(resolved_late) "
            "FROM service_daily GROUP BY day ORDER BY day"
        ),
        "open": rows("SELECT sum(open) FROM dossier_open"),
    }


@pytest.fixture
def at_0005(tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    """A chDB migrated up to 0005 only, and a directory holding every migration."""
    early = tmp_path / "early"
    early.mkdir()
    for path in sorted(MIGRATIONS.glob("000[1-5]_*.sql")):
        shutil.copy(path, early)
    client = connect(f"chdb://{tmp_path / 'chdb'}")
    migrate(client, early)
    yield Store(client), MIGRATIONS
    client.close()


def test_0006_keeps_rows_and_states_and_partitions_by_year(
    at_0005: tuple[Store, Path],
) -> None:
    db, migrations = at_0005
    feed(
        db,
        0,
        dossier("A", "received", "2025-11-03T09:00:00+07:00", due_at="2025-11-10T17:00:00+07:00"),
        dossier("B", "received", "2025-12-01T09:00:00+07:00", due_at="2025-12-05T17:00:00+07:00"),
        dossier("A", "resolved", "2026-01-02T10:00:00+07:00"),
    )
    before = snapshot(db)
    assert len(before["events"]) == 3
    assert before["open"] == [(1,)]

    # 0006 first (later migrations, e.g. 0007_dead_letters, come after it and touch nothing here)
    assert migrate(db.client, migrations)[0] == "0006_dossier_events_by_year.sql"

    assert snapshot(db) == before  # copied, not folded into the states a second time
    key = db.query("SELECT partition_key FROM system.tables WHERE name = 'dossier_events'")[1]
    assert key == [("toYear(occurred_at)",)]
    partitions = db.query(
        "SELECT DISTINCT partition FROM system.parts WHERE table = 'dossier_events' AND active "
        "ORDER BY partition"
    )[1]
    assert partitions == [("2025",), ("2026",)]
    columns = db.query(
        "SELECT name, type, default_expression, comment FROM system.columns "
        "WHERE table = 'dossier_events' AND name IN ('province', 'inserted_at') ORDER BY name"
    )[1]
    assert columns == [
        ("inserted_at", "DateTime64(3, 'UTC')", "now64(3)", ""),
        ("province", "LowCardinality(String)", "", "current (2025) province code"),
    ]

    # The views are attached again: B's resolution (late) moves the counters and closes B.
    feed(db, 3, dossier("B", "resolved", "2025-12-08T10:00:00+07:00"))
    fold(db)  # since 0012 the views run from aggregate's background fold, not the insert
    after = snapshot(db)
    assert after["open"] == [(0,)]
    assert sum(r[4] for r in after["daily"]) == sum(r[4] for r in before["daily"]) + 1
