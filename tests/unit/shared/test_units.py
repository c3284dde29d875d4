"""Unit aliases and conversion to an indicator's canonical unit.

The field ``unit``: docs/contract.md "Raw events"; compact multipliers: docs/domain.md "Numbers
and text as provinces write them".
"""

from __future__ import annotations

import unicodedata

import pytest
from cchc_shared.catalogue import Catalogue, Indicator, default_catalogue
from cchc_shared.numbers import NumberError
from cchc_shared.units import UnitError, UnitSpec, convert, parse_quantity, resolve_unit


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return default_catalogue()


def ind(cat: Catalogue, code: str) -> Indicator:
    found = cat.get(code)
    assert found is not None, code
    return found


# Every seed figure as the seed writes it, with the indicator it reports (docs/domain.md
# "Figures in the seeds").
SEED_FIGURES = [
    ("000", "3.356 biên chế", "staff.cut", 3356),
    ("000", "117 người", "staff.party_cut", 117),
    ("000", "10,09%", "staff.party_cut_rate", 10.09),
    ("000", "462 đơn vị", "psu.autonomous", 462),
    ("000", "60%", "psu.autonomy_rate", 60),
    ("000", "80%", "documents.signed_rate", 80),
    ("000", "90%", "documents.dual_format_rate", 90),
    ("001", "1.502 TTHC", "procedures.published", 1502),
    ("001", "13.989 hồ sơ", "dossiers.resolved", 13989),
    ("001", "2.619 biên chế", "staff.quota", 2619),
    ("001", "2.579 biên chế", "staff.quota", 2579),
    ("001", "40 biên chế", "staff.cut", 40),
    ("002", "1.972 thủ tục hành chính", "procedures.in_force", 1972),
    ("002", "929 thủ tục hành chính", "procedures.time_cut", 929),
    ("002", "47%", "procedures.time_cut_rate", 47),
    ("002", "50.000 lượt hồ sơ", "dossiers.time_cut", 50000),
    ("002", "60 tỷ đồng", "savings.cost", 60_000_000_000),
    ("002", "1.374 dịch vụ công trực tuyến", "online_services.integrated", 1374),
    ("002", "1.761 dịch vụ công trực tuyến", "online_services.total", 1761),
    ("002", "2%", "dossiers.late_rate", 2),
    ("003", "719 TTHC", "procedures.amended", 719),
    ("003", "2.036 TTHC", "procedures.abolished", 2036),
    ("004", "130 tổ chức, đơn vị", "org.units_cut", 130),
    ("004", "116 người", "org.leaders_cut", 116),
    ("004", "989 biên chế", "staff.cut", 989),
    ("004", "596 biên chế", "staff.cut", 596),
]


@pytest.mark.parametrize(("seed", "text", "code", "expected"), SEED_FIGURES)
def test_seed_figures(cat: Catalogue, seed: str, text: str, code: str, expected: float) -> None:
    value, unit = parse_quantity(text)
    got = convert(value, unit, ind(cat, code))
    assert got == expected, f"seed {seed}: {text!r}"
    assert type(got) is type(expected)
    assert ind(cat, code).in_range(got)


@pytest.mark.parametrize(
    ("value", "unit", "code", "expected"),
    [
        (60, None, "savings.cost", 60),
        ("60", "tỷ đồng", "savings.cost", 60_000_000_000),
        (60, "tỷ", "savings.cost", 60_000_000_000),
        (60, "tỉ đồng", "savings.cost", 60_000_000_000),
        (1.1, "tỷ đồng", "savings.cost", 1_100_000_000),  # exact, not 1100000000.0000002
        ("1,5", "triệu đồng", "savings.cost", 1_500_000),
        (2, "triệu", "savings.cost", 2_000_000),
        (3, "nghìn tỷ đồng", "savings.cost", 3_000_000_000_000),
        (3, "ngàn tỷ", "savings.cost", 3_000_000_000_000),
        (5, "nghìn đồng", "savings.cost", 5000),
        (5, "ngàn", "savings.cost", 5000),
        (5, "đồng", "savings.cost", 5),
        (5, "VND", "savings.cost", 5),
        (5, "vnđ", "savings.cost", 5),
        (5, "VNÐ", "savings.cost", 5),  # eth look-alike
        (0.0001, "nghìn đồng", "savings.cost", 0.1),
        (50, "nghìn", "dossiers.time_cut", 50_000),
        (50, "nghìn hồ sơ", "dossiers.received", 50_000),
        (7, "hồ sơ", "dossiers.received", 7),
        (7, "dossier", "dossiers.received", 7),
        (7, "thủ tục", "procedures.abolished", 7),
        (7, "TTHC", "procedures.abolished", 7),
        (7, "người", "staff.cut", 7),
        (7, "biên chế", "staff.cut", 7),
        (7, "dịch vụ", "online_services.total", 7),
        (7, "DVC", "online_services.total", 7),
        (7, "đơn vị", "psu.total", 7),
        (7, "tổ chức", "org.units_cut", 7),
        (10.09, "%", "staff.cut_rate", 10.09),
        (10.09, "phần trăm", "staff.cut_rate", 10.09),
        (10.09, "percent", "staff.cut_rate", 10.09),
        (88.37, "%", "index.par", 88.37),
        (65.5, "điểm", "index.pci", 65.5),
        (80.2, "điểm", "index.service_766", 80.2),
        (80.2, "point", "index.service_766", 80.2),
        (0.55, "score", "index.dti", 0.55),
        (7, "  Hồ   SƠ ", "dossiers.received", 7),
        (7, unicodedata.normalize("NFD", "hồ sơ"), "dossiers.received", 7),
    ],
)
def test_convert(
    cat: Catalogue, value: float | str, unit: str | None, code: str, expected: float
) -> None:
    got = convert(value, unit, ind(cat, code))
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("unit", "code", "fragment"),
    [
        ("tỷ đồng", "dossiers.received", "cannot express dossiers.received"),
        ("đồng", "dossiers.received", "cannot express"),
        ("%", "staff.cut", "cannot express staff.cut"),
        ("hồ sơ", "procedures.abolished", "cannot express"),
        ("người", "org.units_cut", "cannot express"),
        ("điểm", "index.par", "cannot express"),
        ("point", "index.pci", "cannot express"),
        ("nghìn", "staff.cut_rate", "cannot scale"),
        ("tỷ", "index.pci", "cannot scale"),
        ("nghìn %", "staff.cut_rate", "unknown unit"),
        ("nghìn điểm", "index.pci", "unknown unit"),
        ("kg", "dossiers.received", "unknown unit"),
        ("", "dossiers.received", "unknown unit"),
        ("/1.761", "online_services.integrated", "unknown unit"),
    ],
)
def test_convert_rejects_units_that_do_not_fit(
    cat: Catalogue, unit: str, code: str, fragment: str
) -> None:
    with pytest.raises(UnitError) as info:
        convert(1, unit, ind(cat, code))
    assert fragment in str(info.value)


def test_convert_reads_value_strictly(cat: Catalogue) -> None:
    with pytest.raises(NumberError):
        convert("1.5", "tỷ đồng", ind(cat, "savings.cost"))
    with pytest.raises(NumberError):
        convert(True, None, ind(cat, "savings.cost"))


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)


def test_resolve_unit() -> None:
    assert resolve_unit("tỷ đồng") == UnitSpec(frozenset({"VND"}), 10**9)
    assert resolve_unit("nghìn") == UnitSpec(None, 1000)
    assert resolve_unit("điểm") == UnitSpec(frozenset({"score", "point"}), 1)
    assert resolve_unit("gallon") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60 tỷ đồng", (60, "tỷ đồng")),
        ("10,09%", (10.09, "%")),
        ("10,09 %", (10.09, "%")),
        ("  1.502  ", (1502, None)),
        ("1.374/1.761", (1374, "/1.761")),
        ("-3,5 điểm", (-3.5, "điểm")),
        ("50.000 lượt hồ sơ", (50000, "lượt hồ sơ")),
    ],
)
def test_parse_quantity(text: str, expected: tuple[float, str | None]) -> None:
    got = parse_quantity(text)
    assert got == expected
    assert type(got[0]) is type(expected[0])


@pytest.mark.parametrize("text", ["", "tỷ đồng", "trên 80%", "1.5 tỷ", "1,234,5 hồ sơ", "%"])
def test_parse_quantity_rejects_text_without_a_vietnamese_number(text: str) -> None:
    with pytest.raises(NumberError):
        parse_quantity(text)
