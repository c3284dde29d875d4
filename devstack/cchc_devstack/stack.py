"""The embedded stack behind `cchc up`, the tests and the bench: Tansu broker, topics,
migrations, three services — and with `--with-prometheus` a Prometheus server.

Each service runs as one or more supervised processes (:mod:`cchc_devstack.supervisor`;
``--instances ingest=2,normalize=2`` runs several, which share the service's consumer group and
split its partitions): a terminal's Ctrl-C reaches only the process running the stack, which
drains what the broker still holds (bounded by a timeout), then stops them in order: ingest,
normalize, aggregate, broker; none outlives it even if it is killed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cchc_runtime.lag import Group, LagMonitor
from cchc_runtime.tokens import Role
from cchc_shared.provinces import VIETNAM_TZ, Era, default_registry
from cchc_shared.topics import Topic, raw_topics

from cchc_devstack import broker, migrations, prometheus, secrets, topics
from cchc_devstack.ports import HOST, PortTaken, free_port_block, port_is_free
from cchc_devstack.proxy import BrokerProxy
from cchc_devstack.supervisor import Managed

__all__ = ["HOST", "Stack", "StackConfig", "parse_instances"]

SERVICES = ("ingest", "normalize", "aggregate")
LAYOUT_FILE = "stack.json"
"""Written under the data dir at start: each running instance's service and HTTP port
(`cchc top` reads it to show every instance)."""


def parse_instances(text: str) -> dict[str, int]:
    """``ingest=2,normalize=2`` → ``{"ingest": 2, "normalize": 2}`` (others run one)."""
    counts: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or name not in SERVICES or not number.strip().isdigit():
            raise ValueError(
                f"{item!r}: expected SERVICE=N with SERVICE one of {', '.join(SERVICES)}"
            )
        if int(number) < 1:
            raise ValueError(f"{item!r}: at least one instance")
        counts[name] = int(number)
    return counts


def instance_name(service: str, n: int) -> str:
    """The first instance is named like its service (`ingest`), the next `ingest-2`, …"""
    return service if n == 1 else f"{service}-{n}"


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
    instances: Mapping[str, int] = field(default_factory=dict)
    """Processes per service (default 1). Instance n of a service listens on its port + 3(n−1)."""
    drain_timeout_s: float = 30.0
    """On stop, how long to wait for the services to consume what the broker holds."""
    broker_proxy: bool = False
    """Put a TCP proxy (`cchc_devstack.proxy`) on the Kafka port, the broker behind it on a
    free port: fault tests take the broker off the network and back without losing it."""

    @property
    def bootstrap(self) -> str:
        """Kafka bootstrap address."""
        return f"{HOST}:{self.kafka_port}"

    @property
    def api_url(self) -> str:
        """Base URL of aggregate's query API."""
        return f"http://{HOST}:{self.api_port}"

    def ports(self) -> dict[str, int]:
        """HTTP port of each service (of its first instance)."""
        return {
            "ingest": self.api_port + 1,
            "normalize": self.api_port + 2,
            "aggregate": self.api_port,
        }

    def count(self, service: str) -> int:
        """How many instances of `service` run."""
        return self.instances.get(service, 1)

    def port_of(self, service: str, n: int) -> int:
        """HTTP port of instance `n` (1-based) of `service`."""
        return self.ports()[service] + 3 * (n - 1)

    def instance_ports(self) -> dict[str, tuple[str, int]]:
        """Each instance's name → (its service, its HTTP port), in pipeline order."""
        return {
            instance_name(service, n): (service, self.port_of(service, n))
            for service in SERVICES
            for n in range(1, self.count(service) + 1)
        }

    def check_instances(self, env: Mapping[str, str]) -> None:
        """Refuse a layout that cannot work: aggregate on chDB is one process (one process
        may open a chDB path), any number against a ClickHouse server."""
        for service, n in self.instances.items():
            if service not in SERVICES or n < 1:
                raise ValueError(f"instances: {service}={n}")
        dsn = env.get("CCHC_AGGREGATE_DSN", "")
        if self.count("aggregate") > 1 and not dsn.startswith(("http://", "https://")):
            raise ValueError(
                "aggregate runs one process on the embedded chDB (one process owns its data "
                "path); several need a ClickHouse server (CCHC_AGGREGATE_DSN=http://…)"
            )

    def scrape_targets(self) -> dict[str, list[str]]:
        """host:port Prometheus scrapes for each service, one per instance."""
        return {
            service: [
                f"{HOST}:{self.port_of(service, n)}" for n in range(1, self.count(service) + 1)
            ]
            for service in self.ports()
        }

    def groups(self) -> dict[str, Group]:
        """Each service's consumer group and the topics it reads (the services' defaults)."""
        codes = (u.code for u in default_registry().units(Era.POST_2025))
        return {
            "ingest": Group("cchc-ingest", raw_topics(codes)),
            "normalize": Group("cchc-normalize", [Topic.VALIDATED]),
            "aggregate": Group("cchc-aggregate", [Topic.NORMALIZED, Topic.DLQ]),
        }


class Stack:
    """Starts, watches and stops the embedded stack."""

    SERVICE_ORDER = SERVICES

    def __init__(self, config: StackConfig, say: Callable[[str], None]) -> None:
        self.config = config
        self.say = say
        self.stopping = threading.Event()
        self.broker: Managed | None = None
        self.broker_port = config.kafka_port
        """Where the broker itself listens (behind the proxy when there is one)."""
        self.proxy: BrokerProxy | None = None
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
        """Fail early, with a clear message, when a port is taken or the layout is impossible."""
        self.config.check_instances(self._env())
        wanted = {
            "kafka": self.config.kafka_port,
            **{name: port for name, (_, port) in self.config.instance_ports().items()},
        }
        if self.config.with_prometheus:
            wanted["prometheus"] = self.config.prometheus_port
        taken = [f"{n} {p}" for n, p in wanted.items() if not port_is_free(HOST, p)]
        if taken:
            raise RuntimeError(
                f"port(s) in use: {', '.join(taken)} — is another stack running? "
                "Use --kafka-port/--api-port for a second one."
            )

    def start_broker(self) -> None:
        """Start Tansu on 127.0.0.1 and wait until it listens there itself
        (:class:`~cchc_devstack.ports.PortTaken` if another process holds the port)."""
        port = self.config.kafka_port
        if not self.config.broker_proxy:
            self.broker = broker.start(HOST, port, self.logs / "broker.log")
            return
        # The port behind the proxy is the stack's own choice: one taken meanwhile by another
        # process is given up for another.
        for attempt in range(3):
            behind = free_port_block(HOST)
            try:
                self.broker = broker.start(
                    HOST, behind, self.logs / "broker.log", advertised_port=port
                )
                break
            except PortTaken:
                if attempt == 2:
                    raise
        self.broker_port = behind
        self.proxy = BrokerProxy(HOST, port, HOST, behind)
        self.proxy.start()

    def check_broker(self, *, answering: bool = False) -> None:
        """Raise unless the broker process runs and still listens on its port itself — and,
        with `answering`, a new Kafka client bootstraps from the stack's bootstrap address."""
        if self.broker is None:
            return
        if (code := self.broker.exited()) is not None:
            # A memory-only broker restart loses every topic: that is not recoverable here.
            raise RuntimeError(
                f"the broker exited (code {code}): {self.broker.last_line()} "
                f"(see {self.broker.log_path})"
            )
        if not self.broker.listens(HOST, self.broker_port):
            raise RuntimeError(
                f"the broker runs but no longer listens on {HOST}:{self.broker_port} "
                f"(see {self.broker.log_path})"
            )
        if answering and not broker.answers(self.config.bootstrap):
            raise RuntimeError(
                f"the broker listens on {HOST}:{self.broker_port} but a Kafka client cannot "
                f"bootstrap from {self.config.bootstrap} (see {self.broker.log_path})"
            )

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
        """Launch each service's instances as separate processes (`services` is keyed by
        instance name: `ingest`, `ingest-2`, …), and write the layout for `cchc top`."""
        self.config.check_instances(self._env())
        for service in self.SERVICE_ORDER:
            for n in range(1, self.config.count(service) + 1):
                self._launch(service, n)
        self._write_layout()

    def _launch(self, service: str, n: int) -> Managed:
        name = instance_name(service, n)
        prefix = f"CCHC_{service.upper()}"
        env = {
            **self._env(),
            f"{prefix}_PORT": str(self.config.port_of(service, n)),
            f"{prefix}_INSTANCE": name,
        }
        svc = Managed(
            name,
            [sys.executable, "-m", f"cchc_{service}"],
            env,
            self.logs / f"{name}.log",
            service=service,
        )
        svc.start()
        self.services[name] = svc
        return svc

    def instances_of(self, service: str) -> dict[str, Managed]:
        """The running instances of `service`, by instance name."""
        return {n: m for n, m in self.services.items() if m.service == service}

    def add_instance(self, service: str) -> str:
        """Start one more instance of `service` (it joins the group); returns its name."""
        taken = {
            int(name.rpartition("-")[2]) if "-" in name else 1
            for name in self.instances_of(service)
        }
        n = next(i for i in range(1, len(taken) + 2) if i not in taken)
        if service == "aggregate" and n > 1:
            StackConfig(instances={"aggregate": n}).check_instances(self._env())
        port = self.config.port_of(service, n)
        if not port_is_free(HOST, port):
            raise RuntimeError(f"port {port} for {instance_name(service, n)} is in use")
        name = self._launch(service, n).name
        self._write_layout()
        return name

    def stop_instance(self, name: str, timeout_s: float = 20.0) -> None:
        """Stop one instance (SIGTERM: it finishes its batch and leaves the group)."""
        managed = self.services.pop(name)
        managed.stop(timeout_s)
        self._write_layout()

    def _write_layout(self) -> None:
        layout = {
            "instances": {
                name: {"service": m.service, "port": int(m.env[f"CCHC_{m.service.upper()}_PORT"])}
                for name, m in self.services.items()
            }
        }
        path = self.config.data_dir / LAYOUT_FILE
        path.write_text(json.dumps(layout, indent=2) + "\n")

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
        """Each instance's /readyz — asked only of the instance's own process: another one
        that took its port meanwhile (the instance then cannot bind it) does not count."""
        status = {}
        for name, managed in self.services.items():
            port = int(managed.env[f"CCHC_{managed.service.upper()}_PORT"])
            if not managed.listens(HOST, port):
                status[name] = False
                continue
            try:
                r = httpx.get(f"http://{HOST}:{port}/readyz", timeout=1.0)
                status[name] = r.status_code == 200
            except httpx.HTTPError:
                status[name] = False
        return status

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Block until every service reports ready (restarting crashed ones meanwhile), then
        check that the broker still runs, listens on its port and answers a new client."""
        deadline = time.monotonic() + timeout_s
        while not self.stopping.is_set():
            self.supervise_once()
            status = self.readiness()
            if all(status.values()):
                self.check_broker(answering=True)
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
        if self.broker is not None and self.broker.exited() is not None:
            self.check_broker()  # says how it exited

    def lag(self, monitor: LagMonitor | None = None) -> dict[str, int]:
        """Messages each service's group still has to consume, measured on the broker now."""
        own = monitor is None
        monitor = monitor or LagMonitor(self.config.bootstrap, self.config.groups(), Topic.DLQ)
        try:
            snapshot = monitor.measure_now()
            if not snapshot.updated_at:
                raise RuntimeError("the broker did not answer")
            return {service: snapshot.total(service) for service in self.config.groups()}
        finally:
            if own:
                monitor.close()

    def drain(self, timeout_s: float | None = None) -> dict[str, int]:
        """Wait until the services have consumed everything the broker holds, at most
        `timeout_s` (default: the config's); returns what is left per service (all 0: drained).

        Crashed services are restarted meanwhile. The broker is memory-only: whatever is left
        when it stops is lost, so `cchc up` says how much.
        """
        timeout_s = self.config.drain_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        monitor = LagMonitor(self.config.bootstrap, self.config.groups(), Topic.DLQ)
        left: dict[str, int] = {}
        try:
            while True:
                self.supervise_once()
                try:
                    left = self.lag(monitor)
                except RuntimeError:
                    left = {}
                if left and not any(left.values()):
                    return left
                if time.monotonic() > deadline:
                    return left or dict.fromkeys(self.config.groups(), -1)
                time.sleep(0.25)
        finally:
            monitor.close()

    def stop(self, *, count_left: bool = False) -> dict[str, int] | None:
        """Stop services in pipeline order (each instance finishes its batch), then the
        broker.

        `count_left`: measure, between the two, what each service's group left unconsumed in
        the broker — memory-only, so that is what its stop loses (None if it did not answer).
        """
        self.stopping.set()
        if self.prometheus is not None:
            self.prometheus.stop(timeout_s=10)
        for service in self.SERVICE_ORDER:
            for managed in self.instances_of(service).values():
                managed.stop()
        left = None
        if count_left and self.broker is not None and self.broker.exited() is None:
            try:
                left = self.lag()
            except Exception:  # the broker is away: nothing to count
                left = None
        if self.broker is not None:
            self.broker.stop(timeout_s=5)
        if self.proxy is not None:
            self.proxy.stop()
        return left

    def pipeline(self) -> dict[str, object]:
        """aggregate's /v1/pipeline."""
        r = httpx.get(f"{self.config.api_url}/v1/pipeline", headers=self.auth(), timeout=5)
        r.raise_for_status()
        data: dict[str, object] = r.json()
        return data

    def wait_drained(self, timeout_s: float = 60.0) -> dict[str, object]:
        """Block until every service's lag is zero and the answers count all of it: their
        ``as_of`` (the background fold's, docs/architecture.md "The fold") has passed the moment
        the lag was zero. Returns /v1/pipeline."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.supervise_once()
            try:
                state = self.pipeline()
            except httpx.HTTPError as exc:  # aggregate restarting: wait for it
                state = {"lag": None, "error": str(exc)}
            lag = state["lag"]
            if isinstance(lag, dict) and not any(lag.values()):
                self._wait_folded(datetime.now(UTC), deadline, timeout_s)
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"still lagging after {timeout_s:.0f}s: {state}")
            time.sleep(0.25)

    def _wait_folded(self, since: datetime, deadline: float, timeout_s: float) -> None:
        # Any answer with an as_of will do: today's national service index is the cheapest.
        today = datetime.now(VIETNAM_TZ).date().isoformat()
        url = f"{self.config.api_url}/v1/service-index"
        as_of = None
        while True:
            self.supervise_once()
            try:
                r = httpx.get(url, params={"period": today}, headers=self.auth(Role.ANALYST))
                as_of = r.json().get("as_of") if r.status_code == 200 else None
            except httpx.HTTPError:  # aggregate restarting: wait for it
                as_of = None
            if as_of is not None and datetime.fromisoformat(as_of) >= since:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"drained, but not folded after {timeout_s:.0f}s: as_of {as_of}, lag zero at "
                    f"{since.isoformat()}"
                )
            time.sleep(0.25)
