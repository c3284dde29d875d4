"""A supervised process that exits is restarted after a backoff that doubles, and it is said."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from cchc_devstack.supervisor import HEALTHY_AFTER_S, Managed


def test_a_crashed_process_is_restarted_after_its_backoff(tmp_path: Path) -> None:
    said: list[str] = []
    proc = Managed("flaky", [sys.executable, "-c", "raise SystemExit(3)"], {}, tmp_path / "f.log")
    proc.start()
    assert proc.proc is not None
    proc.proc.wait(timeout=30)
    now = time.monotonic()
    proc.restart_if_crashed(now, said.append)
    assert said == [f"flaky exited with code 3; restarting in 1s (see {tmp_path / 'f.log'})"]
    proc.restart_if_crashed(now + 0.5, said.append)  # not due yet
    assert len(said) == 1
    proc.restart_if_crashed(now + 1, said.append)
    assert said[1] == "flaky restarted (restart #1)"
    assert (proc.restarts, proc.total_restarts) == (1, 1)
    proc.proc.wait(timeout=30)
    proc.restart_if_crashed(now + 2, said.append)
    assert said[2].startswith("flaky exited with code 3; restarting in 2s")
    proc.stop()
    assert proc.log_file is None


def test_a_process_that_stays_up_has_its_earlier_crashes_forgotten(tmp_path: Path) -> None:
    proc = Managed(
        "steady", [sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path / "s.log"
    )
    proc.restarts = 10
    proc.start()
    try:
        proc.restart_if_crashed(time.monotonic(), print)
        assert proc.restarts == 10  # up, but not for long yet
        proc.restart_if_crashed(time.monotonic() + HEALTHY_AFTER_S + 1, print)
        assert proc.restarts == 0
    finally:
        proc.stop(timeout_s=5)
    assert proc.exited() is not None
