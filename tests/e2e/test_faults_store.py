"""The store under aggregate fails, on the real stack: ClickHouse refuses every insert (its
tables' directories made immutable), then its disk fills up. Each time aggregate backs off and
says it is not ready, the alerts' inputs move, nothing is committed past what was stored, and
once the store works again every event lands exactly once.

The faults are made in the file system under chDB's data path, from outside aggregate's
process — the insert really fails inside ClickHouse, nothing is mocked. A read-only remount is
not possible while chDB holds its files open (`mount: … busy`, measured), so "read-only" is the
immutable attribute on the tables' directories: ClickHouse sees the same refusal (EPERM on
creating a part's directory). Needs root (chattr, mount): skipped otherwise, with the reason.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import RunningStack, start_stack, wait_until
from tests.e2e import faults
from tests.load import dossier_events, landed

pytestmark = pytest.mark.connected

DISK_BYTES = 256 * 1024 * 1024


@pytest.fixture(scope="module")
def store_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack whose chDB data path is a file system of its own (a tmpfs) that can fill up."""
    data = tmp_path_factory.mktemp("faults")
    if not faults.can_make_immutable(data / "probe"):
        pytest.skip("needs root on a file system with the immutable attribute (chattr +i)")
    if not faults.can_mount():
        pytest.skip("needs to mount a tmpfs (root with CAP_SYS_ADMIN)")
    clickhouse = data / "clickhouse"
    clickhouse.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(clickhouse)], check=True
    )
    try:
        running = start_stack(data)
        try:
            yield running
        finally:
            running.stack.stop()
    finally:
        subprocess.run(["umount", "-l", str(clickhouse)], check=False)


def _push(running: RunningStack, prefix: str, n: int) -> None:
    producer = running.producer()
    try:
        for topic, key, value in dossier_events(prefix, n):
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close()


def _held_back(running: RunningStack, n: int) -> bool:
    """Ingest and normalize are done and aggregate has exactly `n` records uncommitted."""
    lag = running.stack.lag()
    return lag["ingest"] == 0 and lag["normalize"] == 0 and lag["aggregate"] == n


def _errors(running: RunningStack) -> float:
    return faults.count(running, "cchc_clickhouse_insert_errors_total")


def _outage_then_recovery(
    running: RunningStack, prefix: str, n: int, fault: object, reason: str
) -> None:
    base, _ = landed(running, "")
    errors = faults.count(running, "cchc_clickhouse_insert_errors_total")
    rows = faults.count(running, "cchc_clickhouse_insert_rows_total")
    restarts = faults.count(running, "cchc_service_restarts_total")
    with fault:  # type: ignore[attr-defined]
        _push(running, prefix, n)
        # aggregate keeps retrying the batch with backoff and says it is not ready …
        wait_until(lambda: not faults.ready(running), 60)
        wait_until(lambda: _errors(running) >= errors + 2, 60)
        # … what the alerts read: errors rising, not a row landing (CchcClickHouseWritesFailing)
        assert faults.count(running, "cchc_clickhouse_insert_rows_total") == rows
        # … and nothing is committed past what was stored: every record of the outage is
        # still aggregate's lag, and none of it is in ClickHouse.
        wait_until(lambda: _held_back(running, n), 60)
        assert landed(running, "")[0] == base
        assert faults.ready(running) is False
    log = (running.config.data_dir / "logs" / "aggregate.log").read_text(errors="replace")
    assert reason in log
    assert "writing a batch of" in log
    assert "retry" in log
    # The store works again: the retried batch lands, the rest follows, exactly once.
    running.drained(timeout_s=120)
    assert landed(running, prefix) == (n, n)
    assert landed(running, "")[0] == base + n
    wait_until(lambda: faults.ready(running), 60)
    # Waited out in place (an outage), not crashed and restarted (a bug).
    assert faults.count(running, "cchc_service_restarts_total") == restarts


def test_clickhouse_refusing_inserts_delays_but_loses_and_doubles_nothing(
    store_stack: RunningStack,
) -> None:
    _push(store_stack, "before-ro", 500)
    store_stack.drained()
    assert landed(store_stack, "before-ro") == (500, 500)
    clickhouse = store_stack.config.data_dir / "clickhouse"
    _outage_then_recovery(
        store_stack,
        "ro",
        2000,
        faults.immutable(faults.table_dirs(clickhouse)),
        "Operation not permitted",
    )


def test_a_full_disk_delays_but_loses_corrupts_and_doubles_nothing(
    store_stack: RunningStack,
) -> None:
    _push(store_stack, "before-full", 500)
    store_stack.drained()
    clickhouse = store_stack.config.data_dir / "clickhouse"
    _outage_then_recovery(store_stack, "full", 2000, faults.full(clickhouse), "NOT_ENOUGH_SPACE")
    total = landed(store_stack, "")[0]
    # No corruption: with the stack stopped, ClickHouse itself checks every part of the tables
    # written during the outage, none was detached as broken, and the count is the same.
    store_stack.stack.stop()
    check = subprocess.run(
        [sys.executable, "-c", CHECK, str(store_stack.config.data_dir / "clickhouse")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.split() == ["1", "1", "0", str(total)], check.stderr


CHECK = """
import sys, clickhouse_connect
c = clickhouse_connect.get_client(dsn="chdb://" + sys.argv[1])
for table in ("dossier_events", "observations"):
    rows = c.query(f"CHECK TABLE {table}", settings={"check_query_single_value_result": 1})
    print(int(rows.result_rows[0][0]))
print(c.query("SELECT count() FROM system.detached_parts").result_rows[0][0])
print(c.query("SELECT count() FROM dossier_events FINAL").result_rows[0][0])
"""
