"""`serve` ends the process with status 1 when any part handed to it fails (the processor, or
aggregate's fold from its own thread), so the supervisor restarts the service."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from cchc_runtime.http import serve
from fastapi import FastAPI


class Part:
    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self.on_failure: Any = lambda _: None

    def fail_soon(self) -> None:
        def fail() -> None:
            self.failure = RuntimeError("latched")
            self.on_failure(self.failure)

        threading.Timer(0.5, fail).start()


def _serve_until_exit(fold: Part) -> tuple[int | str | None, bool]:
    """Serve with `fold` watched: (the exit code, whether a 10 s guard had to stop the server —
    which it does when the fold's failure is not acted on)."""
    processor = SimpleNamespace(failure=None, on_failure=None)
    guarded = threading.Event()

    def guard_stops() -> None:
        guarded.set()
        processor.on_failure(None)

    guard = threading.Timer(10, guard_stops)
    guard.start()
    try:
        with pytest.raises(SystemExit) as ended:
            serve(FastAPI(), processor, "127.0.0.1", 0, fold)  # type: ignore[arg-type]
    finally:
        guard.cancel()
    return ended.value.code, guarded.is_set()


def test_a_part_failing_in_another_thread_ends_the_server_with_status_1() -> None:
    fold = Part()
    fold.fail_soon()
    assert _serve_until_exit(fold) == (1, False)


def test_a_part_that_failed_before_the_server_started_ends_it_at_once() -> None:
    """The fold starts before `serve` wires its hook: a failure in between must not be lost."""
    fold = Part()
    fold.failure = RuntimeError("latched before serve")  # its no-op hook was called then
    assert _serve_until_exit(fold) == (1, False)


def test_without_a_failure_the_server_ends_normally() -> None:
    processor = SimpleNamespace(failure=None, on_failure=None)
    fold = Part()
    # Nothing fails: stop the server the way a signal would, through the same hook.
    threading.Timer(0.5, lambda: fold.on_failure(None)).start()
    serve(FastAPI(), processor, "127.0.0.1", 0, fold)  # type: ignore[arg-type]
    assert fold.failure is None
