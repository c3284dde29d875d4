"""Percentiles, rates from sampled counters, targets and the results document. Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RESULTS_SCHEMA = "cchc.bench/1"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0–1) by linear interpolation between closest ranks; None if empty."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} not in [0, 1]")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    lo, hi = math.floor(position), math.ceil(position)
    if lo == hi:
        return float(ordered[lo])
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo))


def summarize(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, min, p50, p95, p99, max of ``values``."""
    return {
        "count": len(values),
        "min": min(values) if values else None,
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else None,
    }


def active_rate(samples: Sequence[tuple[float, float]]) -> dict[str, float | None]:
    """Rate of a monotonic counter sampled as (time, value): over its active span, and peak.

    The active span runs from the last sample before the counter first moved to the first sample
    at its final value; ``peak`` is the best rate between two consecutive samples at least one
    second apart (shorter gaps are merged, so a scrape jitter does not make a peak).
    """
    if len(samples) < 2:
        return {"total": None, "rate": None, "peak": None, "seconds": None}
    start_value, final = samples[0][1], samples[-1][1]
    moved = next((i for i, (_, v) in enumerate(samples) if v != start_value), None)
    if moved is None:
        return {"total": 0.0, "rate": None, "peak": None, "seconds": None}
    begin = samples[moved - 1][0]
    end = next(t for t, v in samples if v == final)
    seconds = end - begin
    total = final - start_value
    peak = 0.0
    anchor_t, anchor_v = samples[0]
    for t, v in samples[1:]:
        if t - anchor_t >= 1.0:
            peak = max(peak, (v - anchor_v) / (t - anchor_t))
            anchor_t, anchor_v = t, v
    return {
        "total": total,
        "rate": total / seconds if seconds > 0 else None,
        "peak": peak or None,
        "seconds": seconds,
    }


Op = Literal[">=", "<="]


@dataclass
class Target:
    """One figure the issue sets a bar for, and whether this run met it."""

    name: str
    value: float | None
    target: float
    op: Op
    unit: str
    passed: bool | None = None
    gap: str = ""
    note: str = ""

    def evaluate(self) -> Target:
        """Fill in ``passed`` and ``gap`` (how far a missed target is, relative and absolute)."""
        if self.value is None:
            self.passed = None
            self.gap = "not measured"
            return self
        ok = self.value >= self.target if self.op == ">=" else self.value <= self.target
        self.passed = ok
        if ok:
            self.gap = ""
        elif self.op == ">=":
            short = self.target - self.value
            self.gap = (
                f"{short:,.3g} {self.unit} short: {self.value / self.target:.0%} of the target"
            )
        else:
            over = self.value - self.target
            self.gap = f"{over:,.3g} {self.unit} over: {self.value / self.target:.1f}× the limit"
        return self


@dataclass(frozen=True)
class Thresholds:
    """The bars of issue 8 (2-core machine, embedded stack)."""

    throughput_eps: float = 100_000
    ceiling_share: float = 0.60
    naive_speedup: float = 5.0
    latency_p99_s: float = 1.0
    rss_mb: float = 250.0


def targets(figures: Mapping[str, Any], bars: Thresholds = Thresholds()) -> list[Target]:
    """Evaluate each target against the measured ``figures`` (missing figures: not measured)."""
    e2e = _get(figures, "end_to_end", "events_per_s")
    ceiling = _get(figures, "ceiling", "events_per_s")
    naive = _get(figures, "naive", "events_per_s")
    p99 = _get(figures, "latency", "push_to_queryable_s", "p99")
    out = [
        Target("end-to-end throughput", e2e, bars.throughput_eps, ">=", "events/s"),
        Target(
            "share of the broker ceiling",
            e2e / ceiling if e2e is not None and ceiling else None,
            bars.ceiling_share,
            ">=",
            "×",
        ),
        Target(
            "speed-up over the naive pipeline",
            e2e / naive if e2e is not None and naive else None,
            bars.naive_speedup,
            ">=",
            "×",
        ),
        Target(
            f"p99 push-to-queryable at {_get(figures, 'latency', 'offered_eps') or '?'} events/s",
            p99,
            bars.latency_p99_s,
            "<=",
            "s",
        ),
    ]
    rss = figures.get("rss_mb") or {}
    for service in ("ingest", "normalize", "aggregate"):
        peak = _get(rss, service, "peak")
        out.append(Target(f"{service} peak RSS", peak, bars.rss_mb, "<=", "MB"))
    return [t.evaluate() for t in out]


def _get(data: Mapping[str, Any], *path: str) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


@dataclass
class Results:
    """The results document (bench/results/results.json)."""

    started_at: str
    finished_at: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict, schema tag first."""
        return {"schema": RESULTS_SCHEMA, **asdict(self)}

    def evaluate(self, bars: Thresholds = Thresholds()) -> None:
        """(Re)compute the targets from the figures."""
        self.targets = targets(self.figures, bars)
