"""`cchc top`: a live terminal view of the running stack, read from each service's /metrics.

With several instances of a service (`cchc up --instances`), each instance is a row of its own:
the layout is read from the stack's data dir (`stack.json`).

Counters are turned into rates, and histograms into mean durations, from the difference between
two scrapes (as Prometheus' rate() does, a counter that went down means the process restarted
and counts from zero). Consumer lag comes from aggregate, which measures every group; when its
/metrics has no lag series yet, from aggregate's /v1/pipeline.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
import typer
from cchc_devstack.stack import LAYOUT_FILE, StackConfig
from cchc_runtime.tokens import Role
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from cchc_cli import credentials, options
from cchc_cli.credentials import DataDirOption, TokenFileOption
from cchc_cli.options import DEFAULT_API, ApiOption, Format, FormatOption

Labels = tuple[tuple[str, str], ...]


@dataclass
class Exposition:
    """The samples of one /metrics page: sample name → {sorted label pairs: value}."""

    samples: dict[str, dict[Labels, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Exposition:
        """Parse Prometheus text exposition (as prometheus_client writes it)."""
        exposition = cls()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = tuple(sorted(sample.labels.items()))
                exposition.samples.setdefault(sample.name, {})[key] = float(sample.value)
        return exposition

    def sum(self, name: str, **match: str) -> float | None:
        """Sum of `name`'s samples whose labels include `match`; None if there is none."""
        values = [v for labels, v in self._matching(name, match)]
        return sum(values) if values else None

    def by_label(self, name: str, label: str, **match: str) -> dict[str, float]:
        """`name` summed per value of `label` (samples matching `match`)."""
        out: dict[str, float] = {}
        for labels, value in self._matching(name, match):
            key = dict(labels).get(label, "")
            out[key] = out.get(key, 0.0) + value
        return out

    def _matching(self, name: str, match: Mapping[str, str]) -> Iterable[tuple[Labels, float]]:
        for labels, value in self.samples.get(name, {}).items():
            have = dict(labels)
            if all(have.get(k) == v for k, v in match.items()):
                yield labels, value


@dataclass
class Scrape:
    """What one service showed at one moment (`metrics` is None when it did not answer)."""

    service: str
    at: float
    metrics: Exposition | None
    ready: bool = False
    lag_fallback: dict[str, float] = field(default_factory=dict)


def counter_delta(current: float | None, previous: float | None) -> float | None:
    """Increase of a counter between two scrapes; a decrease means it restarted from zero.

    A series absent before counts from zero (labelled series appear on first use).
    """
    if current is None:
        return None
    before = previous or 0.0
    return current if current < before else current - before


def rate(current: Scrape, previous: Scrape | None, name: str, **match: str) -> float | None:
    """Per-second increase of counter `name` (service-labelled samples) between two scrapes."""
    if previous is None or current.metrics is None or previous.metrics is None:
        return None
    elapsed = current.at - previous.at
    if elapsed <= 0:
        return None
    delta = counter_delta(current.metrics.sum(name, **match), previous.metrics.sum(name, **match))
    return None if delta is None else delta / elapsed


def mean_duration(current: Scrape, previous: Scrape | None, histogram: str) -> float | None:
    """Mean observation of `histogram` between the two scrapes (Δsum / Δcount).

    When nothing was observed in between, the lifetime mean, so an idle service still shows
    what its batches usually cost.
    """
    if current.metrics is None:
        return None
    total = current.metrics.sum(f"{histogram}_sum")
    count = current.metrics.sum(f"{histogram}_count")
    if total is None or not count:
        return None
    if previous is not None and previous.metrics is not None:
        d_count = counter_delta(count, previous.metrics.sum(f"{histogram}_count"))
        d_sum = counter_delta(total, previous.metrics.sum(f"{histogram}_sum"))
        if d_count and d_sum is not None:
            return d_sum / d_count
    return total / count


@dataclass
class Row:
    """One service's line in the view."""

    service: str
    up: bool
    ready: bool
    consume_rate: float | None = None
    consumed: float | None = None
    accepted: float | None = None
    rejected: float | None = None
    rejects_by_reason: dict[str, float] = field(default_factory=dict)
    lag: float | None = None
    batch_seconds: float | None = None
    insert_seconds: float | None = None
    insert_errors: float | None = None
    push_to_queryable_seconds: float | None = None
    paused_provinces: list[str] = field(default_factory=list)
    dlq_pauses: float | None = None
    restarts: float | None = None
    rss_bytes: float | None = None
    uptime_seconds: float | None = None
    quiet_provinces: list[tuple[str, float]] = field(default_factory=list)
    """(province, seconds since its last event) beyond the quiet period (aggregate only)."""
    quiet_threshold_seconds: float | None = None


def rows(
    current: Mapping[str, Scrape], previous: Mapping[str, Scrape] | None, now: float
) -> list[Row]:
    """The view's rows from two rounds of scrapes (`previous` None: no rates yet).

    `now` is wall-clock time, for uptime from process_start_time_seconds.
    """
    lag = _lag(current)
    out = []
    for name, cur in current.items():
        service = cur.service
        prev = previous.get(name) if previous else None
        m = cur.metrics
        # Lag is the group's, shared by its instances: shown once, on the first.
        group_lag = lag.get(service) if name == service else None
        row = Row(name, up=m is not None, ready=cur.ready, lag=group_lag)
        if m is not None:
            row.consume_rate = rate(cur, prev, "cchc_messages_consumed_total", service=service)
            row.consumed = m.sum("cchc_messages_consumed_total", service=service)
            row.accepted = m.sum("cchc_messages_accepted_total", service=service)
            row.rejected = m.sum("cchc_messages_rejected_total", service=service)
            row.rejects_by_reason = m.by_label(
                "cchc_messages_rejected_total", "reason", service=service
            )
            row.batch_seconds = mean_duration(cur, prev, "cchc_batch_duration_seconds")
            row.insert_seconds = mean_duration(cur, prev, "cchc_clickhouse_insert_duration_seconds")
            row.insert_errors = m.sum("cchc_clickhouse_insert_errors_total")
            row.push_to_queryable_seconds = mean_duration(
                cur, prev, "cchc_push_to_queryable_seconds"
            )
            paused = m.by_label("cchc_dlq_limit_paused", "province", service=service)
            row.paused_provinces = sorted(p for p, v in paused.items() if v > 0)
            row.dlq_pauses = m.sum("cchc_dlq_limit_pauses_total", service=service)
            row.restarts = m.sum("cchc_service_restarts_total", service=service)
            row.rss_bytes = m.sum("process_resident_memory_bytes")
            started = m.sum("process_start_time_seconds")
            row.uptime_seconds = None if started is None else max(now - started, 0.0)
            row.quiet_threshold_seconds = m.sum("cchc_province_quiet_threshold_seconds")
            if row.quiet_threshold_seconds is not None:
                last = m.by_label(
                    "cchc_province_last_event_timestamp_seconds", "province", service=service
                )
                row.quiet_provinces = sorted(
                    (
                        (p, now - t)
                        for p, t in last.items()
                        if now - t > row.quiet_threshold_seconds
                    ),
                    key=lambda x: (-x[1], x[0]),
                )
        out.append(row)
    return out


def _lag(current: Mapping[str, Scrape]) -> dict[str, float]:
    # Aggregate runs the lag monitor for every group and labels the gauge with each group's
    # service; any service's page may carry it, so take it from wherever it is.
    lag: dict[str, float] = {}
    for scrape in current.values():
        if scrape.metrics is not None:
            for service, value in scrape.metrics.by_label(
                "cchc_consumer_lag_messages", "service"
            ).items():
                lag[service] = lag.get(service, 0.0) + value
    if not lag:
        for scrape in current.values():
            lag.update(scrape.lag_fallback)
    return lag


# -- fetching ------------------------------------------------------------------------------


def scrape(client: httpx.Client, service: str, base_url: str, pipeline: bool = False) -> Scrape:
    """GET /metrics and /readyz (and /v1/pipeline for aggregate's lag fallback)."""
    at = time.monotonic()
    try:
        r = client.get(f"{base_url}/metrics")
        r.raise_for_status()
        metrics: Exposition | None = Exposition.parse(r.text)
    except (httpx.HTTPError, ValueError):
        return Scrape(service, at, None)
    result = Scrape(service, at, metrics)
    try:
        result.ready = client.get(f"{base_url}/readyz").status_code == 200
        if pipeline and metrics is not None and "cchc_consumer_lag_messages" not in metrics.samples:
            state = client.get(f"{base_url}/v1/pipeline").json()
            result.lag_fallback = {k: float(v) for k, v in state.get("lag", {}).items()}
    except (httpx.HTTPError, ValueError, AttributeError):
        pass  # up but not answering these: shown as not ready / no lag
    return result


def scrape_instances(
    client: httpx.Client, layout: Mapping[str, tuple[str, int]], host: str
) -> dict[str, Scrape]:
    """One round of scrapes of every instance (name → its service and port)."""
    return {
        name: scrape(client, service, f"http://{host}:{port}", pipeline=name == "aggregate")
        for name, (service, port) in layout.items()
    }


def layout(data_dir: Path, api_port: int) -> dict[str, tuple[str, int]]:
    """Each instance's service and port: from the stack's `stack.json` when it describes the
    stack on `api_port`, else one instance per service on the default ports."""
    default = {name: (name, port) for name, port in StackConfig(api_port=api_port).ports().items()}
    try:
        written = json.loads((data_dir / LAYOUT_FILE).read_text())["instances"]
        found = {name: (str(v["service"]), int(v["port"])) for name, v in written.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return default
    if found.get("aggregate", ("", -1))[1] != api_port:
        return default  # another stack's layout
    return found


# -- rendering -----------------------------------------------------------------------------


def _num(value: float | None, suffix: str = "") -> str:
    if value is None:
        return "–"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M{suffix}"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.1f}k{suffix}"
    return f"{value:,.0f}{suffix}" if value == int(value) else f"{value:,.1f}{suffix}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def _bytes(value: float | None) -> str:
    return "–" if value is None else f"{value / 2**20:.0f} MiB"


def _uptime(value: float | None) -> str:
    if value is None:
        return "–"
    minutes, seconds = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


WIDE = 150
"""Below this many columns the services are columns and the figures rows (fits 80 columns)."""


def export(view: list[Row], fmt: Format) -> str:
    """The snapshot for scripts: a JSON array of the rows, or CSV (reasons as `reason=n;…`)."""
    records = [asdict(row) for row in view]
    if fmt is Format.JSON:
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(records[0]) if records else ["service"])
    for record in records:
        record["rejects_by_reason"] = ";".join(
            f"{k}={v:g}" for k, v in sorted(record["rejects_by_reason"].items())
        )
        record["paused_provinces"] = ";".join(record["paused_provinces"])
        writer.writerow(["" if v is None else v for v in record.values()])
    return buffer.getvalue()


def _cells(row: Row) -> dict[str, Text | str]:
    if not row.up:
        state = Text("down", style="bold red")
    else:
        state = Text("ready", style="green") if row.ready else Text("up", style="yellow")
    insert = _seconds(row.insert_seconds)
    if row.insert_errors:
        insert += f" ({_num(row.insert_errors)} err)"
    return {
        "state": state,
        "msg/s": _num(row.consume_rate),
        "consumed": _num(row.consumed),
        "accepted": _num(row.accepted),
        "rejected": Text(_num(row.rejected), style="red" if row.rejected else ""),
        "lag": Text(_num(row.lag), style="yellow" if row.lag else ""),
        "batch": _seconds(row.batch_seconds),
        "insert": insert,
        "push→query": _seconds(row.push_to_queryable_seconds),
        "dlq pauses": _num(row.dlq_pauses),
        "restarts": _num(row.restarts),
        "rss": _bytes(row.rss_bytes),
        "uptime": _uptime(row.uptime_seconds),
    }


def _narrow(view: list[Row], title: str) -> Table:
    """One column per service, one row per figure: readable at 80 columns."""
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("", justify="left", no_wrap=True)
    for row in view:
        table.add_column(row.service, justify="right", no_wrap=True)
    cells = [_cells(row) for row in view]
    for name in cells[0] if cells else ():
        table.add_row(name, *(c[name] for c in cells))
    return table


def render(view: list[Row], title: str, width: int = WIDE) -> Group:
    """The services table (one row per service when `width` allows, else one column per
    service), then the rejects by reason that are not zero, and paused provinces."""
    if width < WIDE:
        return _parts(view, _narrow(view, title))
    table = Table(title=title, title_justify="left", expand=False)
    for name, justify in (
        ("service", "left"), ("state", "left"), ("msg/s", "right"), ("consumed", "right"),
        ("accepted", "right"), ("rejected", "right"), ("lag", "right"), ("batch", "right"),
        ("insert", "right"), ("push→query", "right"), ("dlq pauses", "right"),
        ("restarts", "right"), ("rss", "right"), ("uptime", "right"),
    ):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in view:
        table.add_row(row.service, *_cells(row).values())
    return _parts(view, table)


def _parts(view: list[Row], table: Table) -> Group:
    parts: list[Table | Text] = [table]
    reasons = [
        (r.service, reason, n) for r in view for reason, n in r.rejects_by_reason.items() if n > 0
    ]
    if reasons:
        by_reason = Table(title="rejects by reason", title_justify="left")
        for column in ("service", "reason", "messages"):
            by_reason.add_column(column, justify="right" if column == "messages" else "left")
        for service, reason, n in sorted(reasons, key=lambda x: (x[0], -x[2], x[1])):
            by_reason.add_row(service, reason, _num(n))
        parts.append(by_reason)
    for row in view:
        if row.paused_provinces:
            parts.append(
                Text(
                    f"{row.service}: dead-letter limit pausing province(s) "
                    + ", ".join(row.paused_provinces),
                    style="bold red",
                )
            )
    for row in view:
        if row.quiet_provinces:
            quiet = ", ".join(f"{p} ({_uptime(seconds)})" for p, seconds in row.quiet_provinces)
            parts.append(
                Text(
                    f"province(s) silent for over {_uptime(row.quiet_threshold_seconds)} "
                    f"(ProvinceSilent): {quiet}",
                    style="bold yellow",
                )
            )
    return Group(*parts)


def top(
    api: ApiOption = DEFAULT_API,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between refreshes.")] = 1.0,
    once: Annotated[
        bool, typer.Option("--once", help="Print one snapshot (two scrapes apart) and exit.")
    ] = False,
    fmt: FormatOption = Format.TABLE,
    token_file: TokenFileOption = None,
    data_dir: DataDirOption = Path("var"),
) -> None:
    """Watch the running stack: per service, state, rates, lag, latencies, pauses, memory.

    With --once (implied by --format json|csv), exits 1 when a service is down.
    """
    host, api_port = options.api_port(api)
    targets = layout(data_dir, api_port)
    title = f"cchc top · {host}:{api_port} (+1 ingest, +2 normalize)"
    console = Console()
    # /metrics needs no token; the operator token only adds the lag fallback of /v1/pipeline.
    try:
        auth = credentials.headers(Role.OPERATOR, token_file, data_dir)
    except typer.BadParameter:
        auth = {}
    with httpx.Client(timeout=min(interval, 2.0), headers=auth) as client:
        previous = scrape_instances(client, targets, host)
        if once or fmt is not Format.TABLE:
            time.sleep(interval)
            current = scrape_instances(client, targets, host)
            view = rows(current, previous, time.time())
            if fmt is Format.TABLE:
                console.print(render(view, title, console.width))
            else:
                typer.echo(export(view, fmt), nl=False)
            raise typer.Exit(0 if all(r.up for r in view) else 1)
        try:
            with Live(
                render(rows(previous, None, time.time()), title, console.width),
                console=console,
                refresh_per_second=4,
                screen=False,
            ) as live:
                while True:
                    time.sleep(interval)
                    current = scrape_instances(client, targets, host)
                    live.update(render(rows(current, previous, time.time()), title, console.width))
                    previous = current
        except KeyboardInterrupt:
            pass
