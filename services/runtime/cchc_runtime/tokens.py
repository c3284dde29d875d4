"""API tokens: random bearer secrets, stored only as hashes, with a role, a name and a date.

A token is 256 random bits (``cchc_`` + 43 URL-safe characters). The store keeps its SHA-256,
never the token: a high-entropy secret needs no slow password hash, since nobody can search
2^256 candidates, and a fast hash lets every request be checked in microseconds. The store is a
JSON file (mode 0600) that the CLI edits and the services re-read when it changes, so a token
created or revoked takes effect without a restart. Tokens never appear in logs: only names do.

Roles: ``analyst`` (query routes, SQL), ``operator`` (all of analyst's, plus pipeline state and
anything that changes state), and ``province``: a provincial system, bound to one current (2025)
province code, which may push and read only that province's own data — no analyst or operator
route, and no other role's routes accept it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

PREFIX = "cchc_"


class Role(StrEnum):
    """What a token may do. Operator includes analyst; province stands apart."""

    ANALYST = "analyst"
    OPERATOR = "operator"
    PROVINCE = "province"

    def allows(self, required: Role) -> bool:
        """Whether a holder of this role may use a route that requires `required`."""
        if self is Role.PROVINCE or required is Role.PROVINCE:
            return self is required
        return self is required or (self is Role.OPERATOR and required is Role.ANALYST)


@dataclass(frozen=True)
class TokenEntry:
    """One token as stored: never the secret itself."""

    name: str
    role: Role
    sha256: str
    created_at: str
    revoked_at: str | None = None
    province: str | None = None

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class Principal:
    """Who a request comes from, once its token checked out (`province`: a province token's
    current province code)."""

    name: str
    role: Role
    province: str | None = None


def digest(secret: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """The tokens file: create, list, revoke (CLI) and verify (services)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded_stat: tuple[int, int] | None = None
        self._by_hash: dict[str, TokenEntry] = {}

    # -- reading ------------------------------------------------------------------------------

    def entries(self) -> list[TokenEntry]:
        """Every token, revoked ones included, oldest first."""
        if not self.path.exists():
            return []
        raw = json.loads(self.path.read_text() or "[]")
        return [TokenEntry(**{**e, "role": Role(e["role"])}) for e in raw]

    def verify(self, secret: str) -> Principal | None:
        """The principal of an active token, or None. Re-reads the file when it changed."""
        self._refresh()
        if not secret.startswith(PREFIX):
            return None
        wanted = digest(secret)
        entry = self._by_hash.get(wanted)
        # The lookup is by hash of a 256-bit secret; the comparison is constant-time anyway.
        if entry is None or not hmac.compare_digest(entry.sha256, wanted) or not entry.active:
            return None
        return Principal(entry.name, entry.role, entry.province)

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._by_hash, self._loaded_stat = {}, None
            return
        key = (stat.st_mtime_ns, stat.st_size)
        if key != self._loaded_stat:
            self._by_hash = {e.sha256: e for e in self.entries()}
            self._loaded_stat = key

    # -- changing (the CLI) -------------------------------------------------------------------

    def create(self, name: str, role: Role, province: str | None = None) -> str:
        """A new token for `name`; returns the secret, which is shown once and never stored.

        A province token names its current (2025) province code; other roles name none. The
        caller checks the code against the province registry.
        """
        if (role is Role.PROVINCE) != (province is not None):
            raise ValueError("a province token needs --province NN, and only it has one")
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError("a token name is letters, digits, '-', '_' or '.'")
        secret = PREFIX + secrets.token_urlsafe(32)
        with self._locked() as entries:
            if any(e.name == name and e.active for e in entries):
                raise ValueError(f"an active token named {name!r} exists: revoke it first")
            now = datetime.now(UTC).isoformat(timespec="seconds")
            entries.append(TokenEntry(name, role, digest(secret), now, province=province))
        return secret

    def revoke(self, name: str) -> bool:
        """Revoke the active token named `name`; False if there is none."""
        with self._locked() as entries:
            for i, e in enumerate(entries):
                if e.name == name and e.active:
                    now = datetime.now(UTC).isoformat(timespec="seconds")
                    entries[i] = TokenEntry(e.name, e.role, e.sha256, e.created_at, now, e.province)
                    return True
        return False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[TokenEntry]]:
        """The entries, to change in place; written back atomically (0600) under a file lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self.path.with_suffix(self.path.suffix + ".lock")
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            entries = self.entries()
            yield entries
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w") as out:
                    json.dump([asdict(e) for e in entries], out, indent=1)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise


def write_secret(path: Path, secret: str) -> None:
    """Write a token to a file only its owner can read (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    os.chmod(path, 0o600)
