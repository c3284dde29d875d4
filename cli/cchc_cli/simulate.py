"""`cchc simulate`: a realistic stream of `cchc.dossier_event/1` from provincial one-stop systems,
with the feedback (`cchc.feedback_event/1`) and procedure (`cchc.procedure_event/1`) events the
Bộ chỉ số 766 scoreboard needs.

:func:`generate` is a pure function of its arguments (seeded RNG, ``now`` passed in), so the
stream is unit tested; :func:`simulate` pushes it to ``cchc.raw.NN`` with kafka-python (acks=all)
through :mod:`cchc_cli.push`.

What the stream looks like (shares are expectations, the seed decides each dossier):

* receipts on working hours (07:30–17:00 Vietnam time) of each day, ``dossiers_per_day`` per
  province, a procedure from a pool of national codes, each with its legal time limit in working
  days (or hours); ``due_at`` = receipt + that limit, weekends skipped;
* channel online ~50 % (full / partial online mode), in person ~45 %, postal ~5 %; a commune of
  the province's current list on ~85 % of dossiers;
* ~8 % get a ``supplement_requested`` step; ~1.5 % are rejected, ~1 % withdrawn; the rest are
  resolved, ~3.5 % of them after their due date;
* steps that would happen after ``now`` are not sent: those dossiers are still in progress, and
  those past their due date are overdue;
* ~1 % of events are sent twice (same event id, later in the stream) and ~2 % of resolutions
  are sent before their receipt;
* Bộ chỉ số 766 flags: synced to the national portal ~93 %, a fee ~40 % (paid online ~70 % of
  those received online, ~15 % of the others), digitised ~65 %, reused data ~35 %, electronic
  result ~70 %; ~30 % of resolved dossiers are rated a few hours later, ~92 % satisfied (~70 %
  after a late resolution).

:func:`generate_766` adds, per province, a publication of every procedure of the pool 60 days
before the first day (online full ~70 %, partial otherwise: the offer criterion o1 reads), then
per day ``max(1, dossiers_per_day // 25)`` feedback (answered on time ~85 %, late ~10 %, open
~5 %; satisfied ~85 %, unsatisfied ~8 %, no reaction otherwise) and an announcement and a
publication (on time ~90 %, complete ~85 %).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Annotated, Any

import httpx
import orjson
import typer
from cchc_shared.provinces import VIETNAM_TZ, Era, ProvinceRegistry, default_registry
from kafka import KafkaProducer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cchc_cli import push as pushing
from cchc_cli.options import DEFAULT_BOOTSTRAP, BootstrapOption, fail, require_kafka

__all__ = [
    "PROCEDURES",
    "Procedure",
    "SimulationSummary",
    "demo_stream",
    "generate",
    "simulate",
    "simulate_command",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class Procedure:
    """A national procedure code and its legal time limit."""

    code: str
    limit: int
    unit: str = "days"
    """``days`` (working days) or ``hours`` (working hours, counted as clock hours)."""


# National procedure codes as the national public service portal writes them, with typical time
# limits (birth registration: same day; business registration: 3 days; land use certificate: up
# to 30 days …). The pool is illustrative: codes are real in form, limits are typical.
PROCEDURES: tuple[Procedure, ...] = (
    Procedure("1.004227", 8, "hours"),
    Procedure("1.001193", 3),
    Procedure("2.002156", 5),
    Procedure("1.000894", 1),
    Procedure("2.000908", 3),
    Procedure("1.003003", 15),
    Procedure("1.001612", 10),
    Procedure("2.001711", 7),
    Procedure("1.004946", 20),
    Procedure("2.000046", 30),
    Procedure("1.005461", 4, "hours"),
    Procedure("2.002192", 12),
)

_ONLINE, _IN_PERSON, _POSTAL = "online", "in_person", "postal"


def _add_working_days(start: datetime, days: int) -> datetime:
    out = start
    while days > 0:
        out += timedelta(days=1)
        if out.astimezone(VIETNAM_TZ).weekday() < 5:
            days -= 1
    return out


def _due(received: datetime, procedure: Procedure) -> datetime:
    if procedure.unit == "hours":
        return received + timedelta(hours=procedure.limit)
    return _add_working_days(received, procedure.limit)


def _iso(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TZ).isoformat(timespec="seconds")


def generate(
    provinces: Sequence[str],
    dossiers_per_day: int,
    days: int,
    start: date,
    *,
    seed: int,
    now: datetime,
    communes: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """The events in the order they are sent. Pure: same arguments, same list.

    ``communes`` maps a 2025 province code to its current commune codes (may be empty).
    """
    rng = random.Random(seed)
    timed: list[tuple[datetime, int, dict[str, Any]]] = []
    order = 0

    def emit(at: datetime, event: dict[str, Any]) -> None:
        nonlocal order
        if at <= now:
            timed.append((at, order, event))
            order += 1

    for day_index in range(days):
        day = start + timedelta(days=day_index)
        opening = datetime.combine(day, dtime(7, 30), VIETNAM_TZ)
        for province in provinces:
            pool = communes.get(province, ())
            for seq in range(1, dossiers_per_day + 1):
                dossier_id = f"H{province}-{day:%y%m%d}-{seq:05d}"
                procedure = rng.choice(PROCEDURES)
                received = opening + timedelta(seconds=rng.randrange(0, 9 * 3600 + 1800))
                due = _due(received, procedure)
                channel = rng.choices((_ONLINE, _IN_PERSON, _POSTAL), (50, 45, 5))[0]
                base: dict[str, Any] = {
                    "schema": "cchc.dossier_event/1",
                    "province": province,
                    "dossier_id": dossier_id,
                    "procedure_code": procedure.code,
                }
                if pool and rng.random() < 0.85:
                    base["commune_code"] = rng.choice(pool)
                receipt = {
                    **base,
                    "event_id": f"{dossier_id}:received",
                    "status": "received",
                    "occurred_at": _iso(received),
                    "due_at": _iso(due),
                    "channel": channel,
                }
                if channel == _ONLINE:
                    receipt["online_mode"] = rng.choices(("full", "partial"), (60, 40))[0]
                fee = rng.random() < 0.40
                receipt["synced_national"] = rng.random() < 0.93
                receipt["fee_required"] = fee
                receipt["digitized"] = rng.random() < 0.65
                receipt["reused_data"] = rng.random() < 0.35
                paid = fee and rng.random() < (0.70 if channel == _ONLINE else 0.15)
                emit(received, receipt)
                window = (due - received).total_seconds()
                if rng.random() < 0.08:
                    asked = received + timedelta(seconds=window * rng.uniform(0.05, 0.4))
                    emit(
                        asked,
                        {
                            **base,
                            "event_id": f"{dossier_id}:supplement",
                            "status": "supplement_requested",
                            "occurred_at": _iso(asked),
                        },
                    )
                fate = rng.random()
                if fate < 0.015:
                    status, at = "rejected", received + timedelta(seconds=window * rng.random())
                elif fate < 0.025:
                    status, at = "withdrawn", received + timedelta(seconds=window * rng.random())
                elif late := rng.random() < 0.035:
                    status, at = "resolved", due + timedelta(minutes=rng.randrange(30, 4 * 1440))
                else:
                    status = "resolved"
                    at = received + timedelta(seconds=window * rng.uniform(0.1, 1.0))
                emit(
                    at,
                    {
                        **base,
                        "event_id": f"{dossier_id}:{status}",
                        "status": status,
                        "occurred_at": _iso(at),
                        **(
                            {"result_electronic": rng.random() < 0.7, "paid_online": paid}
                            if status == "resolved"
                            else {}
                        ),
                    },
                )
                if status == "resolved" and rng.random() < 0.30:
                    rated = at + timedelta(minutes=rng.randrange(10, 48 * 60))
                    emit(
                        rated,
                        {
                            **base,
                            "event_id": f"{dossier_id}:rated",
                            "status": "rated",
                            "occurred_at": _iso(rated),
                            "satisfied": rng.random() < (0.70 if late else 0.92),
                        },
                    )
    timed.sort(key=lambda t: (t[0], t[1]))
    events = [event for _, _, event in timed]
    # Out of order: some resolutions are sent just before their own receipt.
    early: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["status"] == "resolved" and rng.random() < 0.02:
            early[f"{event['dossier_id']}:received"] = event
    moved = {id(e) for e in early.values()}
    ordered: list[dict[str, Any]] = []
    for event in events:
        if id(event) in moved:
            continue
        jumped = early.get(event["event_id"])
        if jumped is not None:
            ordered.append(jumped)
        ordered.append(event)
    # Duplicates: the same event (same id) sent again a little later.
    copies: dict[int, list[dict[str, Any]]] = {}
    for i, event in enumerate(ordered):
        if rng.random() < 0.01:
            later = min(len(ordered) - 1, i + rng.randrange(1, 50))
            copies.setdefault(later, []).append(dict(event))
    out: list[dict[str, Any]] = []
    for i, event in enumerate(ordered):
        out.append(event)
        out.extend(copies.get(i, ()))
    return out


def generate_766(
    provinces: Sequence[str],
    feedback_per_day: int,
    days: int,
    start: date,
    *,
    seed: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Feedback and procedure events (the scoreboard's other inputs), in time order. Pure."""
    rng = random.Random(seed * 7919 + 766)
    timed: list[tuple[datetime, int, dict[str, Any]]] = []

    def emit(at: datetime, event: dict[str, Any]) -> None:
        if at <= now:
            timed.append((at, len(timed), event))

    def act(province: str, procedure: str, action: str, at: datetime, tag: str) -> dict[str, Any]:
        on_time = rng.random() < 0.90
        due = at + timedelta(days=rng.randrange(1, 10)) if on_time else at - timedelta(days=2)
        event: dict[str, Any] = {
            "schema": "cchc.procedure_event/1",
            "event_id": f"TT{province}-{procedure}-{action}-{tag}",
            "province": province,
            "procedure_code": procedure,
            "action": action,
            "occurred_at": _iso(at),
            "due_at": _iso(due),
        }
        if action == "published":
            event["complete"] = rng.random() < 0.85
            event["online"] = rng.choices(("full", "partial"), (70, 30))[0]
        return event

    before = datetime.combine(start - timedelta(days=60), dtime(9, 0), VIETNAM_TZ)
    for province in provinces:
        for procedure in PROCEDURES:
            emit(before, act(province, procedure.code, "published", before, "initial"))
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        opening = datetime.combine(day, dtime(7, 30), VIETNAM_TZ)
        for province in provinces:
            for action in ("announced", "published"):
                at = opening + timedelta(seconds=rng.randrange(0, 9 * 3600))
                code = rng.choice(PROCEDURES).code
                emit(at, act(province, code, action, at, f"{day:%y%m%d}"))
            for seq in range(1, feedback_per_day + 1):
                feedback_id = f"PA{province}-{day:%y%m%d}-{seq:04d}"
                received = opening + timedelta(seconds=rng.randrange(0, 9 * 3600))
                due = _add_working_days(received, 10)
                base = {
                    "schema": "cchc.feedback_event/1",
                    "province": province,
                    "feedback_id": feedback_id,
                }
                emit(
                    received,
                    {
                        **base,
                        "event_id": f"{feedback_id}:received",
                        "status": "received",
                        "occurred_at": _iso(received),
                        "due_at": _iso(due),
                    },
                )
                fate = rng.random()
                if fate < 0.05:
                    continue  # not answered yet
                window = (due - received).total_seconds()
                at = (
                    due + timedelta(hours=rng.randrange(2, 96))
                    if fate < 0.15
                    else received + timedelta(seconds=window * rng.uniform(0.2, 1.0))
                )
                reaction = rng.random()
                answer: dict[str, Any] = {
                    **base,
                    "event_id": f"{feedback_id}:resolved",
                    "status": "resolved",
                    "occurred_at": _iso(at),
                }
                if reaction < 0.85:
                    answer["satisfied"] = True
                elif reaction < 0.93:
                    answer["satisfied"] = False
                emit(at, answer)
    timed.sort(key=lambda t: (t[0], t[1]))
    return [event for _, _, event in timed]


def merge_streams(*streams: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Streams interleaved by occurred_at, each keeping its own order (an event a stream sends
    early or late stays so: it is placed by the latest time its stream has reached)."""
    placed: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for n, stream in enumerate(streams):
        reached: datetime | None = None
        for i, event in enumerate(stream):
            at = datetime.fromisoformat(event["occurred_at"])
            reached = at if reached is None or at > reached else reached
            placed.append((reached, n, i, event))
    placed.sort(key=lambda t: (t[0], t[1], t[2]))
    return [event for *_, event in placed]


@dataclass
class SimulationSummary:
    """What a stream contains: events by status, dossiers, shares, duplicates."""

    events: int = 0
    dossiers: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    received_online: int = 0
    resolved_late: int = 0
    open_overdue: int = 0
    open_not_due: int = 0
    other: Counter[str] = field(default_factory=Counter)
    """Feedback and procedure events, by kind."""

    @property
    def online_share(self) -> float:
        """Online receipts ÷ receipts."""
        return self.received_online / max(1, self.by_status["received"])

    @property
    def late_share(self) -> float:
        """Late resolutions ÷ resolutions (receipt and resolution both sent)."""
        return self.resolved_late / max(1, self.by_status["resolved"])


def summarize(events: Sequence[dict[str, Any]], now: datetime) -> SimulationSummary:
    """Count what :func:`generate` produced (distinct events; copies as duplicates)."""
    summary = SimulationSummary(events=len(events))
    seen: set[str] = set()
    dossiers: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["event_id"] in seen:
            summary.duplicates += 1
            continue
        seen.add(event["event_id"])
        kind = event["schema"]
        if kind != "cchc.dossier_event/1":
            summary.other[kind.removeprefix("cchc.").removesuffix("/1")] += 1
            continue
        summary.by_status[event["status"]] += 1
        state = dossiers.setdefault(event["dossier_id"], {})
        state[event["status"]] = event
    summary.dossiers = len(dossiers)
    for state in dossiers.values():
        receipt = state.get("received")
        if receipt is None:
            continue
        due = datetime.fromisoformat(receipt["due_at"])
        if receipt["channel"] == _ONLINE:
            summary.received_online += 1
        resolved = state.get("resolved")
        if resolved is not None and datetime.fromisoformat(resolved["occurred_at"]) > due:
            summary.resolved_late += 1
        if not {"resolved", "rejected", "withdrawn"} & state.keys():
            if due < now:
                summary.open_overdue += 1
            else:
                summary.open_not_due += 1
    return summary


def commune_pool(registry: ProvinceRegistry) -> dict[str, list[str]]:
    """2025 province code → its current commune codes, sorted (for a stable seed)."""
    pool: dict[str, list[str]] = {}
    for commune, province in registry.communes.items():
        pool.setdefault(province, []).append(commune)
    return {p: sorted(cs) for p, cs in pool.items()}


def simulate(
    events: Sequence[dict[str, Any]],
    producer: KafkaProducer,
    registry: ProvinceRegistry,
    *,
    rate: float | None = None,
    on_progress: Callable[[int], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> pushing.PushReport:
    """Push ``events`` to their ``cchc.raw.NN``; at most ``rate`` events per second if given."""
    report = pushing.PushReport()
    chunk = max(1, int(rate)) if rate else 5000
    began = clock()
    for first in range(0, len(events), chunk):
        lines = [
            ("simulate", first + i + 1, orjson.dumps(e))
            for i, e in enumerate(events[first : first + chunk])
        ]
        part = pushing.push(lines, producer, registry, on_progress=on_progress)
        report.sent += part.sent
        report.failures.extend(part.failures)
        if rate:
            ahead = (first + len(lines)) / rate - (clock() - began)
            if ahead > 0:
                sleep(ahead)
    return report


def feedback_per_day(dossiers_per_day: int) -> int:
    """Feedback per province per day: one for every 25 dossiers, at least one."""
    return max(1, dossiers_per_day // 25)


def default_start(days: int, now: datetime) -> date:
    """The first day so that the stream ends yesterday (Vietnam time)."""
    return now.astimezone(VIETNAM_TZ).date() - timedelta(days=days)


def utc_now() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


# --- the command ---------------------------------------------------------------------------------

_console = Console(stderr=True)


def _provinces(text: str, registry: ProvinceRegistry) -> list[str]:
    current = sorted(u.code for u in registry.units(Era.POST_2025))
    if text.strip().lower() == "all":
        return current
    codes = [c.strip().zfill(2) for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in current]
    if unknown or not codes:
        raise typer.BadParameter(
            f"not 2025 province codes: {', '.join(unknown) or text!r}", param_hint="--provinces"
        )
    return codes


def _summary_table(summary: SimulationSummary, title: str) -> Table:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, str]] = [
        ("events sent (duplicates included)", f"{summary.events:,}"),
        ("dossiers", f"{summary.dossiers:,}"),
        *((f"  {status}", f"{n:,}") for status, n in sorted(summary.by_status.items())),
        ("duplicates (same event id again)", f"{summary.duplicates:,}"),
        ("online share of receipts", f"{100 * summary.online_share:.1f} %"),
        ("late share of resolutions", f"{100 * summary.late_share:.1f} %"),
        ("in progress, overdue now", f"{summary.open_overdue:,}"),
        ("in progress, not due yet", f"{summary.open_not_due:,}"),
        *((f"{kind} events", f"{n:,}") for kind, n in sorted(summary.other.items())),
    ]
    for what, count in rows:
        table.add_row(what, count)
    return table


def simulate_command(
    provinces: Annotated[
        str, typer.Option(help="'all' (the 34 current provinces) or codes: 01,79,48.")
    ] = "all",
    dossiers_per_day: Annotated[
        int, typer.Option(min=1, help="Dossiers per province per day.")
    ] = 100,
    days: Annotated[int, typer.Option(min=1, help="Days of receipts.")] = 1,
    start: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD); default: DAYS days before today.")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(min=1, help="At most this many events per second.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same stream (until 'now' moves).")] = 766,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
) -> None:
    """Push a realistic stream of dossier, feedback and procedure events to cchc.raw.NN."""
    registry = default_registry()
    codes = _provinces(provinces, registry)
    now = utc_now()
    try:
        first = date.fromisoformat(start) if start else default_start(days, now)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from exc
    dossiers = generate(
        codes,
        dossiers_per_day,
        days,
        first,
        seed=seed,
        now=now,
        communes=commune_pool(registry),
    )
    others = generate_766(
        codes, feedback_per_day(dossiers_per_day), days, first, seed=seed, now=now
    )
    events = merge_streams(others, dossiers)
    require_kafka(bootstrap)
    try:
        producer = pushing.producer(bootstrap)
    except Exception as exc:
        fail(f"cannot reach Kafka at {bootstrap}: {type(exc).__name__}: {exc}", 2)
    began = time.monotonic()
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console,
        transient=True,
    ) as progress:
        task = progress.add_task("simulate", total=len(events))
        try:
            report = simulate(
                events,
                producer,
                registry,
                rate=rate,
                on_progress=lambda n: progress.advance(task, n),
            )
        finally:
            producer.close()
    seconds = time.monotonic() - began
    for f in report.failures[:20]:
        _console.print(f"[red]event {f.line}[/]: {f.reason}")
    last = first + timedelta(days=days - 1)
    _console.print(
        _summary_table(
            summarize(events, now),
            f"{len(codes)} provinces × {dossiers_per_day}/day × {days} days "
            f"({first} … {last}), seed {seed}",
        )
    )
    _console.print(
        f"sent {report.sent:,} in {seconds:.1f}s ({report.sent / max(seconds, 1e-9):,.0f}/s), "
        f"failed {len(report.failures)}"
    )
    if report.failures:
        raise typer.Exit(1)


def demo_stream(
    bootstrap: str,
    api_url: str,
    wait_drained: Callable[[], object],
    headers: dict[str, str] | None = None,
) -> None:
    """`cchc up`'s demo: yesterday's dossiers of three provinces, then the national index."""
    registry = default_registry()
    now = utc_now()
    day = default_start(1, now)
    provinces = ["01", "48", "79"]
    dossiers = generate(provinces, 50, 1, day, seed=766, now=now, communes=commune_pool(registry))
    others = generate_766(provinces, feedback_per_day(50), 1, day, seed=766, now=now)
    events = merge_streams(others, dossiers)
    producer = pushing.producer(bootstrap)
    try:
        report = simulate(events, producer, registry)
    finally:
        producer.close()
    summary = summarize(events, now)
    _console.print(
        f"demo: simulated {report.sent} events ({summary.dossiers} dossiers, "
        f"{summary.other['feedback_event']} feedback, {summary.other['procedure_event']} "
        "procedure events)"
    )
    wait_drained()
    url = f"{api_url}/v1/service-index"
    body: dict[str, Any] = {}
    deadline = time.monotonic() + 5
    # /v1/pipeline can report drained a moment before the last insert is visible.
    while time.monotonic() < deadline:
        try:
            body = httpx.get(
                url, params={"period": day.isoformat()}, headers=headers, timeout=10
            ).json()
        except httpx.HTTPError as exc:  # the demo must never take the stack down
            _console.print(f"[yellow]demo: no service index ({exc})[/]")
            return
        if body.get("received") == summary.by_status["received"]:
            break
        time.sleep(0.2)
    table = Table(title=f"national service index {day}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in body.items():
        if name not in ("period", "province"):
            table.add_row(name, "—" if value is None else str(value))
    Console().print(table)
    _demo_scoreboard(api_url, day, headers)


def _demo_scoreboard(api_url: str, day: date, headers: dict[str, str] | None) -> None:
    """The demo's Bộ chỉ số 766 ranking for the month of ``day``."""
    month = f"{day:%Y-%m}"
    try:
        r = httpx.get(
            f"{api_url}/v1/scoreboard", params={"period": month}, headers=headers, timeout=10
        )
        body = r.json()
    except httpx.HTTPError as exc:  # the demo must never take the stack down
        _console.print(f"[yellow]demo: no scoreboard ({exc})[/]")
        return
    if r.is_error:
        _console.print(f"[yellow]demo: no scoreboard ({body})[/]")
        return
    table = Table(title=f"Bộ chỉ số 766 — {month} (cchc query scoreboard {month})")
    for column in ("Hạng", "Tỉnh, thành phố", "Tổng điểm"):
        table.add_column(column)
    for p in body["provinces"]:
        table.add_row(str(p["rank"]), f"{p['province']} {p['name']}", str(p["total"]))
    table.add_row("", "Toàn quốc (gộp số liệu)", str(body["total"]))
    Console().print(table)
