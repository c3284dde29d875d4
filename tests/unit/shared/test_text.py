"""Vietnamese text normalisation and name keys.

The variants met in practice: docs/domain.md "Numbers and text as provinces write them".
"""

import unicodedata

import pytest
from cchc_shared.text import fold_key, name_key, normalize_text
from hypothesis import given
from hypothesis import strategies as st


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


# --- normalize_text ----------------------------------------------------------------------------


def test_normalize_text_composes_nfd_input():
    assert normalize_text(nfd("Lào Cai")) == "Lào Cai"
    assert unicodedata.is_normalized("NFC", normalize_text(nfd("Nghệ An, Thừa Thiên Huế")))


def test_normalize_text_replaces_eth_lookalikes():
    # Seed 003 writes "Nam Ðịnh" with U+00D0; NFKC does not fix it.
    assert normalize_text("Nam \u00d0ịnh") == "Nam \u0110ịnh"
    assert normalize_text("\u00f0ồng") == "\u0111ồng"


def test_normalize_text_collapses_and_strips_whitespace():
    assert normalize_text("  Bà Rịa\t -\u00a0Vũng\n\nTàu  ") == "Bà Rịa - Vũng Tàu"


def test_normalize_text_drops_zero_width_characters():
    assert normalize_text("\ufeffHà\u200b Nội") == "Hà Nội"


def test_normalize_text_keeps_case_punctuation_and_tone_placement():
    assert normalize_text("TP.HCM – Hoà Bình") == "TP.HCM – Hoà Bình"


@given(st.text())
def test_normalize_text_never_raises_and_is_idempotent(s):
    once = normalize_text(s)
    assert normalize_text(once) == once
    assert "\u00d0" not in once
    assert once == once.strip()


# --- name_key: tone placement ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [
        ("Hoà", "Hòa"),
        ("Thuỵ", "Thụy"),
        ("Khoá", "Khóa"),
        ("Khoẻ", "Khỏe"),
        ("Thuỷ", "Thủy"),
        ("Hoạ", "Họa"),
        ("Xoã", "Xõa"),
        ("Khánh Hoà", "Khánh Hòa"),
        ("Thanh Hoá", "Thanh Hóa"),
        ("Hoà Bình", "Hòa Bình"),
        ("Thuỵ Anh", "Thụy Anh"),
    ],
)
def test_name_key_equates_old_and_new_tone_placement(new_style, old_style):
    assert name_key(new_style) == name_key(old_style)
    # The canonical form is the traditional placement used by the GSO list.
    assert name_key(new_style) == old_style.lower()


@pytest.mark.parametrize(
    "word",
    ["hoàng", "huỳnh", "toán", "quý", "quốc", "giá", "giữa", "gìn", "người", "ngoài", "khuỷu",
     "mía", "múa", "tài", "nguyễn", "thuở", "phước", "thuận"],
)  # fmt: skip
def test_name_key_keeps_correctly_placed_tones(word):
    assert name_key(word) == word


@pytest.mark.parametrize(
    ("misplaced", "correct"),
    [("qúy", "quý"), ("gía", "giá"), ("ngòai", "ngoài"), ("hoàng", "hoàng"), ("hòang", "hoàng")],
)
def test_name_key_repairs_misplaced_tones(misplaced, correct):
    assert name_key(misplaced) == correct


# --- name_key: prefixes, punctuation, case, diacritics -----------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "Hồ Chí Minh",
        "Thành phố Hồ Chí Minh",
        "THÀNH PHỐ HỒ CHÍ MINH",
        "TP. Hồ Chí Minh",
        "TP.Hồ Chí Minh",
        "Tp Hồ Chí Minh",
        "tp.hồ chí minh",
        "Thanh pho Hồ Chí Minh",
    ],
)
def test_name_key_strips_city_prefixes(variant):
    assert name_key(variant) == "hồ chí minh"


@pytest.mark.parametrize(
    "variant", ["Tỉnh Lào Cai", "tỉnh  lào cai", "TỈNH LÀO CAI", "Tinh Lào Cai"]
)
def test_name_key_strips_province_prefix(variant):
    assert name_key(variant) == "lào cai"


@pytest.mark.parametrize("variant", ["TP.HCM", "TPHCM", "TP HCM", "tp. hcm", "Thành phố HCM"])
def test_name_key_strips_glued_tp_prefix(variant):
    assert name_key(variant) == "hcm"


@pytest.mark.parametrize(
    "variant",
    [
        "Bà Rịa - Vũng Tàu",
        "Bà Rịa-Vũng Tàu",
        "Bà Rịa–Vũng Tàu",
        "Bà Rịa — Vũng Tàu",
        "Bà Rịa Vũng Tàu",
        "Tỉnh Bà Rịa - Vũng Tàu",
        " bà rịa  -  vũng tàu. ",
    ],
)
def test_name_key_ignores_hyphens_dashes_and_spacing(variant):
    assert name_key(variant) == "bà rịa vũng tàu"


def test_name_key_reads_nfd_and_eth():
    assert name_key(nfd("Nam Định")) == name_key("Nam \u00d0ịnh") == "nam định"


def test_name_key_keeps_diacritics():
    # Vietnamese names can differ only by their diacritics.
    assert name_key("Đà Nẵng") == "đà nẵng"
    assert name_key("Hà Nam") != name_key("Hà Năm")
    assert name_key("Đà Nẵng") != name_key("Da Nang")


def test_name_key_does_not_strip_prefix_words_inside_a_name():
    assert name_key("Thành Phố") == ""
    assert name_key("Hà Tĩnh") == "hà tĩnh"
    assert name_key("Bình Thành phố") == "bình thành phố"


def test_fold_key_drops_diacritics_and_reads_d_bar_as_d():
    assert fold_key("Thành phố Đà Nẵng") == fold_key("Da Nang") == "da nang"
    assert fold_key("Ðắk Lắk") == "dak lak"


# --- properties --------------------------------------------------------------------------------

# Vietnamese letters in both cases and both normal forms, with the separators provinces use.
_VIET_CHARS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)
_ALPHABET = _VIET_CHARS + _VIET_CHARS.upper() + " -.–\u00d0\u00f0\t"
vietnamese_text = st.text(alphabet=_ALPHABET, max_size=40)


@given(st.text())
def test_name_key_is_idempotent_on_any_text(s):
    key = name_key(s)
    assert name_key(key) == key


@given(vietnamese_text)
def test_name_key_ignores_case_and_normal_form(s):
    key = name_key(s)
    assert name_key(s.upper()) == key
    assert name_key(s.lower()) == key
    assert name_key(nfd(s)) == key
    assert unicodedata.is_normalized("NFC", key)


_TONES = "\u0300\u0301\u0303\u0309\u0323"
_SYLLABLES = ["hoa", "thuy", "khoe", "khoa", "hoang", "quy", "tuyen", "nguyen", "ngoai", "thuong"]


@given(st.sampled_from(_SYLLABLES), st.sampled_from(_TONES), st.data())
def test_name_key_does_not_depend_on_where_the_tone_was_written(syllable, tone, data):
    vowels = [i for i, ch in enumerate(syllable) if ch in "aeiouy"]
    a, b = data.draw(st.sampled_from(vowels)), data.draw(st.sampled_from(vowels))
    first = unicodedata.normalize("NFC", syllable[: a + 1] + tone + syllable[a + 1 :])
    second = unicodedata.normalize("NFC", syllable[: b + 1] + tone + syllable[b + 1 :])
    assert name_key(first) == name_key(second)
