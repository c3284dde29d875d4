"""National figures from province figures: the aggregation rules of docs/domain.md "How
indicators aggregate", as pure functions.

Input is the latest province-wide report per unit (one SQL query,
:mod:`cchc_aggregate.query.fetch.national`); output is the answer of ``GET /v1/national`` and
``GET /v1/provinces`` (docs/contract.md "Query API"): the dataclasses here are the API's response
models, their fields in order the JSON objects, their ``description`` metadata the OpenAPI
schema's. Nothing here touches ClickHouse, so every rule is unit tested with hand-computed
numbers (tests/unit/aggregate/query). Rule 2, across time, is :mod:`.over_time`.

The rules, in the order they apply (docs/analysts.md has the worked examples):

1. **Units and boundaries.** ``current`` (default) answers on the 34 provinces of 2025: a
   predecessor's counts and ratio components are added into its successor. ``historical``
   answers on the units as they were: 63 for periods that end before 2025-07-01, otherwise 34.
   Scores (``index.*``) are never re-based: for a pre-merger period they are answered on the 63
   historical units under either boundary, with a note.
2. **Across time, per unit.** A report for exactly the period asked wins. Otherwise:
   flows (``across_time = sum``) add the unit's reports of finer periods only when they tile the
   period exactly (:func:`~cchc_shared.periods.covers`; any mix such as H1 + Q3 + Q4 works),
   else the unit is *incomplete*, left out, and named in a note; stocks (``last``) take the
   unit's latest report inside the period; ratios recompute from their components derived that
   way; indices and ratios with only ``own`` components are never derived. Year-to-date reports
   (``2022-9M``) only answer a query for exactly that YTD period: they are never parts.
   For a period that spans the merger (the year 2025) the series is the 2025 province, so that
   its predecessors' first-half reports and its own second-half reports add up.
3. **Across provinces.** ``sum`` adds; ``mean`` averages the units; ``ratio`` is
   100 × Σnumerators / Σdenominators over the units that gave components (the ratio report's own
   numerator/denominator first, else its component indicators for the same period). Units that
   gave only a percentage cannot be weighted: when at least one unit gave components they are
   left out of the value and named in a note; when none did, the value is the unweighted mean of
   the percentages, and a note says so.
4. **Completeness.** ``provinces_reported`` counts the units (of the boundary) whose figure is
   in the value; ``provinces_expected`` is 34, or 63 for historical units.

Before rule 1, :func:`province_wide` keeps one report per unit: the province-wide one, else the
sum of its tiers (counts and money only). Rank-only index reports (no value) are shown as
reported ("50/63") and never enter a value. Every note states only what is true of the answer
(docs/analysts.md "Notes"): which units were derived, left out, partly reported (old units of a
merged province, never after 1/7/2025), summed from tiers, above 100 %, not final, or touched
by a validation finding (:mod:`.quality`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cchc_shared.catalogue import OWN, AcrossProvinces, AcrossTime, Catalogue, Indicator
from cchc_shared.periods import Period
from cchc_shared.provinces import MERGER_DATE, Era, ProvinceRegistry

from cchc_aggregate.query.rules import doc
from cchc_aggregate.query.rules.notes import Note
from cchc_aggregate.query.rules.over_time import Derived, over_time, stored_period
from cchc_aggregate.query.rules.quality import Finding

__all__ = [
    "BOUNDARIES",
    "Boundary",
    "NationalFigure",
    "ProvinceFigure",
    "ProvinceRanking",
    "Report",
    "TierRow",
    "indicators_needed",
    "national",
    "province_wide",
    "provinces",
    "rank_competition",
]

Boundary = Literal["current", "historical"]
BOUNDARIES: tuple[Boundary, ...] = ("current", "historical")


@dataclass(frozen=True, slots=True)
class Report:
    """The latest province-wide report of one unit, indicator and period (a row of the query)."""

    indicator: str
    period: str
    unit_key: str
    province: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    status: str = "final"
    rank: int | None = None
    rank_of: int | None = None
    tiers: tuple[str, ...] = ()
    """Non-empty when the unit gave no province-wide figure and this is the sum of its figures
    per tier (``province``, ``district``, ``commune``): :func:`province_wide`."""


@dataclass(frozen=True, slots=True)
class TierRow:
    """A latest report of one unit at a level (``all`` or a tier), for :func:`province_wide`."""

    report: Report
    level: str


def province_wide(rows: Iterable[TierRow], catalogue: Catalogue) -> list[Report]:
    """One report per unit, indicator and period: the province-wide one (level ``all``) when
    there is one, else — for counts and money only (``across_provinces = sum``) — the sum of
    the unit's tier figures, marked with the tiers added. Never a tier on top of a province-wide
    figure: seed 004 gives 130 units cut (province-wide) and 65 + 65 by tier, and 130 is the
    figure (docs/domain.md "Reporting and data quality").
    """
    by_key: dict[tuple[str, str, str], list[TierRow]] = defaultdict(list)
    for row in rows:
        r = row.report
        by_key[(r.indicator, r.period, r.unit_key)].append(row)
    out: list[Report] = []
    for (code, _, _), group in by_key.items():
        wide = [g.report for g in group if g.level == "all"]
        if wide:
            out.extend(wide)
            continue
        ind = catalogue.get(code)
        tiers = [g for g in group if g.report.value is not None]
        if ind is None or ind.across_provinces is not AcrossProvinces.SUM or not tiers:
            continue
        first = tiers[0].report
        statuses = {g.report.status for g in tiers}
        status = next((s for s in ("estimated", "provisional") if s in statuses), "final")
        out.append(
            Report(
                indicator=first.indicator,
                period=first.period,
                unit_key=first.unit_key,
                province=first.province,
                value=math.fsum(g.report.value or 0.0 for g in tiers),
                status=status,
                tiers=tuple(sorted({g.level for g in tiers}, key=_TIER_ORDER.index)),
            )
        )
    return out


_TIER_ORDER = ("province", "district", "commune")


@dataclass(frozen=True, slots=True)
class NationalFigure:
    """A national figure and how complete it is: the answer of `GET /v1/national`."""

    indicator: str
    period: str
    unit: str = field(metadata=doc("canonical unit of value: percent for ratios"))
    aggregation: str = field(metadata=doc("across provinces: sum | ratio | mean"))
    value: float | None = field(metadata=doc("null when no unit reported"))
    numerator: float | None = field(metadata=doc("ratios: Σ numerators of the weighted units"))
    denominator: float | None = field(metadata=doc("ratios: Σ denominators of the weighted units"))
    provinces_reported: int
    provinces_expected: int = field(metadata=doc("34, or 63 for historical units before 2025-07"))
    boundary: Boundary
    notes: list[Note] = field(metadata=doc("everything that qualifies the value, in words"))
    provisional: int = field(
        metadata=doc("units of the answer whose figure uses a provisional report")
    )
    estimated: int = field(
        metadata=doc("units of the answer whose figure uses an estimated report")
    )


@dataclass(frozen=True, slots=True)
class ProvinceFigure:
    """One unit's figure and competition rank (ties share a rank); null when unreported."""

    province: str
    name: str
    value: float | None
    rank: int | None
    reported_rank: str | None = field(
        default=None,
        metadata=doc('indices: the rank the unit reported, "50/63"; never compared with scores'),
    )


@dataclass(frozen=True, slots=True)
class ProvinceRanking:
    """Every unit of the boundary, best first by the indicator's polarity: the answer of
    `GET /v1/provinces`."""

    indicator: str
    period: str
    boundary: Boundary
    rows: list[ProvinceFigure]
    notes: list[Note]


# --- one series (a unit, or a 2025 province for periods spanning the merger) --------------------


@dataclass
class _Series:
    key: str
    unit_key: str
    province: str
    values: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    """indicator → period text → value."""
    own: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """period text → the ratio report's own (numerator, denominator), for the queried ratio."""
    units: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    """(indicator, period) → the historical units whose reports are in the value."""
    statuses: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    tiers: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    ranks: dict[str, str] = field(default_factory=dict)
    """period text → "r/N" of a rank-only report of the queried index."""


@dataclass(frozen=True, slots=True)
class _Result:
    kind: Literal["value", "weighted", "percent", "incomplete"]
    value: float = math.nan
    numerator: float = 0.0
    denominator: float = 0.0
    parts: tuple[Period, ...] = ()
    parts_inside: tuple[str, ...] = ()
    """kind incomplete: the periods inside the one asked that the unit reported."""
    used: tuple[tuple[str, str], ...] = ()
    """(indicator, period text) of every report in the figure."""


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _build_series(
    reports: Iterable[Report], ratio_code: str | None, by_province: bool
) -> dict[str, _Series]:
    series: dict[str, _Series] = {}
    for r in reports:
        key = r.province if by_province else r.unit_key
        s = series.get(key)
        if s is None:
            s = series[key] = _Series(key, r.unit_key, r.province)
        if r.value is None:  # a rank without a score: shown as reported, never a value
            if r.rank is not None and r.rank_of is not None:
                s.ranks[r.period] = f"{r.rank}/{r.rank_of}"
            continue
        s.units[(r.indicator, r.period)].add(r.unit_key)
        s.statuses[(r.indicator, r.period)].add(r.status)
        if r.tiers:
            s.tiers[(r.indicator, r.period)] = r.tiers
        by_period = s.values[r.indicator]
        # Several predecessors of one province reporting the same sub-period (spanning periods
        # only): their counts and components add, as they do across provinces.
        by_period[r.period] = by_period.get(r.period, 0.0) + r.value
        if r.indicator == ratio_code:
            num, den = s.own.get(r.period, (0.0, 0.0))
            s.own[r.period] = (_add(num, r.numerator), _add(den, r.denominator))
    return series


def _incomplete(reports: dict[str, float], whole: Period) -> _Result:
    inside = sorted(
        (p for p in map(stored_period, reports) if whole.contains(p) and not p.ytd),
        key=lambda p: (p.start, p.end),
    )
    return _Result("incomplete", parts_inside=tuple(p.text for p in inside))


def _evaluate(s: _Series, ind: Indicator, whole: Period, catalogue: Catalogue) -> _Result | None:
    """The series' figure for ``whole``, or None when it reported nothing usable."""
    own_reports = s.values.get(ind.code, {})
    if ind.across_provinces is not AcrossProvinces.RATIO:
        derived = over_time(own_reports, whole, ind.across_time)
        if derived is not None:
            used = tuple((ind.code, p.text) for p in derived.parts)
            return _Result("value", derived.value, parts=derived.parts, used=used)
        has_parts = any(
            whole.contains(stored_period(p)) and not stored_period(p).ytd for p in own_reports
        )
        if ind.across_time is AcrossTime.SUM and has_parts:
            return _incomplete(own_reports, whole)
        return None
    num, den = s.own.get(whole.text, (None, None))
    if num is not None and den is not None and den > 0:
        used = ((ind.code, whole.text),)
        return _Result("weighted", 100 * num / den, num, den, (whole,), used=used)
    if ind.numerator is not None and ind.denominator is not None and ind.numerator != OWN:
        parts: list[Derived] = []
        for code in (ind.numerator, ind.denominator):
            component = catalogue.get(code)
            assert component is not None  # the catalogue validates its ratios' components
            derived = over_time(s.values.get(code, {}), whole, component.across_time)
            if derived is None:
                break
            parts.append(derived)
        else:
            n, d = parts[0], parts[1]
            if d.value > 0:
                used = tuple((ind.numerator, p.text) for p in n.parts) + tuple(
                    (ind.denominator, p.text) for p in d.parts
                )
                return _Result(
                    "weighted", 100 * n.value / d.value, n.value, d.value, n.parts + d.parts,
                    used=used,
                )  # fmt: skip
    if whole.text in own_reports:
        return _Result(
            "percent", own_reports[whole.text], parts=(whole,), used=((ind.code, whole.text),)
        )
    return None


# --- the plan: which units a query is answered on ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    groups: dict[str, tuple[str, str]]
    """group key → (code, name) of the units the answer is given on, in code order."""
    historical_units: bool
    by_province: bool
    notes: tuple[Note, ...]


def _plan(ind: Indicator, whole: Period, boundary: Boundary, registry: ProvinceRegistry) -> _Plan:
    pre_merger = whole.end < MERGER_DATE
    spans_merger = whole.start < MERGER_DATE <= whole.end
    historical_units = pre_merger and (boundary == "historical" or ind.is_index)
    notes: list[Note] = []
    if historical_units and boundary == "current":
        notes.append(Note("national.score_not_rebased", indicator=ind.code, period=whole.text))
    era = Era.PRE_2025 if historical_units else Era.POST_2025
    groups = {
        (u.key if historical_units else u.code): (u.code, u.name) for u in registry.units(era)
    }
    return _Plan(groups, historical_units, spans_merger, tuple(notes))


def indicators_needed(ind: Indicator) -> list[str]:
    """The indicator codes whose reports a national figure of ``ind`` reads."""
    codes = [ind.code]
    if ind.is_ratio and ind.numerator and ind.denominator and ind.numerator != OWN:
        codes += [ind.numerator, ind.denominator]
    return codes


@dataclass
class _Group:
    results: list[tuple[_Series, _Result]] = field(default_factory=list)

    def of(self, kind: str) -> list[tuple[_Series, _Result]]:
        return [(s, r) for s, r in self.results if r.kind == kind]


@dataclass(frozen=True, slots=True)
class _Computed:
    plan: _Plan
    groups: dict[str, _Group]
    notes: list[Note]
    names: dict[str, str]
    """unit key of either era → "code name"."""
    predecessors: dict[str, frozenset[str]]
    """2025 code → the unit keys of its predecessors."""
    series_of: dict[str, list[_Series]] = field(default_factory=dict)
    """group key → every series in it, reported value or not."""

    @property
    def weighted(self) -> bool:
        """Whether some unit's rate could be weighted (then percentage-only units are out)."""
        return any(g.of("weighted") for g in self.groups.values())

    def label(self, s: _Series) -> str:
        """How a note names a series: "02 Hà Giang", "08 Tuyên Quang"."""
        if self.plan.by_province:
            return self.names.get(f"2025:{s.province}", s.province)
        return self.names.get(s.unit_key, s.unit_key)


def _compute(
    ind: Indicator,
    whole: Period,
    boundary: Boundary,
    reports: Iterable[Report],
    catalogue: Catalogue,
    registry: ProvinceRegistry,
) -> _Computed:
    plan = _plan(ind, whole, boundary, registry)
    ratio_code = ind.code if ind.is_ratio else None
    series = _build_series(reports, ratio_code, plan.by_province)
    names = {u.key: f"{u.code} {u.name}" for era in Era for u in registry.units(era)}
    groups: dict[str, _Group] = {key: _Group() for key in plan.groups}
    series_of: dict[str, list[_Series]] = defaultdict(list)
    for s in series.values():
        key = s.unit_key if plan.historical_units else s.province
        if key not in groups:
            continue  # a report of another era's unit (cannot happen with normalize's data)
        series_of[key].append(s)
        result = _evaluate(s, ind, whole, catalogue)
        if result is not None:
            groups[key].results.append((s, result))
    notes: list[Note] = list(plan.notes)
    predecessors = {
        u.code: frozenset(p.key for p in registry.predecessors(u.code))
        for u in registry.units(Era.POST_2025)
    }
    computed = _Computed(plan, groups, notes, names, predecessors, dict(series_of))
    label = computed.label
    all_results = [(s, r) for g in groups.values() for s, r in g.results]
    incomplete = [(s, r) for s, r in all_results if r.kind == "incomplete"]
    if incomplete:
        notes.append(
            Note(
                "national.incomplete",
                count=len(incomplete),
                period=whole.text,
                units=tuple(
                    Note("part.unit_periods", unit=label(s), periods=r.parts_inside)
                    for s, r in incomplete
                ),
            )
        )
    # Derived only when a report of another period went in: a ratio from its two components
    # reported for exactly the period has parts (whole, whole) and is not derived.
    derived = [
        (s, r)
        for s, r in all_results
        if r.kind != "incomplete" and any(p != whole for p in r.parts)
    ]
    if derived:
        kind = "last" if ind.across_time is AcrossTime.LAST else "sum"
        if ind.is_ratio:
            kind = "ratio"
        units = tuple(
            Note(
                "part.unit_periods",
                unit=label(s),
                periods=tuple(p.text for p in dict.fromkeys(r.parts)),
            )
            for s, r in derived
        )
        notes.append(
            Note(f"national.derived_{kind}", period=whole.text, count=len(derived), units=units)
        )
    ytd_seen = any(
        stored_period(p).ytd and whole.contains(stored_period(p)) and p != whole.text
        for s in series.values()
        for reports_ in s.values.values()
        for p in reports_
    )
    if ytd_seen:
        notes.append(Note("national.ytd_not_used"))
    return computed


# --- across provinces ---------------------------------------------------------------------------


def national(
    ind: Indicator,
    whole: Period,
    boundary: Boundary,
    reports: Iterable[Report],
    catalogue: Catalogue,
    registry: ProvinceRegistry,
    findings: Sequence[Finding] = (),
) -> NationalFigure:
    """The national figure of ``ind`` for ``whole`` under ``boundary`` (module docstring).

    ``findings`` are the validation-rule violations and outliers among the reports
    (:mod:`.quality`); those that touch a report in the value are noted.
    """
    c = _compute(ind, whole, boundary, reports, catalogue, registry)
    notes = c.notes
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    reported = 0
    if ind.across_provinces is AcrossProvinces.SUM:
        values = [r.value for g in c.groups.values() for _, r in g.of("value")]
        reported = sum(1 for g in c.groups.values() if g.of("value"))
        value = math.fsum(values) if values else None
    elif ind.across_provinces is AcrossProvinces.MEAN:
        group_means = [
            math.fsum(r.value for _, r in g.of("value")) / len(g.of("value"))
            for g in c.groups.values()
            if g.of("value")
        ]
        reported = len(group_means)
        value = math.fsum(group_means) / reported if reported else None
    else:
        weighted_groups = [g for g in c.groups.values() if g.of("weighted")]
        percent_only = [(key, s, r) for key, g in c.groups.items() for s, r in g.of("percent")]
        if weighted_groups:
            numerator = math.fsum(r.numerator for g in weighted_groups for _, r in g.of("weighted"))
            denominator = math.fsum(
                r.denominator for g in weighted_groups for _, r in g.of("weighted")
            )
            value = 100 * numerator / denominator
            reported = len(weighted_groups)
            if percent_only:
                listed = tuple(
                    Note("part.unit_percent", unit=c.label(s), value=r.value)
                    for _, s, r in percent_only
                )
                notes.append(
                    Note(
                        "national.percent_left_out",
                        weighted=reported,
                        count=len(percent_only),
                        units=listed,
                    )
                )
        elif percent_only:
            value = math.fsum(r.value for _, _, r in percent_only) / len(percent_only)
            reported = len({key for key, _, _ in percent_only})
            notes.append(Note("national.unweighted_mean", count=len(percent_only)))
    provisional, estimated, status_note = _status_counts(c)
    rank_only = _rank_only(c, whole) if ind.is_index else []
    for note in (
        _partial_groups(c, whole),
        _tier_note(c),
        _over_100(c, value) if ind.is_ratio else None,
        status_note,
        *quality_notes(findings, c),
    ):
        if note is not None:
            notes.append(note)
    if rank_only:
        notes.append(
            Note(
                "national.rank_only",
                count=len(rank_only),
                aggregation=Note(f"part.aggregation.{ind.across_provinces.value}"),
                units=_rank_parts(rank_only),
            )
        )
    if value is None:
        if rank_only:
            notes.append(Note("national.no_value_rank_only", indicator=ind.code, period=whole.text))
        else:
            notes.append(Note("national.no_value", indicator=ind.code, period=whole.text))
    return NationalFigure(
        indicator=ind.code,
        period=whole.text,
        unit=ind.unit,
        aggregation=ind.across_provinces.value,
        value=value,
        numerator=numerator,
        denominator=denominator,
        provinces_reported=reported,
        provinces_expected=len(c.plan.groups),
        boundary=boundary,
        notes=notes,
        provisional=provisional,
        estimated=estimated,
    )


def _counted(group: _Group, c: _Computed) -> list[tuple[_Series, _Result]]:
    """The group's results that are in the value: a percentage-only unit is, only when no unit
    of the answer could be weighted (rule 3)."""
    kinds = ("value", "weighted") if c.weighted else ("value", "weighted", "percent")
    return [(s, r) for s, r in group.results if r.kind in kinds]


def _partial_groups(c: _Computed, whole: Period) -> Note | None:
    """A note naming 2025 provinces whose pre-merger share is partly missing from the value.

    A 2025 province made of several old units (docs/domain.md "Provinces and the 2025 merger")
    is partly reported when some of those units reported for a pre-merger period in the value
    and others did not: for a period before 1/7/2025 under current boundaries, and for the
    pre-merger parts of a period spanning it (2025 = old units' 2025-H1 + new province's
    2025-H2). After 1/7/2025 a province has no predecessors left to report; on historical units
    nothing is merged. Old units are named "old NN Name", so that the old 37 Ninh Bình is never
    read as the new province lacking itself.
    """
    if c.plan.historical_units or whole.start >= MERGER_DATE:
        return None
    partial: list[Note] = []
    for key, group in c.groups.items():
        expected = c.predecessors.get(key, frozenset())
        if len(expected) <= 1:
            continue
        gaps: dict[str, set[str]] = {}
        if c.plan.by_province:
            # Spanning the merger: one series per 2025 province; its pre-merger reports are
            # the old units' (added up), so look at who is in each of them.
            for s, r in _counted(group, c):
                for code, period in r.used:
                    if stored_period(period).end >= MERGER_DATE:
                        continue
                    not_in = expected - s.units.get((code, period), set())
                    if not_in:
                        gaps.setdefault(period, set()).update(not_in)
        else:
            # A pre-merger period: one series per old unit.
            counted = {s.unit_key for s, _ in _counted(group, c)}
            absent = expected - counted
            gaps = {whole.text: set(absent)} if counted and absent else {}
        if not gaps:
            continue
        code, name = c.plan.groups[key]
        lacking = {
            period: tuple(Note("part.old_unit", unit=c.names.get(m, m)) for m in sorted(units))
            for period, units in sorted(gaps.items())
        }
        if c.plan.by_province:
            in_periods = tuple(
                Note("part.units_in_period", units=old, period=period)
                for period, old in lacking.items()
            )
            partial.append(
                Note("part.province_lacks_in", province=f"{code} {name}", gaps=in_periods)
            )
        else:
            (old,) = lacking.values()
            partial.append(Note("part.province_lacks", province=f"{code} {name}", units=old))
    if not partial:
        return None
    return Note("national.partly_reported", provinces=tuple(partial))


def _over_100(c: _Computed, value: float | None) -> Note | None:
    """A note on a rate above 100 %: units whose numerator exceeds their denominator."""
    over = [
        (s, r)
        for g in c.groups.values()
        for s, r in g.of("weighted")
        if r.numerator > r.denominator
    ]
    if not over:
        return None
    listed = tuple(
        Note("part.unit_of", unit=c.label(s), numerator=r.numerator, denominator=r.denominator)
        for s, r in over
    )
    if value is not None and value > 100:
        return Note("national.over_100_national", count=len(over), units=listed)
    return Note("national.over_100", count=len(over), units=listed)


def _status_counts(c: _Computed) -> tuple[int, int, Note | None]:
    """How many units of the answer use provisional and estimated reports, and a note."""
    marked: dict[str, list[str]] = {"provisional": [], "estimated": []}
    for key, group in c.groups.items():
        statuses: set[str] = set()
        for s, r in _counted(group, c):
            for used in r.used:
                statuses |= s.statuses.get(used, set())
        for status in marked:
            if status in statuses:
                code, name = c.plan.groups[key]
                marked[status].append(f"{code} {name}")
    parts = tuple(
        Note(f"part.units_{status}", count=len(units), units=tuple(units))
        for status, units in marked.items()
        if units
    )
    note = Note("national.not_final", statuses=parts) if parts else None
    return len(marked["provisional"]), len(marked["estimated"]), note


def _tier_note(c: _Computed) -> Note | None:
    """A note naming units whose figure is the sum of their tier figures."""
    summed: list[Note] = []
    for group in c.groups.values():
        for s, r in _counted(group, c):
            levels = {t for used in r.used for t in s.tiers.get(used, ())}
            tiers = [t for t in _TIER_ORDER if t in levels]
            if tiers:
                summed.append(
                    Note(
                        "part.unit_tiers",
                        unit=c.label(s),
                        tiers=tuple(Note(f"part.tier.{t}") for t in tiers),
                    )
                )
    if not summed:
        return None
    return Note("national.tiers", count=len(summed), units=tuple(summed))


def _rank_only(c: _Computed, whole: Period) -> list[tuple[str, str, str]]:
    """(group key, label, "r/N") of the units that reported only a rank for ``whole``."""
    out = []
    for key, group in c.groups.items():
        if any(True for _ in _counted(group, c)):
            continue
        for s in c.series_of.get(key, ()):
            if whole.text in s.ranks:
                out.append((key, c.label(s), s.ranks[whole.text]))
    return out


def _rank_parts(rank_only: list[tuple[str, str, str]]) -> tuple[Note, ...]:
    return tuple(Note("part.unit_rank", unit=label, rank=rank) for _, label, rank in rank_only)


def quality_notes(findings: Sequence[Finding], c: _Computed) -> list[Note]:
    """Notes on the validation-rule violations and outliers among the reports in the value.

    A finding is about a unit, a period and indicators; it touches the value when the unit's
    figure used a report of one of those indicators for that period.
    """
    used: set[tuple[str, str, str]] = set()
    for group in c.groups.values():
        for s, r in _counted(group, c):
            for code, period in r.used:
                for unit_key in s.units.get((code, period), ()):
                    used.add((unit_key, code, period))
    rules_hit: list[Note] = []
    outliers: list[Note] = []
    for f in findings:
        if not any((f.unit_key, code, f.period) in used for code in f.indicators):
            continue
        label = c.names.get(f.unit_key, f.unit_key)
        part = Note("part.unit_finding", unit=label, period=f.period, detail=f.detail)
        (rules_hit if f.kind == "rule" else outliers).append(part)
    notes = []
    if rules_hit:
        notes.append(
            Note("national.rule_findings", count=len(rules_hit), findings=tuple(rules_hit))
        )
    if outliers:
        notes.append(
            Note("national.outlier_findings", count=len(outliers), findings=tuple(outliers))
        )
    return notes


# --- ranking ------------------------------------------------------------------------------------


def rank_competition(values: list[float | None], higher_is_better: bool) -> list[int | None]:
    """Competition ranks ("1224"): ties share the best rank, the next rank skips; None unranked."""
    sign = -1.0 if higher_is_better else 1.0
    present = sorted((sign * v, i) for i, v in enumerate(values) if v is not None)
    ranks: list[int | None] = [None] * len(values)
    previous: float | None = None
    rank = 0
    for position, (key, i) in enumerate(present, start=1):
        # Equal up to float noise (sums in another order) is a tie.
        if previous is None or not math.isclose(key, previous, rel_tol=1e-12, abs_tol=1e-12):
            rank = position
        ranks[i] = rank
        previous = key
    return ranks


def provinces(
    ind: Indicator,
    whole: Period,
    boundary: Boundary,
    reports: Iterable[Report],
    catalogue: Catalogue,
    registry: ProvinceRegistry,
) -> ProvinceRanking:
    """Every unit's figure for ``whole`` under ``boundary``, best first by polarity.

    A unit's value follows the same rules as the national figure restricted to that unit:
    predecessors added (counts and ratio components), a percentage-only unit's own percentage.
    Units without a usable figure come last with value and rank None.
    """
    c = _compute(ind, whole, boundary, reports, catalogue, registry)
    keys = list(c.plan.groups)
    values = [_group_value(ind, c.groups[k]) for k in keys]
    ranks = rank_competition(values, ind.higher_is_better)
    reported = {
        key: s.ranks[whole.text]
        for key, series in c.series_of.items()
        for s in series
        if whole.text in s.ranks
    }
    rows = [
        ProvinceFigure(c.plan.groups[k][0], c.plan.groups[k][1], v, r, reported.get(k))
        for k, v, r in zip(keys, values, ranks, strict=True)
    ]
    # Ranked scores first; then units with only a reported rank, in that rank's order (shown as
    # "50/63", never ranked against scores); then the unreported.
    rows.sort(
        key=lambda f: (
            f.rank is None,
            f.rank or 0,
            f.reported_rank is None,
            int(f.reported_rank.split("/")[0]) if f.reported_rank else 0,
            f.province,
        )
    )
    notes = list(c.notes)
    rank_only = _rank_only(c, whole) if ind.is_index else []
    if rank_only:
        notes.append(
            Note("national.rank_only_ranking", count=len(rank_only), units=_rank_parts(rank_only))
        )
    return ProvinceRanking(ind.code, whole.text, boundary, rows, notes)


def _group_value(ind: Indicator, group: _Group) -> float | None:
    if ind.across_provinces is AcrossProvinces.SUM:
        values = [r.value for _, r in group.of("value")]
        return math.fsum(values) if values else None
    if ind.across_provinces is AcrossProvinces.MEAN:
        values = [r.value for _, r in group.of("value")]
        return math.fsum(values) / len(values) if values else None
    weighted = group.of("weighted")
    if weighted:
        return (
            100
            * math.fsum(r.numerator for _, r in weighted)
            / math.fsum(r.denominator for _, r in weighted)
        )
    percents = [r.value for _, r in group.of("percent")]
    return math.fsum(percents) / len(percents) if percents else None
