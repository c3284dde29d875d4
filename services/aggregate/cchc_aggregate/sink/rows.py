"""Canonical records (JSON from cchc.normalized) → column-oriented rows for ClickHouse. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from cchc_shared.canonical import CANONICAL_HOT
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
    {
        "source_title", "source_url", "channel", "online_mode", "level", "commune_code", "agency",
        "procedure_code", "online",
    }
)  # fmt: skip
DOSSIER_COLUMNS = (
    "province", "unit_key", "dossier_id", "event_id", "procedure_code", "status", "occurred_at",
    "due_at", "channel", "online_mode", "level", "commune_code", "agency", "paid_online",
    "digitized", "result_electronic", "fee_required", "synced_national", "reused_data",
    "satisfied", "kafka_ts",
)  # fmt: skip
FEEDBACK_COLUMNS = (
    "province", "unit_key", "feedback_id", "event_id", "status", "occurred_at", "due_at",
    "satisfied", "procedure_code", "agency", "kafka_ts",
)  # fmt: skip
PROCEDURE_COLUMNS = (
    "province", "unit_key", "procedure_code", "event_id", "action", "occurred_at", "due_at",
    "complete", "online", "kafka_ts",
)  # fmt: skip
TABLES = {
    "observations": OBSERVATION_COLUMNS,
    "dossier_events": DOSSIER_COLUMNS,
    "feedback_events": FEEDBACK_COLUMNS,
    "procedure_events": PROCEDURE_COLUMNS,
}
"""Each table the sink writes, and its columns."""
# Columns copied from the record as they are; the others are computed here.
_OBSERVATION_FIELDS = tuple(c for c in OBSERVATION_COLUMNS if c not in ("version", "kafka_ts"))
_DOSSIER_FIELDS = tuple(c for c in DOSSIER_COLUMNS if c != "kafka_ts")
_FIELDS = {
    "dossier_events": _DOSSIER_FIELDS,
    "feedback_events": tuple(c for c in FEEDBACK_COLUMNS if c != "kafka_ts"),
    "procedure_events": tuple(c for c in PROCEDURE_COLUMNS if c != "kafka_ts"),
}


# The canonical record kind (its `kind` field) stored in each table other than observations.
_KINDS = {
    "dossier_events": "dossier",
    "feedback_events": "feedback",
    "procedure_events": "procedure",
}


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
    feedback: dict[str, list[Any]] = field(
        default_factory=lambda: {c: [] for c in FEEDBACK_COLUMNS}
    )
    feedback_records: list[int] = field(default_factory=list)
    procedures: dict[str, list[Any]] = field(
        default_factory=lambda: {c: [] for c in PROCEDURE_COLUMNS}
    )
    procedure_records: list[int] = field(default_factory=list)

    def tables(self) -> list[tuple[str, dict[str, list[Any]], list[int]]]:
        """(table, its columns, the record index behind each row), for every table."""
        return [
            ("observations", self.observations, self.observation_records),
            ("dossier_events", self.dossiers, self.dossier_records),
            ("feedback_events", self.feedback, self.feedback_records),
            ("procedure_events", self.procedures, self.procedure_records),
        ]

    @property
    def observation_count(self) -> int:
        """Rows for `observations`."""
        return len(self.observations["event_id"])

    @property
    def dossier_count(self) -> int:
        """Rows for `dossier_events`."""
        return len(self.dossiers["event_id"])


def to_columns(items: list[tuple[bytes, int]]) -> Columns:
    """(payload, Kafka timestamp ms) pairs → columns; unparsable payloads are listed by index.

    Each payload is decoded by the canonical records' msgspec Structs (pydantic only explains
    what they refuse), then every column is built in one pass over the batch's records of its
    kind: no per-record row, dict or copy.
    """
    columns = Columns()
    decode = CANONICAL_HOT.validate_json
    # Per kind: the records, and where each one's table columns and record indices go.
    observations: list[Any] = []
    by_kind: dict[str, tuple[list[Any], list[int]]] = {
        "observation": (observations, columns.observation_records),
        "dossier": ([], columns.dossier_records),
        "feedback": ([], columns.feedback_records),
        "procedure": ([], columns.procedure_records),
    }
    for index, (payload, _) in enumerate(items):
        try:
            record = decode(payload)
        except ValidationError as exc:
            columns.invalid.append((index, str(exc)))
            continue
        records, indices = by_kind[record.kind]
        records.append(record)
        indices.append(index)
    if observations:
        _fill(columns.observations, _OBSERVATION_FIELDS, observations)
        c = columns.observations
        c["version"] = [version(o.revision, o.reported_at) for o in observations]
        c["kafka_ts"] = [items[i][1] for i in columns.observation_records]
    for table, table_columns, indices in columns.tables()[1:]:
        if indices:
            _fill(table_columns, _FIELDS[table], by_kind[_KINDS[table]][0])
            table_columns["kafka_ts"] = [items[i][1] for i in indices]
    return columns


def _fill(columns: dict[str, list[Any]], names: tuple[str, ...], records: list[Any]) -> None:
    for name in names:
        values = list(map(attrgetter(name), records))
        if name in _TEXT_OPTIONAL:
            values = ["" if v is None else v for v in values]
        columns[name] = values
