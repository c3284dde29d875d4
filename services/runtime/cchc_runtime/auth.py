"""Bearer-token access to a service's HTTP routes, deny by default.

Every route of an app is either listed as open (health, readiness, metrics, the API docs) or
given the role it requires; `protect` installs a middleware that matches each request to its
route and checks the `Authorization: Bearer <token>` header against the token store. A route
nobody gave a role is refused (403) — a new route cannot slip in unprotected — and the test
suite enumerates the app's routes against the same table.

Answers: 401 with `WWW-Authenticate: Bearer` when the token is missing, malformed, unknown or
revoked; 403 when its role is not enough. The token itself is never logged.

A browser console (the query API's, docs/console.md) signs in once and carries the token in an
HttpOnly, SameSite=Strict cookie (:class:`CookieAuth`). The cookie counts only on the console's
own pages, never on the API routes, and only for reading (the console's pages are GET routes; its
sign-in and sign-out forms check a CSRF token of their own): a page asked for without a valid
cookie redirects to the sign-in form instead of answering 401.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from cchc_runtime.tokens import Principal, Role, TokenStore

OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
)
"""Routes anyone may call: liveness, readiness, Prometheus (bound to loopback / the internal
network), and the API's own description (which holds no data)."""


@dataclass(frozen=True)
class CookieAuth:
    """The token may also come in cookie ``name``, on ``paths`` only (a console's pages, read
    only): without it those paths redirect to ``login_path``."""

    name: str
    paths: frozenset[str]
    login_path: str


class BearerAuth:
    """ASGI middleware: each request's route must be open, or its token's role must allow it."""

    def __init__(
        self,
        app: ASGIApp,
        router: Router,
        store: TokenStore,
        roles: Mapping[str, Role],
        open_paths: frozenset[str] = OPEN_PATHS,
        cookie: CookieAuth | None = None,
    ) -> None:
        self.app = app
        self.router = router
        self.store = store
        self.roles = dict(roles)
        self.open_paths = open_paths
        self.cookie = cookie

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
        page = self.cookie is not None and path in self.cookie.paths
        principal = self._principal(scope)
        header = any(name == b"authorization" for name, _ in scope.get("headers", []))
        if page and not header and scope.get("method") in ("GET", "HEAD"):
            principal = self._cookie_principal(scope)
        if principal is None and page and not header:
            assert self.cookie is not None
            target = quote(scope.get("path", "/"), safe="/")
            await RedirectResponse(f"{self.cookie.login_path}?next={target}", status_code=303)(
                scope, receive, send
            )
            return
        if principal is not None and page and not principal.role.allows(required):
            await HTMLResponse(
                f"<!doctype html><html lang=vi><title>403</title><p>Vai trò {principal.role} "
                f"không được xem trang này ({required}). <a href=/>Về trang đầu</a></p>",
                status_code=403,
            )(scope, receive, send)
            return
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

    def _cookie_principal(self, scope: Scope) -> Principal | None:
        assert self.cookie is not None
        prefix = self.cookie.name.encode() + b"="
        for name, value in scope.get("headers", []):
            if name != b"cookie":
                continue
            for part in value.split(b";"):
                part = part.strip()
                if part.startswith(prefix):
                    token = part[len(prefix) :].decode("latin-1").strip()
                    return self.store.verify(token) if token else None
        return None

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
    open_paths: frozenset[str] = OPEN_PATHS,
    cookie: CookieAuth | None = None,
) -> None:
    """Require `roles[path]` on every route of `app` but the open ones; describe it in OpenAPI
    (`token_help`: how to get a token, as the API description shows it). With `cookie`, its
    paths also accept the token from that cookie (a browser console's pages)."""
    app.add_middleware(
        BearerAuth,
        router=app.router,
        store=store,
        roles=roles,
        open_paths=open_paths,
        cookie=cookie,
    )
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
