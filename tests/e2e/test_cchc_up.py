"""`cchc up` as a person runs it: demo data lands, a second stack runs beside the first, and
Ctrl-C stops everything with exit code 0 and no process left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningStack
from tests.e2e.cchc_up import CCHC, CchcUp

pytestmark = pytest.mark.connected


def _children(pid: int) -> set[int]:
    """All descendants of pid, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_second_stack_with_demo_runs_beside_the_first_and_stops_cleanly(
    stack: RunningStack, tmp_path: Path
) -> None:
    up = CchcUp(tmp_path / "var")
    lines, kafka_port, api_port = up.lines, up.kafka_port, up.api_port
    try:
        up.wait_for("landed in ClickHouse")
        ready = [line for line in lines if line.startswith("ready:")]
        assert len(ready) == 1
        assert f"127.0.0.1:{kafka_port}" in ready[0]
        # The line says where the console is and which token signs in.
        assert f"console http://127.0.0.1:{api_port}/ " in ready[0]
        assert f"{(tmp_path / 'var' / 'secrets').resolve()}/analyst.token" in ready[0]
        console_page = httpx.get(f"http://127.0.0.1:{api_port}/", follow_redirects=True, timeout=30)
        assert console_page.status_code == 200
        assert 'lang="vi"' in console_page.text
        assert 'action="/dang-nhap"' in console_page.text
        # The two numbers differ, and the output says why.
        said = "".join(lines)
        assert (
            "pushed 34 events from the seed reports (32 indicator reports, 2 dossier events)"
            in said
        )
        assert "the 2 dossier events are in dossier_events, not observations" in said
        assert any("(32 rows, dlq 0)" in line for line in lines), "".join(lines)
        # The dossier demo ends with the month's Bộ chỉ số 766 ranking of its three provinces.
        up.wait_for("Toàn quốc (gộp số liệu)")
        assert any("Bộ chỉ số 766" in line for line in lines), "".join(lines)
        for name in ("01 Hà Nội", "48 Đà Nẵng", "79 Hồ Chí Minh"):
            assert any(name in line for line in lines), "".join(lines)
        # First start: one token per role, owner-only, announced; `cchc query` finds it there.
        secrets = tmp_path / "var" / "secrets"
        for role in ("analyst", "operator"):
            assert (secrets / f"{role}.token").stat().st_mode & 0o077 == 0
            assert any(f"{role}.token" in line for line in lines)
            assert (secrets / f"{role}.token").read_text().strip() not in "".join(lines)
        asked = subprocess.run(
            [str(CCHC), "query", "--data-dir", str(tmp_path / "var"), "sql",
             "SELECT count() FROM provinces", "--api", f"http://127.0.0.1:{api_port}",
             "--format", "json"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert asked.returncode == 0, asked.stderr
        assert "97" in asked.stdout
        # The first stack is untouched by the second's demo data.
        assert stack.sql("SELECT count() FROM observations WHERE event_id LIKE 'seed-%'") == [[0]]
        children = _children(up.proc.pid)
        assert len(children) >= 4  # broker + three services
    finally:
        code = up.interrupt()
    assert code == 0, "".join(lines)
    assert "stopped" in "".join(lines)
    left = [pid for pid in children if _alive(pid)]
    assert not left, f"processes left behind: {left}"
