"""Migrations 0008/0009 on a real chDB holding dossiers from before them: the scoreboard state
is backfilled from the stored events, and the views carry on from it.

A database migrated to 0007 gets old-style dossier events (paid_online, digitized and
result_electronic existed; the 766 fields did not), then 0008 and 0009 run.
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
from cchc_aggregate.sink.writer import ClickHouseSink, SinkMetrics
from cchc_runtime.records import Record
from prometheus_client import CollectorRegistry

from tests.integration.conftest import MIGRATIONS
from tests.integration.test_migration_0006 import dossier, feed

pytestmark = pytest.mark.connected


@pytest.fixture
def at_0007(tmp_path: Path) -> Iterator[Store]:
    early = tmp_path / "early"
    early.mkdir()
    for path in sorted(MIGRATIONS.glob("000[1-7]_*.sql")):
        shutil.copy(path, early)
    client = connect(f"chdb://{tmp_path / 'chdb'}")
    migrate(client, early)
    yield Store(client)
    client.close()


def counters(db: Store) -> dict[str, Any]:
    sql = (
        "SELECT sum(received), sum(r_digitized), sum(resolved), sum(res_electronic), "
        "sum(res_unsatisfied), sum(res_timed), sum(res_seconds) FROM scoreboard_province_daily"
    )
    return dict(
        zip(
            ("received", "digitized", "resolved", "electronic", "unsatisfied", "timed", "seconds"),
            db.query(sql)[1][0],
            strict=True,
        )
    )


def test_0009_backfills_the_scoreboard_from_stored_dossiers(at_0007: Store) -> None:
    db = at_0007
    feed(
        db,
        0,
        dossier(
            "A",
            "received",
            "2025-11-03T09:00:00+07:00",
            due_at="2025-11-10T17:00:00+07:00",
            channel="online",
            digitized=True,
        ),
        dossier(
            "B",
            "received",
            "2025-11-04T09:00:00+07:00",
            due_at="2025-11-10T17:00:00+07:00",
            channel="in_person",
        ),
        dossier("A", "resolved", "2025-11-05T09:00:00+07:00", result_electronic=True),
    )
    done = migrate(db.client, MIGRATIONS)
    assert done[:2] == ["0008_scoreboard_events.sql", "0009_scoreboard_state.sql"]
    # A: received, digitised, resolved after 48 h with an electronic result; B: received.
    assert counters(db) == {
        "received": 2,
        "digitized": 1,
        "resolved": 1,
        "electronic": 1,
        "unsatisfied": 0,
        "timed": 1,
        "seconds": 48 * 3600,
    }
    state = db.query(
        "SELECT dossier_id, channel, digitized, result_electronic, satisfied FROM dossier_scores "
        "ORDER BY dossier_id"
    )[1]
    assert state == [("A", "online", True, True, None), ("B", "in_person", False, False, None)]
    # The views go on from the backfilled state: A rated unsatisfied now, its resolution counted
    # once still; B's duplicate receipt changes nothing.
    records = [
        dossier("A", "rated", "2025-11-06T09:00:00+07:00", satisfied=False),
        dossier(
            "B",
            "received",
            "2025-11-04T09:00:00+07:00",
            due_at="2025-11-10T17:00:00+07:00",
            channel="in_person",
        ),
    ]
    ClickHouseSink(db, SinkMetrics.create(CollectorRegistry())).write(
        [
            Record("cchc.normalized", 0, 10 + i, None, orjson.dumps(r), 0)
            for i, r in enumerate(records)
        ]
    )
    fold(db)  # since 0012 the views run from aggregate's background fold, not the insert
    after = counters(db)
    assert (after["received"], after["resolved"], after["unsatisfied"]) == (2, 1, 1)
