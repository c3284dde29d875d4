"""Numbers as Vietnamese provinces write them.

The convention and why: docs/domain.md "Numbers and text as provinces write them".

"." groups thousands in groups of exactly three digits and "," is the decimal mark:
"3.356" = 3356, "10,09" = 10.09, "1.234.567,5" = 1234567.5, "39849569" = 39849569.

Anything that does not follow this format exactly is rejected, never guessed:

- "1.5", "1.50", "12.34.567": a "." that is not followed by exactly three digits is an English
  decimal point or a typo, not a Vietnamese thousands separator.
- "1,234,567", "1,502.3": English grouping; more than one "," or a "." after the ",".
- "0.123", "012.345": a grouped number whose first group starts with 0 could be an English
  decimal; ungrouped leading zeros ("007") are rejected as well, they are codes, not figures.
- "1e5", "0x10", "Infinity", "", "abc", Unicode digits other than 0–9: not a figure a province
  writes; JSON numbers already cover exponents.

Note that "1,502" is therefore 1.502 (Vietnamese decimal comma), as the contract says.

Surrounding white space is ignored. Units, including "%", are not part of a number: use
:func:`cchc_shared.units.parse_quantity` to split "10,09%" or "60 tỷ đồng".
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

__all__ = ["MAX_NUMBER_LENGTH", "NumberError", "format_vn", "parse_number"]

#: Longest string accepted: room for every finite float written out in full (1e308 takes 411
#: characters with its groups), yet far below Python's integer-string conversion limit
#: (4,300 digits), whose plain ValueError would otherwise leak out of int().
MAX_NUMBER_LENGTH = 512


class NumberError(ValueError):
    """A value that is not a finite number in JSON or in Vietnamese format (reason `bad_number`)."""


# sign, integer part either grouped (first group 1–3 digits without a leading zero, then
# ".ddd" groups) or plain (0 or no leading zero), optional ",digits" fraction.
_VN_NUMBER = re.compile(
    r"(?P<sign>[+-]?)"
    r"(?P<int>[1-9][0-9]{0,2}(?:\.[0-9]{3})+|0|[1-9][0-9]*)"
    r"(?:,(?P<frac>[0-9]+))?"
)


def parse_number(value: int | float | str) -> int | float:
    """Read a figure: JSON numbers pass through, strings are read in Vietnamese format.

    Returns an int when the text has no decimal part ("1.502" → 1502) and a float otherwise
    ("10,09" → 10.09, "1,0" → 1.0). Raises :class:`NumberError` for booleans, NaN, infinities,
    other types and any string that is not exactly a Vietnamese number.
    """
    # bool is an int subclass: reject it before the int check (true/false is never a figure).
    if isinstance(value, bool):
        raise NumberError(f"a boolean is not a number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError(f"number must be finite, got {value!r}")
        return value
    if not isinstance(value, str):
        raise NumberError(f"expected a number or a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise NumberError("empty string is not a number")
    if len(text) > MAX_NUMBER_LENGTH:
        raise NumberError(f"number text longer than {MAX_NUMBER_LENGTH} characters")
    m = _VN_NUMBER.fullmatch(text)
    if m is None:
        raise NumberError(_explain(text))
    digits = m["int"].replace(".", "")
    frac = m["frac"]
    if frac is None:
        n = int(digits)
        return -n if m["sign"] == "-" else n
    f = float(f"{m['sign']}{digits}.{frac}")
    if not math.isfinite(f):  # more than 309 integer digits
        raise NumberError(f"number out of range: {text!r}")
    return f


def _explain(text: str) -> str:
    """A message saying why ``text`` is not a Vietnamese number (error path only)."""
    if text.count(",") > 1:
        why = "more than one ',' (',' is the decimal mark; '.' groups thousands)"
    elif "," in text and "." in text.split(",", 1)[1]:
        why = "'.' after the decimal ','; English format is not accepted"
    elif re.search(r"\.(?![0-9]{3}(?:[.,]|$))", text):
        why = "'.' groups thousands and must be followed by exactly three digits"
    elif re.match(r"[+-]?0[0-9.]", text):
        why = "leading zero ('0.123' could be an English decimal)"
    else:
        why = "expected digits with '.' thousands groups and an optional ',' decimal part"
    return f"not a Vietnamese number: {text!r}: {why}"


def format_vn(x: int | float, decimals: int | None = None) -> str:
    """Write ``x`` in Vietnamese format, the inverse of :func:`parse_number`.

    Integers are written without a decimal part ("1.234.567"). Floats keep the shortest digits
    that round-trip (``repr``), so ``3.0`` is "3,0" and ``parse_number`` returns a float again.
    With ``decimals`` the value is rounded to that many places (``decimals=0``: no ",").
    """
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise NumberError(f"expected an int or a float, got {type(x).__name__}")
    if isinstance(x, float) and not math.isfinite(x):
        raise NumberError(f"number must be finite, got {x!r}")
    if decimals is not None and decimals < 0:
        raise ValueError("decimals must be >= 0")
    if decimals is not None:
        plain = format(Decimal(x) if isinstance(x, int) else x, f".{decimals}f")
    elif isinstance(x, int):
        plain = str(x)
    else:
        # repr gives the shortest round-tripping digits; Decimal turns "1e+20" into plain digits.
        plain = format(Decimal(repr(x)), "f")
        if "." not in plain:
            plain += ".0"  # "1e+20" has no decimal part, but a float must read back as a float
    sign = ""
    if plain.startswith("-"):
        sign, plain = "-", plain[1:]
    int_part, _, frac = plain.partition(".")
    if int(int_part) == 0 and not frac.strip("0"):
        sign = ""  # no "-0" / "-0,00"
    grouped = f"{int(int_part):,}".replace(",", ".")
    return f"{sign}{grouped},{frac}" if frac else f"{sign}{grouped}"
