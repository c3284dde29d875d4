"""`cchc` — run the embedded CCHC stack, push events, look at what landed."""

from __future__ import annotations

import signal
import sys
import time
from importlib import metadata, resources
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer
from cchc_devstack.stack import Stack, StackConfig, parse_instances
from cchc_runtime.tokens import Role
from cchc_shared.provinces import default_registry
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cchc_cli import dlq, schema
from cchc_cli import push as pushing
from cchc_cli import simulate as simulation
from cchc_cli.options import DEFAULT_BOOTSTRAP, BootstrapOption, fail, province_code, require_kafka
from cchc_cli.query import query_app
from cchc_cli.token import token_app
from cchc_cli.top import top
from cchc_cli.validate import validate_command

app = typer.Typer(
    help="CCHC Pipeline: Vietnam's administrative-reform figures, province → Kafka → ClickHouse.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()


def _version(value: bool) -> None:
    if value:
        out.print(f"cchc {metadata.version('cchc-cli')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """CCHC Pipeline: Vietnam's administrative-reform figures, province → Kafka → ClickHouse.

    Every command spells its options the same way: --api URL (CCHC_API), --bootstrap
    (CCHC_KAFKA_BOOTSTRAP_SERVERS), --format/-f table|json|csv, --province 1 or 01, --token-file
    or CCHC_TOKEN; a stack that cannot be reached is one line of error and exit 2.
    """


DEMO_FILE = "demo_events.jsonl"


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


@app.command()
def up(
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Do not push the demo data.")] = False,
    data_dir: Annotated[Path, typer.Option(help="Where ClickHouse data and logs live.")] = Path(
        "var"
    ),
    kafka_port: Annotated[int, typer.Option(help="Embedded broker port (127.0.0.1).")] = 9092,
    api_port: Annotated[
        int, typer.Option(help="Query API port; ingest and normalize use the next two.")
    ] = 8080,
    raw_partitions: Annotated[int, typer.Option(min=1, help="Partitions per cchc.raw.NN.")] = 1,
    partitions: Annotated[int, typer.Option(min=1, help="Partitions of internal topics.")] = 4,
    with_prometheus: Annotated[
        bool, typer.Option("--with-prometheus", help="Also run Prometheus (if on PATH).")
    ] = False,
    prometheus_port: Annotated[int, typer.Option(help="Prometheus port (127.0.0.1).")] = 9090,
    instances: Annotated[
        str,
        typer.Option(
            help="Processes per service, e.g. ingest=2,normalize=2: they share the service's "
            "consumer group and split its partitions (aggregate: one on chDB). Instance n "
            "listens on the service's port + 3(n-1)."
        ),
    ] = "",
    drain_timeout: Annotated[
        float,
        typer.Option(
            min=0, help="On Ctrl-C, seconds to let the services consume what the broker holds."
        ),
    ] = 30.0,
) -> None:
    """Run the whole stack in the foreground until Ctrl-C (SIGINT) or SIGTERM.

    On Ctrl-C the services first drain what the broker holds (at most --drain-timeout seconds:
    a second Ctrl-C cuts it short), then stop, then the broker — memory-only, so what is left
    then is lost, and said.
    """
    try:
        counts = parse_instances(instances)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--instances") from exc
    config = StackConfig(
        data_dir,
        kafka_port,
        api_port,
        raw_partitions,
        partitions,
        with_prometheus,
        prometheus_port,
        instances=counts,
        drain_timeout_s=drain_timeout,
    )
    stack = Stack(config, lambda line: console.print(f"[yellow]{line}[/]"))
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    code = 0
    drain = False
    try:
        stack.check_ports()
        console.print(f"starting broker on {config.bootstrap} …")
        stack.start_broker()
        created = stack.create_topics()
        console.print(f"topics: {created} created")
        console.print(stack.migrate())
        for path in stack.ensure_tokens():
            console.print(f"token: {path} (mode 0600; cchc query/top read it from there)")
        stack.start_services()
        if with_prometheus:
            console.print(stack.start_prometheus())
        stack.wait_ready()
        drain = True
        ports = config.ports()
        secrets_dir = (config.data_dir / "secrets").resolve()
        out.print(
            f"ready: console {config.api_url}/ (sign in with the token in "
            f"{secrets_dir}/analyst.token, or operator.token) · kafka {config.bootstrap} · "
            f"api {config.api_url} (ingest :{ports['ingest']}, normalize :{ports['normalize']}) · "
            f"data {config.data_dir.resolve()}",
            highlight=False,
            soft_wrap=True,
        )
        if not no_demo:
            _demo(stack, config)
        console.print("running; Ctrl-C to stop")
        while True:
            stack.supervise_once()
            time.sleep(0.5)
    except _Stop as stop:
        console.print(f"{stop}: stopping ingest, normalize, aggregate, broker …")
    except (RuntimeError, TimeoutError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        code = 1
        drain = False
    finally:
        if drain:
            _drain(stack)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        left = stack.stop(count_left=drain)
        if left is not None and any(left.values()):
            detail = ", ".join(f"{service} {n}" for service, n in left.items() if n)
            console.print(
                f"[yellow]{sum(left.values())} events were left unconsumed in the broker "
                f"({detail}) and are lost with it (memory-only)[/]"
            )
        elif left is not None:
            console.print("nothing was left in the broker")
        console.print("stopped")
    raise typer.Exit(code)


def _drain(stack: Stack) -> None:
    """Let the services consume what the broker holds before it stops; say what is left."""
    timeout = stack.config.drain_timeout_s
    console.print(f"draining what the broker holds (at most {timeout:.0f}s; Ctrl-C skips) …")
    try:
        left = stack.drain(timeout)
    except _Stop:
        console.print("[yellow]drain skipped[/]")
        return
    if left and not any(left.values()):
        console.print("drained: every event in the broker was consumed")
    elif any(v < 0 for v in left.values()):
        console.print("[yellow]drain: the broker did not answer; events left unknown[/]")
    else:
        console.print(
            f"[yellow]not drained after {timeout:.0f}s ({sum(left.values())} unconsumed); "
            "stopping: each service finishes its batch in hand[/]"
        )


def _demo(stack: Stack, config: StackConfig) -> None:
    """Push the demo figures from the seed reports and print what landed."""
    demo = resources.files("cchc_cli.data").joinpath(DEMO_FILE)
    with demo.open("rb") as stream:
        lines = list(pushing.read_lines(DEMO_FILE, stream))
    producer = pushing.producer(config.bootstrap)
    try:
        report = pushing.push(lines, producer, default_registry())
    finally:
        producer.close()
    console.print(f"demo: pushed {report.sent} events from the seed reports ({report.kinds()})")
    state = stack.wait_drained()
    r = httpx.post(
        f"{config.api_url}/v1/sql",
        json={
            # A rank without a score shows as "50/63"; tiers (level) beside province-wide.
            "sql": "SELECT province, unit_code, indicator, period, level, value, "
            "if(rank IS NULL, '', concat(toString(rank), '/', toString(rank_of))) AS rank, "
            "unit, status FROM observations FINAL ORDER BY province, indicator, period, level"
        },
        headers=stack.auth(Role.ANALYST),
        timeout=10,
    )
    r.raise_for_status()
    body = r.json()
    table = Table(
        title=f"landed in ClickHouse ({len(body['rows'])} rows, dlq {state['dlq']}): "
        "the indicator reports"
    )
    for column in body["columns"]:
        table.add_column(column, overflow="fold")
    for row in body["rows"]:
        table.add_row(
            *(
                f"{v:,.2f}".rstrip("0").rstrip(".")
                if isinstance(v, float)
                else ("—" if v is None else str(v))
                for v in row
            )
        )
    # Wide enough for indicator codes even when stdout is not a terminal (rich assumes 80).
    Console(width=max(out.width, 120)).print(table)
    dossiers = report.schemas.get("cchc.dossier_event/1", 0)
    if dossiers:
        out.print(
            f"the {dossiers} dossier events are in dossier_events, not observations "
            "(the service index below counts them)",
            highlight=False,
            soft_wrap=True,
        )
    simulation.demo_stream(
        config.bootstrap, config.api_url, stack.wait_drained, stack.auth(Role.ANALYST)
    )


@app.command()
def push(
    files: Annotated[list[str], typer.Argument(help="JSON-lines files; '-' reads stdin.")],
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    province: Annotated[
        str | None,
        typer.Option(
            callback=province_code,
            help="Send everything to cchc.raw.NN (as province NN's system would); 1 or 01.",
        ),
    ] = None,
) -> None:
    """Send events to their province's cchc.raw.NN topic; exits 1 if any line failed."""
    registry = default_registry()
    lines: list[tuple[str, int, bytes]] = []
    for name in files:
        if name == "-":
            lines.extend(pushing.read_lines("<stdin>", sys.stdin.buffer))
            continue
        path = Path(name)
        if not path.is_file():
            raise typer.BadParameter(f"no such file: {name}", param_hint="FILES")
        with path.open("rb") as stream:
            lines.extend(pushing.read_lines(name, stream))
    require_kafka(bootstrap)
    try:
        producer = pushing.producer(bootstrap)
    except Exception as exc:
        fail(f"cannot reach Kafka at {bootstrap}: {type(exc).__name__}: {exc}", 2)
    with Progress(
        TextColumn("pushing"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task("push", total=len(lines))
        try:
            report = pushing.push(
                lines,
                producer,
                registry,
                province=province,
                on_progress=lambda n: progress.advance(task, n),
            )
        finally:
            producer.close()
    for f in report.failures:
        console.print(f"[red]{f.source}:{f.line}[/]: {escape(f.reason)}", highlight=False)
    kinds = f" ({report.kinds()})" if report.sent else ""
    console.print(f"sent {report.sent}{kinds}, failed {len(report.failures)}", highlight=False)
    if report.failures:
        raise typer.Exit(1)


app.add_typer(dlq.app, name="dlq")
app.add_typer(schema.app, name="schema")
app.add_typer(query_app, name="query")
app.add_typer(token_app, name="token")
app.command("top")(top)
app.command("simulate")(simulation.simulate_command)
app.command("validate")(validate_command)

if __name__ == "__main__":
    app()
