"""Canonical records (JSON from cchc.normalized) → column-oriented rows for ClickHouse. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cchc_shared.canonical import CANONICAL_RECORD, DossierRecord, Observation
from pydantic import ValidationError

# revision outranks reported_at: 1e13 ms is the year 2286.
_REVISION_WEIGHT = 10**13

OBSERVATION_COLUMNS = (
    "indicator", "period", "period_type", "period_start", "period_end", "ytd", "unit_key",
    "unit_code", "unit_era", "province", "level", "agency", "value", "numerator", "denominator",
    "unit", "status", "revision", "reported_at", "version", "event_id", "rank", "rank_of",
    "source_title", "source_url", "kafka_ts",
)  # fmt: skip
# Optional text columns are stored as '' when absent (see deploy/clickhouse/0001).
_TEXT_OPTIONAL = frozenset(
    {"source_title", "source_url", "channel", "online_mode", "level", "commune_code", "agency"}
)
DOSSIER_COLUMNS = (
    "province", "unit_key", "dossier_id", "event_id", "procedure_code", "status", "occurred_at",
    "due_at", "channel", "online_mode", "level", "commune_code", "agency", "paid_online",
    "digitized", "result_electronic", "kafka_ts",
)  # fmt: skip
# Columns copied from the record as they are; the others are computed here.
_OBSERVATION_FIELDS = tuple(c for c in OBSERVATION_COLUMNS if c not in ("version", "kafka_ts"))
_DOSSIER_FIELDS = tuple(c for c in DOSSIER_COLUMNS if c != "kafka_ts")


def version(revision: int, reported_at: datetime) -> int:
    """Replacing order of a figure's reports: higher revision, then later reported_at."""
    return revision * _REVISION_WEIGHT + int(reported_at.timestamp() * 1000)


@dataclass
class Columns:
    """Rows of both tables, column by column, plus the payloads that did not parse."""

    observations: dict[str, list[Any]] = field(
        default_factory=lambda: {c: [] for c in OBSERVATION_COLUMNS}
    )
    dossiers: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in DOSSIER_COLUMNS})
    invalid: list[tuple[int, str]] = field(default_factory=list)
    observation_records: list[int] = field(default_factory=list)
    """Index in the batch of the record behind each observation row (for dead-lettering)."""
    dossier_records: list[int] = field(default_factory=list)
    """Index in the batch of the record behind each dossier row."""

    @property
    def observation_count(self) -> int:
        """Rows for `observations`."""
        return len(self.observations["event_id"])

    @property
    def dossier_count(self) -> int:
        """Rows for `dossier_events`."""
        return len(self.dossiers["event_id"])

    def add_observation(self, o: Observation, kafka_ts: int, record: int = -1) -> None:
        """Append one observation (of the batch's ``record``-th message).

        ``kafka_ts`` is the record's Kafka timestamp in milliseconds: a DateTime64(3) column
        takes the integer as it is (no datetime per row to build and convert back).
        """
        self.observation_records.append(record)
        c = self.observations
        values = vars(o)  # flat models: their fields as model_dump() gives them, without a copy
        for name in _OBSERVATION_FIELDS:
            value = values[name]
            c[name].append("" if value is None and name in _TEXT_OPTIONAL else value)
        c["version"].append(version(o.revision, o.reported_at))
        c["kafka_ts"].append(kafka_ts)

    def add_dossier(self, d: DossierRecord, kafka_ts: int, record: int = -1) -> None:
        """Append one dossier event (of the batch's ``record``-th message)."""
        self.dossier_records.append(record)
        c = self.dossiers
        values = vars(d)
        for name in _DOSSIER_FIELDS:
            value = values[name]
            c[name].append("" if value is None and name in _TEXT_OPTIONAL else value)
        c["kafka_ts"].append(kafka_ts)


def to_columns(items: list[tuple[bytes, int]]) -> Columns:
    """(payload, Kafka timestamp ms) pairs → columns; unparsable payloads are listed by index."""
    columns = Columns()
    for index, (payload, timestamp_ms) in enumerate(items):
        try:
            record = CANONICAL_RECORD.validate_json(payload)
        except ValidationError as exc:
            columns.invalid.append((index, str(exc)))
            continue
        if isinstance(record, Observation):
            columns.add_observation(record, timestamp_ms, index)
        else:
            columns.add_dossier(record, timestamp_ms, index)
    return columns
