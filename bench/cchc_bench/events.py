"""Valid raw events for the benchmark: 90 % dossier events, 10 % indicator reports. Pure.

Every event passes ingest and normalize (tests/unit/bench checks them against RAW_EVENT and the
real steps), has a unique ``event_id`` and, for indicator reports, a unique natural key
(indicator, period, province, level, agency): nothing collapses in ClickHouse, so the rows counted
there must equal the events sent. Periods and timestamps lie after the 2025 merger and before
2026-10, so province codes are the 34 current ones and no period is in the future.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from cchc_shared.catalogue import Catalogue
from cchc_shared.events import DOSSIER_EVENT, INDICATOR_REPORT
from cchc_shared.provinces import Era, ProvinceRegistry
from cchc_shared.topics import raw_topic

Message = tuple[str, bytes | None, bytes]
"""(topic, key, value) of one event to push."""

# Post-merger periods that have started by 2026-10 (normalize refuses future periods).
PERIODS: tuple[str, ...] = (
    *(f"2025-{m:02d}" for m in range(7, 13)),
    *(f"2026-{m:02d}" for m in range(1, 10)),
    "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2025-H2", "2026-H1", "2026-9M",
)  # fmt: skip
LEVELS = ("all", "province", "district", "commune")
AGENCIES = ("", "Sở Nội vụ", "Văn phòng UBND tỉnh", "Sở Tư pháp", "Sở Tài chính", "Sở KH&ĐT")
PROCEDURES = (
    "1.004227", "2.002156", "1.001612", "2.000889", "1.010024", "1.005383", "2.001035",
    "1.004945", "1.003010", "2.000305", "1.009874", "1.012345",
)  # fmt: skip
SOURCE_TITLES = (
    "Báo cáo công tác cải cách hành chính định kỳ",
    "Kết quả giải quyết thủ tục hành chính trên Cổng Dịch vụ công",
    "Báo cáo tình hình thực hiện Bộ chỉ số phục vụ người dân, doanh nghiệp",
)
# Dossier events start after the merger (2025-07-01 ICT) and end before 2026-10.
_FIRST_DAY = datetime(2025, 7, 2, tzinfo=UTC)
_DAYS = 440
_ICT = "+07:00"


@dataclass(frozen=True)
class _IndicatorSpec:
    code: str
    unit: str
    percent: bool


def _iso(moment: datetime) -> str:
    # Vietnam time with its offset, as a provincial system writes it.
    local = (moment + timedelta(hours=7)).replace(tzinfo=None)
    return local.isoformat(timespec="seconds") + _ICT


def _vn_decimal(value: float, decimals: int) -> str:
    """A number written the Vietnamese way: '.' groups thousands, ',' before decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


class EventFactory:
    """Builds events deterministically from a seed; ``prefix`` makes their ids unique per run."""

    def __init__(
        self, registry: ProvinceRegistry, catalogue: Catalogue, prefix: str, seed: int = 0
    ) -> None:
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.provinces = [u.code for u in registry.units(Era.POST_2025)]
        self.names = {u.code: u.name for u in registry.units(Era.POST_2025)}
        communes: dict[str, list[str]] = {}
        for commune, province in sorted(registry.communes.items()):
            communes.setdefault(province, []).append(commune)
        self.communes = communes
        # Indices (index.*) are left out: one per province and period is all a province sends.
        self.indicators = [
            _IndicatorSpec(i.code, i.unit, i.unit == "percent")
            for i in catalogue.all()
            if not i.is_index
        ]
        self._dossiers = 0

    # -- indicator reports ----------------------------------------------------------------------
    def natural_key_space(self) -> int:
        """How many distinct (indicator, period, province, level, agency) keys exist."""
        return (
            len(self.indicators) * len(PERIODS) * len(self.provinces) * len(LEVELS) * len(AGENCIES)
        )

    def indicator_report(self, index: int, seq: int) -> Message:
        """The report with natural key number ``index`` (mixed radix; province-wide keys first).

        ``seq`` numbers the event within the generator, for its event_id.
        """
        if not 0 <= index < self.natural_key_space():
            raise ValueError(f"natural key index {index} out of range")
        rest, ind = divmod(index, len(self.indicators))
        rest, per = divmod(rest, len(PERIODS))
        rest, prov = divmod(rest, len(self.provinces))
        agency_i, level_i = divmod(rest, len(LEVELS))
        spec, period, province = self.indicators[ind], PERIODS[per], self.provinces[prov]
        rng = self.rng
        event_id = f"{self.prefix}-r{seq}"
        event: dict[str, object] = {
            "schema": INDICATOR_REPORT,
            "event_id": event_id,
            # Codes mostly, sometimes the name, as provinces write them.
            "province": self.names[province] if seq % 5 == 0 else province,
            "indicator": spec.code,
            "period": period,
        }
        if spec.percent:
            event["value"] = _vn_decimal(rng.uniform(40.0, 99.9), 2)
            event["unit"] = "%"
        elif spec.unit == "VND":
            event["value"] = rng.randint(1, 900)
            event["unit"] = "triệu đồng"
        else:
            count = rng.randint(0, 250_000)
            event["value"] = _vn_decimal(count, 0) if seq % 2 else count
        if LEVELS[level_i] != "all":
            event["level"] = LEVELS[level_i]
        if AGENCIES[agency_i]:
            event["agency"] = AGENCIES[agency_i]
        event["status"] = "final" if seq % 7 else "provisional"
        event["reported_at"] = _iso(_FIRST_DAY + timedelta(days=300, minutes=seq % 100_000))
        event["source"] = {
            "title": f"{rng.choice(SOURCE_TITLES)} — {self.names[province]}",
            "url": f"https://dichvucong.{province}.gov.vn/bao-cao/{seq}",
        }
        return raw_topic(province), event_id.encode(), orjson.dumps(event)

    # -- dossier events -------------------------------------------------------------------------
    def dossier(self) -> list[Message]:
        """The 1–4 events of one new dossier's life, in order (same key: same partition)."""
        rng = self.rng
        n = self._dossiers
        self._dossiers += 1
        province = self.provinces[n % len(self.provinces)]
        dossier_id = f"{self.prefix}-d{n}"
        key = f"{province}:{dossier_id}".encode()
        received = _FIRST_DAY + timedelta(days=rng.randrange(_DAYS), seconds=rng.randrange(86_400))
        due = received + timedelta(days=rng.choice((3, 5, 7, 10, 15)))
        online = rng.random() < 0.6
        common: dict[str, object] = {
            "schema": DOSSIER_EVENT,
            "province": province,
            "dossier_id": dossier_id,
            "procedure_code": rng.choice(PROCEDURES),
        }
        first: dict[str, object] = {
            **common,
            "event_id": f"{dossier_id}.0",
            "status": "received",
            "occurred_at": _iso(received),
            "due_at": _iso(due),
            "channel": "online" if online else rng.choice(("in_person", "postal")),
            "level": rng.choice(("province", "district", "commune")),
            "commune_code": rng.choice(self.communes[province]),
            "agency": "Trung tâm Phục vụ hành chính công",
            "paid_online": online and rng.random() < 0.5,
            "digitized": rng.random() < 0.7,
        }
        if online:
            first["online_mode"] = rng.choice(("full", "partial"))
        events = [first]
        moment = received
        if rng.random() < 0.15:
            moment += timedelta(days=rng.randint(1, 3))
            events.append(
                {
                    **common,
                    "event_id": f"{dossier_id}.{len(events)}",
                    "status": "supplement_requested",
                    "occurred_at": _iso(moment),
                }
            )
        if rng.random() < 0.9:
            moment += timedelta(days=rng.randint(0, 16), seconds=rng.randrange(86_400))
            outcome = rng.choices(("resolved", "rejected", "withdrawn"), (0.9, 0.07, 0.03))[0]
            last: dict[str, object] = {
                **common,
                "event_id": f"{dossier_id}.{len(events)}",
                "status": outcome,
                "occurred_at": _iso(moment),
            }
            if outcome == "resolved":
                last["result_electronic"] = rng.random() < 0.5
            events.append(last)
        topic = raw_topic(province)
        return [(topic, key, orjson.dumps(e)) for e in events]


def generate(
    factory: EventFactory,
    count: int,
    *,
    report_share: float = 0.1,
    key_indices: Iterator[int] | None = None,
) -> list[Message]:
    """``count`` events, about ``report_share`` of them indicator reports, the rest dossiers.

    ``key_indices`` yields the natural-key numbers the reports use (default 0, 1, 2, …); give
    disjoint ones to generators that feed the same stack.
    """
    keys = key_indices if key_indices is not None else iter(range(factory.natural_key_space()))
    out: list[Message] = []
    reports = 0
    while len(out) < count:
        # Keep the share exact over the run rather than random: counts are then predictable.
        if reports < report_share * (len(out) + 1):
            out.append(factory.indicator_report(next(keys), reports))
            reports += 1
        else:
            out.extend(factory.dossier())
    return out[:count]


def count_kinds(messages: Sequence[Message]) -> tuple[int, int]:
    """(indicator reports, dossier events) among ``messages``."""
    reports = sum(1 for _, _, v in messages if b'"cchc.indicator_report/1"' in v[:60])
    return reports, len(messages) - reports
