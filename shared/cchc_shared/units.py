"""Units as provinces write them, converted to an indicator's canonical unit.

The alias table is data (``data/units.toml``, which names its sources). A unit text is a
multiplier ("nghìn" 10³, "triệu" 10⁶, "tỷ" 10⁹, "nghìn tỷ" 10¹²), a unit ("hồ sơ", "%", "đồng"),
or a multiplier followed by a unit ("tỷ đồng", "nghìn hồ sơ"). Every combination is precomputed
into one dict, so resolving a unit is a normalisation and a look-up.

Rules:

- no unit → the value is already in the indicator's canonical unit;
- a unit must name the indicator's canonical unit ("tỷ đồng" for ``dossiers.received`` is an
  error, so is "%" for ``staff.cut``);
- a bare multiplier ("nghìn", "tỷ") scales the indicator's own unit, which must then be a count
  or money — percentages and scores are never scaled;
- scaled results stay exact: "1,5" "tỷ đồng" is the int 1_500_000_000, not a float near it.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from cchc_shared.catalogue import CANONICAL_UNITS, Indicator
from cchc_shared.numbers import NumberError, parse_number

__all__ = [
    "UnitError",
    "UnitSpec",
    "convert",
    "load_unit_table",
    "parse_quantity",
    "resolve_unit",
    "unit_key",
]


class UnitError(ValueError):
    """A unit that is unknown or cannot express the indicator (reason `bad_unit`)."""


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """What a unit text means: ``factor`` × one of ``units`` (None: the indicator's own unit)."""

    units: frozenset[str] | None
    factor: int


_ETH = str.maketrans({"\u00d0": "\u0111", "\u00f0": "\u0111", "\u0110": "\u0111"})


def unit_key(text: str) -> str:
    """Normalise a unit text for look-up: NFC, eth → đ, lower case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_ETH).lower().split())


@dataclass(frozen=True, slots=True)
class _Table:
    specs: dict[str, UnitSpec]
    scalable: frozenset[str]


@functools.cache
def _table() -> _Table:
    text = resources.files("cchc_shared").joinpath("data/units.toml").read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UnitError(f"invalid unit table: units.toml: {exc}") from exc
    return _build_table(doc)


def load_unit_table() -> None:
    """Read and validate ``data/units.toml`` now (once per process) instead of at first use.

    Services call it at start so that a broken table stops them with a clear message rather than
    failing every conversion. Raises :class:`UnitError` (a ``ValueError``).
    """
    _table()


def _build_table(doc: Mapping[str, Any]) -> _Table:
    """Expand the TOML table into every alias and multiplier × alias combination."""

    def fail(msg: str) -> UnitError:
        return UnitError(f"invalid unit table: {msg}")

    if doc.get("schema_version") != 1:
        raise fail("schema_version must be 1")
    multipliers: dict[str, int] = {}
    for m in doc.get("multiplier", []):
        factor = m.get("factor")
        if not isinstance(factor, int) or factor < 10 or str(factor).rstrip("0") != "1":
            raise fail(f"multiplier factor {factor!r} is not a power of ten")
        for alias in m.get("aliases", []):
            multipliers[unit_key(alias)] = factor

    specs: dict[str, UnitSpec] = {}
    scalable: set[str] = set()
    base: list[tuple[str, frozenset[str], bool]] = []
    for u in doc.get("unit", []):
        units = frozenset(u.get("units", []))
        if not units or not units <= CANONICAL_UNITS:
            raise fail(f"units {sorted(units)} must be canonical units {sorted(CANONICAL_UNITS)}")
        is_scalable = bool(u.get("scalable", False))
        if is_scalable:
            scalable.update(units)
        names = list(u.get("aliases", []))
        if len(units) == 1:
            names.extend(units)  # a canonical unit name is an alias of itself
        base.extend((unit_key(name), units, is_scalable) for name in names)
    missing = CANONICAL_UNITS - {unit for _, units, _ in base for unit in units}
    if missing:
        raise fail(f"canonical units without an entry: {sorted(missing)}")

    def add(key: str, spec: UnitSpec) -> None:
        if key in specs and specs[key] != spec:
            raise fail(f"alias {key!r} is ambiguous")
        specs[key] = spec

    for key, factor in multipliers.items():
        add(key, UnitSpec(None, factor))
    for key, units, is_scalable in base:
        add(key, UnitSpec(units, 1))
        if is_scalable:
            for mkey, factor in multipliers.items():
                add(f"{mkey} {key}", UnitSpec(units, factor))
    return _Table(specs, frozenset(scalable))


@functools.lru_cache(maxsize=1024)
def resolve_unit(text: str) -> UnitSpec | None:
    """What a unit text means, or None if it is not a known unit."""
    # Cached on the raw text: a stream repeats a handful of spellings, so skip normalising them.
    return _table().specs.get(unit_key(text))


def convert(value: int | float | str, unit: str | None, indicator: Indicator) -> int | float:
    """Express ``value``, written in ``unit``, in ``indicator``'s canonical unit.

    ``value`` may be a JSON number or a Vietnamese-format string (read by
    :func:`~cchc_shared.numbers.parse_number`, which raises NumberError). Raises
    :class:`UnitError` when the unit is unknown or cannot express the indicator.
    """
    number = parse_number(value)
    if unit is None:
        return number
    table = _table()
    spec = resolve_unit(unit)
    if spec is None:
        raise UnitError(f"unknown unit {unit!r}")
    if spec.units is None:
        if indicator.unit not in table.scalable:
            raise UnitError(
                f"multiplier {unit!r} cannot scale {indicator.code} (unit {indicator.unit})"
            )
    elif indicator.unit not in spec.units:
        raise UnitError(
            f"unit {unit!r} ({'/'.join(sorted(spec.units))}) cannot express "
            f"{indicator.code} (unit {indicator.unit})"
        )
    return _scale(number, spec.factor)


def _scale(number: int | float, factor: int) -> int | float:
    if factor == 1:
        return number
    if isinstance(number, int):
        return number * factor
    # Decimal keeps "1,1 tỷ" exact (1_100_000_000) where float arithmetic would not.
    scaled = Decimal(repr(number)) * factor
    if scaled == scaled.to_integral_value():
        return int(scaled)
    result = float(scaled)
    if not math.isfinite(result):  # pragma: no cover - needs a float near 1e296
        raise UnitError("value out of range after scaling")
    return result


# A number token (digits, "." and ",") and whatever follows it as the unit.
_QUANTITY = re.compile(r"\s*(?P<num>[+-]?[0-9][0-9.,]*)\s*(?P<unit>.*?)\s*", re.DOTALL)


def parse_quantity(text: str) -> tuple[int | float, str | None]:
    """Split a figure from its unit: "60 tỷ đồng" → (60, "tỷ đồng"), "10,09%" → (10.09, "%").

    The number is read by :func:`~cchc_shared.numbers.parse_number` (NumberError if it is not a
    Vietnamese number); the unit text is returned as written (None if absent) and is checked
    only by :func:`convert`. Qualifiers such as "trên", "hơn", "khoảng" are not stripped: a
    bound or an estimate is for the producer to state (``status``), not for a parser to guess.
    """
    m = _QUANTITY.fullmatch(text)
    if m is None:
        raise NumberError(f"no number at the start of {text!r}")
    return parse_number(m["num"]), (m["unit"] or None)
