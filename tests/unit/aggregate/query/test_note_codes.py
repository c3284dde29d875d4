"""Every note the rules can produce has a code with a template in each language, with the same
parameters, so a new note cannot reach the console untranslated (docs/analysts.md "Notes").

The codes are read from the rules' source (every ``Note(...)`` call); a code built from a value
(``Note(f"part.tier.{t}")``) is expanded over every value it can take. The codes found must be
exactly :data:`rules.notes.TEMPLATES`' keys, and those exactly the console's Vietnamese ones.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from cchc_aggregate.query import rules as rules_package
from cchc_aggregate.query.console.notes import VI, note_text, vietnamese_number
from cchc_aggregate.query.rules import national
from cchc_aggregate.query.rules.notes import TEMPLATES, Note, template_fields
from cchc_shared.catalogue import AcrossProvinces
from cchc_shared.periods import PeriodType

QUERY = Path(rules_package.__file__).resolve().parents[1]
SOURCES = [
    *(p for p in sorted((QUERY / "rules").glob("*.py")) if p.name != "notes.py"),
    QUERY / "routes.py",
]

# A code built from a value: its fixed start → every value the rules can put after it.
DYNAMIC: dict[str, tuple[str, ...]] = {
    "national.derived_": ("sum", "last", "ratio"),  # by the indicator's aggregation over time
    "part.units_": ("provisional", "estimated"),  # report statuses other than final
    "part.status.": ("provisional", "estimated"),
    "part.tier.": national._TIER_ORDER,
    "part.aggregation.": tuple(a.value for a in AcrossProvinces),
    "part.period_type.": tuple(t.value for t in PeriodType),
}


def _note_calls() -> tuple[set[str], set[str]]:
    """(literal codes, fixed starts of built codes) of every ``Note(...)`` in the sources."""
    literal: set[str] = set()
    built: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Note"):
                continue
            assert node.args, f"{path.name}:{node.lineno}: a Note without a code"
            code = node.args[0]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                literal.add(code.value)
            elif isinstance(code, ast.JoinedStr) and isinstance(code.values[0], ast.Constant):
                built.add(str(code.values[0].value))
            else:
                pytest.fail(f"{path.name}:{node.lineno}: a note code must be a literal")
    return literal, built


def produced_codes() -> set[str]:
    """Every note code the rules can produce."""
    literal, built = _note_calls()
    unknown = built - set(DYNAMIC)
    assert not unknown, f"codes built from values: list their values in DYNAMIC: {unknown}"
    return literal | {start + value for start in built for value in DYNAMIC[start]}


def test_the_rules_produce_exactly_the_codes_that_have_templates() -> None:
    codes = produced_codes()
    assert len(codes) > 40  # the scan found the rules' notes
    assert codes - set(TEMPLATES) == set(), "a note code without an English template"
    assert set(TEMPLATES) - codes == set(), "a template no rule produces"


def test_every_code_has_a_vietnamese_template_with_the_same_parameters() -> None:
    assert set(VI) == set(TEMPLATES)
    for code, english in TEMPLATES.items():
        assert set(template_fields(VI[code])) == set(template_fields(english)), code


def test_the_vietnamese_templates_are_vietnamese() -> None:
    for code, vi in VI.items():
        words = re.sub(r"\{[^}]*\}|docs/\S+|\"[^\"]*\"|/v1/\S+", "", vi)
        if not re.search(r"[a-z]{2}", words):
            continue  # only fields and punctuation: "{unit} ({periods})"
        assert vi != TEMPLATES[code], code
        assert re.search(r"[^\x00-\x7f]", words), f"{code}: no Vietnamese letter in {vi!r}"


def _sample(name: str, spec: str) -> object:
    if re.fullmatch(r"[,.\d]*[fg]", spec) or name in ("count", "expected", "history"):
        return 7.5
    return ("X", "Y") if spec else "X"


def test_every_note_renders_in_both_languages() -> None:
    for code, english in TEMPLATES.items():
        params = {n: _sample(n, spec) for n, spec in template_fields(english).items()}
        note = Note(code, **params)  # type: ignore[arg-type]
        for text in (str(note), note_text(note, "vi")):
            assert "{" not in text, (code, text)
            assert "X" in text or "X" not in str(params), (code, text)


def test_a_note_is_its_english_text_with_its_code_and_parameters() -> None:
    note = Note("national.no_value", indicator="staff.cut", period="2018")
    assert note == "no unit reported staff.cut for 2018"
    assert (note.code, dict(note.params)) == (
        "national.no_value",
        {"indicator": "staff.cut", "period": "2018"},
    )
    assert note_text(note, "en") == "no unit reported staff.cut for 2018"
    assert note_text(note, "vi") == "chưa đơn vị nào báo cáo staff.cut cho kỳ 2018"
    with pytest.raises(AttributeError):
        note.code = "x"


def test_a_note_of_an_unknown_code_or_with_other_parameters_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="unknown note code"):
        Note("national.something_new", period="2018")
    with pytest.raises(ValueError, match="takes"):
        Note("national.no_value", indicator="staff.cut")
    with pytest.raises(ValueError, match="takes"):
        Note("national.no_value", indicator="staff.cut", period="2018", extra="x")
    with pytest.raises(TypeError):
        Note("national.no_value", indicator="staff.cut", period=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="plain name"):
        template_fields("{0} and {a.b}")


def test_parts_numbers_and_lists_render_in_the_language() -> None:
    old = (Note("part.old_unit", unit="35 Hà Nam"), Note("part.old_unit", unit="37 Ninh Bình"))
    lacks = Note("part.province_lacks", province="37 Ninh Bình", units=old)
    note = Note("national.partly_reported", provinces=(lacks,))
    assert note.endswith(": 37 Ninh Bình lacks old 35 Hà Nam, old 37 Ninh Bình")
    assert note_text(note, "vi").endswith(
        ": 37 Ninh Bình thiếu số liệu của 35 Hà Nam cũ, 37 Ninh Bình cũ"
    )
    broken = Note(
        "quality.rule_broken",
        left_side=("a.x", "a.y"),
        right_side=("a.z",),
        left=12345.5,
        right=1000.0,
    )
    assert broken == "a.x + a.y ≤ a.z is broken: 12 345.5 > 1 000"
    assert note_text(broken, "vi") == "a.x + a.y ≤ a.z không thỏa mãn: 12.345,5 > 1.000"
    assert vietnamese_number(8319.7412, ".2f") == "8.319,74"
    assert vietnamese_number(3.5, "") == "3,5"
    assert vietnamese_number(2036, "g") == "2.036"


def test_the_api_sends_a_note_as_its_text() -> None:
    from pydantic import TypeAdapter

    fig = national.NationalFigure(
        "staff.cut", "2018", "person", "sum", None, None, None, 0, 34, "current",
        [Note("national.no_value", indicator="staff.cut", period="2018")], 0, 0,
    )  # fmt: skip
    adapter = TypeAdapter(national.NationalFigure)
    assert b'"notes":["no unit reported staff.cut for 2018"]' in adapter.dump_json(fig)
    assert adapter.json_schema()["properties"]["notes"]["items"] == {"type": "string"}
