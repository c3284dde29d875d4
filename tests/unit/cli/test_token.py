"""`cchc token create|list|revoke` against a token store in a temporary data dir."""

from __future__ import annotations

import stat
from pathlib import Path

from cchc_cli.main import app
from cchc_runtime.tokens import Principal, Role, TokenStore
from typer.testing import CliRunner


def test_create_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app, ["token", "create", "--role", "analyst", "--name", "hn-1", "--data-dir", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    store = TokenStore(tmp_path / "secrets" / "tokens.json")
    assert store.verify(secret) == Principal("hn-1", Role.ANALYST)

    out = tmp_path / "ops.token"
    made = runner.invoke(
        app,
        ["token", "create", "--role", "operator", "--name", "ops",
         "--data-dir", str(tmp_path), "--out", str(out)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().strip() not in made.output

    listed = runner.invoke(app, ["token", "list", "--data-dir", str(tmp_path)])
    assert "hn-1" in listed.stdout
    assert "operator" in listed.stdout
    assert secret not in listed.stdout

    assert (
        runner.invoke(app, ["token", "revoke", "hn-1", "--data-dir", str(tmp_path)]).exit_code == 0
    )
    assert store.verify(secret) is None
    again = runner.invoke(app, ["token", "revoke", "hn-1", "--data-dir", str(tmp_path)])
    assert again.exit_code == 1
    assert "no active token" in again.output


def test_a_bad_role_or_name_is_a_one_line_error(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_role = runner.invoke(
        app, ["token", "create", "--role", "root", "--name", "x", "--data-dir", str(tmp_path)]
    )
    assert bad_role.exit_code == 2
    bad_name = runner.invoke(
        app, ["token", "create", "--role", "analyst", "--name", "a b", "--data-dir", str(tmp_path)]
    )
    assert bad_name.exit_code == 2
    assert "Traceback" not in bad_name.output


def test_a_province_token_names_a_current_province(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        ["token", "create", "--province", "15", "--name", "lao-cai", "--data-dir", str(tmp_path)],
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    store = TokenStore(tmp_path / "secrets" / "tokens.json")
    assert store.verify(secret) == Principal("lao-cai", Role.PROVINCE, "15")
    for bad in ("10", "99", "Lào Cai"):  # 10 (old Lào Cai) merged into 15 in 2025
        refused = runner.invoke(
            app, ["token", "create", "--province", bad, "--name", "x", "--data-dir", str(tmp_path)]
        )
        assert refused.exit_code == 2, bad
