"""The console's pages, in menu order (docs/console.md "Adding a page")."""

from __future__ import annotations

from cchc_aggregate.query.console.page import Page
from cchc_aggregate.query.console.pages import overview, provinces, system

PAGES: tuple[Page, ...] = (overview.PAGE, provinces.PAGE, system.PAGE)
