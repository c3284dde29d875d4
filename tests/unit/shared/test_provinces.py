"""Province registry: both eras, lineage, code reuse, name matching, topic authority, communes."""

import shutil
import time
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
from cchc_shared.provinces import (
    MERGER_DATE,
    Era,
    ProvinceRegistry,
    Unit,
    UnitType,
    default_registry,
    era_of,
)
from hypothesis import given
from hypothesis import strategies as st

OLD_DAY = date(2020, 1, 1)
NEW_DAY = date(2025, 8, 1)
DAY_OF = {Era.PRE_2025: OLD_DAY, Era.POST_2025: NEW_DAY}

# The table of docs/domain.md "Provinces and the 2025 merger": new code -> (new name,
# {old code: old name}). Copied here so that the test checks the data files against the table
# rather than against themselves.
LINEAGE = {
    "01": ("Hà Nội", {"01": "Hà Nội"}),
    "04": ("Cao Bằng", {"04": "Cao Bằng"}),
    "08": ("Tuyên Quang", {"08": "Tuyên Quang", "02": "Hà Giang"}),
    "11": ("Điện Biên", {"11": "Điện Biên"}),
    "12": ("Lai Châu", {"12": "Lai Châu"}),
    "14": ("Sơn La", {"14": "Sơn La"}),
    "15": ("Lào Cai", {"10": "Lào Cai", "15": "Yên Bái"}),
    "19": ("Thái Nguyên", {"19": "Thái Nguyên", "06": "Bắc Kạn"}),
    "20": ("Lạng Sơn", {"20": "Lạng Sơn"}),
    "22": ("Quảng Ninh", {"22": "Quảng Ninh"}),
    "24": ("Bắc Ninh", {"27": "Bắc Ninh", "24": "Bắc Giang"}),
    "25": ("Phú Thọ", {"25": "Phú Thọ", "26": "Vĩnh Phúc", "17": "Hòa Bình"}),
    "31": ("Hải Phòng", {"31": "Hải Phòng", "30": "Hải Dương"}),
    "33": ("Hưng Yên", {"33": "Hưng Yên", "34": "Thái Bình"}),
    "37": ("Ninh Bình", {"37": "Ninh Bình", "35": "Hà Nam", "36": "Nam Định"}),
    "38": ("Thanh Hóa", {"38": "Thanh Hóa"}),
    "40": ("Nghệ An", {"40": "Nghệ An"}),
    "42": ("Hà Tĩnh", {"42": "Hà Tĩnh"}),
    "44": ("Quảng Trị", {"45": "Quảng Trị", "44": "Quảng Bình"}),
    "46": ("Huế", {"46": "Thừa Thiên Huế"}),
    "48": ("Đà Nẵng", {"48": "Đà Nẵng", "49": "Quảng Nam"}),
    "51": ("Quảng Ngãi", {"51": "Quảng Ngãi", "62": "Kon Tum"}),
    "52": ("Gia Lai", {"64": "Gia Lai", "52": "Bình Định"}),
    "56": ("Khánh Hòa", {"56": "Khánh Hòa", "58": "Ninh Thuận"}),
    "66": ("Đắk Lắk", {"66": "Đắk Lắk", "54": "Phú Yên"}),
    "68": ("Lâm Đồng", {"68": "Lâm Đồng", "67": "Đắk Nông", "60": "Bình Thuận"}),
    "75": ("Đồng Nai", {"75": "Đồng Nai", "70": "Bình Phước"}),
    "79": ("Hồ Chí Minh", {"79": "Hồ Chí Minh", "74": "Bình Dương", "77": "Bà Rịa - Vũng Tàu"}),
    "80": ("Tây Ninh", {"72": "Tây Ninh", "80": "Long An"}),
    "82": ("Đồng Tháp", {"87": "Đồng Tháp", "82": "Tiền Giang"}),
    "86": ("Vĩnh Long", {"86": "Vĩnh Long", "83": "Bến Tre", "84": "Trà Vinh"}),
    "91": ("An Giang", {"89": "An Giang", "91": "Kiên Giang"}),
    "92": ("Cần Thơ", {"92": "Cần Thơ", "94": "Sóc Trăng", "93": "Hậu Giang"}),
    "96": ("Cà Mau", {"96": "Cà Mau", "95": "Bạc Liêu"}),
}
OLD_TO_NEW = {old: new for new, (_, olds) in LINEAGE.items() for old in olds}
RETIRED_CODES = ["10", "27", "45", "64", "72", "87", "89"]
REUSED_CODES = ["15", "24", "44", "52", "80", "82", "91"]


@pytest.fixture(scope="module")
def registry() -> ProvinceRegistry:
    return ProvinceRegistry.load()


def all_units() -> list[Unit]:
    reg = default_registry()
    return reg.units(Era.PRE_2025) + reg.units(Era.POST_2025)


# --- the data ----------------------------------------------------------------------------------


def test_exactly_63_old_and_34_new_units(registry):
    assert len(registry.units(Era.PRE_2025)) == 63
    assert len(registry.units(Era.POST_2025)) == 34
    assert {u.code for u in registry.units(Era.POST_2025)} == set(LINEAGE)
    assert {u.code for u in registry.units(Era.PRE_2025)} == set(OLD_TO_NEW)


def test_units_are_sorted_by_code_with_two_digit_codes(registry):
    for era in Era:
        codes = [u.code for u in registry.units(era)]
        assert codes == sorted(codes)
        assert all(len(c) == 2 and c.isdigit() for c in codes)
        assert all(u.era is era for u in registry.units(era))


def test_names_match_domain_table_and_are_nfc(registry):
    for new_code, (new_name, olds) in LINEAGE.items():
        assert registry.get(new_code, Era.POST_2025).name == new_name
        for old_code, old_name in olds.items():
            assert registry.get(old_code, Era.PRE_2025).name == old_name
    for unit in all_units():
        assert unicodedata.is_normalized("NFC", unit.name)


def test_every_old_unit_maps_to_its_domain_successor(registry):
    for unit in registry.units(Era.PRE_2025):
        assert unit.successor_code == OLD_TO_NEW[unit.code], unit
        assert registry.successor(unit) == registry.get(OLD_TO_NEW[unit.code], Era.POST_2025)


def test_every_new_unit_is_its_own_successor_with_its_domain_predecessors(registry):
    for unit in registry.units(Era.POST_2025):
        assert unit.successor_code == unit.code
        assert registry.successor(unit) is unit
        predecessors = registry.predecessors(unit.code)
        assert predecessors, unit
        assert [u.code for u in predecessors] == sorted(LINEAGE[unit.code][1])
        assert all(u.era is Era.PRE_2025 for u in predecessors)


def test_predecessors_of_ninh_binh(registry):
    assert [(u.code, u.name) for u in registry.predecessors("37")] == [
        ("35", "Hà Nam"),
        ("36", "Nam Định"),
        ("37", "Ninh Bình"),
    ]
    assert registry.predecessors("10") == []  # retired: not a 2025 code


def test_unit_keys_are_unique_across_eras(registry):
    assert registry.get("10", Era.PRE_2025).key == "2004:10"
    assert registry.get("15", Era.POST_2025).key == "2025:15"
    keys = [u.key for u in all_units()]
    assert len(keys) == len(set(keys)) == 97


def test_unit_types(registry):
    cities_2004 = {u.code for u in registry.units(Era.PRE_2025) if u.type is UnitType.CITY}
    cities_2025 = {u.code for u in registry.units(Era.POST_2025) if u.type is UnitType.CITY}
    assert cities_2004 == {"01", "31", "48", "79", "92"}
    assert cities_2025 == {"01", "31", "46", "48", "79", "92"}


def test_default_registry_is_loaded_once():
    assert default_registry() is default_registry()


# --- eras --------------------------------------------------------------------------------------


def test_era_boundary_is_the_merger_date(registry):
    assert MERGER_DATE.isoformat() == "2025-07-01"
    assert registry.era_of(date(2025, 6, 30)) is Era.PRE_2025
    assert registry.era_of(date(2025, 7, 1)) is Era.POST_2025


def test_era_of_datetime_uses_vietnam_local_time():
    utc = UTC
    assert era_of(datetime(2025, 6, 30, 16, 59, 59, tzinfo=utc)) is Era.PRE_2025
    assert era_of(datetime(2025, 6, 30, 17, 0, tzinfo=utc)) is Era.POST_2025  # 00:00 ICT
    assert era_of(datetime(2025, 7, 1, 0, 30, tzinfo=timezone(timedelta(hours=7)))) is (
        Era.POST_2025
    )
    assert era_of(datetime(2025, 6, 30, 23, 59)) is Era.PRE_2025  # naive: local time


# --- codes -------------------------------------------------------------------------------------


def test_codes_are_read_against_the_date(registry):
    assert registry.resolve("15", date(2020, 1, 1)).name == "Yên Bái"
    assert registry.resolve("15", date(2025, 8, 1)).name == "Lào Cai"
    old_lao_cai = registry.resolve(10, date(2022, 12, 31))
    assert (old_lao_cai.name, old_lao_cai.era) == ("Lào Cai", Era.PRE_2025)
    assert registry.resolve("10", date(2025, 8, 1)) is None


@pytest.mark.parametrize("code", REUSED_CODES)
def test_reused_codes_name_different_units(registry, code):
    old, new = registry.resolve(code, OLD_DAY), registry.resolve(code, NEW_DAY)
    assert old.era is Era.PRE_2025
    assert new.era is Era.POST_2025
    assert old.name != new.name


@pytest.mark.parametrize("code", RETIRED_CODES)
def test_retired_codes_resolve_only_before_the_merger(registry, code):
    assert registry.resolve(code, OLD_DAY) is not None
    assert registry.resolve(code, NEW_DAY) is None
    assert registry.resolve(int(code), NEW_DAY) is None


@pytest.mark.parametrize("ref", [2, "2", "02", " 02 ", " 2\t"])
def test_code_forms(registry, ref):
    assert registry.resolve(ref, OLD_DAY).name == "Hà Giang"


@pytest.mark.parametrize(
    "ref", ["", "  ", "002", "1 5", "-15", "15a", "９６", -15, 100, True, 15.0]
)
def test_not_a_code(registry, ref):
    assert registry.resolve(ref, OLD_DAY) is None
    assert registry.resolve(ref, NEW_DAY) is None


def test_get_is_exact(registry):
    assert registry.get("15", Era.PRE_2025).name == "Yên Bái"
    assert registry.get("10", Era.POST_2025) is None
    assert registry.get("99", Era.PRE_2025) is None


# --- names -------------------------------------------------------------------------------------

# Traditional -> new placement for oa / oe / uy: the tone moves from the first to the second vowel.
_NEW_STYLE_TONES = {
    unicodedata.normalize("NFC", pair[0] + tone + pair[1]): unicodedata.normalize(
        "NFC", pair[0] + pair[1] + tone
    )
    for pair in ("oa", "oe", "uy", "Oa", "Uy")
    for tone in "\u0300\u0301\u0303\u0309\u0323"
}


def new_style_tones(name: str) -> str:
    """ "Hòa" -> "Hoà", "Thụy" -> "Thuỵ": the other tone-placement convention."""
    for old, new in _NEW_STYLE_TONES.items():
        name = name.replace(old, new)
    return name


def with_eth(name: str) -> str:
    return name.replace("Đ", "\u00d0").replace("đ", "\u00f0")


def messy_variants(name: str) -> list[str]:
    return [
        unicodedata.normalize("NFD", name),
        name.upper(),
        name.lower(),
        f"Tỉnh {name}",
        f"Thành phố {name}",
        f"TP.{name}",
        f"TP. {name}",
        f"  {name}  ",
        with_eth(name),
        new_style_tones(name),
        unicodedata.normalize("NFD", with_eth(new_style_tones(f"TỈNH {name.upper()}"))),
        name.replace(" - ", "-").replace(" ", "  "),
    ]


def test_new_style_tones_helper_really_moves_tones():
    assert new_style_tones("Hòa Bình") == "Hoà Bình"
    assert new_style_tones("Thanh Hóa") == "Thanh Hoá"
    assert new_style_tones("Thụy") == "Thuỵ"


@pytest.mark.parametrize("unit", all_units(), ids=lambda u: u.key)
def test_every_unit_resolves_by_code_name_and_messy_name(registry, unit):
    on = DAY_OF[unit.era]
    assert registry.resolve(unit.code, on) == unit
    assert registry.resolve(int(unit.code), on) == unit
    assert registry.resolve(unit.name, on) == unit
    for variant in messy_variants(unit.name):
        assert registry.resolve(variant, on) == unit, variant


@given(st.sampled_from(all_units()), st.data())
def test_combined_messiness_still_resolves(unit, data):
    name = unit.name
    for transform in data.draw(
        st.lists(
            st.sampled_from(
                [
                    new_style_tones,
                    with_eth,
                    str.upper,
                    str.lower,
                    lambda s: f"Tỉnh {s}",
                    lambda s: f"tp.{s}",
                    lambda s: unicodedata.normalize("NFD", s),
                    lambda s: s.replace(" ", " - "),
                ]
            ),
            max_size=5,
        )
    ):
        name = transform(name)
    assert default_registry().resolve(name, DAY_OF[unit.era]) == unit


@pytest.mark.parametrize(
    ("ref", "on", "key"),
    [
        ("Nam \u00d0ịnh", date(2020, 12, 31), "2004:36"),
        ("Hoà Bình", OLD_DAY, "2004:17"),
        ("Khánh Hoà", OLD_DAY, "2004:56"),
        ("Khánh Hoà", NEW_DAY, "2025:56"),
        ("Thanh Hoá", NEW_DAY, "2025:38"),
        ("TP.HCM", OLD_DAY, "2004:79"),
        ("TP.HCM", NEW_DAY, "2025:79"),
        ("TPHCM", NEW_DAY, "2025:79"),
        ("TP. Hồ Chí Minh", OLD_DAY, "2004:79"),
        ("Thành phố Hồ Chí Minh", NEW_DAY, "2025:79"),
        ("HCM", OLD_DAY, "2004:79"),
        ("HCM", NEW_DAY, "2025:79"),
        ("Sài Gòn", NEW_DAY, "2025:79"),
        ("Thừa Thiên Huế", OLD_DAY, "2004:46"),
        ("Huế", OLD_DAY, "2004:46"),
        ("TT Huế", OLD_DAY, "2004:46"),
        ("Thành phố Huế", NEW_DAY, "2025:46"),
        ("Huế", NEW_DAY, "2025:46"),
        ("Bà Rịa–Vũng Tàu", OLD_DAY, "2004:77"),
        ("BR-VT", OLD_DAY, "2004:77"),
        ("Ðà Nẵng", NEW_DAY, "2025:48"),
        ("Đắc Lắc", NEW_DAY, "2025:66"),
        ("Bắc Cạn", OLD_DAY, "2004:06"),
    ],
)
def test_names_and_aliases(registry, ref, on, key):
    assert registry.resolve(ref, on).key == key


def test_same_name_means_the_unit_of_the_dates_era(registry):
    # Lào Cai exists in both lists, with different codes and territories.
    assert registry.resolve("Lào Cai", OLD_DAY).key == "2004:10"
    assert registry.resolve("Lào Cai", NEW_DAY).key == "2025:15"
    assert registry.resolve("Bắc Ninh", OLD_DAY).key == "2004:27"
    assert registry.resolve("Bắc Ninh", NEW_DAY).key == "2025:24"


@pytest.mark.parametrize(
    ("old_name", "old_key", "new_code"),
    [
        ("Yên Bái", "2004:15", "15"),
        ("Bình Dương", "2004:74", "79"),
        ("Thừa Thiên Huế", "2004:46", "46"),
        ("BR-VT", "2004:77", "79"),
        ("Tỉnh Hà Nam", "2004:35", "37"),
    ],
)
def test_pre_merger_name_in_post_merger_data_gives_the_old_unit(
    registry, old_name, old_key, new_code
):
    unit = registry.resolve(old_name, NEW_DAY)
    assert unit.key == old_key
    assert registry.successor(unit).code == new_code


@pytest.mark.parametrize(
    ("ref", "on", "key"),
    [
        ("Ha Noi", NEW_DAY, "2025:01"),
        ("Lao Cai", OLD_DAY, "2004:10"),
        ("Tinh Lao Cai", NEW_DAY, "2025:15"),
        ("Thanh pho Da Nang", NEW_DAY, "2025:48"),
        ("Ba Ria - Vung Tau", OLD_DAY, "2004:77"),
        ("Binh Duong", NEW_DAY, "2004:74"),
        ("Hue", OLD_DAY, "2004:46"),
    ],
)
def test_unaccented_names_resolve_as_a_fallback(registry, ref, on, key):
    assert registry.resolve(ref, on).key == key


@pytest.mark.parametrize("ref", ["Hà Tây", "Hanoi City", "Lào", "Thành phố", "Tỉnh", "xyz"])
def test_unknown_names(registry, ref):
    assert registry.resolve(ref, OLD_DAY) is None
    assert registry.resolve(ref, NEW_DAY) is None


def test_resolve_is_fast(registry):
    refs = ["15", 15, "Lào Cai", "Nam \u00d0ịnh", "TP.HCM", "Thành phố Hồ Chí Minh", "Ha Noi"]
    start = time.perf_counter()
    for i in range(100_000):
        registry.resolve(refs[i % len(refs)], NEW_DAY if i % 2 else OLD_DAY)
    # ~0.3 µs per call measured; the bound only catches a lost index or per-call regex work.
    assert time.perf_counter() - start < 2.0


# --- topic authority ---------------------------------------------------------------------------


def test_may_write_lao_cai_topic(registry):
    old, new = Era.PRE_2025, Era.POST_2025
    assert registry.may_write("15", registry.get("15", old))  # old Yên Bái
    assert registry.may_write("15", registry.get("10", old))  # old Lào Cai
    assert registry.may_write("15", registry.get("15", new))  # new Lào Cai
    assert not registry.may_write("15", registry.get("24", old))  # old Bắc Giang
    assert not registry.may_write("15", registry.get("24", new))
    assert not registry.may_write("10", registry.get("10", old))  # 10 is not a 2025 topic


def test_may_write_matches_lineage_for_every_pair(registry):
    for topic in LINEAGE:
        for unit in all_units():
            assert registry.may_write(topic, unit) == (OLD_TO_NEW.get(unit.code, unit.code) == topic
                                                       if unit.era is Era.PRE_2025
                                                       else unit.code == topic)  # fmt: skip


def test_may_write_rejects_units_not_in_the_registry(registry):
    assert not registry.may_write("15", Unit("15", "Yên Bái", Era.PRE_2025, "15", UnitType.CITY))
    assert not registry.may_write("15", Unit("99", "Nowhere", Era.PRE_2025, "15"))


# --- communes ----------------------------------------------------------------------------------


def test_communes(registry):
    assert registry.commune_exists("00004")  # Phường Ba Đình, Hà Nội
    assert registry.commune_province("00004") == "01"
    for missing in ["00000", "99999", "4", "", "0004"]:
        assert not registry.commune_exists(missing)
        assert registry.commune_province(missing) is None


def test_communes_match_the_package(registry):
    from vietnam_provinces import Ward

    wards = list(Ward.iter_all())
    assert len(registry.communes) == len(wards) == 3321
    for ward in wards[::97]:
        code = f"{ward.code.value:05d}"
        assert registry.commune_exists(code)
        assert registry.commune_province(code) == f"{ward.province_code.value:02d}"
    assert set(registry.communes.values()) == set(LINEAGE)


def test_generated_files_are_up_to_date_with_the_package():
    from cchc_shared.data import build_provinces

    def rows(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    for path, content in build_provinces.render().items():
        assert rows(path.read_text(encoding="utf-8")) == rows(content), path.name


# --- validation of bad data --------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    source = resources.files("cchc_shared") / "data"
    for name in ["provinces_2004.csv", "provinces_2025.csv", "aliases.csv", "communes_2025.csv"]:
        with resources.as_file(source / name) as path:
            shutil.copy(path, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_copied_data_loads(data_dir):
    assert len(ProvinceRegistry.load(data_dir).units(Era.PRE_2025)) == 63


@pytest.mark.parametrize(
    ("filename", "old", "new", "message"),
    [
        ("provinces_2004.csv", "96,Cà Mau,tỉnh,96\n", "", "62 units in era 2004"),
        ("provinces_2004.csv", "02,Hà Giang,tỉnh,08", "2,Hà Giang,tỉnh,08", "not two digits"),
        ("provinces_2004.csv", "02,Hà Giang,tỉnh,08", "02,Hà Giang,tỉnh,09", "successor 09"),
        ("provinces_2004.csv", "02,Hà Giang,tỉnh,08", "02,Hà Giang,huyện,08", "unknown type"),
        ("provinces_2004.csv", "02,Hà Giang,tỉnh,08", "01,Hà Giang,tỉnh,08", "already on line"),
        ("provinces_2004.csv", "12,Lai Châu,tỉnh,12", "12,Lai Châu,tỉnh,11", "has no predecessor"),
        ("provinces_2004.csv", "Hà Giang", "Cao Bằng", "share the name key"),
        ("provinces_2004.csv", "Hà Giang", "Hà  Giang", "not normalised"),
        ("provinces_2025.csv", "code,name,type", "code,name", "header"),
        ("aliases.csv", "HCM,both,79", "HCM,both,78", "no 2004 unit 78"),
        ("aliases.csv", "HCM,both,79", "Hà Nội,both,79", "already means"),
        ("aliases.csv", "HCM,both,79", "HCM,1999,79", "era"),
        ("communes_2025.csv", "00004,01,", "00004,10,", "unknown 2025 province codes"),
        ("communes_2025.csv", "00004,01,", "0004,01,", "not five digits"),
    ],
)
def test_bad_data_is_rejected_with_a_clear_message(data_dir, filename, old, new, message):
    edit(data_dir / filename, old, new)
    with pytest.raises(ValueError, match=message):
        ProvinceRegistry.load(data_dir)


def test_new_code_outside_its_lineage_is_rejected(data_dir):
    # Old Yên Bái (15) moved to successor 14: new Lào Cai (15) keeps only old 10 as predecessor.
    edit(data_dir / "provinces_2004.csv", "15,Yên Bái,tỉnh,15", "15,Yên Bái,tỉnh,14")
    with pytest.raises(ValueError, match="none of its predecessors"):
        ProvinceRegistry.load(data_dir)
