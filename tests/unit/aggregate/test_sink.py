"""The sink's batch identity and its split of errors into outages (retry) and bugs (stop)."""

from __future__ import annotations

import pytest
from cchc_aggregate.clickhouse.errors import is_transient
from cchc_aggregate.sink.tokens import dedup_token
from cchc_runtime.records import Record
from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError


def test_dedup_token_is_the_same_for_a_redelivered_batch_in_any_order() -> None:
    def rec(partition: int, offset: int) -> Record:
        return Record("cchc.normalized", partition, offset, None, b"", 0)

    first = [rec(0, 10), rec(0, 11), rec(1, 5)]
    assert dedup_token(first) == dedup_token(list(reversed(first)))
    assert dedup_token(first) == "cchc.normalized/0/10-11@0-0;cchc.normalized/1/5-5@0-0"
    assert dedup_token(first) != dedup_token([rec(0, 10), rec(0, 12), rec(1, 5)])


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (OperationalError("connection refused"), True),
        (ConnectionResetError(), True),
        (DatabaseError("Code: 252. DB::Exception: Too many parts"), True),
        (DatabaseError("Code: 241. DB::Exception: Memory limit (total) exceeded"), True),
        # The data's disk full, read-only or immutable (messages as chDB 4.4 words them).
        (
            DatabaseError("Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space"),
            True,
        ),
        (
            DatabaseError(
                "Code: 1001. DB::Exception: std::__1::filesystem::filesystem_error: filesystem "
                'error: in create_directories: Operation not permitted ["/d/tmp_insert_all_2_2_0"]'
            ),
            True,
        ),
        (DatabaseError("Code: 1001. DB::Exception: std::bad_alloc"), False),
        # A bug or a broken session: retrying the same insert forever would hide it.
        (
            DatabaseError("Code: 60. DB::Exception: Table system.dossier_events does not exist"),
            False,
        ),
        (DatabaseError("Code: 16. DB::Exception: No such column"), False),
        (DataError("value out of range"), False),  # refused rows: bisected, not retried
        (KeyError("x"), False),
    ],
)
def test_outages_are_transient_bugs_are_not(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_a_new_batch_at_old_offsets_gets_a_new_token() -> None:
    """The embedded broker restarts its offsets at 0 while ClickHouse remembers old tokens."""
    before = [Record("cchc.normalized", 0, o, None, b"", 1_700_000_000_000 + o) for o in range(3)]
    after = [Record("cchc.normalized", 0, o, None, b"", 1_800_000_000_000 + o) for o in range(3)]
    assert dedup_token(before) != dedup_token(after)
    assert dedup_token(after) == dedup_token(list(after))
