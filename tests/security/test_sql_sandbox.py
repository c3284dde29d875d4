"""Every SQL attack of issue 14, through HTTP, on the running stack (real broker, real chDB).

Each was seen working before the sandbox (the issue's list). Here each must be refused (400
``bad_sql``, 413, 429) or harmless, and the pipeline must go on: inserts land, /readyz answers.
No timing is asserted beyond generous bounds: CI is a loaded 2-core machine.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests import events
from tests.conftest import RunningStack, wait_until

pytestmark = pytest.mark.connected


def post_sql(stack: RunningStack, sql: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        f"{stack.api}/v1/sql", json={"sql": sql}, headers=stack.headers(), timeout=timeout
    )


def refused(stack: RunningStack, sql: str) -> str:
    """POST `sql`; assert a 400 bad_sql; return its detail."""
    r = post_sql(stack, sql)
    assert r.status_code == 400, (sql, r.status_code, r.text[:500])
    body = r.json()
    assert body["error"] == "bad_sql", body
    assert body["detail"]
    return str(body["detail"])


def push_and_see(stack: RunningStack, event_id: str, timeout_s: float = 60) -> None:
    """Push a report on cchc.raw.14 and wait until SQL sees it (inserts still land)."""
    stack.send("cchc.raw.14", [orjson.dumps(events.report(event_id=event_id))], key=b"sec")
    wait_until(
        lambda: (
            stack.sql(f"SELECT count() FROM observations WHERE event_id = '{event_id}'") == [[1]]
        ),
        timeout_s=timeout_s,
    )


def table_names(stack: RunningStack) -> set[str]:
    return {row[0] for row in stack.sql("SHOW TABLES")}


def aggregate_memory_mb(stack: RunningStack, field: str = "VmRSS") -> float:
    """The aggregate process's resident memory (VmRSS) or its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{aggregate_pid(stack)}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def aggregate_pid(stack: RunningStack) -> int:
    proc = stack.stack.services["aggregate"].proc
    assert proc is not None
    return proc.pid


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; CREATE TABLE probe (x UInt8) ENGINE = Memory; SELECT 3",
        "SELECT 1; CREATE TABLE probe (x UInt8) ENGINE = Memory",
        "CREATE TABLE probe (x UInt8) ENGINE = Memory",
        "SELECT 1 /* ; */; CREATE TABLE probe (x UInt8) ENGINE = Memory -- ;",
    ],
)
def test_multi_statement_create_is_refused_and_creates_nothing(
    stack: RunningStack, sql: str
) -> None:
    detail = refused(stack, sql)
    assert "one statement" in detail or "not CREATE" in detail, detail
    assert "probe" not in table_names(stack)


def test_multi_statement_drop_is_refused_and_drops_nothing(stack: RunningStack) -> None:
    before = table_names(stack)
    assert "provinces" in before
    refused(stack, "SELECT 1; DROP TABLE provinces; SELECT 2")
    refused(stack, "DROP TABLE provinces")
    assert table_names(stack) == before
    assert stack.sql("SELECT count() FROM provinces")[0][0] > 0


@pytest.mark.parametrize(
    ("sql", "secret"),
    [
        ("SELECT * FROM file('/proc/self/environ', 'RawBLOB')", "CCHC_"),
        ("SELECT * FROM file('/etc/passwd', 'RawBLOB')", "root:"),
        ("SELECT file('/etc/passwd')", "root:"),
        ("SELECT 1 FROM provinces WHERE name IN (SELECT * FROM file('/etc/passwd'))", "root:"),
        ("SELECT * FROM provinces AS p JOIN file('/etc/passwd', 'CSV') AS f ON 1", "root:"),
    ],
)
def test_files_cannot_be_read(stack: RunningStack, sql: str, secret: str) -> None:
    assert secret not in refused(stack, sql)


def test_urls_and_other_servers_cannot_be_read(stack: RunningStack) -> None:
    metrics = f"{stack.api}/metrics"
    for sql in (
        f"SELECT * FROM url('{metrics}', 'RawBLOB')",
        "SELECT * FROM remote('127.0.0.1', system.one)",
        "SELECT * FROM s3('http://127.0.0.1:1/bucket/key.csv')",
    ):
        assert "cchc_" not in refused(stack, sql)


def test_into_outfile_writes_no_file(stack: RunningStack, tmp_path: Path) -> None:
    name = f"probe-{uuid.uuid4().hex}.txt"
    target = tmp_path / name
    for sql in (f"SELECT 'x' INTO OUTFILE '{name}'", f"SELECT 'x' INTO OUTFILE '{target}'"):
        refused(stack, sql)
    assert not target.exists()
    assert not Path(name).exists()
    assert not (stack.config.data_dir / name).exists()


def test_settings_clause_cannot_lift_the_limits(stack: RunningStack) -> None:
    for sql in (
        "SELECT * FROM numbers(1000000) SETTINGS/**/max_result_rows=0",
        "SELECT * FROM numbers(1000000) SETTINGS max_result_rows=0, result_overflow_mode='break'",
        "SELECT * FROM numbers(1000000) settings\nmax_result_rows = 0",
        "SET max_result_rows = 0",
    ):
        refused(stack, sql)
    # Without the clause the engine's own row limit refuses a million rows.
    assert "Limit for result exceeded" in refused(stack, "SELECT * FROM numbers(1000000)")


def test_use_system_cannot_break_the_writer(stack: RunningStack) -> None:
    for sql in ("SELECT 1; USE system; SELECT 1", "USE system"):
        refused(stack, sql)
    # Another analyst's session is untouched, and so is the writer's: inserts still land.
    assert stack.sql("SELECT currentDatabase()") == [["default"]]
    push_and_see(stack, f"sec-after-use-{uuid.uuid4().hex[:8]}")


def test_system_tables_are_not_readable(stack: RunningStack) -> None:
    for sql in (
        "SELECT * FROM system.settings",
        "SELECT * FROM system.processes",
        "SELECT (SELECT count() FROM system.tables)",
        "SELECT 1 WHERE 1 IN system.one",
        "SELECT * FROM INFORMATION_SCHEMA.TABLES",
        "SHOW PROCESSLIST",
        "SELECT * FROM schema_migrations",
    ):
        refused(stack, sql)


def test_huge_result_is_refused_and_memory_does_not_balloon(stack: RunningStack) -> None:
    stack.sql("SELECT 1")  # the reader's path is warm
    before = aggregate_memory_mb(stack)
    # Reset the peak (VmHWM) to the current size: our own child process, so we may (where the
    # kernel refuses, only the return to the baseline below is checked).
    try:
        Path(f"/proc/{aggregate_pid(stack)}/clear_refs").write_text("5")
        peak_known = True
    except OSError:
        peak_known = False
    for sql in (
        "SELECT repeat('x', 1000000) FROM numbers(300)",  # 300 MB, one constant column
        "SELECT repeat('x', 3000) FROM numbers(100000)",  # 300 MB in two blocks
        "SELECT repeat(toString(number), 1000) FROM numbers(100000)",  # ~100 MB, not constant
    ):
        detail = refused(stack, sql)
        assert any(
            says in detail
            for says in ("memory limit exceeded", "Limit for result exceeded", "larger than")
        ), detail
    peak = aggregate_memory_mb(stack, "VmHWM")
    # Before the sandbox one such query took aggregate from 534 MB to 2.9 GB, and it stayed at
    # 2.1 GB. Now a block of 8,192 rows at a time is held (≤ the 256 MB memory limit), and what
    # the engine's allocator keeps is given back within seconds. Measured: 355 → peak 674 MB,
    # 385 MB 15 s later.
    if peak_known:
        assert peak - before < 1000, (before, peak)
    wait_until(lambda: aggregate_memory_mb(stack) - before < 300, timeout_s=90, interval_s=2)


def test_oversized_body_is_refused_before_it_is_read(stack: RunningStack) -> None:
    pad = b"x" * (32 * 1024 * 1024)
    body = b'{"sql": "SELECT 1", "pad": "' + pad + b'"}'
    r = httpx.post(
        f"{stack.api}/v1/sql",
        content=body,
        headers={"content-type": "application/json", **stack.headers()},
        timeout=60,
    )
    assert r.status_code == 413, r.text[:300]
    assert r.json()["error"] == "too_large"

    def chunks() -> Any:  # no Content-Length: the streamed body is counted
        for _ in range(32):
            yield b"x" * (1024 * 1024)

    r = httpx.post(f"{stack.api}/v1/sql", content=chunks(), headers=stack.headers(), timeout=60)
    assert r.status_code == 413, r.text[:300]
    # A normal request still works afterwards.
    assert stack.sql("SELECT 1") == [[1]]


def test_concurrent_slow_queries_get_429_and_never_block_the_pipeline(
    stack: RunningStack,
) -> None:
    # ~9 s each (sleep does not use CPU); the stack allows 2 analyst queries at once.
    slow = " UNION ALL ".join(["SELECT sleep(3)"] * 6)
    answers: list[httpx.Response] = []

    def ask() -> None:
        answers.append(post_sql(stack, slow, timeout=120))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.2)
    try:
        time.sleep(0.5)
        # While they run: readiness answers and an event pushed now reaches ClickHouse.
        started = time.monotonic()
        ready = httpx.get(f"{stack.api}/readyz", timeout=15)
        assert ready.status_code == 200, ready.text
        event_id = f"sec-during-slow-{uuid.uuid4().hex[:8]}"
        stack.send("cchc.raw.14", [orjson.dumps(events.report(event_id=event_id))], key=b"sec")
        stack.drained(timeout_s=15)  # aggregate's lag is zero: the insert is done
        assert time.monotonic() - started < 15
    finally:
        for t in threads:
            t.join(120)
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(429) >= 1, statuses
    for r in answers:
        if r.status_code == 429:
            assert r.json()["error"] == "busy"
            assert int(r.headers["retry-after"]) >= 1
    assert stack.sql(f"SELECT count() FROM observations WHERE event_id = '{event_id}'") == [[1]]


def test_documented_queries_still_work(stack: RunningStack) -> None:
    for sql in (
        "SELECT indicator, period, province, value FROM observations FINAL LIMIT 5",
        "SELECT * FROM v_national_sum LIMIT 5",
        "SELECT * FROM v_national_ratio WHERE indicator = 'dossiers.late_rate'",
        "SHOW TABLES",
        "DESCRIBE observations",
        "EXISTS TABLE observations",
        "EXPLAIN SELECT count() FROM observations",
        "SELECT toDate('2025-01-01') + number AS day FROM numbers(3)",
        "SELECT 'Hà Nội; Huế' AS s -- a comment",
    ):
        r = post_sql(stack, sql)
        assert r.status_code == 200, (sql, r.text[:300])
