"""The guard of POST /v1/sql (pure): one read statement over the analyst tables, nothing else.

The attacks of issue 14 and their variants; the fuzz and the documented examples are in
tests/security/test_sql_guard_fuzz.py, the same attacks on the running stack in
tests/security/test_sql_sandbox.py.
"""

from __future__ import annotations

import re

import pytest
from cchc_aggregate.query.sql_guard import RefusedSql, check_read_only_sql, check_sql


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  select count() FROM observations FINAL",
        "-- a comment\nSELECT 1",
        "/* block\ncomment */ WITH x AS (SELECT 1) SELECT * FROM x",
        "WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "SELECT 1;",
        "SHOW TABLES",
        "SHOW TABLES LIKE 'v_%'",
        "SHOW CREATE TABLE observations",
        "SHOW COLUMNS FROM provinces",
        "DESCRIBE observations",
        "DESCRIBE TABLE default.observations",
        "DESCRIBE (SELECT 1 AS x)",
        "EXPLAIN SELECT 1",
        "EXPLAIN PLAN SELECT count() FROM observations",
        "EXISTS TABLE observations",
        "SELECT o.value, p.name FROM observations AS o JOIN provinces AS p ON o.province = p.code",
        "SELECT 1 WHERE 1 IN (SELECT 1 FROM provinces)",
        "SELECT * FROM observations WHERE province IN ('01', '02')",
        "SELECT toDate('2025-01-01') + number FROM numbers(365)",
        "SELECT s.settings FROM observations AS s",  # a column named settings is not a clause
        "SELECT quantile(0.9)(value) FROM observations",
        "SELECT 'x; y', 'Hà Nội'",
    ],
)
def test_read_statements_pass(sql: str) -> None:
    check_read_only_sql(sql)


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT 1; CREATE TABLE probe (x UInt8) ENGINE = Memory; SELECT 3", "one statement"),
        ("SELECT 1; DROP TABLE probe; SELECT 2", "one statement"),
        ("SELECT 1; USE system; SELECT 1", "one statement"),
        ("SELECT * FROM file('/proc/self/environ', 'RawBLOB')", "table function file"),
        ("SELECT * FROM file('/etc/passwd', 'CSV')", "table function file"),
        ("SELECT * FROM url('http://127.0.0.1:8081/metrics', 'RawBLOB')", "table function url"),
        ("SELECT * FROM observations o JOIN remote('h', system.one) r ON 1", "remote"),
        ("SELECT 1 UNION ALL SELECT * FROM s3('http://x/b/k.csv')", "table function s3"),
        ("SELECT x FROM observations WHERE x IN (SELECT * FROM url('u', 'CSV'))", "url"),
        ("SELECT * FROM merge('system', '.*')", "table function merge"),
        ("SELECT 'x' INTO OUTFILE 'x.txt'", "could not parse"),
        ("SELECT 1 SETTINGS/**/max_result_rows=0", "SETTINGS clause"),
        ("select 1 settings max_execution_time = 100", "SETTINGS clause"),
        ("SELECT 1 FORMAT JSON", "FORMAT clause"),
        ("SELECT * FROM system.tables", "system.tables is not allowed"),
        ("SELECT * FROM `system`.`one`", "system.one"),
        ("SELECT (SELECT count() FROM system.one)", "system.one"),
        ("SELECT 1 WHERE 1 IN system.one", "system.one"),
        ("SELECT 1 WHERE 1 IN (system.one)", "system.one"),
        ("SELECT * FROM INFORMATION_SCHEMA.TABLES", "not allowed"),
        ("SELECT * FROM schema_migrations", "schema_migrations is not allowed"),
        ("WITH dossier_transitions AS (SELECT * FROM dossier_transitions) SELECT 1", "not allowed"),
        ("SELECT file('/etc/passwd')", "file() is not allowed"),
        ("SELECT dictGet('d', 'a', 1)", "dictGet() is not allowed"),
        ("SELECT joinGet('t', 'v', 1)", "joinGet() is not allowed"),
        ("SELECT getSetting('readonly')", "getSetting() is not allowed"),
        ("SHOW PROCESSLIST", "SHOW"),
        ("SHOW GRANTS", "SHOW"),
        ("SHOW CREATE TABLE system.users", "not allowed"),
        ("EXISTS TABLE system.users", "not allowed"),
        ("EXPLAIN SELECT * FROM file('x')", "file"),
        ("DESCRIBE file('x')", "not allowed"),
        ("DESCRIBE observations SETTINGS describe_include_subcolumns=1", "no SETTINGS"),
        ("DESCRIBE TABLE observations FORMAT JSON", "no SETTINGS or FORMAT"),
        ("SELECT * FROM loop(numbers(3))", "table function loop"),
        ("SELECT * FROM numbers((SELECT count() FROM system.one))", "system.one"),
        ("SELECT 1 WHERE 1 GLOBAL NOT IN system.one", "system.one"),
        ("SELECT * FROM `system.one`", "not allowed"),
        ("SHOW TABLES FROM system", "SHOW"),
        ("SELECT * FROM (SELECT 1 SETTINGS max_result_rows=0)", "SETTINGS clause"),
        ("KILL QUERY WHERE 1", "could not parse"),
        ("DROP TABLE observations", "not DROP"),
        ("INSERT INTO provinces SELECT * FROM provinces", "not INSERT"),
        ("SET insert_deduplicate = 0", "not SET"),
        ("USE system", "not USE"),
        ("OPTIMIZE TABLE observations", "read statements"),
        ("-- only a comment", "an empty statement"),
        ("", "an empty statement"),
    ],
)
def test_anything_else_is_refused_with_the_reason(sql: str, says: str) -> None:
    with pytest.raises(RefusedSql, match=re.escape(says)):
        check_sql(sql)


def test_what_runs_is_what_was_checked() -> None:
    checked = check_sql("SELECT count() FROM observations")
    assert checked.sql == "SELECT count() FROM observations"
    assert checked.streams
    assert not check_sql("SHOW TABLES").streams
