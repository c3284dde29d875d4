"""The guard in front of ``POST /v1/sql``: only plain read statements, no SETTINGS clause. Pure."""

from __future__ import annotations

import re

_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_READ_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"})
# A query-level SETTINGS clause could lift the row and time limits for that query.
_SETTINGS_CLAUSE = re.compile(r"(?<![.\w])SETTINGS\s+\w+\s*=", re.I)


class RefusedSql(ValueError):
    """A statement the SQL endpoint does not run; the message says why."""


def check_read_only_sql(sql: str) -> None:
    """Refuse anything but a plain read statement; raises :class:`RefusedSql`.

    ClickHouse's ``readonly`` setting refuses writes, but not ``SET``/``USE``, which would change
    the session the writer shares on chDB, nor a ``SETTINGS`` clause lifting the limits.
    """
    body = _LEADING_COMMENTS.sub("", sql, count=1).lstrip("(")
    keyword = re.split(r"[\s(]", body, maxsplit=1)[0].upper()
    if keyword not in _READ_STATEMENTS:
        raise RefusedSql(
            f"only read statements are allowed ({', '.join(sorted(_READ_STATEMENTS))}), "
            f"not {keyword or 'an empty statement'}"
        )
    if _SETTINGS_CLAUSE.search(sql):
        raise RefusedSql("a SETTINGS clause is not allowed: limits are fixed")
