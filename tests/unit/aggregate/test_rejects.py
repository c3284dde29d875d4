"""Bisecting a batch to find the rows ClickHouse refuses (sink/rejects.py) and error classes."""

from __future__ import annotations

import pytest
from cchc_aggregate.clickhouse.errors import is_data_error
from cchc_aggregate.sink.rejects import insert_isolating
from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError


class Refused(Exception):
    pass


def fake_table(bad: set[int]) -> tuple[list[tuple[int, int]], list[int], object]:
    calls: list[tuple[int, int]] = []
    stored: list[int] = []

    def insert(lo: int, hi: int) -> None:
        calls.append((lo, hi))
        if bad & set(range(lo, hi)):
            raise Refused(f"rows {lo}-{hi}")
        stored.extend(range(lo, hi))

    return calls, stored, insert


def test_clean_batch_is_one_insert() -> None:
    calls, stored, insert = fake_table(set())
    assert insert_isolating(1000, insert, lambda e: isinstance(e, Refused)) == []  # type: ignore[arg-type]
    assert calls == [(0, 1000)]
    assert stored == list(range(1000))


def test_bad_rows_are_isolated_and_the_rest_inserted() -> None:
    calls, stored, insert = fake_table({3, 700})
    rejected = insert_isolating(1000, insert, lambda e: isinstance(e, Refused))  # type: ignore[arg-type]
    assert [row for row, _ in rejected] == [3, 700]
    assert sorted(stored) == [i for i in range(1000) if i not in (3, 700)]
    assert len(calls) < 50  # logarithmic, not one insert per row


def test_infrastructure_error_propagates_for_a_retry() -> None:
    def insert(lo: int, hi: int) -> None:
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        insert_isolating(10, insert, is_data_error)


def test_error_classes() -> None:
    assert is_data_error(DataError("Unable to create native array for column `rank`"))
    assert is_data_error(DatabaseError("Code: 53. DB::Exception: Type mismatch (TYPE_MISMATCH)"))
    assert not is_data_error(DatabaseError("Code: 241. DB::Exception: Memory limit exceeded"))
    assert not is_data_error(OperationalError("connection refused"))
    assert not is_data_error(OSError("disk"))
