"""Identity on the query API: every route has an owner and a role, enumerated, tried for real.

docs/security.md "Identity". The first test walks the app's own route table, so a route added
without a role fails here; the others send requests to the running stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cchc_aggregate.query import console
from cchc_aggregate.query.access import OPEN_PATHS, ROLES
from cchc_aggregate.query.app import create_app
from cchc_aggregate.query.console.pages import PAGES
from cchc_aggregate.settings import AggregateSettings
from cchc_runtime import auth as runtime_auth
from cchc_runtime.consumer import Consumer
from cchc_runtime.http import http_app
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import StreamProcessor
from cchc_runtime.producer import Output
from cchc_runtime.tokens import Role, TokenStore
from cchc_shared.settings import KafkaSettings
from starlette.routing import Mount, Route

from tests.conftest import RunningStack


def _served_app(tmp_path: Path) -> Any:
    """The aggregate app exactly as served: query routes and the runtime's operations routes."""
    settings = AggregateSettings(tokens_file=tmp_path / "tokens.json")
    metrics = CoreMetrics.create("aggregate")
    processor = StreamProcessor(
        "aggregate",
        Consumer("aggregate", KafkaSettings(), ["t"], "g", metrics),
        Output("127.0.0.1:1", client_id="x"),
        None,  # type: ignore[arg-type]
        metrics,
        max_records=1,
        batch_timeout_ms=1,
    )
    return http_app(processor, create_app(None, None, settings))  # type: ignore[arg-type]


def test_every_route_is_open_by_name_or_has_a_role(tmp_path: Path) -> None:
    app = _served_app(tmp_path)
    paths = {r.path for r in app.routes if isinstance(r, Route | Mount)}
    assert paths - OPEN_PATHS, "no protected route found: the enumeration is broken"
    unprotected = paths - OPEN_PATHS - set(ROLES)
    assert unprotected == set(), f"routes without a role: {unprotected}"
    assert set(ROLES) <= paths, f"roles for routes that do not exist: {set(ROLES) - paths}"
    assert {p for p in paths & OPEN_PATHS if p.startswith("/v1")} == set()
    # The console's pages are routes like the others (docs/console.md): each has its role.
    pages = {p.path for p in PAGES} | {p.download_path for p in PAGES}
    assert pages | {"/"} <= set(ROLES)
    # Open beyond the runtime's: only the console's sign-in/out forms and its stylesheet.
    assert {"/dang-nhap", "/dang-xuat", "/static"} == OPEN_PATHS - runtime_auth.OPEN_PATHS


CONSOLE = frozenset(console.roles())


def _call(stack: RunningStack, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if path == "/v1/sql":
        return httpx.post(f"{stack.api}{path}", json={"sql": "SELECT 1"}, headers=headers)
    if path in CONSOLE:
        return httpx.get(f"{stack.api}{path}", headers=headers, timeout=30, follow_redirects=False)
    if path.startswith("/v1/my/") or path == "/v1/service-index":
        params = {}
    else:
        params = {"indicator": "staff.cut", "period": "2018"}
    return httpx.get(f"{stack.api}{path}", params=params, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def province_token(stack: RunningStack) -> Iterator[str]:
    """A province token (Lào Cai, 15), made as `cchc token create --province 15` makes it."""
    store = TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")
    secret = store.create("auth-test-province-15", Role.PROVINCE, province="15")
    yield secret
    store.revoke("auth-test-province-15")


@pytest.mark.connected
@pytest.mark.parametrize("path", sorted(ROLES))
def test_no_token_or_a_bad_one_is_401(stack: RunningStack, path: str) -> None:
    for token in (None, "cchc_" + "A" * 43, "not-a-token", "cchc_"):
        r = _call(stack, path, token)
        if path in CONSOLE and token is None:
            # A console page without a token: to the sign-in form, never the page.
            assert r.status_code == 303, (token, r.text)
            assert r.headers["location"].startswith("/dang-nhap?next=")
            continue
        assert r.status_code == 401, (token, r.text)
        assert r.json()["error"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.connected
@pytest.mark.parametrize("path", sorted(ROLES))
def test_each_role_gets_exactly_its_routes(
    stack: RunningStack, province_token: str, path: str
) -> None:
    analyst = _call(stack, path, stack.stack.tokens[Role.ANALYST])
    operator = _call(stack, path, stack.stack.tokens[Role.OPERATOR])
    province = _call(stack, path, province_token)
    allowed = {
        Role.ANALYST: {Role.ANALYST, Role.OPERATOR},
        Role.OPERATOR: {Role.OPERATOR},
        Role.PROVINCE: {Role.PROVINCE},
    }[ROLES[path]]
    for role, r in ((Role.ANALYST, analyst), (Role.OPERATOR, operator), (Role.PROVINCE, province)):
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.text)
        else:
            assert r.status_code == 403, (role, r.text)
            if path not in CONSOLE:
                assert r.json()["error"] == "forbidden"


@pytest.mark.connected
def test_a_revoked_province_token_is_401(stack: RunningStack) -> None:
    store = TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")
    secret = store.create("auth-test-province-revoked", Role.PROVINCE, province="79")
    try:
        assert _call(stack, "/v1/my/summary", secret).status_code == 200
    finally:
        store.revoke("auth-test-province-revoked")
    r = _call(stack, "/v1/my/summary", secret)
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


@pytest.mark.connected
def test_health_and_metrics_stay_open(stack: RunningStack) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert httpx.get(f"{stack.api}{path}", timeout=10).status_code == 200, path


@pytest.mark.connected
def test_a_token_created_then_revoked_works_then_does_not(stack: RunningStack) -> None:
    store = TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")
    secret = store.create("security-test", Role.ANALYST)
    try:
        assert _call(stack, "/v1/national", secret).status_code != 401
    finally:
        store.revoke("security-test")
    assert _call(stack, "/v1/national", secret).status_code == 401


@pytest.mark.connected
def test_tokens_never_reach_the_logs_and_stay_owner_only(
    stack: RunningStack, province_token: str
) -> None:
    for path in ROLES:
        _call(stack, path, stack.stack.tokens[Role.OPERATOR])
        _call(stack, path, province_token)
        _call(stack, path, "cchc_" + "B" * 43)
    secrets_dir = stack.config.data_dir.resolve() / "secrets"
    for name in ("tokens.json", "analyst.token", "operator.token"):
        assert (secrets_dir / name).stat().st_mode & 0o077 == 0, name
    logs = "".join(p.read_text() for p in (stack.config.data_dir / "logs").glob("*.log"))
    for token in (*stack.stack.tokens.values(), province_token, "cchc_" + "B" * 43):
        assert token not in logs
