"""The guard of POST /v1/sql: plain read statements only, no SETTINGS clause."""

from __future__ import annotations

import pytest
from cchc_aggregate.query.sql_guard import RefusedSql, check_read_only_sql


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  select count() FROM observations",
        "-- a comment\nSELECT 1",
        "/* block\ncomment */ WITH x AS (SELECT 1) SELECT * FROM x",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "SHOW TABLES",
        "DESCRIBE observations",
        "EXPLAIN SELECT 1",
        "EXISTS TABLE observations",
        "SELECT name FROM system.settings WHERE name = 'max_threads'",
        "SELECT s.settings FROM t AS s",  # a column named settings is not a SETTINGS clause
    ],
)
def test_read_statements_pass(sql: str) -> None:
    check_read_only_sql(sql)


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("DROP TABLE observations", "not DROP"),
        ("INSERT INTO provinces VALUES", "not INSERT"),
        ("SET insert_deduplicate = 0", "not SET"),
        ("USE system", "not USE"),
        ("-- only a comment", "an empty statement"),
        ("", "an empty statement"),
        ("SELECT 1 SETTINGS max_result_rows=0", "SETTINGS clause"),
        ("select 1 settings max_execution_time = 100", "SETTINGS clause"),
    ],
)
def test_anything_else_is_refused_with_the_reason(sql: str, says: str) -> None:
    with pytest.raises(RefusedSql, match=says):
        check_read_only_sql(sql)
