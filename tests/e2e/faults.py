"""Helpers for fault tests on the real stack: read a service's /metrics and /readyz, and break
the store under aggregate's chDB from outside its process (as a failing disk would)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
from cchc_cli.top import Exposition

from tests.conftest import RunningStack


def metrics(running: RunningStack, service: str = "aggregate") -> Exposition:
    port = running.config.ports()[service]
    return Exposition.parse(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)


def ready(running: RunningStack, service: str = "aggregate") -> bool:
    port = running.config.ports()[service]
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def count(running: RunningStack, name: str, **match: str) -> float:
    return metrics(running).sum(name, **match) or 0.0


def table_dirs(clickhouse: Path) -> list[Path]:
    """Every table's data directory under a ClickHouse data path (store/xyz/<uuid>/)."""
    return sorted(p for p in (clickhouse / "store").glob("*/*") if p.is_dir())


def can_make_immutable(probe: Path) -> bool:
    """Whether this process may set the immutable attribute here (root, ext4/tmpfs)."""
    if shutil.which("chattr") is None:
        return False
    probe.mkdir(parents=True, exist_ok=True)
    ok = subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0
    subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
    probe.rmdir()
    return ok


@contextlib.contextmanager
def immutable(dirs: list[Path]) -> Iterator[None]:
    """No new file or directory can be made in `dirs` (every insert's part is one) until the
    block ends: ClickHouse refuses each insert with a file-system error, reads still work."""
    subprocess.run(["chattr", "+i", *map(str, dirs)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, dirs)], check=True)


def can_mount() -> bool:
    """Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN)."""
    if shutil.which("mount") is None:
        return False
    with tempfile.TemporaryDirectory() as where:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", where], capture_output=True
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", where], check=True)
        return True


@contextlib.contextmanager
def full(disk: Path) -> Iterator[int]:
    """Fill the file system under `disk` to the last byte until the block ends; yields the
    bytes the filler took."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb", buffering=0) as f:
        written = 0
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    written += f.write(b"\0" * size) or 0
    assert shutil.disk_usage(disk).free < 64 * 1024, (free, written)
    try:
        yield written
    finally:
        filler.unlink()
