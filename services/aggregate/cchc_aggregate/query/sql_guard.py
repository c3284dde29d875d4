"""The guard in front of ``POST /v1/sql``: what an analyst's statement may do. Pure.

The statement is *parsed* (sqlglot's ClickHouse dialect) and its tree walked — subqueries,
JOINs, CTEs, UNIONs, IN operands, function calls — never matched with patterns. The sandbox
(:mod:`cchc_aggregate.clickhouse.sandbox`) runs the guard twice: on the text as sent, then on
ClickHouse's own rendering of it (``formatQuerySingleLine``, ClickHouse's parser: one statement
or an error), which is the text it runs — so the guard and the engine judge the same statement.
The engine enforces the rest (``readonly=1``, limits) whatever the guard lets through:
docs/security.md "SQL sandbox".

Allowed: exactly one SELECT (WITH … SELECT, UNION / INTERSECT / EXCEPT of SELECTs), SHOW TABLES,
SHOW CREATE / SHOW COLUMNS of an analyst table, DESCRIBE, EXISTS, EXPLAIN of a SELECT. Only the
analyst tables and views (:data:`ANALYST_TABLES`), in the default database; no table function but
``numbers`` (:data:`TABLE_FUNCTIONS`); no SETTINGS, FORMAT or INTO OUTFILE clause; none of the
functions that read files, dictionaries, Join tables or server internals (:data:`DENIED_FUNCTIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

# The tables and views an analyst reads (deploy/clickhouse/NNNN_*.sql): facts, reference
# dimensions, the national views and the service-index tables docs/analysts.md "Service index"
# queries by hand (service_daily, service_province_daily, dossier_open, dossier_state), the
# Bộ chỉ số 766 inputs, states and counters (docs/analysts.md "Bộ chỉ số 766"). Not
# listed: the materialized views (*_mv: their definitions, not data), the *_transitions tables
# (Null tables: nothing stored), schema_migrations, and every other database (system,
# information_schema: the server, its users, queries, settings and logs).
# Keep in step with deploy/clickhouse/access/ (tests/unit/aggregate/test_clickhouse_access.py).
ANALYST_TABLES = frozenset(
    {
        "observations",
        "dossier_events",
        "provinces",
        "province_lineage",
        "indicators",
        "service_daily",
        "service_province_daily",
        "dossier_open",
        "dossier_state",
        "feedback_events",
        "procedure_events",
        "dossier_scores",
        "scoreboard_daily",
        "scoreboard_province_daily",
        "scoreboard_procedure_daily",
        "scoreboard_receipt_days",
        "scoreboard_monthly",
        "feedback_state",
        "feedback_daily",
        "scoreboard_criteria",
        "v_observations_latest",
        "v_province_figures",
        "v_national_sum",
        "v_ratio_units",
        "v_national_ratio",
        "v_national_mean",
    }
)
DATABASE = "default"

# Table functions an analyst may use. Only `numbers` (and literal rows, `VALUES` / `values(…)`,
# which sqlglot reads as such, not as a table): it reads nothing (no file, network, other
# server or table — unlike file, url, remote, s3, hdfs, mysql, postgresql, jdbc, odbc, executable,
# merge (any table by regexp), cluster, dictionary, view, input …), and what it can cost — a huge
# series — is bounded by the engine's row, byte, memory and time limits like any other query.
# It builds calendars and series (`SELECT toDate('2025-01-01') + number FROM numbers(365)`).
TABLE_FUNCTIONS = frozenset({"numbers"})

# Scalar functions refused: they read files (file, catboostEvaluate), other tables by name
# outside the table check (joinGet, dictGet*, hasColumnInTable), the server's internals or
# secrets (getClientHTTPHeader, getServerSetting, getMergeTreeSetting, showCertificate,
# filesystem*), or write somewhere (logTrace, generateSerialID). Names compared lowercase;
# anything starting with one of DENIED_PREFIXES too.
DENIED_FUNCTIONS = frozenset(
    {
        "file",
        "catboostevaluate",
        "modelevaluate",
        "evalmlmethod",
        "naivebayesclassifier",
        "joinget",
        "joingetornull",
        "hascolumnintable",
        "getclienthttpheader",
        "getserversetting",
        "getmergetreesetting",
        "getmacro",
        "showcertificate",
        "logtrace",
        "generateserialid",
        "currentprofiles",
        "currentroles",
        "enabledroles",
        "defaultroles",
        "addresstoline",
        "addresstolinewithinlines",
        "addresstosymbol",
        "demangle",
        "trace",
        "getsetting",
        "getsettingordefault",
        "globalvariable",
        "zookeepersessionuptime",
        "input",
        "tcpport",
        "getserverport",
    }
)
DENIED_PREFIXES = ("dict", "filesystem", "__")

# What a SELECT may not carry: a SETTINGS clause would lift the limits for that query, FORMAT
# would change what the driver decodes, INTO OUTFILE writes a file (chDB runs it in-process, even
# under readonly=1: measured).
_DENIED_CLAUSES = {"settings": "a SETTINGS clause", "format": "a FORMAT clause", "into": "INTO"}

# Statement nodes that may never appear anywhere in the tree.
_STATEMENTS = (
    exp.Insert,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Delete,
    exp.Update,
    exp.Use,
    exp.Set,
    exp.Command,
    exp.Merge,
    exp.Into,
    exp.Copy,
    exp.TruncateTable,
    exp.Kill,
    exp.Commit,
    exp.Rollback,
    exp.Transaction,
    exp.LoadData,
    exp.Pragma,
)

_COMMANDS = frozenset({"SHOW", "EXPLAIN", "EXISTS"})
_EXPLAIN_KINDS = frozenset({"AST", "SYNTAX", "PLAN", "PIPELINE", "ESTIMATE"})


class RefusedSql(ValueError):
    """A statement the SQL endpoint does not run; the message says why."""


@dataclass(frozen=True)
class Checked:
    """A statement the guard accepts. ``streams``: a SELECT, whose result may be read in blocks
    (chDB streams only SELECTs); SHOW / DESCRIBE / EXISTS / EXPLAIN answer a few rows."""

    sql: str
    streams: bool


def check_sql(sql: str) -> Checked:
    """Accept one read statement over the analyst tables, or raise :class:`RefusedSql`."""
    tokens = _tokenize(sql)
    if tokens and tokens[0].text.upper() in _COMMANDS:
        # sqlglot reads what follows SHOW / EXPLAIN / EXISTS as one opaque string: read it again
        offset = tokens[0].end + 1
        tokens = [tokens[0], *_tokenize(sql[offset:], offset)]
    while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
        tokens.pop()
    if not tokens:
        raise RefusedSql("an empty statement")
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise RefusedSql("exactly one statement is allowed (found ';' between statements)")
    first = tokens[0].text.upper()
    if first == "SHOW":
        _check_show(tokens)
        return Checked(sql, streams=False)
    if first == "EXISTS":
        _check_exists(tokens)
        return Checked(sql, streams=False)
    if first == "EXPLAIN":
        _check_explain(sql, tokens)
        return Checked(sql, streams=False)
    tree = _parse_one(sql)
    if isinstance(tree, exp.Describe):
        if tree.args.get("expressions"):
            raise RefusedSql("DESCRIBE takes a table or a subquery only: no SETTINGS or FORMAT")
        _check_tree(tree)
        return Checked(sql, streams=False)
    if not isinstance(tree, exp.Query):
        raise RefusedSql(
            "only read statements are allowed (SELECT, WITH … SELECT, SHOW, DESCRIBE, EXISTS, "
            f"EXPLAIN), not {_statement_name(tree)}"
        )
    _check_tree(tree)
    return Checked(sql, streams=True)


def check_read_only_sql(sql: str) -> None:
    """Raise :class:`RefusedSql` unless :func:`check_sql` accepts `sql`."""
    check_sql(sql)


# -- parsing -----------------------------------------------------------------------------------


def _tokenize(sql: str, offset: int = 0) -> list[Token]:
    try:
        tokens = sqlglot.Dialect.get_or_raise("clickhouse").tokenize(sql)
    except TokenError as exc:
        raise RefusedSql(f"could not read the statement: {_first_line(exc)}") from None
    for token in tokens:  # positions in the whole statement
        token.start += offset
        token.end += offset
    return tokens


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _parse_one(sql: str) -> exp.Expr:
    try:
        trees = [t for t in sqlglot.parse(sql, read="clickhouse") if t is not None]
    except (ParseError, TokenError) as exc:
        raise RefusedSql(f"could not parse the statement: {_first_line(exc)}") from None
    if not trees:
        raise RefusedSql("an empty statement")
    if len(trees) != 1:
        raise RefusedSql("exactly one statement is allowed")
    return trees[0]


def _statement_name(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    return tree.key.upper()


# -- the tree ----------------------------------------------------------------------------------


def _check_tree(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            raise RefusedSql(f"only read statements are allowed, not {_statement_name(node)}")
        if isinstance(node, exp.Query):
            for arg, what in _DENIED_CLAUSES.items():
                if node.args.get(arg) is not None:
                    raise RefusedSql(f"{what} is not allowed: limits and output are fixed")
        if isinstance(node, exp.SettingsProperty | exp.FileFormatProperty):
            raise RefusedSql(
                "a SETTINGS or FORMAT clause is not allowed: limits and output are fixed"
            )
        if isinstance(node, exp.Table):
            _check_table(node)
        elif isinstance(node, exp.In):
            _check_in(node)
        elif isinstance(node, exp.Func):
            _check_function(node)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    return node.sql_name()


def _check_function(node: exp.Func) -> None:
    name = _function_name(node).lower()
    if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
        raise RefusedSql(f"function {_function_name(node)}() is not allowed")


def _check_table(table: exp.Table) -> None:
    source = table.this
    if isinstance(source, exp.Func):  # a table function: FROM file(…), FROM numbers(…)
        name = _function_name(source)
        if name.lower() not in TABLE_FUNCTIONS or table.args.get("db") or table.args.get("catalog"):
            allowed = ", ".join(sorted(TABLE_FUNCTIONS))
            raise RefusedSql(f"table function {name}() is not allowed (allowed: {allowed})")
        return
    if not isinstance(source, exp.Identifier):
        if source is None or isinstance(source, exp.Query | exp.Subquery):
            return  # a subquery as a table: its own nodes are walked
        raise RefusedSql(f"unsupported table expression: {source.sql('clickhouse')[:100]}")
    _check_table_name(table.catalog, table.db, table.name, table)


def _check_table_name(catalog: str, db: str, name: str, at: exp.Expr) -> None:
    if catalog or (db and db != DATABASE):
        raise RefusedSql(
            f"table {'.'.join(p for p in (catalog, db, name) if p)} is not allowed: analysts read "
            f"only {', '.join(sorted(ANALYST_TABLES))}"
        )
    if not db and name in _ctes_in_scope(at):
        return
    if name not in ANALYST_TABLES:
        raise RefusedSql(
            f"table {name} is not allowed: analysts read only {', '.join(sorted(ANALYST_TABLES))}"
        )


def _ctes_in_scope(node: exp.Expr) -> set[str]:
    """Names of the CTEs `node` may refer to: every CTE of an enclosing WITH, except that inside
    a CTE's own body only the CTEs defined before it count (so `WITH dossier_state AS (SELECT *
    FROM dossier_state)` still reads the real table and is refused)."""
    names: set[str] = set()
    child: exp.Expr | None = node
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = list(parent.expressions)
            for i, cte in enumerate(ctes):
                if cte is child:
                    names.update(c.alias for c in ctes[:i])
                    break
        elif isinstance(parent, exp.Query):
            with_ = parent.args.get("with_") or parent.args.get("with")
            if isinstance(with_, exp.With) and child is not with_:
                names.update(c.alias for c in with_.expressions)
        child, parent = parent, parent.parent
    return names


def _check_in(node: exp.In) -> None:
    """`x IN t` and `x IN db.t` read table t (ClickHouse); check it like a FROM."""
    operands = [node.args.get("field"), *(node.args.get("expressions") or [])]
    for operand in operands:
        while isinstance(operand, exp.Paren):
            operand = operand.this
        if isinstance(operand, exp.Column):
            parts = [p.name for p in operand.parts]
            catalog, db, name = ([""] * 3 + parts)[-3:]
            _check_table_name(catalog, db, name, node)


# -- SHOW, EXISTS, EXPLAIN (sqlglot keeps them as raw commands: read by tokens) ----------------


def _words(tokens: list[Token]) -> list[str]:
    return [t.text.upper() for t in tokens]


def _name_at(tokens: list[Token], i: int) -> tuple[str, int]:
    """A table name `name` or `db.name` starting at tokens[i]; returns it and the next index."""
    parts = [tokens[i].text]
    i += 1
    while i + 1 < len(tokens) + 1 and i < len(tokens) and tokens[i].token_type == TokenType.DOT:
        parts.append(tokens[i + 1].text)
        i += 2
    if len(parts) > 2:
        raise RefusedSql(f"table {'.'.join(parts)} is not allowed")
    db, name = parts if len(parts) == 2 else ["", parts[0]]
    return (f"{db}.{name}" if db else name), i


def _check_named(tokens: list[Token], i: int, what: str) -> None:
    if i >= len(tokens):
        raise RefusedSql(f"{what}: which table?")
    name, end = _name_at(tokens, i)
    if end != len(tokens):
        raise RefusedSql(f"{what}: only a table name may follow")
    db, _, table = name.rpartition(".")
    _check_table_name("", db, table, exp.Table())


def _check_show(tokens: list[Token]) -> None:
    words = _words(tokens)
    if words == ["SHOW", "TABLES"]:
        return
    if (
        words[:2] == ["SHOW", "TABLES"]
        and len(tokens) == 4
        and words[2] in {"LIKE", "ILIKE"}
        and tokens[3].token_type == TokenType.STRING
    ):
        return
    if words[:2] == ["SHOW", "CREATE"]:
        i = 3 if len(words) > 2 and words[2] in {"TABLE", "VIEW"} else 2
        _check_named(tokens, i, "SHOW CREATE")
        return
    if words[:3] in (["SHOW", "COLUMNS", "FROM"], ["SHOW", "COLUMNS", "IN"]):
        _check_named(tokens, 3, "SHOW COLUMNS")
        return
    raise RefusedSql(
        "of the SHOW statements only SHOW TABLES [LIKE '…'], SHOW CREATE TABLE <table> and "
        "SHOW COLUMNS FROM <table> are allowed"
    )


def _check_exists(tokens: list[Token]) -> None:
    words = _words(tokens)
    i = 2 if len(words) > 1 and words[1] in {"TABLE", "VIEW"} else 1
    _check_named(tokens, i, "EXISTS")


def _check_explain(sql: str, tokens: list[Token]) -> None:
    i = 1
    words = _words(tokens)
    if i < len(words) and words[i] in _EXPLAIN_KINDS:
        i += 1
    elif words[i : i + 2] == ["QUERY", "TREE"]:
        i += 2
    if i >= len(tokens):
        raise RefusedSql("EXPLAIN: of what?")
    inner = sql[tokens[i].start :]
    checked = check_sql(inner)
    if not checked.streams:
        raise RefusedSql("EXPLAIN is allowed only of a SELECT")
