"""The indicator catalogue: codes, Vietnamese names and aliases, units, ranges and aggregation.

The data lives in ``data/indicators.toml`` (sources named there: docs/contract.md "Indicator
catalogue", docs/domain.md "How indicators aggregate" and "Figures in the seeds", Decision
766/QĐ-TTg). It is loaded and validated once per process (:func:`default_catalogue`);
resolving a code or a Vietnamese alias is then one or two dict look-ups, because ingest and
normalize do it for every message.

Aggregation follows DHIS2's split (docs/domain.md "How indicators aggregate"):
``across_provinces`` is ``sum`` (counts, money), ``ratio`` (Σnumerator / Σdenominator of the named
components, or of the province's ``own`` numerator/denominator fields) or ``mean`` (indices);
``across_time`` is ``sum`` (flows), ``last`` (stocks) or ``none`` (ratios recompute from their
components; indices are never combined).
"""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

__all__ = [
    "CANONICAL_UNITS",
    "OWN",
    "AcrossProvinces",
    "AcrossTime",
    "Catalogue",
    "Indicator",
    "alias_key",
    "default_catalogue",
]

#: Value of ``numerator``/``denominator`` for a ratio whose components exist only as the
#: province's own ``numerator``/``denominator`` fields (no catalogue indicator counts them).
OWN = "own"

#: Canonical units an indicator may have.
CANONICAL_UNITS = frozenset(
    {"procedure", "dossier", "service", "person", "unit", "VND", "percent", "score", "point"}
)
_COUNT_UNITS = frozenset({"procedure", "dossier", "service", "person", "unit", "VND"})


class AcrossProvinces(StrEnum):
    """How an indicator combines across provinces (docs/domain.md "How indicators aggregate")."""

    SUM = "sum"
    RATIO = "ratio"
    MEAN = "mean"


class AcrossTime(StrEnum):
    """How an indicator combines across sub-periods (docs/domain.md "How indicators aggregate")."""

    SUM = "sum"
    LAST = "last"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One catalogue entry. Values are always expressed in :attr:`unit`."""

    code: str
    name_vi: str
    aliases: tuple[str, ...]
    unit: str
    min: float | None
    max: float | None
    across_provinces: AcrossProvinces
    across_time: AcrossTime
    numerator: str | None
    denominator: str | None
    higher_is_better: bool
    source: str = ""

    @property
    def is_index(self) -> bool:
        """True for composite indices (``index.*``): averaged, never summed, may carry a rank."""
        return self.code.startswith("index.")

    @property
    def is_ratio(self) -> bool:
        """True when the national value is Σnumerator / Σdenominator."""
        return self.across_provinces is AcrossProvinces.RATIO

    @property
    def has_own_components(self) -> bool:
        """True for a ratio whose components are only the province's own numerator/denominator."""
        return self.numerator == OWN

    def in_range(self, value: float) -> bool:
        """Whether ``value`` (in the canonical unit) lies within ``[min, max]``."""
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)


# Eth (U+00D0/U+00F0) is a look-alike of Đ/đ (U+0110/U+0111) that NFKC does not fold
# (docs/domain.md "Numbers and text as provinces write them": seed 003 writes "Nam Ðịnh").
_ETH = str.maketrans({"\u00d0": "\u0111", "\u00f0": "\u0111", "\u0110": "\u0111"})


def alias_key(text: str) -> str:
    """Normalise an indicator name for matching: NFC, eth → đ, lower case, spaces collapsed.

    "tỉ lệ" is folded into "tỷ lệ": both spellings of "ratio" are standard Vietnamese.
    """
    key = " ".join(unicodedata.normalize("NFC", text).translate(_ETH).lower().split())
    if "tỉ lệ" in key:
        key = key.replace("tỉ lệ", "tỷ lệ")
    return key


class Catalogue:
    """The validated set of indicators, with O(1) look-up by code or alias."""

    __slots__ = ("_by_code", "_by_key")

    def __init__(self, indicators: list[Indicator]) -> None:
        """Build and validate a catalogue; raises ValueError describing every problem found."""
        errors: list[str] = []
        by_code: dict[str, Indicator] = {}
        for ind in indicators:
            if ind.code in by_code:
                errors.append(f"duplicate indicator code {ind.code!r}")
            by_code[ind.code] = ind
        by_key: dict[str, Indicator] = {}
        # Codes are keys too, so that an alias can never shadow another indicator's code.
        for ind in by_code.values():
            by_key[alias_key(ind.code)] = ind
        for ind in by_code.values():
            for name in (ind.name_vi, *ind.aliases):
                key = alias_key(name)
                if not key:
                    errors.append(f"{ind.code}: empty alias")
                    continue
                other = by_key.get(key)
                if other is not None and other is not ind:
                    errors.append(
                        f"{ind.code}: alias {name!r} (normalised {key!r}) "
                        f"already belongs to {other.code}"
                    )
                    continue
                by_key[key] = ind
        for ind in by_code.values():
            errors.extend(_check(ind, by_code))
        if errors:
            raise ValueError("invalid indicator catalogue:\n  " + "\n  ".join(errors))
        self._by_code = by_code
        self._by_key = by_key

    @classmethod
    def load(cls) -> Catalogue:
        """Read and validate the packaged ``data/indicators.toml``."""
        text = (
            resources.files("cchc_shared")
            .joinpath("data/indicators.toml")
            .read_text(encoding="utf-8")
        )
        return cls.from_toml(text)

    @classmethod
    def from_toml(cls, text: str) -> Catalogue:
        """Build a catalogue from TOML text in the format of ``data/indicators.toml``."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"invalid indicator catalogue: {exc}") from exc
        if doc.get("schema_version") != 1:
            raise ValueError("invalid indicator catalogue: schema_version must be 1")
        raw = doc.get("indicator")
        if not isinstance(raw, list) or not raw:
            raise ValueError("invalid indicator catalogue: no [[indicator]] entries")
        return cls([_indicator_from_toml(i, entry) for i, entry in enumerate(raw)])

    def get(self, code: str) -> Indicator | None:
        """The indicator with exactly this code, or None."""
        return self._by_code.get(code)

    def resolve(self, code_or_alias: str) -> Indicator | None:
        """The indicator named by a code or a Vietnamese name/alias (normalised), or None."""
        found = self._by_code.get(code_or_alias)
        if found is not None:
            return found
        return self._by_key.get(alias_key(code_or_alias))

    def all(self) -> list[Indicator]:
        """Every indicator, in catalogue order."""
        return list(self._by_code.values())

    def codes(self) -> list[str]:
        """Every indicator code, in catalogue order."""
        return list(self._by_code)

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code


@functools.cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded and validated once per process."""
    return Catalogue.load()


_REQUIRED = ("code", "name_vi", "unit", "across_provinces", "across_time", "higher_is_better")
_KNOWN = frozenset(
    {*_REQUIRED, "aliases", "min", "max", "numerator", "denominator", "source"},
)


def _indicator_from_toml(index: int, entry: Any) -> Indicator:
    where = f"indicator #{index + 1}"
    if not isinstance(entry, Mapping):
        raise ValueError(f"invalid indicator catalogue: {where} is not a table")
    if isinstance(entry.get("code"), str):
        where = entry["code"]
    unknown = sorted(set(entry) - _KNOWN)
    missing = [k for k in _REQUIRED if k not in entry]
    if unknown or missing:
        raise ValueError(
            f"invalid indicator catalogue: {where}: unknown fields {unknown}, missing {missing}"
        )
    try:
        return Indicator(
            code=_str(entry, "code"),
            name_vi=_str(entry, "name_vi"),
            aliases=tuple(_str_list(entry, "aliases")),
            unit=_str(entry, "unit"),
            min=_num(entry, "min"),
            max=_num(entry, "max"),
            across_provinces=AcrossProvinces(entry["across_provinces"]),
            across_time=AcrossTime(entry["across_time"]),
            numerator=_opt_str(entry, "numerator"),
            denominator=_opt_str(entry, "denominator"),
            higher_is_better=_bool(entry, "higher_is_better"),
            source=_opt_str(entry, "source") or "",
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid indicator catalogue: {where}: {exc}") from exc


def _str(entry: Mapping[str, Any], key: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{key} must be a non-empty string")
    return value


def _opt_str(entry: Mapping[str, Any], key: str) -> str | None:
    return _str(entry, key) if key in entry else None


def _str_list(entry: Mapping[str, Any], key: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key} must be a list of strings")
    return list(value)


def _num(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number")
    return value


def _bool(entry: Mapping[str, Any], key: str) -> bool:
    value = entry[key]
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false")
    return value


def _check(ind: Indicator, by_code: Mapping[str, Indicator]) -> list[str]:
    """Consistency rules of one entry; returns the problems found.

    The rules: docs/domain.md "How indicators aggregate".
    """
    errs: list[str] = []
    c = ind.code
    if c != c.strip().lower() or " " in c or "." not in c:
        errs.append(f"{c}: code must be lower-case 'group.name'")
    if ind.unit not in CANONICAL_UNITS:
        errs.append(f"{c}: unit {ind.unit!r} is not one of {sorted(CANONICAL_UNITS)}")
    if ind.min is not None and ind.max is not None and ind.min > ind.max:
        errs.append(f"{c}: min {ind.min} > max {ind.max}")
    if ind.unit in _COUNT_UNITS and ind.min != 0:
        errs.append(f"{c}: counts and money must have min = 0")
    if ind.unit == "percent" and (ind.min != 0 or ind.max != 100):
        errs.append(f"{c}: a percentage must have min = 0 and max = 100")
    if ind.unit in {"score", "point"} and (ind.min is None or ind.max is None):
        errs.append(f"{c}: a score must have both min and max")

    ap, at = ind.across_provinces, ind.across_time
    if ind.is_index and ap is not AcrossProvinces.MEAN:
        errs.append(f"{c}: index.* indicators are averaged across provinces (mean)")
    if ap is AcrossProvinces.SUM:
        if ind.unit not in _COUNT_UNITS:
            errs.append(f"{c}: only counts and money can be summed across provinces")
        if at is AcrossTime.NONE:
            errs.append(f"{c}: a summable indicator is a flow (sum) or a stock (last) over time")
    elif at is not AcrossTime.NONE:
        errs.append(f"{c}: ratios and means are not combined over time (across_time = none)")

    if ap is AcrossProvinces.RATIO:
        if ind.unit != "percent":
            errs.append(f"{c}: a ratio is expressed in percent")
        num, den = ind.numerator, ind.denominator
        if num is None or den is None:
            errs.append(f"{c}: a ratio needs numerator and denominator")
        elif (num == OWN) != (den == OWN):
            errs.append(f"{c}: numerator and denominator must both be 'own' or both be codes")
        elif num != OWN:
            errs.extend(_check_components(c, num, den, by_code))
    elif ind.numerator is not None or ind.denominator is not None:
        errs.append(f"{c}: only ratios have numerator/denominator")
    return errs


def _check_components(code: str, num: str, den: str, by_code: Mapping[str, Indicator]) -> list[str]:
    errs: list[str] = []
    parts = []
    for role, part_code in (("numerator", num), ("denominator", den)):
        part = by_code.get(part_code)
        if part is None:
            errs.append(f"{code}: {role} {part_code!r} is not in the catalogue")
        elif part.across_provinces is not AcrossProvinces.SUM:
            errs.append(f"{code}: {role} {part_code!r} must be a summable count")
        else:
            parts.append(part)
    if num == den:
        errs.append(f"{code}: numerator and denominator are the same indicator")
    if len(parts) == 2 and parts[0].unit != parts[1].unit:
        errs.append(f"{code}: numerator and denominator have different units")
    return errs
