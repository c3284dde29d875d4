"""The console's pictures as SVG drawn on the server from Vega-Lite specifications
(vl-convert: Vega-Lite compiled and rendered in-process, no JavaScript in the browser, nothing
fetched from anywhere). Why server-side SVG: docs/console.md "Charts".

Each picture is rendered once per specification (the spec holds the data, so a new figure is a
new spec) and kept in a small cache.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from typing import Any

import vl_convert as vlc

from cchc_aggregate.query.console.i18n import D3_LOCALES, Lang

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier, never fetched
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"

# The 34 provinces of 2025 on a grid that follows the country's shape (column, row).
TILES_2025: dict[str, tuple[int, int]] = {
    "12": (1, 0), "15": (2, 0), "08": (3, 0), "04": (4, 0),
    "11": (0, 1), "14": (1, 1), "25": (2, 1), "19": (3, 1), "20": (4, 1),
    "01": (2, 2), "24": (3, 2), "22": (4, 2),
    "37": (2, 3), "33": (3, 3), "31": (4, 3),
    "38": (2, 4),
    "40": (2, 5),
    "42": (3, 6),
    "44": (3, 7),
    "46": (4, 8),
    "48": (4, 9),
    "51": (3, 10), "52": (4, 10),
    "66": (3, 11), "56": (4, 11),
    "80": (1, 12), "75": (2, 12), "68": (3, 12),
    "91": (0, 13), "82": (1, 13), "79": (2, 13),
    "92": (1, 14), "86": (2, 14),
    "96": (1, 15),
}  # fmt: skip
HISTORICAL_COLUMNS = 7


def tile_positions(codes: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Where each unit's tile goes: the country-shaped grid for the 34 provinces of 2025, else
    code order (the codes run north to south) in rows of seven."""
    if set(codes) <= set(TILES_2025):
        return {c: TILES_2025[c] for c in codes}
    ordered = sorted(codes)
    return {c: (i % HISTORICAL_COLUMNS, i // HISTORICAL_COLUMNS) for i, c in enumerate(ordered)}


@functools.lru_cache(maxsize=256)
def _render(spec_json: str, lang: Lang) -> str:
    return str(vlc.vegalite_to_svg(json.loads(spec_json), format_locale=D3_LOCALES[lang]))


def render(spec: dict[str, Any], lang: Lang) -> str:
    """The SVG of a Vega-Lite spec, numbers in ``lang``'s format."""
    return _render(json.dumps(spec, ensure_ascii=False, sort_keys=True), lang)


def _number_format(values: Sequence[float]) -> str:
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    return ",.0f" if all(float(v).is_integer() for v in finite) and finite else ",.2~f"


def trend(points: Sequence[tuple[str, float]], value_title: str, lang: Lang) -> str:
    """A line with points: one national value per period, in period order."""
    fmt = _number_format([v for _, v in points])
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "width": 560,
        "height": 240,
        "config": {"font": FONT},
        "data": {"values": [{"period": p, "value": v} for p, v in points]},
        "encoding": {
            "x": {
                "field": "period",
                "type": "ordinal",
                "sort": None,
                "title": None,
                "axis": {"labelAngle": 0},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": value_title,
                "axis": {"format": fmt},
                "scale": {"zero": True},
            },
        },
        "layer": [
            {"mark": {"type": "line", "color": "#0b5394", "strokeWidth": 2}},
            {"mark": {"type": "point", "filled": True, "size": 70, "color": "#0b5394"}},
            {
                "mark": {"type": "text", "dy": -12, "color": "#1a1a1a", "fontSize": 12},
                "encoding": {"text": {"field": "value", "type": "quantitative", "format": fmt}},
            },
        ],
    }
    return render(spec, lang)


def _tile_label(name: str) -> str:
    """A unit's name short enough for its square ("Thừa Thiên Huế" → "Huế")."""
    short = name.replace("Thừa Thiên ", "").replace("Bà Rịa - Vũng Tàu", "BR-VT")
    return short if len(short) <= 11 else short[:10] + "…"


def tile_map(
    tiles: Sequence[tuple[str, str, float | None]],
    legend_title: str,
    higher_is_better: bool,
    lang: Lang,
    missing_label: str,
) -> str:
    """One square per unit (code, name, value) on :func:`tile_positions`, labelled with the
    name shortened to fit; colour by value (darker = better by the indicator's polarity), grey
    when not reported."""
    positions = tile_positions([code for code, _, _ in tiles])
    values = []
    for code, name, value in tiles:
        col, row = positions[code]
        values.append(
            {
                "code": code,
                "name": _tile_label(name),
                "value": value,
                "col": col,
                "row": row,
                "missing": value is None,
            }
        )
    fmt = _number_format([v for _, _, v in tiles if v is not None])
    columns = max(col for col, _ in positions.values()) + 1
    rows = max(row for _, row in positions.values()) + 1
    size = 78
    base = {
        "x": {
            "field": "col",
            "type": "ordinal",
            "axis": None,
            "scale": {"domain": list(range(columns))},
        },
        "y": {
            "field": "row",
            "type": "ordinal",
            "axis": None,
            "scale": {"domain": list(range(rows))},
        },
    }
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "width": columns * size,
        "height": rows * (size * 0.62),
        "config": {"font": FONT, "view": {"stroke": None}},
        "data": {"values": values},
        "encoding": base,
        "layer": [
            {
                "transform": [{"filter": "datum.missing"}],
                "mark": {"type": "rect", "color": "#d9d9d9", "stroke": "white", "strokeWidth": 2},
            },
            {
                "transform": [{"filter": "!datum.missing"}],
                "mark": {"type": "rect", "stroke": "white", "strokeWidth": 2},
                "encoding": {
                    "color": {
                        "field": "value",
                        "type": "quantitative",
                        "title": legend_title,
                        "scale": {
                            # light enough under dark text (contrast ≥ 4.5)
                            "range": ["#f3f8fd", "#5b9bd5"]
                            if higher_is_better
                            else ["#5b9bd5", "#f3f8fd"]
                        },
                        "legend": {"format": fmt, "orient": "bottom"},
                    }
                },
            },
            {
                "mark": {"type": "text", "dy": -7, "fontSize": 10, "color": "#1a1a1a"},
                "encoding": {"text": {"field": "name"}},
            },
            {
                "mark": {
                    "type": "text",
                    "dy": 8,
                    "fontSize": 10,
                    "color": "#1a1a1a",
                    "fontWeight": "bold",
                },
                "encoding": {"text": {"field": "label"}},
                "transform": [
                    {
                        "calculate": f"datum.missing ? '{missing_label}' "
                        f": format(datum.value, '{fmt}')",
                        "as": "label",
                    }
                ],
            },
        ],
    }
    return render(spec, lang)
