"""Province registry: the 63 units until 2025-06-30, the 34 from 2025-07-01, and their lineage.

Province codes are reused across the 2025 merger: "15" was Yên Bái and is now Lào Cai, while the
old Lào Cai (10) is retired (docs/domain.md "Provinces and the 2025 merger"). A code or a name
therefore identifies a unit only together with the date of the data, which selects the
:class:`Era`.

Reference data lives in ``cchc_shared/data`` (sources in its README and in each file's header):

* ``provinces_2004.csv`` — the 63 old units with the 2025 unit each became part of;
* ``provinces_2025.csv`` and ``communes_2025.csv`` — generated from the ``vietnam-provinces``
  package by ``build_provinces.py``;
* ``aliases.csv`` — short forms and spelling variants ("TP.HCM", "Huế", "BR-VT").

Everything is read and validated once, in :meth:`ProvinceRegistry.load`; lookups afterwards are
dictionary hits, because ingest resolves a province for every message.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType

from cchc_shared.text import fold_key, name_key, normalize_text

__all__ = [
    "MERGER_DATE",
    "VIETNAM_TZ",
    "Era",
    "ProvinceRegistry",
    "Unit",
    "UnitType",
    "default_registry",
    "era_of",
]

MERGER_DATE = date(2025, 7, 1)
"""First day of the 34-unit era (Resolution 202/2025/QH15)."""

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnam's time zone (UTC+7, no daylight saving): the merger took effect at local midnight."""
# That midnight as an instant, comparable with any aware datetime.
_MERGER_INSTANT = datetime.combine(MERGER_DATE, time(0), VIETNAM_TZ)


class Era(StrEnum):
    """Which list of province-level units a code or a name is read against."""

    PRE_2025 = "2004"  # GSO list of Decision 124/2004/QĐ-TTg, 63 units, until 2025-06-30
    POST_2025 = "2025"  # Decision 19/2025/QĐ-TTg, 34 units, from 2025-07-01


UNITS_PER_ERA = {Era.PRE_2025: 63, Era.POST_2025: 34}


class UnitType(StrEnum):
    """Kind of province-level unit."""

    PROVINCE = "tỉnh"
    CITY = "thành phố trực thuộc trung ương"  # centrally-run city


@dataclass(frozen=True, slots=True)
class Unit:
    """A province-level unit of one era."""

    code: str
    """Two-digit GSO code, as a string: "01"."""
    name: str
    """Official Vietnamese name, NFC, without the type prefix: "Lào Cai", "Hồ Chí Minh"."""
    era: Era
    successor_code: str
    """The 2025 code this unit is or merged into; for POST_2025 units equal to ``code``."""
    type: UnitType = UnitType.PROVINCE

    @property
    def key(self) -> str:
        """Identifier unique across eras: "2004:10" (old Lào Cai), "2025:15" (new Lào Cai)."""
        return f"{self.era.value}:{self.code}"


def era_of(on: date) -> Era:
    """The era of data dated ``on``.

    A ``datetime`` with a time zone is first converted to Vietnam time, since the merger took
    effect at local midnight; a naive one is taken as local time.
    """
    if isinstance(on, datetime):
        if on.tzinfo is not None:
            # The same as comparing its Vietnam date, without converting (ingest and normalize
            # ask this for every dossier event).
            return Era.POST_2025 if on >= _MERGER_INSTANT else Era.PRE_2025
        on = on.date()
    return Era.POST_2025 if on >= MERGER_DATE else Era.PRE_2025


@dataclass(frozen=True, slots=True)
class _Alias:
    text: str
    era: Era
    code: str
    line: int


_DATA_PACKAGE = "cchc_shared"
_FILES = {
    "2004": "provinces_2004.csv",
    "2025": "provinces_2025.csv",
    "aliases": "aliases.csv",
    "communes": "communes_2025.csv",
}


def _read_csv(text: str, filename: str, header: list[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a data file as ``(line number, row)``; lines starting with "#" are comments."""
    numbered = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        raise ValueError(f"{filename}: no header line")
    rows = list(csv.reader(line for _, line in numbered))
    if rows[0] != header:
        raise ValueError(f"{filename}: header is {rows[0]}, expected {header}")
    result = []
    for (n, _), row in zip(numbered[1:], rows[1:], strict=True):
        if len(row) != len(header):
            raise ValueError(f"{filename}:{n}: {len(row)} fields, expected {len(header)}")
        result.append((n, dict(zip(header, (v.strip() for v in row), strict=True))))
    return result


def _is_code(value: str, digits: int) -> bool:
    return len(value) == digits and value.isascii() and value.isdigit()


def _parse_units(text: str, filename: str, era: Era) -> list[Unit]:
    header = ["code", "name", "type"]
    if era is Era.PRE_2025:
        header.append("successor_code")
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for n, row in _read_csv(text, filename, header):
        code, name = row["code"], row["name"]
        if not _is_code(code, 2):
            raise ValueError(f"{filename}:{n}: code {code!r} is not two digits")
        if code in seen:
            raise ValueError(f"{filename}:{n}: code {code} already on line {seen[code]}")
        seen[code] = n
        if not name or normalize_text(name) != name:
            raise ValueError(f"{filename}:{n}: name {name!r} is empty or not normalised (NFC)")
        try:
            unit_type = UnitType(row["type"])
        except ValueError:
            raise ValueError(f"{filename}:{n}: unknown type {row['type']!r}") from None
        successor = row.get("successor_code", code)
        if not _is_code(successor, 2):
            raise ValueError(f"{filename}:{n}: successor_code {successor!r} is not two digits")
        units.append(Unit(code, name, era, successor, unit_type))
    return units


def _parse_aliases(text: str, filename: str) -> list[_Alias]:
    eras = {"2004": [Era.PRE_2025], "2025": [Era.POST_2025], "both": list(Era)}
    aliases: list[_Alias] = []
    for n, row in _read_csv(text, filename, ["alias", "era", "code"]):
        if row["era"] not in eras:
            raise ValueError(f"{filename}:{n}: era {row['era']!r} is not 2004, 2025 or both")
        if not name_key(row["alias"]):
            raise ValueError(f"{filename}:{n}: alias {row['alias']!r} has an empty name key")
        aliases.extend(_Alias(row["alias"], era, row["code"], n) for era in eras[row["era"]])
    return aliases


def _parse_communes(text: str, filename: str) -> dict[str, str]:
    communes: dict[str, str] = {}
    for n, row in _read_csv(text, filename, ["code", "province_code", "name", "type"]):
        code = row["code"]
        if not _is_code(code, 5):
            raise ValueError(f"{filename}:{n}: commune code {code!r} is not five digits")
        if code in communes:
            raise ValueError(f"{filename}:{n}: duplicate commune code {code}")
        communes[code] = row["province_code"]
    return communes


class ProvinceRegistry:
    """The province-level units of both eras, their lineage, aliases and current communes.

    Build it with :meth:`load` (or use :func:`default_registry`); the constructor validates the
    data and raises ``ValueError`` on any inconsistency, naming the file and line where it can.
    """

    __slots__ = (
        "_by_code",
        "_by_folded",
        "_by_int",
        "_by_name",
        "_communes",
        "_predecessors",
        "_raw",
        "_units",
    )

    def __init__(
        self,
        units: Iterable[Unit],
        aliases: Iterable[_Alias] = (),
        communes: Mapping[str, str] | None = None,
    ) -> None:
        """Index and validate ``units`` of both eras, ``aliases`` and ``communes``.

        ``communes`` maps a 5-digit commune code to its 2025 province code.
        """
        aliases = tuple(aliases)  # indexed twice below
        by_era: dict[Era, list[Unit]] = {era: [] for era in Era}
        for unit in units:
            by_era[unit.era].append(unit)
        self._units = {era: tuple(sorted(us, key=lambda u: u.code)) for era, us in by_era.items()}
        self._by_code = {era: {u.code: u for u in us} for era, us in self._units.items()}
        for era, us in self._units.items():
            if len(us) != UNITS_PER_ERA[era]:
                raise ValueError(
                    f"{len(us)} units in era {era.value}, expected {UNITS_PER_ERA[era]}"
                )
            if len(self._by_code[era]) != len(us):
                raise ValueError(f"duplicate codes among the {era.value} units")
        self._by_int = {
            era: {int(code): u for code, u in codes.items()} for era, codes in self._by_code.items()
        }
        self._predecessors = self._check_lineage()
        exact = self._index_names(aliases)
        self._by_name, self._by_folded = self._with_fallbacks(exact)
        self._communes = dict(communes or {})
        unknown = sorted(set(self._communes.values()) - set(self._by_code[Era.POST_2025]))
        if unknown:
            raise ValueError(f"communes refer to unknown 2025 province codes {unknown}")
        self._raw = self._index_raw(aliases)

    # --- loading and validation ----------------------------------------------------------------

    @classmethod
    def load(cls, data_dir: Traversable | None = None) -> ProvinceRegistry:
        """Read and validate the data files (from the package, or from ``data_dir`` in tests).

        Raises ``ValueError`` naming the file and line on bad data: wrong unit counts (63 and 34),
        codes that are not two digits, unknown successors, a 2025 unit without predecessors,
        conflicting names or aliases, communes of unknown provinces.
        """
        directory = resources.files(_DATA_PACKAGE) / "data" if data_dir is None else data_dir

        def read(kind: str) -> str:
            return directory.joinpath(_FILES[kind]).read_text(encoding="utf-8")

        units = _parse_units(read("2004"), _FILES["2004"], Era.PRE_2025)
        units += _parse_units(read("2025"), _FILES["2025"], Era.POST_2025)
        aliases = _parse_aliases(read("aliases"), _FILES["aliases"])
        communes = _parse_communes(read("communes"), _FILES["communes"])
        return cls(units, aliases, communes)

    def _check_lineage(self) -> dict[str, tuple[Unit, ...]]:
        new = self._by_code[Era.POST_2025]
        for unit in self._units[Era.POST_2025]:
            if unit.successor_code != unit.code:
                raise ValueError(f"2025 unit {unit.code} names successor {unit.successor_code}")
        predecessors: dict[str, list[Unit]] = {code: [] for code in new}
        for unit in self._units[Era.PRE_2025]:
            if unit.successor_code not in new:
                raise ValueError(
                    f"2004 unit {unit.code} {unit.name}: successor {unit.successor_code} "
                    "is not a 2025 code"
                )
            predecessors[unit.successor_code].append(unit)
        for code, olds in predecessors.items():
            if not olds:
                raise ValueError(f"2025 unit {code} {new[code].name} has no predecessor")
            # The GSO kept the code of one predecessor for every merged unit (docs/domain.md
            # "Provinces and the 2025 merger"); a new code outside its lineage means a shifted
            # row in one of the files.
            if code not in {u.code for u in olds}:
                raise ValueError(
                    f"2025 unit {code} {new[code].name}: none of its predecessors "
                    f"{[u.code for u in olds]} had code {code}"
                )
        return {code: tuple(olds) for code, olds in predecessors.items()}

    def _index_names(self, aliases: Iterable[_Alias]) -> dict[Era, dict[str, Unit]]:
        """Name key -> unit for each era, from the official names and the aliases."""
        exact: dict[Era, dict[str, Unit]] = {era: {} for era in Era}
        for era, units in self._units.items():
            for unit in units:
                key = name_key(unit.name)
                if key in exact[era]:
                    raise ValueError(
                        f"{era.value} units {exact[era][key].code} and {unit.code} share the "
                        f"name key {key!r}"
                    )
                exact[era][key] = unit
        for alias in aliases:
            target = self._by_code[alias.era].get(alias.code)
            if target is None:
                raise ValueError(
                    f"{_FILES['aliases']}:{alias.line}: no {alias.era.value} unit {alias.code}"
                )
            key = name_key(alias.text)
            other = exact[alias.era].setdefault(key, target)
            if other != target:
                raise ValueError(
                    f"{_FILES['aliases']}:{alias.line}: {alias.text!r} names {target.key} but "
                    f"already means {other.key} {other.name}"
                )
        return exact

    def _with_fallbacks(
        self, exact: dict[Era, dict[str, Unit]]
    ) -> tuple[dict[Era, dict[str, Unit]], dict[Era, dict[str, Unit]]]:
        """Add the other era's names and the diacritic-free keys to each era's name index.

        Priority for data of era E: a name of E; then a name that exists only in the other era;
        then the same two steps on :func:`fold_key`, skipping folded keys that fit two units.

        A pre-merger name in post-merger data ("Yên Bái" in 2026) resolves to the old unit: the
        caller maps it with :meth:`successor`, and keeps the information that the province
        wrote the old name. A post-merger-only name in pre-merger data resolves to its single
        predecessor ("Huế" -> old 46); with several predecessors it cannot be placed, so it is
        left out.
        """
        pre, post = Era.PRE_2025, Era.POST_2025
        cross: dict[Era, dict[str, Unit]] = {
            post: {k: u for k, u in exact[pre].items() if k not in exact[post]},
            pre: {},
        }
        for key, unit in exact[post].items():
            olds = self._predecessors[unit.code]
            if key not in exact[pre] and len(olds) == 1:
                cross[pre][key] = olds[0]

        def folded(index: dict[str, Unit]) -> tuple[dict[str, Unit], set[str]]:
            result: dict[str, Unit] = {}
            ambiguous: set[str] = set()
            for key, unit in index.items():
                fk = fold_key(key)
                if result.setdefault(fk, unit) != unit:
                    ambiguous.add(fk)
            for fk in ambiguous:
                del result[fk]
            return result, ambiguous

        by_name: dict[Era, dict[str, Unit]] = {}
        by_folded: dict[Era, dict[str, Unit]] = {}
        for era in Era:
            by_name[era] = {**cross[era], **exact[era]}
            same, blocked = folded(exact[era])
            other, _ = folded(cross[era])
            by_folded[era] = {k: u for k, u in other.items() if k not in blocked} | same
        return by_name, by_folded

    def _index_raw(self, aliases: Iterable[_Alias]) -> dict[Era, dict[str, Unit]]:
        """Verbatim strings producers commonly send, mapped to the result of the full lookup.

        Filled from :meth:`_resolve_text` itself, so the fast path can never disagree with it.
        """
        raw: dict[Era, dict[str, Unit]] = {era: {} for era in Era}
        texts = {u.name for us in self._units.values() for u in us}
        texts |= {a.text for a in aliases}
        texts |= {f"{prefix}{t}" for t in list(texts) for prefix in ("Tỉnh ", "Thành phố ")}
        texts |= {c for us in self._by_code.values() for c in us}
        texts |= {str(int(c)) for us in self._by_code.values() for c in us}
        for era in Era:
            for text in texts:
                unit = self._resolve_text(text, era)
                if unit is not None:
                    raw[era][text] = unit
        return raw

    # --- queries ---------------------------------------------------------------------------------

    def era_of(self, on: date) -> Era:
        """The era of data dated ``on`` (see :func:`era_of`)."""
        return era_of(on)

    def units(self, era: Era) -> list[Unit]:
        """All units of ``era``, sorted by code."""
        return list(self._units[era])

    def get(self, code: str, era: Era) -> Unit | None:
        """The unit with two-digit ``code`` in ``era``, or ``None``."""
        return self._by_code[era].get(code)

    def resolve(self, ref: str | int, on: date) -> Unit | None:
        """The unit a province field refers to, read against the era of ``on``; ``None`` if none.

        * A code: ``15``, ``"15"``, ``" 15 "``; one digit is zero-padded (``5``, ``"5"`` -> "05").
          Codes are looked up in the era of ``on`` only, since they are reused: "15" is Yên Bái
          before 2025-07-01 and Lào Cai after; "10" (old Lào Cai) is ``None`` after.
        * A name or alias, matched by :func:`~cchc_shared.text.name_key` (case, NFC/NFD, "Ð",
          tone placement, "Tỉnh"/"Thành phố"/"TP." prefixes, hyphens). A name that exists only
          in the other era also resolves: an old name in post-merger data gives the *old* unit
          (map it with :meth:`successor`); a new-only name in pre-merger data gives its single
          predecessor ("Huế"). Unaccented names ("Lao Cai") are tried last, when unambiguous.

        ``bool`` and other types give ``None``.
        """
        era = era_of(on)
        if isinstance(ref, str):
            unit = self._raw[era].get(ref)
            return unit if unit is not None else self._resolve_text(ref, era)
        if isinstance(ref, int) and not isinstance(ref, bool):
            return self._by_int[era].get(ref)
        return None

    def _resolve_text(self, ref: str, era: Era) -> Unit | None:
        text = ref.strip()
        if text.isascii() and text.isdigit():
            return self._by_code[era].get(text.zfill(2)) if len(text) <= 2 else None
        unit = self._by_name[era].get(name_key(text))
        return unit if unit is not None else self._by_folded[era].get(fold_key(text))

    def successor(self, unit: Unit) -> Unit:
        """The 2025 unit ``unit`` became part of (itself if it is a 2025 unit)."""
        try:
            return self._by_code[Era.POST_2025][unit.successor_code]
        except KeyError:
            raise ValueError(f"{unit.key} has no successor in this registry") from None

    def predecessors(self, new_code: str) -> list[Unit]:
        """The pre-2025 units merged into 2025 unit ``new_code``, sorted by code; [] if unknown."""
        return list(self._predecessors.get(new_code, ()))

    def may_write(self, topic_code: str, unit: Unit) -> bool:
        """Whether events of ``unit`` may arrive on topic ``cchc.raw.<topic_code>``.

        True iff ``unit`` is the 2025 unit ``topic_code`` or one of its predecessors
        (each current province writes its own and its predecessors' data: docs/contract.md
        "Topics").
        """
        if unit.successor_code != topic_code or topic_code not in self._by_code[Era.POST_2025]:
            return False
        known = self._by_code[unit.era].get(unit.code)
        # Identity first: units come from this registry, and comparing every field is slow.
        return known is unit or known == unit

    def commune_exists(self, commune_code: str) -> bool:
        """Whether ``commune_code`` (5 digits) is a current (2025) commune-level unit."""
        return commune_code in self._communes

    def commune_province(self, commune_code: str) -> str | None:
        """The 2025 province code of current commune ``commune_code``, or ``None``."""
        return self._communes.get(commune_code)

    @property
    def communes(self) -> Mapping[str, str]:
        """Read-only map of every current commune code to its 2025 province code."""
        return MappingProxyType(self._communes)

    def __repr__(self) -> str:
        counts = ", ".join(f"{era.value}: {len(us)} units" for era, us in self._units.items())
        return f"<ProvinceRegistry {counts}, {len(self._communes)} communes>"


@cache
def default_registry() -> ProvinceRegistry:
    """The registry of the packaged data, loaded and validated once per process."""
    return ProvinceRegistry.load()
