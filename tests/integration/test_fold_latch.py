"""A key-value table latched by a failed file write (docs/runbook.md "The disk under the data is
full or read-only"), on a real chDB.

RocksDB, under the fold's EmbeddedRocksDB tables, refuses every write after one failed file write,
even once the disk is fine, until the table is opened again. The embedded fold then stops (the
service exits and its supervisor restarts it); a new open of the database folds again, redoes
the step that failed, and counts nothing twice.

The latch is made the way a disk fault makes it: the table's directory is immutable while RocksDB
must create a file. Here that is a flush (`OPTIMIZE`) of writes held in memory, so the table
takes the fold's writes row by row (`optimize_for_bulk_insert = 0`) rather than as whole files.
Needs root (chattr); skipped otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cchc_aggregate.clickhouse.client import Store, connect
from cchc_aggregate.clickhouse.errors import is_latched
from cchc_aggregate.clickhouse.fold import Folder, fold
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.clickhouse.reference import sync_reference
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.e2e import faults
from tests.integration.conftest import MIGRATIONS
from tests.integration.test_fold import Unfolded, counters, states
from tests.integration.test_scoreboard import hanoi_october

pytestmark = pytest.mark.connected


@pytest.fixture
def path(tmp_path: Path) -> Path:
    if not faults.can_make_immutable(tmp_path / "probe"):
        pytest.skip("needs root: chattr +i")
    return tmp_path / "chdb"


def _open(path: Path) -> Store:
    return Store(connect(f"chdb://{path}"))


def _latch(store: Store, table: str) -> None:
    """Make `table` refuse every write: a flush while its directory refuses new files."""
    _, rows = store.query(f"SELECT data_paths[1] FROM system.tables WHERE name = '{table}'")
    with faults.immutable([Path(rows[0][0])]), pytest.raises(DatabaseError) as flushed:
        store.command(f"OPTIMIZE TABLE {table}")
    assert is_latched(flushed.value), flushed.value


def _folded_then_latched(store: Store) -> tuple[Any, Any]:
    """A migrated database with Hà Nội's October folded, `dossier_state` latched, and the same
    events inserted again (the fold must write every dossier's state again). Returns the
    counters and states as folded before the latch."""
    migrate(store.client, MIGRATIONS)
    sync_reference(store.client)
    store.command("ALTER TABLE dossier_state MODIFY SETTING optimize_for_bulk_insert = 0")
    feed = Unfolded(store)
    hanoi_october(feed)
    fold(store)
    folded = (counters(store), states(store))
    _latch(store, "dossier_state")
    hanoi_october(feed)
    return folded


def test_a_latched_table_stops_the_embedded_fold_and_a_new_open_folds_again(path: Path) -> None:
    store = _open(path)
    expected = _folded_then_latched(store)
    # The disk is fine again, and still the table refuses: a fold that went on would fail at
    # every tick.
    with pytest.raises(DatabaseError) as refused:
        fold(store)
    assert is_latched(refused.value), refused.value

    failures: list[BaseException] = []
    stopped = threading.Event()
    folder = Folder(store, interval_s=0.05, stop_when_latched=True)
    folder.on_failure = lambda exc: (failures.append(exc), stopped.set())
    folder.start()
    assert stopped.wait(60), "the folder did not stop on the latched table"
    folder._thread.join(10)
    assert not folder._thread.is_alive()
    assert len(failures) == 1
    assert failures[0] is folder.failure
    assert is_latched(failures[0])

    # What the supervisor's restart does: the database opened afresh.
    store.client.close()
    store = _open(path)
    try:
        steps = fold(store)
        assert any(s.recovered for s in steps), "the failed step was not redone"
        assert (counters(store), states(store)) == expected
        assert fold(store) == []
    finally:
        store.client.close()


def test_a_folder_not_told_to_stop_keeps_on_through_errors(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server's fold (stop_when_latched False) logs and tries again at every tick."""
    store = _open(path)
    try:
        _folded_then_latched(store)
        folder = Folder(store, interval_s=0.05)
        calls: list[BaseException] = []
        folder.on_failure = calls.append
        caplog.set_level(logging.ERROR, logger="cchc_aggregate.clickhouse.fold")
        folder.start()
        try:
            deadline = time.monotonic() + 60
            while _failed_ticks(caplog) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _failed_ticks(caplog) >= 5
            assert folder._thread.is_alive()
            assert folder.failure is None
            assert not calls
        finally:
            folder.stop()
    finally:
        store.client.close()


def _failed_ticks(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        r.getMessage() == "fold step failed" and is_latched(r.exc_info[1])
        for r in caplog.records
        if r.exc_info is not None and r.exc_info[1] is not None
    )
