"""`make bench` (`python -m cchc_bench`): run the benchmark, write results, print a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cchc_bench.runner import PHASES, BenchConfig, Runner, write
from cchc_bench.stats import Results

console = Console(stderr=True)
app = typer.Typer(add_completion=False)


@app.command()
def bench(
    events: Annotated[int, typer.Option(min=1000, help="Events of the sustained run.")] = 1_000_000,
    naive_events: Annotated[
        int, typer.Option(min=100, help="Events through the naive pipeline (slow).")
    ] = 3_000,
    latency_rate: Annotated[int, typer.Option(min=100, help="Offered load, events/s.")] = 10_000,
    latency_seconds: Annotated[int, typer.Option(min=1, help="How long to offer it.")] = 20,
    latency_runs: Annotated[
        int, typer.Option(min=1, help="Latency runs (p99 as a range); fewer for a quick run.")
    ] = 5,
    producers: Annotated[int, typer.Option(min=1, max=8, help="Producer processes.")] = 2,
    https_events: Annotated[
        int, typer.Option(min=1000, help="Events posted to POST /v1/events (1,000 a batch).")
    ] = 100_000,
    https_concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="HTTPS push requests in flight.")
    ] = 4,
    profile: Annotated[
        bool, typer.Option("--profile", help="py-spy the services during the sustained run.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(help=f"Run only these phases (repeatable): {', '.join(PHASES)}."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where results go.")] = Path("bench/results"),
) -> None:
    """Measure the pipeline on a fresh embedded stack against the broker's ceiling and a naive
    pipeline; write results.json and throughput.png under --out and print a summary."""
    phases = tuple(only) if only else PHASES
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise typer.BadParameter(f"unknown phase(s) {unknown}", param_hint="--only")
    config = BenchConfig(
        events=events,
        naive_events=naive_events,
        latency_rate=latency_rate,
        latency_seconds=latency_seconds,
        latency_runs=latency_runs,
        producers=producers,
        https_events=https_events,
        https_concurrency=https_concurrency,
        profile=profile,
        out_dir=out,
        phases=phases,
    )
    runner = Runner(config, lambda line: console.print(f"[cyan]bench[/] {line}"))
    try:
        runner.run()
    finally:
        # Whatever was measured before a failure is still written down.
        chart_path = write(runner.results, out, runner.curves)
        Console(width=max(Console().width, 110)).print(summary(runner.results))
    console.print(f"results: {out / 'results.json'} · chart: {chart_path}")


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float | int):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
        return f"{text} {unit}".strip()
    return str(value)


def summary(results: Results) -> Table:
    """The targets, pass/fail, and the figures behind them."""
    table = Table(title="CCHC bench — targets (2-core machine, embedded stack)")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_column("target", justify="right")
    table.add_column("result")
    table.add_column("gap / why", overflow="fold", max_width=60)
    for t in results.targets:
        mark = {True: "[green]pass[/]", False: "[red]MISS[/]", None: "[yellow]n/a[/]"}[t.passed]
        table.add_row(
            t.name,
            _fmt(t.value, t.unit),
            f"{t.op} {_fmt(t.target, t.unit)}",
            mark,
            " ".join(x for x in (t.gap, t.note) if x),
        )
    f = results.figures
    if "end_to_end" in f:
        table.add_row(
            "Kafka push", _fmt(f["end_to_end"]["push_events_per_s"], "events/s"), "", "", ""
        )
    if "https_push" in f:
        h = f["https_push"]
        table.add_row(
            f"HTTPS push ({h['batch_lines']:,}-line batches)",
            _fmt(h["events_per_s"], "events/s"),
            "",
            "",
            f"{h['concurrency']} in flight; end to end {_fmt(h['end_to_end_events_per_s'])}/s",
        )
    for key, label in (("ceiling", "ceiling"), ("naive", "naive pipeline")):
        if key in f:
            table.add_row(label, _fmt(f[key]["events_per_s"], "events/s"), "", "", "")
    for name, stage in (f.get("stages") or {}).items():
        table.add_row(f"stage {name}", _fmt(stage.get("rate"), "msg/s"), "", "", "")
    lat = f.get("latency") or {}
    if lat.get("p99_range_s"):
        lo, hi = lat["p99_range_s"]
        table.add_row(
            f"p99 push-to-queryable, {lat['runs']} runs",
            f"{lo:.2f}–{hi:.2f} s",
            "",
            "",
            f"pushers {', '.join(str(c) for c in lat['pushers_cores'])} cores; "
            f"load {', '.join(str(x) for x in lat['load_avg_1m'])}",
        )
    cpu = f.get("cpu") or {}
    for name, used in (cpu.get("processes") or {}).items():
        table.add_row(f"CPU per event: {name}", f"{used['us_per_event']} µs", "", "", "")
    if cpu.get("total_us_per_event"):
        table.add_row("CPU per event: all", f"{cpu['total_us_per_event']} µs", "", "", "")
    queries = f.get("queries") or {}
    for key, label in (("national_s", "GET /v1/national"), ("service_index_s", "service-index")):
        q = queries.get(key)
        if q:
            p50, p95 = q["p50"] * 1000, q["p95"] * 1000
            table.add_row(f"{label} p50/p95", f"{p50:.0f} / {p95:.0f} ms", "", "", "")
    load = results.machine
    table.caption = (
        f"load average start {load.get('load_avg_start')} · end {load.get('load_avg_end')} · "
        f"{load.get('nproc')} cores"
    )
    return table
