"""Who may call which route of the query API (docs/security.md "Identity").

Every route the query API serves is here with its role, or among the runtime's open routes
(health, readiness, metrics, API docs). A route missing from both is refused by the middleware
(`cchc_runtime.auth`), and tests/security/test_auth.py enumerates the app's routes against this
table, so a new route cannot slip in unprotected.
"""

from __future__ import annotations

from cchc_runtime import auth as runtime_auth
from cchc_runtime.tokens import Role

from cchc_aggregate.query import console

ROLES: dict[str, Role] = {
    "/v1/national": Role.ANALYST,
    "/v1/provinces": Role.ANALYST,
    "/v1/service-index": Role.ANALYST,
    "/v1/scoreboard": Role.ANALYST,
    "/v1/sql": Role.ANALYST,
    "/v1/quality": Role.ANALYST,
    "/v1/reporting": Role.ANALYST,
    "/v1/targets": Role.ANALYST,
    "/v1/pipeline": Role.OPERATOR,
    "/v1/dead-letters": Role.OPERATOR,
    # A province token reads its own province's data only (query/mine.py); no other role may.
    "/v1/my/summary": Role.PROVINCE,
    "/v1/my/dead-letters": Role.PROVINCE,
    # The web console (docs/console.md): `/`, each page and its downloads, with the page's role.
    **console.roles(),
}

OPEN_PATHS: frozenset[str] = runtime_auth.OPEN_PATHS | console.OPEN_PATHS
"""Open on this app: the runtime's (health, metrics, API docs) and the console's sign-in,
sign-out and stylesheet."""
