"""Vietnamese text normalisation and name-matching keys.

Provinces write the same name in many ways: NFD or NFC, "Ð" (U+00D0, Icelandic eth) for "Đ"
(U+0110), old or new tone placement ("Hoà" / "Hòa", "Thuỵ" / "Thụy"), with or without the "Tỉnh" /
"Thành phố" / "TP." prefix, with hyphens, dashes or spaces between the parts (docs/domain.md
"Numbers and text as provinces write them").

* :func:`normalize_text` cleans text for storage and display without changing its meaning.
* :func:`name_key` turns a place name into a matching key. It keeps the diacritics, because
  Vietnamese names can differ only by them, and removes everything else that varies.
* :func:`fold_key` drops the diacritics as well; use it only as a fallback after ``name_key``
  found nothing, and only where the folded keys are known to be unambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold_key", "name_key", "normalize_text"]

# "Ð"/"ð" are not decomposable, so neither NFC nor NFKC turns them into "Đ"/"đ" (docs/domain.md
# "Numbers and text as provinces write them").
# Zero-width characters and the BOM come in with copy-pasted text and are invisible; drop them.
_CHAR_FIXES = str.maketrans(
    {
        "\u00d0": "\u0110",
        "\u00f0": "\u0111",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
    }
)


def normalize_text(s: str) -> str:
    """Return ``s`` in NFC, with "Ð"/"ð" read as "Đ"/"đ", whitespace runs collapsed, stripped.

    Case, punctuation and tone placement are kept: this is the form to store and display.
    Never raises on any ``str``.
    """
    return " ".join(unicodedata.normalize("NFC", s).translate(_CHAR_FIXES).split())


# --- tone placement ---------------------------------------------------------------------------

# The five Vietnamese tone marks as combining characters (huyền, sắc, ngã, hỏi, nặng).
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aăâeêioôơuưy")
# Vowels with a quality mark; the tone always sits on one of them when present.
_MARKED_VOWELS = frozenset("ăâêôơư")
# Every lower-case vowel carrying a tone, so that untoned words skip the NFD round trip.
_TONED_VOWELS = frozenset(unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONE_MARKS)


def _tone_position(base: str) -> int | None:
    """Index in the toneless lower-case syllable ``base`` where the tone mark belongs.

    The canonical placement is the traditional one used by the GSO list and by the
    ``vietnam-provinces`` package ("Hòa", "Thụy", "Khỏe", "Thanh Hóa"). What matters for matching
    is only that the result depends on the toneless syllable alone, so every placement a writer
    may choose ("Hoà", "Thuỵ", even a wrong "Qúy") maps to the same key.
    """
    start = 0
    # In "qu" and in "gi" before another vowel, the u / i belongs to the onset: "quý", "giá".
    if base.startswith(("qu", "gi")) and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    while start < len(base) and base[start] not in _VOWELS:
        start += 1
    if start == len(base):
        return None
    end = start
    while end < len(base) and base[end] in _VOWELS:
        end += 1
    nucleus = base[start:end]
    if "ơ" in nucleus:  # "ươ": the tone goes on ơ ("người", "Phước")
        return start + nucleus.index("ơ")
    for i, ch in enumerate(nucleus):
        if ch in _MARKED_VOWELS:
            return start + i
    if end < len(base):  # closed syllable: last vowel ("hoàng", "huỳnh", "toán")
        return end - 1
    if len(nucleus) >= 3:  # "ngoài", "khuỷu": the middle vowel
        return start + 1
    # Open syllable with one or two vowels: the first one. This is where the old ("Hòa") and the
    # new ("Hoà") placement differ, for oa / oe / uy only.
    return start


def _normalize_tone(word: str) -> str:
    """Move the tone mark of one lower-case NFC word to its canonical vowel."""
    if not any(ch in _TONED_VOWELS for ch in word):
        return word
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONE_MARKS]
    if len(tones) != 1:  # not a Vietnamese syllable: leave it alone rather than guess
        return word
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    pos = _tone_position(base)
    if pos is None:
        return word
    # NFC again: a stray combining mark after the vowel could otherwise stay uncomposed.
    return unicodedata.normalize("NFC", base[:pos] + base[pos] + tones[0] + base[pos + 1 :])


# --- name keys ---------------------------------------------------------------------------------

# Anything that is not a letter, a digit or a combining mark separates words: "-", "–", "—",
# ".", ",", "'", "(", "_", … so "Bà Rịa - Vũng Tàu" and "Bà Rịa–Vũng Tàu" give the same key.
_SEPARATORS = re.compile(r"(?:[^\w\u0300-\u036f]|_)+")
# Administrative-type prefixes, as they look after the steps above (lower case, punctuation
# turned into spaces, tone placement normalised). "tp" may be glued to the name ("TPHCM"):
# no Vietnamese syllable starts with "tp", so that is safe. The unaccented spellings help the
# fold_key fallback for ASCII-only producers ("Tinh Lao Cai").
_PREFIXES = re.compile(r"^(?:(?:tỉnh|tinh|thành phố|thanh pho)(?: |$)|tp ?)")


@lru_cache(maxsize=65536)
def name_key(s: str) -> str:
    """Matching key for a Vietnamese place name.

    Steps: :func:`normalize_text`; lower case; punctuation, hyphens and dashes become spaces;
    the tone mark of each syllable moves to its canonical vowel ("Hoà" == "Hòa",
    "Thuỵ" == "Thụy", "Khoá" == "Khóa"); the prefixes "tỉnh", "thành phố", "tp." / "tp" are
    removed (repeatedly, so the key is idempotent); spaces are collapsed. Diacritics are kept.

    >>> name_key("Tỉnh Bà Rịa–Vũng Tàu") == name_key("bà rịa - vũng tàu") == "bà rịa vũng tàu"
    True
    >>> name_key("TP.HCM") == name_key("TPHCM") == "hcm"
    True
    """
    text = unicodedata.normalize("NFC", normalize_text(s).lower())
    words = [_normalize_tone(w) for w in _SEPARATORS.sub(" ", text).split()]
    key = " ".join(words)
    while True:
        stripped = _PREFIXES.sub("", key, count=1).strip()
        if stripped == key:
            return key
        key = stripped


_FOLD = str.maketrans({"đ": "d"})


@lru_cache(maxsize=65536)
def fold_key(s: str) -> str:
    """:func:`name_key` with all diacritics removed and "đ" read as "d" ("Đà Nẵng" -> "da nang").

    Distinct names can share a folded key, so use it only as a fallback lookup over keys known
    to be unambiguous.
    """
    decomposed = unicodedata.normalize("NFD", name_key(s).translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
