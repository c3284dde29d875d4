"""The SQL guard under fuzzing, and the documented analyst queries through the real sandbox.

Property: whatever comments, case, whitespace, unicode, nesting (subqueries, JOINs, CTEs, UNION,
IN) surround it, a statement carrying a forbidden construct — a table function that reads
files, URLs or other servers, a table outside the analyst list (system.*), a SETTINGS, FORMAT or
INTO OUTFILE clause, a second statement, a denied function — is refused; the same statements
without it are accepted (so the guard is not simply refusing everything); and no input makes the
guard fail with anything but RefusedSql.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cchc_aggregate.clickhouse.client import connect
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.clickhouse.reference import sync_reference
from cchc_aggregate.clickhouse.sandbox import SqlSandbox
from cchc_aggregate.query.sql_guard import ANALYST_TABLES, RefusedSql, check_sql
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

comments = st.sampled_from(
    [" ", "  ", "\n", "\t", "/**/", "/* ; DROP TABLE x */", " -- ; USE system\n", "/* -- */"]
)
unicode_text = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="'\\"
    ),
    max_size=12,
)
tables = st.sampled_from(sorted(ANALYST_TABLES))


def casing(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.lower(), word.capitalize()])


@st.composite
def forbidden_source(draw: st.DrawFn) -> str:
    """A FROM / JOIN item that reads what an analyst may not."""
    kind = draw(st.sampled_from(["function", "system", "internal"]))
    if kind == "function":
        name = draw(
            st.sampled_from(
                ["file", "url", "remote", "remoteSecure", "s3", "hdfs", "merge", "executable",
                 "mysql", "postgresql", "cluster", "jdbc", "odbc", "generateRandom", "view"]
            )
        )  # fmt: skip
        name = draw(casing(name)) if name.islower() else name
        arg = draw(st.sampled_from(["'/etc/passwd', 'RawBLOB'", "'http://127.0.0.1/x'", "'h'"]))
        return f"{name}({arg})"
    if kind == "system":
        db = draw(st.sampled_from(["system", "`system`", '"system"', "INFORMATION_SCHEMA"]))
        table = draw(st.sampled_from(["tables", "settings", "processes", "users", "one"]))
        return f"{db}.{table}"
    return draw(st.sampled_from(["schema_migrations", "dossier_transitions", "default.nope"]))


@st.composite
def nested(draw: st.DrawFn, source: str) -> str:
    """A SELECT reading `source` somewhere inside: FROM, JOIN, IN, scalar subquery, CTE, UNION."""
    c = draw(comments)
    text = draw(unicode_text)
    table = draw(tables)
    depth = draw(st.integers(0, 3))
    inner = f"SELECT *{c}FROM {source}"
    for _ in range(depth):
        inner = f"SELECT * FROM ({inner}){c}AS t{depth}"
    shape = draw(st.integers(0, 6))
    if shape == 0:
        return inner
    if shape == 1:
        return f"SELECT '{text}' AS x FROM {table} AS a{c}JOIN ({inner}) AS b ON 1"
    if shape == 2:
        return f"SELECT count() FROM {table} WHERE province IN ({inner}){c}"
    if shape == 3:
        return f"SELECT (SELECT count() FROM ({inner})) AS n, '{text}'"
    if shape == 4:
        return f"WITH q AS ({inner}) SELECT * FROM q{c}"
    if shape == 5:
        return f"SELECT 1 FROM {table}{c}UNION ALL {inner}"
    return f"SELECT * FROM {table} AS a{c}, ({inner}) AS b"


@st.composite
def forbidden_statement(draw: st.DrawFn) -> str:
    c = draw(comments)
    table = draw(tables)
    kind = draw(st.sampled_from(["source", "clause", "second", "function"]))
    if kind == "source":
        return draw(nested(draw(forbidden_source())))
    safe = draw(nested(table))
    if kind == "clause":
        clause = draw(
            st.sampled_from(
                [f"SETTINGS{c}max_result_rows{c}={c}0", f"settings{c}readonly = 0",
                 f"FORMAT{c}JSON", f"INTO OUTFILE{c}'x.txt'"]
            )
        )  # fmt: skip
        return f"{safe}{c}{clause}"
    if kind == "second":
        second = draw(
            st.sampled_from(
                ["DROP TABLE observations", "USE system", "CREATE TABLE p (x UInt8) ENGINE=Memory",
                 "SET readonly = 0", "SELECT 1", "KILL QUERY WHERE 1"]
            )
        )  # fmt: skip
        return f"{safe}{c};{c}{second}"
    function = draw(
        st.sampled_from(["file('/etc/passwd')", "dictGet('d', 'a', 1)", "joinGet('t', 'v', 1)",
                         "getSetting('readonly')", "FILE('/proc/self/environ')"])
    )  # fmt: skip
    return f"SELECT {function}{c}FROM ({safe})"


@given(forbidden_statement())
def test_the_guard_never_accepts_a_forbidden_construct(sql: str) -> None:
    with pytest.raises(RefusedSql):
        check_sql(sql)


@given(tables.flatmap(nested))
def test_the_same_shapes_over_analyst_tables_are_accepted(sql: str) -> None:
    check_sql(sql)


@given(st.text(max_size=200))
def test_any_text_is_accepted_or_refused_never_crashes(sql: str) -> None:
    with contextlib.suppress(RefusedSql):
        check_sql(sql)


# -- the documented queries --------------------------------------------------------------------


def documented_queries() -> list[str]:
    """The SQL of README.md and docs/analysts.md: ```sql blocks, `cchc query sql "…"` and
    `/v1/sql -d '{"sql": "…"}'` examples."""
    found: list[str] = []
    for doc in (ROOT / "README.md", ROOT / "docs" / "analysts.md"):
        text = doc.read_text(encoding="utf-8")
        for block in re.findall(r"```sql\n(.*?)```", text, re.S):
            lines = [ln for ln in block.splitlines() if not ln.lstrip().startswith("--")]
            found += [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
        found += re.findall(r'cchc query sql "([^"]+)"', text)
        found += re.findall(r"""/v1/sql -d '\{"sql": "([^"]+)"\}'""", text)
    return found


def test_the_docs_have_examples() -> None:
    assert len(documented_queries()) >= 8


@pytest.mark.parametrize("sql", documented_queries())
def test_documented_queries_pass_the_guard(sql: str) -> None:
    check_sql(sql)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlSandbox]:
    """A migrated chDB (its own path: one per process at a time) and a sandbox on it."""
    dsn = f"chdb://{tmp_path_factory.mktemp('chdb-sandbox')}"
    writer = connect(dsn)
    migrate(writer, ROOT / "deploy" / "clickhouse")
    sync_reference(writer)
    yield SqlSandbox(dsn)
    writer.close()


@pytest.mark.connected
@pytest.mark.parametrize("sql", documented_queries())
def test_documented_queries_run_in_the_sandbox(sandbox: SqlSandbox, sql: str) -> None:
    # Through ClickHouse's own rendering and the guard again: what runs is what was checked.
    columns, _ = sandbox.run(sql)
    assert columns


@pytest.mark.connected
@settings(max_examples=60)
@given(forbidden_statement())
def test_the_sandbox_never_runs_a_forbidden_construct(sandbox: SqlSandbox, sql: str) -> None:
    # The whole path — guard, ClickHouse's own rendering, guard again, readonly=1 session —
    # refuses (RefusedSql) or ClickHouse does (its error): it never answers rows.
    with pytest.raises(Exception) as refused:  # noqa: PT011 - either kind of refusal
        sandbox.run(sql)
    assert isinstance(refused.value, RefusedSql) or "DB::Exception" in str(refused.value)


@pytest.mark.connected
def test_the_sandbox_runs_what_clickhouse_rendered(sandbox: SqlSandbox) -> None:
    # Comments and a trailing ';' are gone, the statement is the same.
    columns, rows = sandbox.run("SELECT count() AS n /* ; DROP TABLE x */ FROM provinces -- ;\n;")
    assert columns == ["n"]
    assert rows[0][0] > 0
    columns, rows = sandbox.run("SELECT 'x;y' AS s, 'Hà Nội' AS t")
    assert rows == [("x;y", "Hà Nội")]
    # ClickHouse's own parser, which renders what runs, takes one statement only.
    with sandbox.session() as (client, _), pytest.raises(Exception, match=r"Multi-statements"):
        sandbox.canonical(client, "SELECT 1; USE system")


@pytest.mark.connected
@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM file('/etc/passwd', 'RawBLOB')", "readonly"),
        ("SELECT * FROM url('http://127.0.0.1:1/x', 'RawBLOB')", "readonly"),
        ("SELECT * FROM remote('127.0.0.1', system.one)", "readonly"),
        ("CREATE TABLE probe (x UInt8) ENGINE = Memory", "readonly"),
        ("DROP TABLE provinces", "readonly"),
        ("INSERT INTO provinces SELECT * FROM provinces", "readonly"),
        ("SET max_result_rows = 0", "readonly"),
        ("SELECT * FROM numbers(10) SETTINGS max_result_rows = 0", "readonly"),
        ("SELECT * FROM numbers(1000000)", "Limit for result exceeded"),
        ("SELECT groupArray(number) FROM numbers(40000000)", "memory limit exceeded"),
    ],
)
def test_the_engine_refuses_on_its_own_what_the_guard_would(
    sandbox: SqlSandbox, sql: str, says: str
) -> None:
    # Past the guard (as if it had a hole): the analyst session itself refuses.
    with sandbox.session() as (client, settings), pytest.raises(Exception) as refused:  # noqa: PT011
        client.query(sql, settings=settings)
    assert says.lower() in str(refused.value).lower()


@pytest.mark.connected
def test_a_session_changed_by_use_dies_with_its_query(sandbox: SqlSandbox) -> None:
    with sandbox.session() as (client, _):
        client.command("USE system")  # past the guard: readonly=1 lets USE through
        assert client.query("SELECT currentDatabase()").result_rows == [("system",)]
    assert sandbox.run("SELECT currentDatabase()")[1] == [("default",)]
