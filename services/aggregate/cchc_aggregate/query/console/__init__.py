"""The web console at ``/`` (docs/console.md): Vietnamese-first pages over the query API's own
rules, served by the same process and port, with nothing fetched from outside — templates and
the stylesheet are in this package, charts are SVG drawn on the server, no JavaScript at all.

Sign-in: a token form (``/dang-nhap``) puts an analyst's or operator's token into an HttpOnly,
SameSite=Strict cookie that counts only on the console's pages (`cchc_runtime.auth.CookieAuth`);
both forms carry a CSRF token (double submit) and refuse a foreign ``Origin``. Each page has the
role its :class:`~.page.Page` says, in `access.ROLES` like every route; the menu lists only the
pages the role may see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cchc_runtime.auth import CookieAuth
from cchc_runtime.lag import LagMonitor
from cchc_runtime.tokens import Principal, Role, TokenStore
from cchc_shared.catalogue import Catalogue, default_catalogue
from cchc_shared.provinces import ProvinceRegistry, default_registry
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.clickhouse.fold import as_of as fold_as_of
from cchc_aggregate.query.console import export
from cchc_aggregate.query.console.i18n import LANGS, Lang, number, pick_lang, text
from cchc_aggregate.query.console.notes import note_text
from cchc_aggregate.query.console.page import Context, Page
from cchc_aggregate.query.console.pages import PAGES

HOME = "/"
LOGIN = "/dang-nhap"
LOGOUT = "/dang-xuat"
STATIC = "/static"
SESSION_COOKIE = "cchc_session"
CSRF_COOKIE = "cchc_csrf"
LANG_COOKIE = "cchc_lang"

OPEN_PATHS = frozenset({LOGIN, LOGOUT, STATIC})
"""The console's routes anyone may reach: the sign-in and sign-out forms and the stylesheet."""

SECURITY_HEADERS = {
    # Nothing but this origin; no script at all; no framing.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def roles(pages: tuple[Page, ...] = PAGES) -> dict[str, Role]:
    """The console's protected routes and their roles (merged into `access.ROLES`)."""
    table: dict[str, Role] = {HOME: Role.ANALYST}
    for page in pages:
        table[page.path] = page.role
        table[page.download_path] = page.role
    return table


def cookie_auth(pages: tuple[Page, ...] = PAGES) -> CookieAuth:
    """Where the session cookie counts: the console's pages and downloads, nothing else."""
    return CookieAuth(SESSION_COOKIE, frozenset(roles(pages)), LOGIN)


_env = Environment(
    loader=PackageLoader("cchc_aggregate.query.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["vnum"] = lambda value, lang, unit="": number(value, lang, unit)
_env.filters["note"] = note_text


def install(
    app: FastAPI,
    store: Store,
    lag: LagMonitor | None,
    tokens: TokenStore,
    catalogue: Catalogue | None = None,
    registry: ProvinceRegistry | None = None,
    pages: tuple[Page, ...] = PAGES,
    reporting_calendar: Path | None = None,
    as_of: Callable[[], dt.datetime | None] | None = None,
    monthly: bool = True,
) -> None:
    """Serve the console on `app`: ``/``, every page and its downloads, sign-in, sign-out.
    ``reporting_calendar``: the settings' (None: the packaged one), as the API's; ``as_of``: the
    figures' freshness, as the API's (None: the fold log's, :func:`fold.as_of`); ``monthly``: the
    scoreboard's months are kept by the fold (False on a cluster), as the API reads them."""
    fresh = as_of or (lambda: fold_as_of(store))
    catalogue = catalogue or default_catalogue()
    registry = registry or default_registry()
    static = resources.files("cchc_aggregate.query.console").joinpath("static")
    app.mount(STATIC, StaticFiles(directory=str(static)), name="console-static")

    def render(request: Request, template: str, status: int = 200, **values: Any) -> Response:
        lang = _lang(request)
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        principal: Principal | None = getattr(request.state, "principal", None)
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        other: Lang = "en" if lang == "vi" else "vi"
        html = _env.get_template(template).render(
            lang=lang,
            t=lambda key, **kw: text(key, lang, **kw),
            menu=[p for p in pages if principal is not None and principal.role.allows(p.role)],
            principal=principal,
            csrf=csrf,
            switch_href=f"{request.url.path}?{urlencode({**params, 'lang': other})}",
            switch_lang=other,
            path=request.url.path,
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        _remember(request, response, csrf, lang)
        return response

    def page_route(page: Page) -> Callable[[Request], Awaitable[Response]]:
        async def show(request: Request) -> Response:
            ctx = _context(request, page)
            view = await asyncio.to_thread(page.build, ctx)
            downloads = {
                table.name: {
                    fmt: f"{page.download_path}?"
                    + urlencode({**ctx.params, "bang": table.name, "dinh-dang": fmt})
                    for fmt in ("csv", "xlsx")
                }
                for table in view.tables
            }
            return render(
                request,
                page.template,
                page=page,
                title=page.title[ctx.lang],
                params=ctx.params,
                view=view,
                tables=view.tables,
                downloads=downloads,
                **view.values,
            )

        return show

    def download_route(page: Page) -> Callable[[Request], Awaitable[Response]]:
        async def download(request: Request) -> Response:
            ctx = _context(request, page)
            name = request.query_params.get("bang", "")
            fmt = request.query_params.get("dinh-dang", "csv")
            if fmt not in ("csv", "xlsx"):
                return Response("dinh-dang: csv | xlsx", status_code=400)
            view = await asyncio.to_thread(page.build, ctx)
            table = view.table(name)
            if table is None:
                return Response(f"no table {name!r} on {page.path}", status_code=404)
            body = (
                export.to_csv(table, ctx.lang) if fmt == "csv" else export.to_xlsx(table, ctx.lang)
            )
            filename = f"{table.name}.{fmt}"
            return Response(
                body,
                media_type=export.CSV_TYPE if fmt == "csv" else export.XLSX_TYPE,
                headers={
                    "Content-Disposition": f'attachment; filename="{filename}"',
                    "X-Content-Type-Options": "nosniff",
                    "Cache-Control": "no-store",
                },
            )

        return download

    def _context(request: Request, page: Page) -> Context:
        principal: Principal = request.state.principal
        params = {
            k: v for k, v in request.query_params.items() if k not in ("lang", "bang", "dinh-dang")
        }
        return Context(
            params,
            _lang(request),
            principal.role,
            store,
            lag,
            catalogue,
            registry,
            reporting_calendar,
            fresh,
            monthly,
        )

    for page in pages:
        app.add_api_route(page.path, page_route(page), methods=["GET"], include_in_schema=False)
        app.add_api_route(
            page.download_path, download_route(page), methods=["GET"], include_in_schema=False
        )

    @app.get(HOME, include_in_schema=False)
    async def home(request: Request) -> Response:
        principal: Principal = request.state.principal
        first = next((p for p in pages if principal.role.allows(p.role)), pages[0])
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(first.path + query, status_code=303)

    @app.get(LOGIN, include_in_schema=False)
    async def login_form(request: Request) -> Response:
        return render(request, "login.html", next=_safe_next(request.query_params.get("next")))

    @app.post(LOGIN, include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        target = _safe_next(form.get("next"))
        if not _same_origin(request) or not _csrf_ok(request, form):
            return render(
                request, "login.html", 400, next=target, error=text("bad_form", _lang(request))
            )
        principal = tokens.verify(form.get("token", "").strip())
        if principal is None:
            return render(
                request, "login.html", 401, next=target, error=text("bad_token", _lang(request))
            )
        if principal.role is Role.PROVINCE:
            return render(
                request,
                "login.html",
                403,
                next=target,
                error=text("province_token", _lang(request)),
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            form["token"].strip(),
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/",
        )
        return response

    @app.post(LOGOUT, include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await _form(request)
        if not _same_origin(request) or not _csrf_ok(request, form):
            return Response("bad form", status_code=400)
        response = RedirectResponse(LOGIN, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _lang(request: Request) -> Lang:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def _remember(request: Request, response: Response, csrf: str, lang: Lang) -> None:
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/"
        )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", secure=_secure(request), path="/")


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:16_384].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    return bool(cookie) and secrets.compare_digest(cookie.encode(), sent.encode())


def _same_origin(request: Request) -> bool:
    """A browser's ``Origin`` (when it sends one) must be this host."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no ``//host``, no scheme): never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target
