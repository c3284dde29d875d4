"""Vietnamese number format: parse_number and its inverse format_vn.

The format: docs/domain.md "Numbers and text as provinces write them".
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from cchc_shared.numbers import MAX_NUMBER_LENGTH, NumberError, format_vn, parse_number
from hypothesis import example, given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Figures of docs/domain.md "Figures in the seeds" as the seeds write them.
        ("3.356", 3356),  # seed 000: staff cut
        ("117", 117),  # seed 000
        ("10,09", 10.09),  # seed 000: 10,09%
        ("462", 462),  # seed 000
        ("1.502", 1502),  # seed 001
        ("13.989", 13989),  # seed 001
        ("2.619", 2619),  # seed 001
        ("2.579", 2579),  # seed 001
        ("1.972", 1972),  # seed 002
        ("929", 929),  # seed 002
        ("50.000", 50000),  # seed 002
        ("1.374", 1374),  # seed 002
        ("1.761", 1761),  # seed 002
        ("719", 719),  # seed 003
        ("2.036", 2036),  # seed 003
        ("39849569", 39849569),  # seed 001 page counter, ungrouped
        # The format itself.
        ("1.234.567", 1234567),
        ("1.234.567,5", 1234567.5),
        ("-3,5", -3.5),
        ("+3,5", 3.5),
        ("0,5", 0.5),
        ("0", 0),
        ("-0", 0),
        ("1,0", 1.0),
        ("1,502", 1.502),  # "," is the decimal mark, as the contract says
        ("  13.989\t", 13989),
        ("1000", 1000),
        ("999", 999),
    ],
)
def test_parse_vietnamese_strings(text: str, expected: float) -> None:
    got = parse_number(text)
    assert got == expected
    assert type(got) is type(expected), "int when no decimal part is written, else float"


@pytest.mark.parametrize(
    "text",
    [
        "1.5",  # docs/domain.md "Numbers and text as provinces write them": not a Vietnamese number
        "1.50",
        "1.5000",
        "1,502.3",
        "1,234,567",
        "12.34.567",
        "1.234.56",
        "0.123",  # could be an English decimal
        "012.345",
        "007",
        "1.",
        ".5",
        ",5",
        "1,",
        "1..000",
        "1.000.",
        "",
        "   ",
        "abc",
        "1e5",
        "1E5",
        "0x10",
        "nan",
        "NaN",
        "inf",
        "Infinity",
        "10,09%",  # units are for parse_quantity
        "1 000",
        "1_000",
        "--1",
        "+-1",
        "−3",  # U+2212 minus sign
        "١٢٣",  # Arabic-Indic digits
        "１２",  # full-width digits
        "1" * (MAX_NUMBER_LENGTH + 1),
    ],
)
def test_rejects_ambiguous_and_foreign_strings(text: str) -> None:
    with pytest.raises(NumberError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1.5", "exactly three digits"),
        ("1,234,567", "more than one ','"),
        ("1,502.3", "English format"),
        ("0.123", "leading zero"),
    ],
)
def test_error_messages_say_why(text: str, fragment: str) -> None:
    with pytest.raises(NumberError, match="not a Vietnamese number") as info:
        parse_number(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [0, 1502, -7, 10.09, 0.5, -3.5, 1e20])
def test_json_numbers_pass_through(value: float) -> None:
    got = parse_number(value)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("value", [True, False, math.nan, math.inf, -math.inf, None, [1], b"1"])
def test_rejects_non_numbers(value: object) -> None:
    with pytest.raises(NumberError):
        parse_number(value)  # type: ignore[arg-type]


def test_number_error_is_a_value_error() -> None:
    assert issubclass(NumberError, ValueError)


@pytest.mark.parametrize(
    ("x", "decimals", "text"),
    [
        (0, None, "0"),
        (1502, None, "1.502"),
        (-1234567, None, "-1.234.567"),
        (39849569, None, "39.849.569"),
        (10.09, None, "10,09"),
        (1234567.5, None, "1.234.567,5"),
        (3.0, None, "3,0"),
        (-0.0, None, "0,0"),
        (1e-7, None, "0,0000001"),
        (10.09, 1, "10,1"),
        (2.5, 0, "2"),  # round half to even, like format()
        (1502, 2, "1.502,00"),
        (-0.001, 2, "0,00"),
    ],
)
def test_format_vn(x: float, decimals: int | None, text: str) -> None:
    assert format_vn(x, decimals) == text


@pytest.mark.parametrize("x", [math.nan, math.inf, True])
def test_format_vn_rejects_non_finite(x: float) -> None:
    with pytest.raises(NumberError):
        format_vn(x)


# --- properties ------------------------------------------------------------------------------


@given(st.integers(min_value=-(10**30), max_value=10**30))
@example(0)
@example(999)
@example(1000)
@example(-1000)
def test_int_round_trip(x: int) -> None:
    text = format_vn(x)
    got = parse_number(text)
    assert got == x
    assert type(got) is int


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(0.1)
@example(10.09)
@example(1e-300)
@example(-1.7976931348623157e308)
@example(5e-324)
def test_float_round_trip_is_exact(x: float) -> None:
    got = parse_number(format_vn(x))
    assert got == x
    assert type(got) is float


@given(
    st.decimals(
        min_value=Decimal("-1e12"),
        max_value=Decimal("1e12"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.integers(min_value=0, max_value=6),
)
def test_decimal_round_trip_with_fixed_places(d: Decimal, decimals: int) -> None:
    x = float(d)
    text = format_vn(x, decimals)
    plain = text.replace(".", "").replace(",", ".")
    assert parse_number(text) == float(Decimal(plain))
    # The written digits are x rounded to `decimals` places.
    assert abs(Decimal(plain) - Decimal(x)) <= Decimal(1).scaleb(-decimals) / 2


@given(st.text())
@example("1.5")
@example("1" * 5000)
@example("9" * 99 + ",5")
@example("9" * 400 + ",5")
def test_arbitrary_text_raises_only_number_error(text: str) -> None:
    try:
        got = parse_number(text)
    except NumberError:
        return
    assert isinstance(got, int | float)
    assert not isinstance(got, float) or math.isfinite(got)


@given(st.from_regex(r"[+-]?[0-9.,]{1,20}", fullmatch=True))
def test_number_like_text_raises_only_number_error(text: str) -> None:
    try:
        got = parse_number(text)
    except NumberError:
        return
    # Whatever parsed must format back to the same figure.
    assert parse_number(format_vn(got)) == got
