"""`cchc up` run as a person runs it, in a subprocess whose output the test reads line by line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import free_port_block

CCHC = Path(sys.executable).with_name("cchc")


class CchcUp:
    """`cchc up --data-dir DATA_DIR --kafka-port … --api-port …` plus ``args``, on free ports;
    every line it prints collects in :attr:`lines`."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.kafka_port, self.api_port = free_port_block(1), free_port_block(3)
        self.proc = subprocess.Popen(
            [str(CCHC), "up", "--data-dir", str(data_dir),
             "--kafka-port", str(self.kafka_port), "--api-port", str(self.api_port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(
            target=lambda: self.lines.extend(self.proc.stdout or ()), daemon=True
        )
        self._reader.start()
        self._deadline = time.monotonic() + 150

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str) -> None:
        """Until a line holds ``text``; fails if the command ends first or within 150 s of its
        start nothing printed it."""
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, self.output
            assert time.monotonic() < self._deadline, self.output
            time.sleep(0.2)

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C (what the terminal sends), then its exit code once it has stopped."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """Stop it for good if it is still running (a test's cleanup)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
