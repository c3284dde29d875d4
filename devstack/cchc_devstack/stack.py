"""The embedded stack behind `cchc up`, the tests and the bench: Tansu broker, topics,
migrations, three services — and with `--with-prometheus` a Prometheus server.

Each service is a supervised process (:mod:`cchc_devstack.supervisor`): a terminal's Ctrl-C
reaches only the process running the stack, which then stops them in order: ingest, normalize,
aggregate, broker; none outlives it even if it is killed.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from cchc_runtime.tokens import Role

from cchc_devstack import broker, migrations, prometheus, secrets, topics
from cchc_devstack.ports import HOST, port_is_free
from cchc_devstack.supervisor import Managed

__all__ = ["HOST", "Stack", "StackConfig"]


@dataclass(frozen=True)
class StackConfig:
    """Where the stack lives and which ports it uses (API port + 1 and + 2 for the others)."""

    data_dir: Path = Path("var")
    kafka_port: int = 9092
    api_port: int = 8080
    raw_partitions: int = 1
    internal_partitions: int = 4
    with_prometheus: bool = False
    prometheus_port: int = 9090

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

    def scrape_targets(self) -> dict[str, str]:
        """host:port Prometheus scrapes for each service."""
        return {name: f"{HOST}:{port}" for name, port in self.ports().items()}


class Stack:
    """Starts, watches and stops the embedded stack."""

    SERVICE_ORDER = ("ingest", "normalize", "aggregate")

    def __init__(self, config: StackConfig, say: Callable[[str], None]) -> None:
        self.config = config
        self.say = say
        self.stopping = threading.Event()
        self.broker: Managed | None = None
        self.services: dict[str, Managed] = {}
        self.prometheus: Managed | None = None
        self.tokens: dict[Role, str] = {}
        self.new_token_files: list[Path] = []
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
                "CCHC_AGGREGATE_TOKENS_FILE": str(secrets.tokens_file(c.data_dir.resolve())),
                "CCHC_INGEST_TOKENS_FILE": str(secrets.tokens_file(c.data_dir.resolve())),
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
        if self.config.with_prometheus:
            wanted["prometheus"] = self.config.prometheus_port
        taken = [f"{n} {p}" for n, p in wanted.items() if not port_is_free(HOST, p)]
        if taken:
            raise RuntimeError(
                f"port(s) in use: {', '.join(taken)} — is another stack running? "
                "Use --kafka-port/--api-port for a second one."
            )

    def start_broker(self) -> None:
        """Start Tansu on 127.0.0.1 and wait until it accepts connections."""
        self.broker = broker.start(HOST, self.config.kafka_port, self.logs / "broker.log")

    def create_topics(self) -> int:
        """The 34 raw topics and the internal ones; returns how many were created."""
        wanted = topics.pipeline_topics(self.config.raw_partitions, self.config.internal_partitions)
        return topics.ensure_topics(self.config.bootstrap, wanted)

    def migrate(self) -> str:
        """Apply ClickHouse migrations (before aggregate opens the chDB path)."""
        return migrations.migrate(self._env())

    def ensure_tokens(self) -> list[Path]:
        """The stack's analyst and operator tokens (made on first start); files written now."""
        self.tokens, self.new_token_files = secrets.ensure_tokens(self.config.data_dir.resolve())
        return self.new_token_files

    def auth(self, role: Role = Role.OPERATOR) -> dict[str, str]:
        """The Authorization header of the stack's token for `role`."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def start_services(self) -> None:
        """Launch the three services as separate processes."""
        env = self._env()
        for name in self.SERVICE_ORDER:
            svc = Managed(
                name, [sys.executable, "-m", f"cchc_{name}"], env, self.logs / f"{name}.log"
            )
            svc.start()
            self.services[name] = svc

    def start_prometheus(self) -> str:
        """Write <data-dir>/prometheus/prometheus.yml and run `prometheus` on 127.0.0.1.

        A missing binary is not an error: the stack runs without it and the message says so.
        """
        self.prometheus, message = prometheus.start(
            self.config.data_dir.resolve() / "prometheus",
            self.config.scrape_targets(),
            f"{HOST}:{self.config.prometheus_port}",
            self.logs / "prometheus.log",
        )
        return message

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

    def start(self, timeout_s: float = 120.0) -> None:
        """Broker, topics, migrations, services, then wait until every service is ready.

        Whatever was started is stopped again if a step fails.
        """
        try:
            self.start_broker()
            self.create_topics()
            self.migrate()
            self.ensure_tokens()
            self.start_services()
            self.wait_ready(timeout_s=timeout_s)
        except BaseException:
            self.stop()
            raise

    # -- run -------------------------------------------------------------------------------
    def supervise_once(self) -> None:
        """Restart a crashed service with exponential backoff, and say so."""
        now = time.monotonic()
        for svc in self.services.values():
            if self.stopping.is_set():
                break
            svc.restart_if_crashed(now, self.say)
        prom = self.prometheus
        if prom is not None and (code := prom.exited()) is not None:
            # Optional: say so once and carry on without it.
            self.say(f"prometheus exited with code {code} (see {prom.log_path})")
            prom.stop()
            self.prometheus = None
        if self.broker is not None and (code := self.broker.exited()) is not None:
            # A memory-only broker restart loses every topic: that is not recoverable here.
            raise RuntimeError(f"the broker exited (code {code})")

    def stop(self) -> None:
        """Stop services in pipeline order, then the broker."""
        self.stopping.set()
        if self.prometheus is not None:
            self.prometheus.stop(timeout_s=10)
        for name in self.SERVICE_ORDER:
            if name in self.services:
                self.services[name].stop()
        if self.broker is not None:
            self.broker.stop(timeout_s=5)

    def pipeline(self) -> dict[str, object]:
        """aggregate's /v1/pipeline."""
        r = httpx.get(f"{self.config.api_url}/v1/pipeline", headers=self.auth(), timeout=5)
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
