"""Who may call which route of ingest's HTTP side (docs/security.md "Province push").

Every route ingest serves is here with its role, or among the runtime's open routes (health,
readiness, metrics, API docs). A route missing from both is refused by the middleware
(`cchc_runtime.auth`), and tests/security/test_province_push.py enumerates the app's routes
against this table, so a new route cannot slip in unprotected.
"""

from __future__ import annotations

from cchc_runtime.tokens import Role

ROLES: dict[str, Role] = {
    "/v1/events": Role.PROVINCE,
    "/v1/validate": Role.PROVINCE,
}
