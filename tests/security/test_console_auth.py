"""The console's sign-in on the running stack (docs/console.md "Sign-in"): the cookie is
HttpOnly and SameSite=Strict, counts on the console's pages only (never on /v1), the forms refuse
a missing CSRF token and a foreign Origin, and `next` never leads off the site."""

from __future__ import annotations

import re

import httpx
import pytest
from cchc_runtime.tokens import Role, TokenStore

from tests.conftest import RunningStack

pytestmark = pytest.mark.connected


def _form(client: httpx.Client) -> str:
    page = client.get("/dang-nhap")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def _client(stack: RunningStack) -> httpx.Client:
    return httpx.Client(base_url=stack.api, timeout=30, follow_redirects=False)


def test_sign_in_sets_a_strict_httponly_cookie_that_opens_the_pages(stack: RunningStack) -> None:
    with _client(stack) as client:
        assert client.get("/tong-quan").status_code == 303
        csrf = _form(client)
        r = client.post(
            "/dang-nhap",
            data={"csrf": csrf, "token": stack.stack.tokens[Role.ANALYST], "next": "/tinh-thanh"},
        )
        assert r.status_code == 303, r.text
        assert r.headers["location"] == "/tinh-thanh"
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie")
        assert cookie.startswith("cchc_session=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        page = client.get("/tinh-thanh")
        assert page.status_code == 200
        assert '<html lang="vi">' in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        # The cookie is the console's, not the API's: /v1 still wants the header.
        assert (
            client.get(
                "/v1/national", params={"indicator": "staff.cut", "period": "2018"}
            ).status_code
            == 401
        )
        sql = client.post("/v1/sql", json={"sql": "SELECT 1"})
        assert sql.status_code == 401
        # An analyst does not get the operators' page.
        assert client.get("/he-thong").status_code == 403


def test_forms_refuse_a_missing_csrf_token_or_a_foreign_origin(stack: RunningStack) -> None:
    token = stack.stack.tokens[Role.OPERATOR]
    with _client(stack) as client:
        csrf = _form(client)
        assert client.post("/dang-nhap", data={"token": token}).status_code == 400
        assert (
            client.post("/dang-nhap", data={"token": token, "csrf": "x" + csrf}).status_code == 400
        )
        foreign = client.post(
            "/dang-nhap",
            data={"token": token, "csrf": csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 400
        assert "cchc_session" not in foreign.headers.get("set-cookie", "")
        ok = client.post("/dang-nhap", data={"token": token, "csrf": csrf})
        assert ok.status_code == 303
        assert client.get("/he-thong").status_code == 200
        # Signing out needs the token too.
        assert client.post("/dang-xuat", data={}).status_code == 400
        out = client.post("/dang-xuat", data={"csrf": csrf})
        assert out.status_code == 303
        client.cookies.delete("cchc_session")
        assert client.get("/he-thong").status_code == 303


def test_province_and_revoked_tokens_do_not_sign_in(stack: RunningStack) -> None:
    store = TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")
    province = store.create("console-test-province", Role.PROVINCE, province="15")
    analyst = store.create("console-test-analyst", Role.ANALYST)
    try:
        with _client(stack) as client:
            csrf = _form(client)
            r = client.post("/dang-nhap", data={"token": province, "csrf": csrf})
            assert r.status_code == 403
            assert "cchc_session" not in r.headers.get("set-cookie", "")
            r = client.post("/dang-nhap", data={"token": analyst, "csrf": csrf})
            assert r.status_code == 303
            assert client.get("/tong-quan").status_code == 200
            store.revoke("console-test-analyst")
            # A revoked token's cookie opens nothing any more.
            assert client.get("/tong-quan").status_code == 303
    finally:
        store.revoke("console-test-province")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\\\evil", ""])
def test_next_never_leaves_the_site(stack: RunningStack, target: str) -> None:
    with _client(stack) as client:
        csrf = _form(client)
        r = client.post(
            "/dang-nhap",
            data={"token": stack.stack.tokens[Role.ANALYST], "csrf": csrf, "next": target},
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/"
