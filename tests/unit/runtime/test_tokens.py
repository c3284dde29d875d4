"""The token store: random secrets, hashes only, revocation, files only the owner reads."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cchc_runtime.tokens import PREFIX, Principal, Role, TokenStore, write_secret


def test_a_token_is_random_shown_once_and_stored_only_as_its_hash(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "secrets" / "tokens.json")
    secret = store.create("hanoi-analyst", Role.ANALYST)
    other = store.create("ops", Role.OPERATOR)
    assert secret.startswith(PREFIX)
    assert len(secret) - len(PREFIX) >= 43  # 256 bits, URL-safe base64
    assert secret != other
    text = store.path.read_text()
    assert secret not in text
    assert other not in text
    [first, _] = json.loads(text)
    assert set(first) == {"name", "role", "sha256", "created_at", "revoked_at", "province"}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.verify(secret) == Principal("hanoi-analyst", Role.ANALYST)
    assert store.verify(other) == Principal("ops", Role.OPERATOR)


@pytest.mark.parametrize("secret", ["", "cchc_", "cchc_wrong", "not-a-token", "Bearer x"])
def test_unknown_tokens_are_nobody(tmp_path: Path, secret: str) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.create("a", Role.ANALYST)
    assert store.verify(secret) is None


def test_revoking_takes_effect_in_a_store_already_loaded(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    cli, service = TokenStore(path), TokenStore(path)
    secret = cli.create("a", Role.ANALYST)
    assert service.verify(secret) is not None  # loaded
    assert cli.revoke("a")
    assert service.verify(secret) is None  # the service re-read the changed file
    assert not cli.revoke("a")
    again = cli.create("a", Role.ANALYST)  # the name is free again
    assert service.verify(again) == Principal("a", Role.ANALYST)
    assert service.verify(secret) is None


def test_names_are_unique_among_active_tokens_and_plain(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.create("a", Role.ANALYST)
    with pytest.raises(ValueError, match="exists"):
        store.create("a", Role.OPERATOR)
    with pytest.raises(ValueError, match="letters"):
        store.create("a b; rm -rf", Role.ANALYST)


def test_operator_includes_analyst_not_the_reverse() -> None:
    assert Role.OPERATOR.allows(Role.ANALYST)
    assert Role.OPERATOR.allows(Role.OPERATOR)
    assert Role.ANALYST.allows(Role.ANALYST)
    assert not Role.ANALYST.allows(Role.OPERATOR)


def test_secret_files_are_owner_only_even_if_they_existed(tmp_path: Path) -> None:
    path = tmp_path / "s" / "analyst.token"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)
    write_secret(path, "cchc_x")
    assert path.read_text() == "cchc_x\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_province_token_is_bound_to_its_province_and_to_nothing_else(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    secret = store.create("lao-cai-mc", Role.PROVINCE, province="15")
    assert store.verify(secret) == Principal("lao-cai-mc", Role.PROVINCE, "15")
    assert Role.PROVINCE.allows(Role.PROVINCE)
    assert not Role.PROVINCE.allows(Role.ANALYST)
    assert not Role.OPERATOR.allows(Role.PROVINCE)
    assert not Role.ANALYST.allows(Role.PROVINCE)
    with pytest.raises(ValueError, match="province"):
        store.create("x", Role.PROVINCE)
    with pytest.raises(ValueError, match="province"):
        store.create("y", Role.ANALYST, province="15")
