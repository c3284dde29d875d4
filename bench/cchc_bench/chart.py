"""The results chart: throughput side by side, and each stage's progress over time.

matplotlib is optional: without it an SVG bar chart is written instead, by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def bars(figures: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(label, events/s) of each measured pipeline, in display order."""
    out = []
    for key, label in (
        ("ceiling", "ceiling\n(pass-through ×3)"),
        ("end_to_end", "CCHC pipeline\n(end to end)"),
        ("naive", "naive\n(per message)"),
    ):
        rate = (figures.get(key) or {}).get("events_per_s")
        if rate:
            out.append((label, float(rate)))
    return out


def write(
    path: Path,
    figures: Mapping[str, Any],
    curves: Mapping[str, Sequence[tuple[float, float]]],
    target_eps: float,
) -> Path:
    """Write the chart to ``path`` (PNG) or, without matplotlib, next to it as SVG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        svg = path.with_suffix(".svg")
        svg.write_text(_svg(bars(figures), target_eps))
        return svg
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    data = bars(figures)
    labels = [d[0] for d in data]
    values = [d[1] for d in data]
    drawn = left.bar(labels, values, color=["#888888", "#1f77b4", "#d62728"][: len(values)])
    left.bar_label(drawn, labels=[f"{v:,.0f}" for v in values])
    left.axhline(target_eps, color="green", linestyle="--", label=f"target {target_eps:,.0f}/s")
    left.set_yscale("log")
    left.set_ylabel("events/s (log scale)")
    left.set_title("Throughput, same machine, same events")
    left.legend()
    for name, points in curves.items():
        if points:
            t0 = points[0][0]
            right.plot([t - t0 for t, _ in points], [v for _, v in points], label=name)
    right.set_xlabel("seconds since the first push")
    right.set_ylabel("messages consumed")
    right.set_title("Sustained run: messages consumed per stage")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _svg(data: list[tuple[str, float]], target_eps: float) -> str:
    width, height, pad = 640, 360, 50
    top = max([v for _, v in data] + [target_eps]) * 1.1
    step = (width - 2 * pad) / max(len(data), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{pad}" y="20">Throughput (events/s), same machine, same events</text>',
    ]
    for i, (label, value) in enumerate(data):
        h = (height - 2 * pad) * value / top
        x = pad + i * step + step * 0.15
        y = height - pad - h
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{step * 0.7:.0f}" height="{h:.0f}" '
            'fill="#1f77b4"/>'
        )
        parts.append(f'<text x="{x:.0f}" y="{y - 4:.0f}">{value:,.0f}</text>')
        name = label.split("\n")[0]
        parts.append(f'<text x="{x:.0f}" y="{height - pad + 16}">{name}</text>')
    ty = height - pad - (height - 2 * pad) * target_eps / top
    parts.append(
        f'<line x1="{pad}" x2="{width - pad}" y1="{ty:.0f}" y2="{ty:.0f}" '
        'stroke="green" stroke-dasharray="6,4"/>'
    )
    parts.append(f'<text x="{width - pad - 120}" y="{ty - 4:.0f}">target {target_eps:,.0f}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
