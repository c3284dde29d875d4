"""The reason table covers exactly the DLQ's reason codes, and the guide's page is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cchc_shared.dlq import STAGE_REASONS, Reason
from cchc_shared.reasons import REASONS, STAGE_NAMES_VI, describe, markdown_vi

REASONS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "vi" / "reasons.md"
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùý]")


def test_the_table_covers_exactly_the_reason_enum() -> None:
    assert set(REASONS) == set(Reason)
    assert len(REASONS) == len(Reason)
    assert all(key is info.reason for key, info in REASONS.items())


@pytest.mark.parametrize("reason", list(Reason))
def test_each_reason_is_explained_in_both_languages(reason: Reason) -> None:
    info = describe(reason)
    assert info is describe(str(reason))
    assert info.stages, f"{reason} is given by no stage (dlq.STAGE_REASONS)"
    assert all(stage in STAGE_NAMES_VI for stage in info.stages)
    assert info.stages == tuple(s for s in STAGE_REASONS if reason in STAGE_REASONS[s])
    assert info.meaning
    assert "\n" not in info.meaning
    for text in (info.vi_meaning, info.vi_fix):
        assert VIETNAMESE.search(text.lower()), f"{reason}: not Vietnamese with diacritics"
        assert text == text.strip()
        assert text.endswith((".", ")"))


def test_every_stage_reason_is_in_the_table() -> None:
    for reasons in STAGE_REASONS.values():
        assert set(reasons) <= set(REASONS)


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="nope"):
        describe("nope")


def test_the_guide_reason_page_is_current() -> None:
    assert REASONS_PAGE.read_text("utf-8") == markdown_vi(), "run `cchc schema export`, commit"


def test_the_page_lists_every_code_with_its_fix() -> None:
    page = markdown_vi()
    for reason, info in REASONS.items():
        assert f"## `{reason}`" in page
        assert info.vi_fix in page


def test_the_contract_lists_exactly_the_same_codes_and_stages() -> None:
    contract = (REASONS_PAGE.parents[1] / "contract.md").read_text("utf-8")
    section = contract.split("## Dead letters", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, re.MULTILINE)
    assert {code for code, _ in rows} == {str(r) for r in Reason}
    for code, stages in rows:
        named = set(re.findall(r"ingest|normalize|aggregate", stages))
        assert named == set(describe(code).stages), code
