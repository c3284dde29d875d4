"""The embedded stack's API tokens: one analyst and one operator token, made on first start.

Kept in `<data-dir>/secrets/`: `tokens.json` (the store: hashes only, which aggregate reads) and
`analyst.token`, `operator.token` (the secrets, mode 0600, which the `cchc` commands read by
default). A token file that no longer matches an active token (revoked, or the store removed)
is replaced by a new token at the next start.
"""

from __future__ import annotations

from pathlib import Path

from cchc_runtime.tokens import Role, TokenStore, write_secret

STACK_ROLES = (Role.ANALYST, Role.OPERATOR)


def secrets_dir(data_dir: Path) -> Path:
    """`<data-dir>/secrets`."""
    return data_dir / "secrets"


def tokens_file(data_dir: Path) -> Path:
    """The token store of a stack's data dir."""
    return secrets_dir(data_dir) / "tokens.json"


def token_file(data_dir: Path, role: Role) -> Path:
    """Where a stack keeps its token for `role`."""
    return secrets_dir(data_dir) / f"{role}.token"


def ensure_tokens(data_dir: Path) -> tuple[dict[Role, str], list[Path]]:
    """Each role's token (existing, or new); and the token files written now."""
    store = TokenStore(tokens_file(data_dir))
    tokens: dict[Role, str] = {}
    written: list[Path] = []
    for role in STACK_ROLES:
        path = token_file(data_dir, role)
        secret = path.read_text().strip() if path.exists() else ""
        principal = store.verify(secret) if secret else None
        if principal is None or principal.role != role:
            name = f"cchc-up-{role}"
            store.revoke(name)  # its secret is lost or stale: a new one replaces it
            secret = store.create(name, role)
            write_secret(path, secret)
            written.append(path)
        tokens[role] = secret
    return tokens, written
