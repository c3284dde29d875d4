"""The query API as one app: its routes, JSON errors, and who may call what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cchc_runtime.auth import protect
from cchc_runtime.lag import LagMonitor
from cchc_runtime.tokens import TokenStore
from fastapi import FastAPI

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.sandbox import SqlSandbox
from cchc_aggregate.query import console, dead_letters, mine, routes
from cchc_aggregate.query.access import OPEN_PATHS, ROLES
from cchc_aggregate.settings import AggregateSettings


def create_app(
    store: Store,
    lag: LagMonitor | None,
    settings: AggregateSettings,
    sandbox: SqlSandbox | None = None,
    as_of: Callable[[], dt.datetime | None] | None = None,
) -> FastAPI:
    """The query API on `store`, every route behind its role (`access.ROLES`); analysts' SQL
    runs in `sandbox` (without one, /v1/sql answers 503). ``as_of`` gives the answers'
    freshness (the Folder's; default :func:`routes.answers_as_of`)."""
    as_of = as_of or routes.answers_as_of(store, settings)
    app = FastAPI(
        title="CCHC Pipeline query API",
        description='National administrative-reform figures (docs/contract.md "Query API"). '
        "Every /v1 route needs `Authorization: Bearer <token>` (docs/security.md).",
        version="1",
    )
    routes.install(app, store, lag, settings, sandbox=sandbox, as_of=as_of)
    dead_letters.install(app, store)
    mine.install(app, store)
    tokens = TokenStore(settings.tokens_path())
    console.install(
        app,
        store,
        lag,
        tokens,
        reporting_calendar=settings.reporting_calendar,
        as_of=as_of,
        monthly=not settings.cluster,
    )
    protect(app, tokens, ROLES, open_paths=OPEN_PATHS, cookie=console.cookie_auth())
    return app
