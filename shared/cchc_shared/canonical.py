"""Canonical records on `cchc.normalized`: what normalize produces and aggregate stores.

Every figure is in its indicator's canonical unit, every period parsed, and every province
resolved to both the historical unit that reported it and the current (2025) province.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Observation(_Record):
    """One indicator figure of one unit for one period (from `cchc.indicator_report/1`)."""

    kind: Literal["observation"] = "observation"
    event_id: str
    indicator: str
    period: str = Field(description="canonical period text, e.g. '2022-Q3'")
    period_type: str
    period_start: date
    period_end: date
    ytd: bool = False
    unit_key: str = Field(description="historical unit, '<era>:<code>', e.g. '2004:10'")
    unit_code: str
    unit_era: str
    province: str = Field(description="current (2025) province code the unit belongs to")
    level: str = "all"
    agency: str = ""
    value: float
    numerator: float | None = None
    denominator: float | None = None
    unit: str
    status: str = "final"
    revision: int = 0
    reported_at: datetime
    rank: int | None = None
    rank_of: int | None = None
    source_title: str | None = None
    source_url: str | None = None


class DossierRecord(_Record):
    """One dossier event with its province and commune resolved (from `cchc.dossier_event/1`)."""

    kind: Literal["dossier"] = "dossier"
    event_id: str
    unit_key: str
    province: str
    dossier_id: str
    procedure_code: str
    status: str
    occurred_at: datetime
    due_at: datetime | None = None
    channel: str | None = None
    online_mode: str | None = None
    level: str | None = None
    commune_code: str | None = None
    agency: str | None = None
    paid_online: bool | None = None
    digitized: bool | None = None
    result_electronic: bool | None = None


CanonicalRecord = Annotated[Observation | DossierRecord, Field(discriminator="kind")]
CANONICAL_RECORD: TypeAdapter[Observation | DossierRecord] = TypeAdapter(CanonicalRecord)
CANONICAL_RECORDS: TypeAdapter[list[Observation | DossierRecord]] = TypeAdapter(
    list[CanonicalRecord]
)
