"""Bộ chỉ số 766, the scoreboard (docs/analysts.md "Bộ chỉ số 766"; docs/contract.md
"GET /v1/scoreboard"): counters → criteria → points, groups, totals, ranks. Pure.

The counters come from the scoreboard tables (:mod:`cchc_aggregate.query.fetch.scoreboard`
describes them). Which counter is each criterion's numerator and denominator is code
(:data:`CRITERIA`); the criteria's names, groups, maxima and sources are data — the scoring table
``scoreboard_766.json`` beside this module, loaded by :meth:`ScoringTable.load` — so that the
ministry's exact table can replace this project's assumptions without touching code.

Rules:

* rate = 100 × numerator ÷ denominator (2 decimals); points = max × numerator ÷ denominator
  (2 decimals). A criterion whose denominator is 0 has rate and points null, is named in
  ``notes``, and is left out of ``total`` and ``max_available``.
* A province's score uses its own counts. The national answer pools the counts of every
  province (Σ numerators ÷ Σ denominators), states ``province_mean`` (the mean of the provinces'
  totals, over provinces with any data) and ranks them by total, highest first, ties sharing a
  rank (1, 2, 2, 4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from cchc_aggregate.query.rules import AS_OF_DOC, doc
from cchc_aggregate.query.rules.national import rank_competition
from cchc_aggregate.query.rules.notes import Note
from cchc_aggregate.query.rules.service_index import rate

__all__ = [
    "COUNTERS",
    "CRITERIA",
    "CriterionScore",
    "GroupScore",
    "NationalScoreboard",
    "ProvinceScoreboard",
    "ProvinceTotal",
    "ScoringTable",
    "build_scoreboard",
    "criterion_counts",
]

COUNTERS = (
    "received",
    "r_synced",
    "r_fee",
    "r_fee_paid",
    "r_digitized",
    "r_reused",
    "o1_offered",
    "o1_full_online",
    "resolved",
    "res_on_time",
    "res_late",
    "res_electronic",
    "res_unsatisfied",
    "res_timed",
    "res_seconds",
    "t1_announced",
    "t1_on_time",
    "t2_published",
    "t2_on_time",
    "t3_complete",
    "fb_classified",
    "fb_on_time",
    "fb_ok",
)
"""The counters the fetch layer reads per province (absent = 0)."""

CRITERIA: dict[str, tuple[str, str]] = {
    "t1_announced_on_time": ("t1_on_time", "t1_announced"),
    "t2_published_on_time": ("t2_on_time", "t2_published"),
    "t3_published_complete": ("t3_complete", "t2_published"),
    "t4_dossiers_synced": ("r_synced", "received"),
    # The service index's on-time rate: over the resolutions classified on time or late.
    "p1_resolved_on_time": ("res_on_time", "res_classified"),
    "o1_full_online": ("o1_full_online", "o1_offered"),
    "pay1_paid_online": ("r_fee_paid", "r_fee"),
    "d1_result_electronic": ("res_electronic", "resolved"),
    "d2_digitized": ("r_digitized", "received"),
    "d3_reused_data": ("r_reused", "received"),
    "s1_feedback_on_time": ("fb_on_time", "fb_classified"),
    "s2_feedback_satisfied": ("fb_ok", "fb_classified"),
    "s3_dossiers_satisfied": ("res_satisfied", "resolved"),
}
"""Criterion code → (numerator counter, denominator counter)."""


def criterion_counts(counters: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """A province's (or the pooled) counters → (numerator, denominator) of every criterion."""
    c = {name: int(counters.get(name, 0)) for name in COUNTERS}
    c["res_classified"] = c["res_on_time"] + c["res_late"]
    c["res_satisfied"] = c["resolved"] - c["res_unsatisfied"]
    return {code: (c[num], c[den]) for code, (num, den) in CRITERIA.items()}


# --- the scoring table ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    """One row of the scoring table."""

    code: str
    name: str
    name_en: str
    max: float
    assumption: bool
    source: str


@dataclass(frozen=True, slots=True)
class Group:
    """One group of the scoring table; its maximum is the sum of its criteria's."""

    code: str
    name: str
    name_en: str
    criteria: tuple[Criterion, ...]

    @property
    def max(self) -> float:
        """Σ of the criteria's maxima."""
        return round(sum(c.max for c in self.criteria), 2)


GROUP_CODES = ("transparency", "progress", "online", "payment", "digitization", "satisfaction")


@dataclass(frozen=True, slots=True)
class ScoringTable:
    """The criteria, their groups and maxima (``scoreboard_766.json``)."""

    groups: tuple[Group, ...]

    @classmethod
    def load(cls, path: Path | None = None) -> ScoringTable:
        """Read and check the table (the packaged one by default).

        Raises ``ValueError`` naming the file when a criterion is unknown, missing or repeated,
        a group is unknown, or a maximum is not a positive number.
        """
        if path is None:
            text = (
                resources.files("cchc_aggregate.query.rules")
                .joinpath("scoreboard_766.json")
                .read_text(encoding="utf-8")
            )
            where = "scoreboard_766.json (packaged)"
        else:
            text = path.read_text(encoding="utf-8")
            where = str(path)
        try:
            return cls.parse(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from exc

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ScoringTable:
        """The table from its JSON object; raises ``ValueError`` when it is not a full one."""
        groups = []
        seen: list[str] = []
        for g in data["groups"]:
            if g["code"] not in GROUP_CODES:
                raise ValueError(f"unknown group {g['code']!r}; expected one of {GROUP_CODES}")
            criteria = []
            for c in g["criteria"]:
                if c["code"] not in CRITERIA:
                    raise ValueError(f"unknown criterion {c['code']!r}")
                if c["code"] in seen:
                    raise ValueError(f"criterion {c['code']!r} listed twice")
                seen.append(c["code"])
                maximum = c["max"]
                if isinstance(maximum, bool) or not isinstance(maximum, int | float):
                    raise ValueError(f"{c['code']}: max must be a number")
                if not maximum > 0:
                    raise ValueError(f"{c['code']}: max must be > 0")
                criteria.append(
                    Criterion(
                        code=c["code"],
                        name=c["name"],
                        name_en=c.get("name_en", c["name"]),
                        max=float(maximum),
                        assumption=bool(c["assumption"]),
                        source=str(c.get("source", "")),
                    )
                )
            groups.append(Group(g["code"], g["name"], g.get("name_en", g["name"]), tuple(criteria)))
        missing = sorted(set(CRITERIA) - set(seen))
        if missing:
            raise ValueError(f"criteria missing from the table: {missing}")
        return cls(tuple(groups))

    @property
    def max(self) -> float:
        """Σ of every maximum (100 in the published table)."""
        return round(sum(g.max for g in self.groups), 2)

    def assumptions(self) -> list[str]:
        """The codes of the criteria whose maximum is this project's assumption."""
        return [c.code for g in self.groups for c in g.criteria if c.assumption]


# --- the answer -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionScore:
    """One criterion of one province or the nation."""

    code: str
    name: str
    numerator: int
    denominator: int
    rate: float | None = field(metadata=doc("100 × numerator ÷ denominator; null without data"))
    points: float | None = field(metadata=doc("max × numerator ÷ denominator; null without data"))
    max: float


@dataclass(frozen=True)
class GroupScore:
    """One group: Σ points of its criteria that have data (null when none has)."""

    code: str
    name: str
    points: float | None
    max: float
    criteria: list[CriterionScore]


@dataclass(frozen=True)
class ProvinceTotal:
    """One province's total and its rank among the provinces with data."""

    province: str
    name: str
    total: float
    rank: int


@dataclass(frozen=True)
class _Score:
    period: str
    province: str | None = field(metadata=doc("2025 province code; null = national"))
    name: str = field(metadata=doc("the province's name, or 'Toàn quốc'"))
    total: float | None = field(
        metadata=doc("Σ points of the criteria with data (2 decimals); null when none has data")
    )
    max: float = field(metadata=doc("Σ of every maximum (100)"))
    max_available: float = field(metadata=doc("Σ maxima of the criteria with data"))
    rank: int | None = field(metadata=doc("by total among the provinces with data; null: none"))
    rank_of: int = field(metadata=doc("how many provinces have data (are ranked)"))
    avg_resolution_hours: float | None = field(
        metadata=doc("mean hours from receipt to resolution, resolved dossiers (no points)")
    )


@dataclass(frozen=True)
class ProvinceScoreboard(_Score):
    """One province's Bộ chỉ số 766 over a period."""

    groups: list[GroupScore]
    notes: list[Note]
    as_of: datetime | None = field(default=None, metadata=doc(AS_OF_DOC))

    def as_json(self) -> dict[str, Any]:
        """The JSON object of the API."""
        return asdict(self)


@dataclass(frozen=True)
class NationalScoreboard(_Score):
    """The nation's Bộ chỉ số 766 over a period: pooled counts, the mean of the provinces'
    totals, and the provinces ranked."""

    province_mean: float | None = field(
        metadata=doc("mean of the provinces' totals, over the provinces with any data")
    )
    groups: list[GroupScore]
    provinces: list[ProvinceTotal]
    notes: list[Note]
    as_of: datetime | None = field(default=None, metadata=doc(AS_OF_DOC))

    def as_json(self) -> dict[str, Any]:
        """The JSON object of the API."""
        return asdict(self)


@dataclass(frozen=True)
class _Scored:
    groups: list[GroupScore]
    total: float | None
    max_available: float
    missing: list[Criterion]


def _score(table: ScoringTable, counters: Mapping[str, int]) -> _Scored:
    counts = criterion_counts(counters)
    groups, missing = [], []
    total = available = 0.0
    for g in table.groups:
        rows, points, any_data = [], 0.0, False
        for c in g.criteria:
            num, den = counts[c.code]
            if den > 0:
                p = round(c.max * num / den, 2)
                rows.append(CriterionScore(c.code, c.name, num, den, rate(num, den), p, c.max))
                points += p
                available += c.max
                any_data = True
            else:
                rows.append(CriterionScore(c.code, c.name, num, den, None, None, c.max))
                missing.append(c)
        groups.append(
            GroupScore(g.code, g.name, round(points, 2) if any_data else None, g.max, rows)
        )
        total += points
    has_data = available > 0
    return _Scored(groups, round(total, 2) if has_data else None, round(available, 2), missing)


def _hours(counters: Mapping[str, int]) -> float | None:
    timed = int(counters.get("res_timed", 0))
    if timed <= 0:
        return None
    return round(int(counters.get("res_seconds", 0)) / timed / 3600, 2)


def _missing_notes(period: str, missing: list[Criterion]) -> list[Note]:
    return [
        Note("scoreboard.no_data", criterion=c.code, name=c.name, period=period) for c in missing
    ]


def build_scoreboard(
    table: ScoringTable,
    period: str,
    counters: Mapping[str, Mapping[str, int]],
    names: Mapping[str, str],
    province: str | None,
) -> ProvinceScoreboard | NationalScoreboard:
    """Every province's counters → the answer for ``province`` (None: the nation).

    ``counters`` holds the provinces with any counter (absent counters are 0); ``names`` the
    34 current provinces' names.
    """
    scored = {code: _score(table, c) for code, c in counters.items()}
    ranked = sorted(
        ((code, s.total) for code, s in scored.items() if s.total is not None),
        key=lambda item: (-item[1], item[0]),
    )
    ranks = rank_competition([t for _, t in ranked], higher_is_better=True)
    rank_of = {code: r for (code, _), r in zip(ranked, ranks, strict=True) if r is not None}
    assumptions = table.assumptions()
    assumption_note = (
        Note("scoreboard.assumed_maxima", criteria=tuple(assumptions)) if assumptions else None
    )
    if province is not None:
        own = counters.get(province, {})
        s = scored.get(province) or _score(table, own)
        notes = _missing_notes(period, s.missing)
        if assumption_note:
            notes.append(assumption_note)
        return ProvinceScoreboard(
            period=period,
            province=province,
            name=names.get(province, province),
            total=s.total,
            max=table.max,
            max_available=s.max_available,
            rank=rank_of.get(province),
            rank_of=len(ranked),
            avg_resolution_hours=_hours(own),
            groups=s.groups,
            notes=notes,
        )
    pooled: dict[str, int] = {}
    for c in counters.values():
        for name, value in c.items():
            pooled[name] = pooled.get(name, 0) + int(value)
    s = _score(table, pooled)
    totals = [t for _, t in ranked]
    mean = round(sum(totals) / len(totals), 2) if totals else None
    notes = _missing_notes(period, s.missing)
    if mean is not None and s.total is not None:
        notes.append(Note("scoreboard.pooled", total=s.total, mean=mean, count=len(totals)))
    if assumption_note:
        notes.append(assumption_note)
    return NationalScoreboard(
        period=period,
        province=None,
        name="Toàn quốc",
        total=s.total,
        max=table.max,
        max_available=s.max_available,
        rank=None,
        rank_of=len(ranked),
        avg_resolution_hours=_hours(pooled),
        province_mean=mean,
        groups=s.groups,
        provinces=[
            ProvinceTotal(code, names.get(code, code), total, rank_of[code])
            for code, total in ranked
        ],
        notes=notes,
    )
