"""Canonical records (JSON from cchc.normalized) → column-oriented rows for ClickHouse. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cchc_shared.canonical import (
    CANONICAL_RECORD,
    DossierRecord,
    FeedbackRecord,
    Observation,
    ProcedureRecord,
)
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

    def add_feedback(self, f: FeedbackRecord, kafka_ts: int, record: int = -1) -> None:
        """Append one feedback event (of the batch's ``record``-th message)."""
        self._add("feedback_events", self.feedback, vars(f), kafka_ts)
        self.feedback_records.append(record)

    def add_procedure(self, p: ProcedureRecord, kafka_ts: int, record: int = -1) -> None:
        """Append one procedure event (of the batch's ``record``-th message)."""
        self._add("procedure_events", self.procedures, vars(p), kafka_ts)
        self.procedure_records.append(record)

    @staticmethod
    def _add(table: str, c: dict[str, list[Any]], values: dict[str, Any], kafka_ts: int) -> None:
        for name in _FIELDS[table]:
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
        elif isinstance(record, DossierRecord):
            columns.add_dossier(record, timestamp_ms, index)
        elif isinstance(record, FeedbackRecord):
            columns.add_feedback(record, timestamp_ms, index)
        else:
            columns.add_procedure(record, timestamp_ms, index)
    return columns
