"""Bearer-token access to a service's HTTP routes, deny by default.

Every route of an app is either listed as open (health, readiness, metrics, the API docs) or
given the role it requires; `protect` installs a middleware that matches each request to its
route and checks the `Authorization: Bearer <token>` header against the token store. A route
nobody gave a role is refused (403) — a new route cannot slip in unprotected — and the test
suite enumerates the app's routes against the same table.

Answers: 401 with `WWW-Authenticate: Bearer` when the token is missing, malformed, unknown or
revoked; 403 when its role is not enough. The token itself is never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from cchc_runtime.tokens import Principal, Role, TokenStore

OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
"""Routes anyone may call: liveness, readiness, Prometheus (bound to loopback / the internal
network), and the API's own description (which holds no data)."""


class BearerAuth:
    """ASGI middleware: each request's route must be open, or its token's role must allow it."""

    def __init__(
        self,
        app: ASGIApp,
        router: Router,
        store: TokenStore,
        roles: Mapping[str, Role],
        open_paths: frozenset[str] = OPEN_PATHS,
    ) -> None:
        self.app = app
        self.router = router
        self.store = store
        self.roles = dict(roles)
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = self._route_path(scope)
        if path is None or path in self.open_paths:
            await self.app(scope, receive, send)  # no such route (404), or open
            return
        required = self.roles.get(path)
        if required is None:
            await _deny(scope, receive, send, 403, "forbidden", "this route has no declared role")
            return
        principal = self._principal(scope)
        if principal is None:
            await _deny(
                scope,
                receive,
                send,
                401,
                "unauthorized",
                "send Authorization: Bearer <token> with a valid token (cchc token create)",
            )
            return
        if not principal.role.allows(required):
            await _deny(
                scope, receive, send, 403, "forbidden", f"this route needs the {required} role"
            )
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _route_path(self, scope: Scope) -> str | None:
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match != Match.NONE:
                return str(getattr(route, "path", ""))
        return None

    def _principal(self, scope: Scope) -> Principal | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    return self.store.verify(token.strip())
                return None
        return None


async def _deny(
    scope: Scope, receive: Receive, send: Send, status: int, error: str, detail: str
) -> None:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    response = JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)
    await response(scope, receive, send)


def protect(
    app: FastAPI,
    store: TokenStore,
    roles: Mapping[str, Role],
    token_help: str = "A token from `cchc token create --role analyst|operator`.",
) -> None:
    """Require `roles[path]` on every route of `app` but the open ones; describe it in OpenAPI
    (`token_help`: how to get a token, as the API description shows it)."""
    app.add_middleware(BearerAuth, router=app.router, store=store, roles=roles)
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": token_help,
        }
        for path, operations in schema.get("paths", {}).items():
            role = roles.get(path)
            for operation in operations.values():
                if role is not None:
                    operation["security"] = [{"bearer": []}]
                    operation["description"] = (
                        f"Role: **{role}**.\n\n{operation.get('description', '')}".strip()
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
