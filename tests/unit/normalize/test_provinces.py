"""Every province of both eras, by code, by name and by a messy variant, through canonicalize.

The registry has its own tests (tests/unit/shared/test_provinces.py); these check that normalize
reads the province against the date of the data — the period's end for an indicator report,
``occurred_at`` (in Vietnam time) for a dossier event — and that the record carries both the
historical unit and the current (2025) province.
"""

from __future__ import annotations

import unicodedata

import pytest
from cchc_normalize.steps.canonicalize import Reference
from cchc_shared.dlq import Reason
from cchc_shared.provinces import Era, Unit, default_registry

from tests.unit.normalize.builders import (
    accepted,
    accepted_dossier,
    dossier_event,
    rejected,
    report,
)

# A period of each era, and a dossier instant of each era.
PERIOD = {Era.PRE_2025: "2020", Era.POST_2025: "2025-Q3"}
OCCURRED_AT = {
    Era.PRE_2025: "2024-05-02T09:00:00+07:00",
    Era.POST_2025: "2025-08-04T08:15:00+07:00",
}

# Old → new tone placement ("Hòa" → "Hoà", "Thụy" → "Thuỵ"), as many writers use it.
_NEW_STYLE_TONES = {
    a + b: c + d
    for (a, b), (c, d) in [
        (("ò", "a"), ("o", "à")),
        (("ó", "a"), ("o", "á")),
        (("ỏ", "a"), ("o", "ả")),
        (("õ", "a"), ("o", "ã")),
        (("ọ", "a"), ("o", "ạ")),
        (("ú", "y"), ("u", "ý")),
        (("ụ", "y"), ("u", "ỵ")),
    ]
}


def messy(name: str, unit: Unit) -> str:
    """``name`` as a careless producer writes it.

    Type prefix, new-style tone placement, "Ð" (U+00D0) for "Đ", upper case, doubled spaces, NFD.
    """
    text = name
    for old, new in _NEW_STYLE_TONES.items():
        text = text.replace(old, new)
    prefix = "Tỉnh" if unit.type.value == "tỉnh" else "Thành phố"
    text = f"  {prefix}  {text.replace('Đ', 'Ð').upper()} "
    return unicodedata.normalize("NFD", text)


def _units() -> list[Unit]:
    registry = default_registry()
    return registry.units(Era.PRE_2025) + registry.units(Era.POST_2025)


UNITS = [pytest.param(u, id=u.key) for u in _units()]


def _refs(unit: Unit) -> list[str | int]:
    return [unit.code, int(unit.code), unit.name, messy(unit.name, unit)]


@pytest.mark.parametrize("unit", UNITS)
def test_indicator_report_of_every_unit_by_code_name_and_variant(
    ref: Reference, unit: Unit
) -> None:
    for province in _refs(unit):
        obs = accepted(ref, report(province=province, period=PERIOD[unit.era]))
        assert (obs.unit_key, obs.unit_code, obs.unit_era) == (unit.key, unit.code, unit.era.value)
        assert obs.province == unit.successor_code, province


@pytest.mark.parametrize("unit", UNITS)
def test_dossier_event_of_every_unit_by_code_name_and_variant(ref: Reference, unit: Unit) -> None:
    for province in _refs(unit):
        record = accepted_dossier(
            ref, dossier_event(province=province, occurred_at=OCCURRED_AT[unit.era])
        )
        assert (record.unit_key, record.province) == (unit.key, unit.successor_code), province


def test_messy_variants_are_really_messy() -> None:
    text = messy("Khánh Hòa", default_registry().get("56", Era.PRE_2025))  # type: ignore[arg-type]
    assert not unicodedata.is_normalized("NFC", text)
    assert "HOÀ" in unicodedata.normalize("NFC", text)
    assert "Ð" in messy("Đà Nẵng", default_registry().get("48", Era.PRE_2025))  # type: ignore[arg-type]


# --- codes are reused: read against the date of the data -----------------------------------------


@pytest.mark.parametrize(
    ("province", "period", "unit_key", "current"),
    [
        ("15", "2020", "2004:15", "15"),  # Yên Bái, now part of Lào Cai
        ("15", "2025-Q3", "2025:15", "15"),  # Lào Cai
        ("10", "2022", "2004:10", "15"),  # the old Lào Cai
        ("Lào Cai", "2022", "2004:10", "15"),
        ("Lào Cai", "2025-Q3", "2025:15", "15"),
        ("24", "2024", "2004:24", "24"),  # Bắc Giang, now part of Bắc Ninh
        ("24", "2025-07", "2025:24", "24"),  # Bắc Ninh
        ("27", "2024", "2004:27", "24"),  # the old Bắc Ninh
        ("Bắc Ninh", "2024", "2004:27", "24"),
        # The era is decided by the period's *end*: H1 2025 is pre-merger, the year 2025 is not.
        ("10", "2025-H1", "2004:10", "15"),
        ("10", "2025-06", "2004:10", "15"),
        ("15", "2025-H1", "2004:15", "15"),
        ("15", "2025", "2025:15", "15"),
        ("15", "2016/2025", "2025:15", "15"),
        # Names of the other era: an old name in new data stays the old unit; "Huế" in old data
        # is the old Thừa Thiên Huế.
        ("Yên Bái", "2025-Q3", "2004:15", "15"),
        ("Huế", "2020", "2004:46", "46"),
        ("Thừa Thiên Huế", "2025-Q3", "2004:46", "46"),
        ("TP.HCM", "2020", "2004:79", "79"),
        ("TP. Hồ Chí Minh", "2025-Q3", "2025:79", "79"),
        ("Thành phố Hồ Chí Minh", "2025-Q3", "2025:79", "79"),
        ("Bình Dương", "2020", "2004:74", "79"),
        ("BR-VT", "2020", "2004:77", "79"),
    ],
)
def test_reused_codes_and_names_are_read_against_the_period_end(
    ref: Reference, province: str, period: str, unit_key: str, current: str
) -> None:
    obs = accepted(ref, report(province=province, period=period))
    assert (obs.unit_key, obs.province) == (unit_key, current)


@pytest.mark.parametrize(
    ("province", "period"),
    [
        ("10", "2025-Q3"),  # retired code after the merger
        (10, "2025"),
        ("27", "2025-Q4"),
        ("89", "2026"),
        ("28", "2020"),  # Hà Tây, merged into Hà Nội in 2008
        ("99", "2020"),
        ("Atlantis", "2020"),
        ("", "2020"),
        ("015", "2020"),
    ],
)
def test_unknown_provinces(ref: Reference, province: str | int, period: str) -> None:
    assert rejected(ref, report(province=province, period=period)).reason is Reason.UNKNOWN_PROVINCE


@pytest.mark.parametrize(
    ("occurred_at", "unit_key"),
    [
        ("2025-06-30T23:59:59+07:00", "2004:10"),
        ("2025-06-30T16:59:59+00:00", "2004:10"),
        ("2025-07-01T00:00:00+07:00", None),
        # 20:00 on 30 June in UTC is 03:00 on 1 July in Vietnam: the old code 10 is gone.
        ("2025-06-30T20:00:00+00:00", None),
        ("2025-06-30T12:00:00-05:00", None),
    ],
)
def test_dossier_province_is_read_in_vietnam_time(
    ref: Reference, occurred_at: str, unit_key: str | None
) -> None:
    event = dossier_event(
        province="10",
        occurred_at=occurred_at,
        due_at="2025-07-15T17:00:00+07:00",
    )
    if unit_key is None:
        assert rejected(ref, event).reason is Reason.UNKNOWN_PROVINCE
    else:
        record = accepted_dossier(ref, event)
        assert (record.unit_key, record.province) == (unit_key, "15")
