"""The indicator catalogue: published codes, aggregation, aliases and validation.

The published catalogue: docs/contract.md "Indicator catalogue".
"""

from __future__ import annotations

import unicodedata

import pytest
from cchc_shared.catalogue import (
    OWN,
    AcrossProvinces,
    AcrossTime,
    Catalogue,
    Indicator,
    alias_key,
    default_catalogue,
)

SUM, RATIO, MEAN = AcrossProvinces.SUM, AcrossProvinces.RATIO, AcrossProvinces.MEAN
T_SUM, T_LAST, T_NONE = AcrossTime.SUM, AcrossTime.LAST, AcrossTime.NONE

# docs/contract.md "Indicator catalogue", transcribed:
# code → (unit, across provinces, across time, (numerator, denominator)).
PUBLISHED_CATALOGUE: dict[str, tuple[str, AcrossProvinces, AcrossTime, tuple[str, str] | None]] = {
    "procedures.in_force": ("procedure", SUM, T_LAST, None),
    "procedures.published": ("procedure", SUM, T_LAST, None),
    "procedures.amended": ("procedure", SUM, T_SUM, None),
    "procedures.abolished": ("procedure", SUM, T_SUM, None),
    "procedures.time_cut": ("procedure", SUM, T_SUM, None),
    "procedures.time_cut_rate": (
        "percent",
        RATIO,
        T_NONE,
        ("procedures.time_cut", "procedures.in_force"),
    ),
    "dossiers.received": ("dossier", SUM, T_SUM, None),
    "dossiers.received_online": ("dossier", SUM, T_SUM, None),
    "dossiers.resolved": ("dossier", SUM, T_SUM, None),
    "dossiers.resolved_on_time": ("dossier", SUM, T_SUM, None),
    "dossiers.resolved_late": ("dossier", SUM, T_SUM, None),
    "dossiers.on_time_rate": (
        "percent",
        RATIO,
        T_NONE,
        ("dossiers.resolved_on_time", "dossiers.resolved"),
    ),
    "dossiers.late_rate": (
        "percent",
        RATIO,
        T_NONE,
        ("dossiers.resolved_late", "dossiers.resolved"),
    ),
    "dossiers.online_rate": (
        "percent",
        RATIO,
        T_NONE,
        ("dossiers.received_online", "dossiers.received"),
    ),
    "dossiers.time_cut": ("dossier", SUM, T_SUM, None),
    "online_services.total": ("service", SUM, T_LAST, None),
    "online_services.integrated": ("service", SUM, T_LAST, None),
    "online_services.integration_rate": (
        "percent",
        RATIO,
        T_NONE,
        ("online_services.integrated", "online_services.total"),
    ),
    "documents.signed_rate": ("percent", RATIO, T_NONE, (OWN, OWN)),
    "staff.quota": ("person", SUM, T_LAST, None),
    "staff.cut": ("person", SUM, T_SUM, None),
    "staff.cut_rate": ("percent", RATIO, T_NONE, (OWN, OWN)),
    "org.units_cut": ("unit", SUM, T_SUM, None),
    "org.leaders_cut": ("person", SUM, T_SUM, None),
    "psu.total": ("unit", SUM, T_LAST, None),
    "psu.autonomous": ("unit", SUM, T_LAST, None),
    "psu.autonomy_rate": ("percent", RATIO, T_NONE, ("psu.autonomous", "psu.total")),
    "savings.cost": ("VND", SUM, T_SUM, None),
    "index.par": ("percent", MEAN, T_NONE, None),
    "index.sipas": ("percent", MEAN, T_NONE, None),
    "index.papi": ("score", MEAN, T_NONE, None),
    "index.pci": ("score", MEAN, T_NONE, None),
    "index.dti": ("score", MEAN, T_NONE, None),
    "index.service_766": ("point", MEAN, T_NONE, None),
}

# Vietnamese names of docs/contract.md "Indicator catalogue", exactly as written there.
PUBLISHED_NAMES = {
    "procedures.in_force": "Số TTHC đang thực hiện (3 cấp)",
    "procedures.abolished": "Số TTHC bãi bỏ",
    "dossiers.on_time_rate": "Tỷ lệ hồ sơ giải quyết đúng hạn",
    "online_services.integrated": "DVCTT tích hợp Cổng DVC quốc gia",
    "staff.quota": "Biên chế được giao",
    "psu.total": "Đơn vị sự nghiệp công lập",
    "savings.cost": "Chi phí tiết kiệm",
    "index.par": "Chỉ số cải cách hành chính (PAR INDEX)",
    "index.service_766": "Điểm Bộ chỉ số 766",
}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return default_catalogue()


def test_default_catalogue_is_loaded_once() -> None:
    assert default_catalogue() is default_catalogue()


@pytest.mark.parametrize("code", sorted(PUBLISHED_CATALOGUE))
def test_every_contract_code_has_its_unit_and_aggregation(cat: Catalogue, code: str) -> None:
    unit, across_provinces, across_time, components = PUBLISHED_CATALOGUE[code]
    ind = cat.get(code)
    assert ind is not None, f"{code} missing from the catalogue"
    assert ind.code == code
    assert ind.unit == unit
    assert ind.across_provinces is across_provinces
    assert ind.across_time is across_time
    assert (ind.numerator, ind.denominator) == (components or (None, None))
    assert ind.name_vi
    assert len(ind.aliases) >= 2, "several Vietnamese aliases per indicator"
    assert ind.is_index == code.startswith("index.")


@pytest.mark.parametrize(("code", "name"), sorted(PUBLISHED_NAMES.items()))
def test_contract_vietnamese_names(cat: Catalogue, code: str, name: str) -> None:
    ind = cat.get(code)
    assert ind is not None
    assert ind.name_vi == name
    assert cat.resolve(name) is ind


def test_seed_indicators_added(cat: Catalogue) -> None:
    dual = cat.get("documents.dual_format_rate")
    assert dual is not None
    assert (dual.numerator, dual.denominator) == (OWN, OWN)
    assert dual.has_own_components
    party = cat.get("staff.party_cut")
    assert party is not None
    assert (party.unit, party.across_provinces, party.across_time) == ("person", SUM, T_SUM)
    rate = cat.get("staff.party_cut_rate")
    assert rate is not None
    assert rate.in_range(10.09)
    # Seed 004: "giảm 116 lãnh đạo cấp phòng (trong đó: cấp trưởng 70, cấp phó 46)".
    for code, alias in (
        ("org.heads_cut", "Giảm lãnh đạo cấp trưởng"),
        ("org.deputies_cut", "Giảm lãnh đạo cấp phó"),
    ):
        split = cat.resolve(alias)
        assert split is not None
        assert split.code == code
        assert (split.unit, split.across_provinces, split.across_time) == ("person", SUM, T_SUM)


def test_ratio_components_exist_and_are_summable_counts(cat: Catalogue) -> None:
    ratios = [i for i in cat if i.is_ratio]
    assert len(ratios) >= 9
    for ind in ratios:
        assert ind.unit == "percent"
        assert ind.across_time is T_NONE
        if ind.has_own_components:
            assert ind.denominator == OWN
            continue
        assert ind.numerator is not None
        assert ind.denominator is not None
        num, den = cat.get(ind.numerator), cat.get(ind.denominator)
        assert num is not None, ind.code
        assert den is not None, ind.code
        assert num.across_provinces is SUM
        assert den.across_provinces is SUM
        assert num.unit == den.unit


def test_ranges(cat: Catalogue) -> None:
    for ind in cat:
        if ind.unit == "percent":
            assert (ind.min, ind.max) == (0, 100), ind.code
        elif ind.unit in {"score", "point"}:
            assert ind.min is not None, ind.code
            assert ind.max is not None, ind.code
        else:
            assert (ind.min, ind.max) == (0, None), ind.code
    abolished = cat.get("procedures.abolished")
    assert abolished is not None
    assert abolished.in_range(2036)
    assert not abolished.in_range(-1)
    late = cat.get("dossiers.late_rate")
    assert late is not None
    assert late.in_range(0)
    assert late.in_range(100)
    assert not late.in_range(100.01)
    point = cat.get("index.service_766")
    assert point is not None
    assert (point.min, point.max) == (0, 100)


def test_polarity(cat: Catalogue) -> None:
    lower_is_better = {i.code for i in cat if not i.higher_is_better}
    assert {"dossiers.late_rate", "dossiers.resolved_late"} <= lower_is_better
    assert "dossiers.on_time_rate" not in lower_is_better
    assert "index.par" not in lower_is_better


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("procedures.abolished", "procedures.abolished"),
        ("PROCEDURES.ABOLISHED", "procedures.abolished"),
        ("Số TTHC bãi bỏ", "procedures.abolished"),
        ("TTHC bãi bỏ", "procedures.abolished"),
        ("thủ tục hành chính bãi bỏ", "procedures.abolished"),
        ("  Thủ tục   hành chính\tbãi bỏ ", "procedures.abolished"),
        ("SỐ TTHC BÃI BỎ", "procedures.abolished"),
        ("Tỉ lệ hồ sơ trễ hạn", "dossiers.late_rate"),
        ("Tỷ lệ giải quyết chậm, muộn hồ sơ", "dossiers.late_rate"),
        ("PAINDEX", "index.par"),
        ("PAR INDEX", "index.par"),
        ("ĐVSNCL", "psu.total"),
        ("\u00d0VSNCL", "psu.total"),  # Icelandic eth look-alike (seed 003 style)
        ("Hồ sơ \u00f0úng hạn", "dossiers.resolved_on_time"),
        ("Biên chế khối đảng, đoàn thể tinh giản", "staff.party_cut"),
        ("Chi phí tiết kiệm", "savings.cost"),
    ],
)
def test_resolve_aliases(cat: Catalogue, text: str, code: str) -> None:
    found = cat.resolve(text)
    assert found is not None, text
    assert found.code == code


def test_resolve_nfd_input(cat: Catalogue) -> None:
    nfd = unicodedata.normalize("NFD", "Số TTHC bãi bỏ")
    assert nfd != "Số TTHC bãi bỏ"
    found = cat.resolve(nfd)
    assert found is not None
    assert found.code == "procedures.abolished"


@pytest.mark.parametrize("text", ["", "  ", "procedures", "bãi bỏ", "procedures.abolishedx", "x"])
def test_resolve_unknown(cat: Catalogue, text: str) -> None:
    assert cat.resolve(text) is None


def test_get_is_exact(cat: Catalogue) -> None:
    assert cat.get("Số TTHC bãi bỏ") is None
    assert cat.get("PROCEDURES.ABOLISHED") is None
    assert "procedures.abolished" in cat
    assert len(cat) == len(cat.all()) == len(cat.codes())


def test_every_name_and_alias_resolves_to_its_own_indicator(cat: Catalogue) -> None:
    for ind in cat:
        for name in (ind.code, ind.name_vi, *ind.aliases):
            assert cat.resolve(name) is ind, name
            assert cat.resolve(unicodedata.normalize("NFD", name)) is ind, name


def test_alias_key() -> None:
    assert alias_key(" Tỉ  LỆ \u00d0ÚNG hạn ") == "tỷ lệ đúng hạn"
    assert alias_key(unicodedata.normalize("NFD", "Hồ sơ")) == "hồ sơ"


# --- validation ------------------------------------------------------------------------------

_HEADER = "schema_version = 1\n"


def _entry(code: str, **over: object) -> str:
    fields: dict[str, object] = {
        "code": code,
        "name_vi": f"Tên {code}",
        "aliases": [],
        "unit": "dossier",
        "min": 0,
        "across_provinces": "sum",
        "across_time": "sum",
        "higher_is_better": True,
    }
    fields.update(over)
    lines = ["[[indicator]]"]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, list):
            items = ", ".join('"' + str(v) + '"' for v in value)
            lines.append(f"{key} = [{items}]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def test_from_toml_accepts_a_valid_minimal_catalogue() -> None:
    cat = Catalogue.from_toml(
        _HEADER
        + _entry("a.num")
        + _entry("a.den")
        + _entry(
            "a.rate",
            unit="percent",
            max=100,
            across_provinces="ratio",
            across_time="none",
            numerator="a.num",
            denominator="a.den",
        )
    )
    assert cat.codes() == ["a.num", "a.den", "a.rate"]
    assert isinstance(cat.get("a.rate"), Indicator)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (_HEADER + _entry("a.x") + _entry("a.x"), "duplicate indicator code 'a.x'"),
        (
            _HEADER + _entry("a.x", aliases=["Hồ sơ"]) + _entry("a.y", aliases=["HỒ  SƠ"]),
            "already belongs to a.x",
        ),
        (_HEADER + _entry("a.x") + _entry("a.y", aliases=["A.X"]), "already belongs to a.x"),
        (
            _HEADER
            + _entry(
                "a.rate",
                unit="percent",
                max=100,
                across_provinces="ratio",
                across_time="none",
                numerator="a.missing",
                denominator="a.other",
            ),
            "numerator 'a.missing' is not in the catalogue",
        ),
        (
            _HEADER
            + _entry(
                "a.rate",
                unit="percent",
                max=100,
                across_provinces="ratio",
                across_time="none",
                numerator="own",
            ),
            "needs numerator and denominator",
        ),
        (_HEADER + _entry("a.x", min=5, max=1), "min 5 > max 1"),
        (_HEADER + _entry("a.x", min=-1), "min = 0"),
        (_HEADER + _entry("a.x", unit="percent", max=120), "min = 0 and max = 100"),
        (_HEADER + _entry("a.x", unit="litre"), "unit 'litre'"),
        (_HEADER + _entry("a.x", across_time="none"), "flow (sum) or a stock (last)"),
        (_HEADER + _entry("index.x", unit="score", max=10), "averaged across provinces"),
        (_HEADER + _entry("a.x", across_provinces="median"), "median"),
        (_HEADER + _entry("a.x", colour="red"), "unknown fields ['colour']"),
        (_HEADER + _entry("a.x", higher_is_better="yes"), "true or false"),
        ("schema_version = 2\n" + _entry("a.x"), "schema_version"),
        (_HEADER, "no [[indicator]]"),
        ("not toml [", "invalid indicator catalogue"),
    ],
)
def test_from_toml_rejects_invalid_catalogues(toml: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid indicator catalogue") as info:
        Catalogue.from_toml(toml)
    assert message in str(info.value)
