"""Data quality (docs/domain.md "Reporting and data quality"), as pure functions: validation
rules across indicators and outliers against a unit's own history. Findings never reject data:
they are listed by ``GET /v1/quality`` and noted on national figures that use the reports.

* **Rules** (``data/validation_rules.yaml``): for one unit and one period, Σ left ≤ Σ right,
  over the unit's latest province-wide reports of exactly that period; a rule is checked only
  when every indicator on both sides was reported.
* **Outliers** (DHIS2's outlier detection): the modified z-score
  ``|0.6745 × (x − median) ÷ MAD|`` of a value against the unit's earlier values of the same
  indicator and period type (periods that end before this one starts) is above 3.5, with at
  least four earlier values. With a MAD of 0 (all earlier values equal) the score is undefined
  and nothing is flagged.
"""

from __future__ import annotations

import functools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal, Protocol

import yaml
from cchc_shared.catalogue import Catalogue
from pydantic import BaseModel, ConfigDict, Field

from cchc_aggregate.query.rules import doc
from cchc_aggregate.query.rules.notes import Note
from cchc_aggregate.query.rules.over_time import stored_period

__all__ = [
    "MIN_HISTORY",
    "THRESHOLD",
    "Finding",
    "QualityReport",
    "ValidationRule",
    "default_rules",
    "load_rules",
    "outliers",
    "rule_findings",
]

THRESHOLD = 3.5
MIN_HISTORY = 4
_CONSISTENCY = 0.6745


class ValidationRule(BaseModel):
    """Σ left ≤ Σ right for one unit and period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    left: tuple[str, ...] = Field(min_length=1)
    right: tuple[str, ...] = Field(min_length=1)

    @property
    def indicators(self) -> tuple[str, ...]:
        """Every indicator the rule reads."""
        return self.left + self.right


class _RulesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    rules: tuple[ValidationRule, ...]


def load_rules(text: str, catalogue: Catalogue) -> tuple[ValidationRule, ...]:
    """Rules from YAML text; raises ``ValueError`` naming every unknown indicator or duplicate."""
    parsed = _RulesFile.model_validate(yaml.safe_load(text))
    errors = [
        f"{r.code}: unknown indicator {code!r}"
        for r in parsed.rules
        for code in r.indicators
        if code not in catalogue
    ]
    codes = [r.code for r in parsed.rules]
    errors += [f"duplicate rule {c!r}" for c in sorted({c for c in codes if codes.count(c) > 1})]
    if errors:
        raise ValueError("invalid validation rules:\n  " + "\n  ".join(errors))
    return parsed.rules


@functools.cache
def default_rules(catalogue: Catalogue) -> tuple[ValidationRule, ...]:
    """The packaged ``data/validation_rules.yaml``, loaded and validated once."""
    data = resources.files("cchc_aggregate").joinpath("data/validation_rules.yaml")
    text = data.read_text(encoding="utf-8")
    return load_rules(text, catalogue)


class _Figure(Protocol):
    """What the checks read of a report (:class:`~.national.Report` has it)."""

    @property
    def indicator(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def unit_key(self) -> str: ...
    @property
    def province(self) -> str: ...
    @property
    def value(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Finding:
    """A broken rule or an outlier, for one unit and period: an item of `GET /v1/quality`."""

    kind: Literal["rule", "outlier"]
    province: str = field(metadata=doc("2025 province code the unit belongs to"))
    unit_key: str = field(metadata=doc("the unit as it was, <era>:<code>"))
    name: str
    period: str
    rule: str | None = field(metadata=doc("kind rule: the rule's code"))
    indicator: str | None = field(metadata=doc("kind outlier: the indicator"))
    indicators: tuple[str, ...] = field(metadata=doc("every indicator the finding is about"))
    detail: Note = field(metadata=doc("what is wrong, in words"))
    left: float | None = None
    right: float | None = None
    value: float | None = None
    median: float | None = None
    mad: float | None = None
    score: float | None = field(default=None, metadata=doc("modified z-score, outliers"))
    history: int | None = field(default=None, metadata=doc("earlier values compared"))


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The answer of `GET /v1/quality`."""

    period: str
    province: str | None
    rules: int = field(metadata=doc("rules checked (data/validation_rules.yaml)"))
    broken: int = field(metadata=doc("findings of kind rule"))
    outliers: int = field(metadata=doc("findings of kind outlier"))
    findings: list[Finding]


def rule_findings(
    reports: Iterable[_Figure], rules: Sequence[ValidationRule], names: dict[str, str]
) -> list[Finding]:
    """Every rule broken by a unit for a period among ``reports`` (latest, province-wide)."""
    values: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    provinces: dict[str, str] = {}
    for r in reports:
        if r.value is not None:
            values[(r.unit_key, r.period)][r.indicator] = r.value
            provinces[r.unit_key] = r.province
    found = []
    for (unit_key, period), by_code in sorted(values.items()):
        for rule in rules:
            if not all(code in by_code for code in rule.indicators):
                continue
            left = sum(by_code[c] for c in rule.left)
            right = sum(by_code[c] for c in rule.right)
            if left <= right:
                continue
            found.append(
                Finding(
                    kind="rule",
                    province=provinces[unit_key],
                    unit_key=unit_key,
                    name=names.get(unit_key, unit_key),
                    period=period,
                    rule=rule.code,
                    indicator=None,
                    indicators=rule.indicators,
                    detail=Note(
                        "quality.rule_broken",
                        left_side=rule.left,
                        right_side=rule.right,
                        left=left,
                        right=right,
                    ),
                    left=left,
                    right=right,
                )
            )
    return found


def modified_z(value: float, history: Sequence[float]) -> tuple[float, float, float | None]:
    """(median, MAD, modified z-score) of ``value`` against ``history``; score None if MAD = 0."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    if mad == 0:
        return median, mad, None
    return median, mad, _CONSISTENCY * (value - median) / mad


def outliers(
    current: Iterable[_Figure], history: Iterable[_Figure], names: dict[str, str]
) -> list[Finding]:
    """The reports of ``current`` whose value is an outlier against the same unit's earlier
    values of the same indicator and period type in ``history`` (module docstring)."""
    earlier: dict[tuple[str, str, str], list[tuple[str, float]]] = defaultdict(list)
    for h in history:
        if h.value is None:
            continue
        p = stored_period(h.period)
        earlier[(h.unit_key, h.indicator, p.type.value)].append((h.period, h.value))
    found = []
    for r in current:
        if r.value is None:
            continue
        p = stored_period(r.period)
        before = [
            v
            for text, v in earlier.get((r.unit_key, r.indicator, p.type.value), [])
            if stored_period(text).end < p.start
        ]
        if len(before) < MIN_HISTORY:
            continue
        median, mad, score = modified_z(r.value, before)
        if score is None or abs(score) <= THRESHOLD:
            continue
        found.append(
            Finding(
                kind="outlier",
                province=r.province,
                unit_key=r.unit_key,
                name=names.get(r.unit_key, r.unit_key),
                period=r.period,
                rule=None,
                indicator=r.indicator,
                indicators=(r.indicator,),
                detail=Note(
                    "quality.outlier",
                    indicator=r.indicator,
                    value=r.value,
                    median=median,
                    history=len(before),
                    period_type=Note(f"part.period_type.{p.type.value}"),
                    mad=mad,
                    score=score,
                    threshold=THRESHOLD,
                ),
                value=r.value,
                median=median,
                mad=mad,
                score=round(score, 4),
                history=len(before),
            )
        )
    return found
