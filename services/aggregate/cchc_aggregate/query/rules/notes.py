# ruff: noqa: E501  (a table of messages: one line each reads better than split strings)
"""The notes the rules attach to their answers, each a stable code with parameters
(docs/analysts.md "Notes").

A :class:`Note` *is* its English text — a ``str``, so the API's ``notes`` stay the strings they
have always been — and also carries its ``code`` and ``params``, from which another language's
template renders it (the console's Vietnamese, ``console/notes.py``). Every code the rules can
produce is a key of :data:`TEMPLATES`; a note of another code, or with other parameters than its
template's fields, cannot be made. tests/unit/aggregate/query/test_note_codes.py checks that the
rules use only these codes and that every language has a template of each with the same fields.

Templates are ``str.format`` strings with named fields only. A parameter is

* a string (an indicator or period code, a unit's "code name"), shown as it is;
* a number, written by the language's number format (the field's spec, ``{value:g}``, is
  Python's for English; a ``,`` in it groups thousands with a space);
* a :class:`Note` — a part of a sentence in its own right ("old 35 Hà Nam", "provisional") —
  rendered in the same language;
* a tuple of those, joined by the field's spec (``{units:; }``: "; "; no spec: ", ").

Codes ``part.*`` are such parts; the others are whole notes.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeAlias

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

__all__ = [
    "TEMPLATES",
    "Note",
    "NumberFormat",
    "Param",
    "english_number",
    "template_fields",
]

Scalar: TypeAlias = "str | int | float | Note"
Param: TypeAlias = "Scalar | tuple[Scalar, ...]"
NumberFormat = Callable[[float, str], str]
"""How a language writes a number given the field's format spec."""

TEMPLATES: dict[str, str] = {
    # --- national figures and rankings (rules/national.py) ---------------------------------
    "national.score_not_rebased": '{indicator} is a score: scores cannot be re-based onto the 2025 provinces, so {period} is answered on the 63 units as they were (docs/domain.md "Provinces and the 2025 merger")',
    "national.incomplete": "incomplete: {count} unit(s) reported only part of {period} and are left out, because a flow adds up only over periods that cover it entirely: {units:; }",
    "national.derived_sum": "{period} derived (sum of finer periods) for {count} unit(s): {units:; }",
    "national.derived_last": "{period} derived (latest report inside the period) for {count} unit(s): {units:; }",
    "national.derived_ratio": "{period} derived (components derived from finer periods) for {count} unit(s): {units:; }",
    "national.ytd_not_used": "year-to-date reports inside the period were not used: cumulative figures are not additive with other periods",
    "national.percent_left_out": "ratio weighted over the {weighted} unit(s) that reported numerators and denominators; {count} unit(s) reported only a percentage, cannot be weighted and are left out: {units}",
    "national.unweighted_mean": 'unweighted mean of {count} unit(s)\' percentages: no unit reported a numerator and denominator, so the rate cannot be weighted (docs/domain.md "How indicators aggregate")',
    "national.partly_reported": "partly reported 2025 provinces (some of the old units merged into them on 1/7/2025 did not report, so their share is missing from the value): {provinces:; }",
    "national.tiers": "{count} unit(s) gave no province-wide figure, so the sum of their figures per tier stands for it: {units}",
    "national.over_100": "rate above 100 % for {count} unit(s): the numerator exceeds the denominator, which cannot be right (a validation rule is broken; see /v1/quality): {units}.",
    "national.over_100_national": "rate above 100 % for {count} unit(s): the numerator exceeds the denominator, which cannot be right (a validation rule is broken; see /v1/quality): {units}. The national value is above 100 % because of them.",
    "national.not_final": "not final: the figures of some units use reports marked provisional or estimated: {statuses:; }",
    "national.rule_findings": "{count} input(s) break a validation rule (kept, not rejected; see /v1/quality): {findings:; }",
    "national.outlier_findings": "{count} input(s) are outliers against the unit's own history (kept; see /v1/quality): {findings:; }",
    "national.rank_only": "{count} unit(s) reported only a rank, which is not a score and is not in the {aggregation}: {units}",
    "national.rank_only_ranking": "{count} unit(s) reported only a rank: shown as reported_rank and not ranked against the scores: {units}",
    "national.no_value": "no unit reported {indicator} for {period}",
    "national.no_value_rank_only": "no unit reported a value of {indicator} for {period}",
    # --- reporting (rules/reporting.py) -----------------------------------------------------
    "reporting.straddles_merger": "{period} straddles the merger of 1/7/2025: its report is owed by the {expected} provinces that exist at its deadline; the old units' last reports are those of the periods that ended by 30/6/2025",
    # --- Bộ chỉ số 766 (rules/scoreboard.py) ------------------------------------------------
    "scoreboard.no_data": "{criterion} ({name}): no data in {period} (denominator 0) — rate and points null, left out of total and max_available",
    "scoreboard.pooled": "national figures pool the counts of every province (Σ numerators ÷ Σ denominators): total {total}; province_mean {mean} is the mean of the {count} provinces' own totals, a different figure",
    "scoreboard.assumed_maxima": 'maxima of {criteria} are this project\'s assumption (docs/analysts.md "Bộ chỉ số 766")',
    # --- targets (rules/targets.py) ---------------------------------------------------------
    "targets.qualitative": "a qualitative target: its scale is not data here, so it is not measured",
    "targets.no_figure": "no figure of {indicator} for {period}",
    "targets.not_a_unit": "{unit} is not a unit of {period}'s answer (the 2025 merger)",
    "targets.not_final": "the figure is not final: {statuses}",
    # --- data-quality findings' detail (rules/quality.py) -----------------------------------
    "quality.rule_broken": "{left_side: + } ≤ {right_side: + } is broken: {left:,.6g} > {right:,.6g}",
    "quality.outlier": "{indicator} = {value:,.6g} against a median of {median:,.6g} over {history} earlier {period_type} values (MAD {mad:,.6g}): modified z-score {score:.2f}, beyond ±{threshold}",
    # --- parts of notes ---------------------------------------------------------------------
    "part.unit_periods": "{unit} ({periods})",
    "part.unit_percent": "{unit} ({value:g} %)",
    "part.unit_tiers": "{unit} ({tiers: + })",
    "part.unit_of": "{unit} ({numerator:g} of {denominator:g})",
    "part.unit_rank": "{unit} {rank}",
    "part.unit_finding": "{unit} {period}: {detail}",
    "part.old_unit": "old {unit}",
    "part.province_lacks": "{province} lacks {units}",
    "part.province_lacks_in": "{province} lacks {gaps:; }",
    "part.units_in_period": "{units} for {period}",
    "part.units_provisional": "{count} provisional ({units})",
    "part.units_estimated": "{count} estimated ({units})",
    "part.status.provisional": "provisional",
    "part.status.estimated": "estimated",
    "part.tier.province": "province",
    "part.tier.district": "district",
    "part.tier.commune": "commune",
    "part.aggregation.sum": "sum",
    "part.aggregation.ratio": "ratio",
    "part.aggregation.mean": "mean",
    "part.period_type.day": "day",
    "part.period_type.month": "month",
    "part.period_type.quarter": "quarter",
    "part.period_type.half": "half",
    "part.period_type.ytd": "ytd",
    "part.period_type.year": "year",
    "part.period_type.phase": "phase",
}
"""Every note code and its English template (the API's text)."""


def template_fields(template: str) -> dict[str, str]:
    """The named fields of ``template`` and their format specs; raises ``ValueError`` for a
    positional, indexed or converted field (templates name what they show)."""
    fields: dict[str, str] = {}
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or conversion is not None:
            raise ValueError(f"template field {name!r} must be a plain name: {template!r}")
        fields[name] = spec or ""
    return fields


def english_number(value: float, spec: str) -> str:
    """Python's format; a ``,`` in the spec groups thousands with a space ("1 234 567")."""
    text = format(value, spec)
    return text.replace(",", " ") if "," in spec else text


class _Formatter(string.Formatter):
    def __init__(self, templates: Mapping[str, str], number: NumberFormat) -> None:
        self.templates = templates
        self.number = number

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Note):
            return value.render(self.templates, self.number)
        if isinstance(value, tuple):
            sep = format_spec or ", "
            return sep.join(self.format_field(v, "") for v in value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.number(value, format_spec)
        return format(value, format_spec)


class Note(str):
    """A note on an answer: its English text, its stable ``code`` and its ``params``.

    ``Note("national.no_value", indicator="staff.cut", period="2018")`` is the string
    "no unit reported staff.cut for 2018". Immutable; equal to (and hashed as) its text.
    """

    __slots__ = ("code", "params")
    code: str
    params: Mapping[str, Param]

    def __new__(cls, code: str, /, **params: Param) -> Note:
        template = TEMPLATES.get(code)
        if template is None:
            raise ValueError(f"unknown note code {code!r}: add it to rules/notes.py TEMPLATES")
        wanted = set(template_fields(template))
        if set(params) != wanted:
            raise ValueError(f"note {code!r} takes {sorted(wanted)}, got {sorted(params)}")
        for name, value in params.items():
            _check(code, name, value)
        text = _Formatter(TEMPLATES, english_number).vformat(template, (), params)
        self = super().__new__(cls, text)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", MappingProxyType(dict(params)))
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Note is immutable")

    def render(self, templates: Mapping[str, str], number: NumberFormat) -> str:
        """This note in another language: ``templates`` (code → template, with the same fields
        as the English one) and that language's ``number`` format."""
        return _Formatter(templates, number).vformat(templates[self.code], (), self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, dict(self.params)))

    def __copy__(self) -> Note:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Note:
        return self

    def __repr__(self) -> str:
        return f"Note({self.code!r}, {str(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # In the API a note is its text: a JSON string, described as one in OpenAPI.
        return core_schema.str_schema()


def _rebuild(code: str, params: dict[str, Param]) -> Note:
    return Note(code, **params)


def _check(code: str, name: str, value: object) -> None:
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise TypeError(f"note {code!r}: {name} must be text, a number or a Note: {item!r}")
