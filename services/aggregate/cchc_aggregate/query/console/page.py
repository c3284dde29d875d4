"""What a console page is: a path, a title in both languages, a role, and a function from the
request's question to what the page shows (docs/console.md "Adding a page").

A page module defines one :data:`Page` and a template of the same name under ``templates/``;
listing it in :data:`cchc_aggregate.query.console.pages.PAGES` is all it takes: the console
serves it at ``page.path``, its downloads at ``page.path + "/tai-ve"``, puts it in the menu of the
roles that may see it, and gives both routes its role in the access table (`access.ROLES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cchc_runtime.lag import LagMonitor
from cchc_runtime.tokens import Role
from cchc_shared.catalogue import Catalogue
from cchc_shared.provinces import ProvinceRegistry

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.console.i18n import Lang, number, text


@dataclass(frozen=True)
class Column:
    """A table column: its header key in :data:`~.i18n.MESSAGES` (or a literal header), and
    whether its cells are numbers (right-aligned, formatted, numeric in CSV/XLSX)."""

    key: str
    numeric: bool = False
    unit: str = ""


@dataclass
class Table:
    """A table a page shows and offers for download as CSV and XLSX (``name`` in the URL)."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: list[list[Any]]

    def headers(self, lang: Lang) -> list[str]:
        return [text(c.key, lang) if c.key in _known() else c.key for c in self.columns]

    def cells(self, lang: Lang) -> list[list[str]]:
        """The rows as the page shows them (numbers in ``lang``'s format)."""
        return [
            [
                number(v, lang, c.unit)
                if c.numeric and v is not None
                else ("—" if v is None else str(v))
                for c, v in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]


def _known() -> Mapping[str, object]:
    from cchc_aggregate.query.console.i18n import MESSAGES

    return MESSAGES


@dataclass(frozen=True)
class Context:
    """What a page's function gets: the request's query parameters, language, the caller's role,
    and the API's own data sources."""

    params: Mapping[str, str]
    lang: Lang
    role: Role
    store: Store
    lag: LagMonitor | None
    catalogue: Catalogue
    registry: ProvinceRegistry
    reporting_calendar: Path | None = None
    """The settings' reporting calendar (None: the packaged one), as GET /v1/reporting reads."""
    as_of: Callable[[], datetime | None] | None = None
    """The figures' freshness, as the API's ``as_of`` (None: not known here)."""
    monthly: bool = True
    """The scoreboard's months are kept by the fold (a single server), as the API reads them."""

    def t(self, key: str, **values: object) -> str:
        return text(key, self.lang, **values)

    def n(self, value: float | None, unit: str = "") -> str:
        return number(value, self.lang, unit)


@dataclass
class View:
    """A page's answer: the template's variables and the tables it shows (downloadable)."""

    values: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


@dataclass(frozen=True)
class Page:
    """One console page. ``build`` runs in a worker thread (it may query ClickHouse)."""

    path: str
    template: str
    title: Mapping[Lang, str]
    role: Role
    build: Callable[[Context], View]

    @property
    def download_path(self) -> str:
        return self.path.rstrip("/") + "/tai-ve"
