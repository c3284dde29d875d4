"""Supervised child processes: each in its own session, dying with its parent, restarted with
exponential backoff when it crashes.

Its own session means a terminal's Ctrl-C reaches only the supervisor, which then stops the
children in the order it chooses; the parent-death signal means no child outlives the
supervisor even if it is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cchc_devstack.ports import listens

_PR_SET_PDEATHSIG = 1
MAX_BACKOFF_S = 30.0
"""Longest wait before restarting a crashed process (1 s, 2 s, 4 s … up to this)."""
HEALTHY_AFTER_S = 60.0
"""A process up this long has its earlier crashes forgotten: the next backoff starts at 1 s."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Managed:
    """A supervised child process and its restart state."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    service: str = ""
    """The service this process is an instance of (default: `name`): its settings prefix."""
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    total_restarts: int = 0
    next_start: float = 0.0
    log_file: IO[bytes] | None = field(default=None, repr=False)
    log_offset: int = 0
    """Where this run's output starts in the log file (it appends across runs)."""

    def start(self) -> None:
        """Start (or restart) the process, appending its output to its log file."""
        if self.log_file is None:
            self.log_file = self.log_path.open("ab")
        self.log_offset = self.log_file.tell()
        # The supervisor has no HTTP port of its own: it tells the service how often it has been
        # restarted, so the service can export cchc_service_restarts_total (monotonic across
        # its own restarts). CCHC_<NAME>_RESTARTS is the service's settings prefix.
        prefix = f"CCHC_{(self.service or self.name).upper()}"
        env = {**self.env, f"{prefix}_RESTARTS": str(self.total_restarts)}
        self.proc = subprocess.Popen(
            self.argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self.started_at = time.monotonic()

    def restart_if_crashed(self, now: float, say: Callable[[str], None]) -> None:
        """If the process has exited, schedule a restart with backoff, or restart it when due;
        say both."""
        if self.proc is None:
            return
        code = self.proc.poll()
        if code is None:
            if now - self.started_at > HEALTHY_AFTER_S:
                self.restarts = 0
            return
        if self.next_start == 0.0:
            delay = min(2.0**self.restarts, MAX_BACKOFF_S)
            self.next_start = now + delay
            say(
                f"{self.name} exited with code {code}; restarting in {delay:.0f}s "
                f"(see {self.log_path})"
            )
        elif now >= self.next_start:
            self.restarts += 1
            self.total_restarts += 1
            self.next_start = 0.0
            self.start()
            say(f"{self.name} restarted (restart #{self.restarts})")

    def listens(self, host: str, port: int) -> bool:
        """True when the running process itself listens on host:port (not another one)."""
        return (
            self.proc is not None
            and self.proc.poll() is None
            and listens(self.proc.pid, host, port)
        )

    def last_line(self) -> str:
        """The last line this run of the process wrote ("no output" when none)."""
        return (self.output().strip().splitlines() or ["no output"])[-1]

    def output(self, limit: int = 4000) -> str:
        """The end of what this run of the process wrote to its log (at most `limit` bytes)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(self.log_offset, log.seek(0, 2) - limit))
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def exited(self) -> int | None:
        """The exit code if the process was started and has exited, else None."""
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM, wait, then SIGKILL if it will not go."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None
