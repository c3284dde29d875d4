"""Canonical records on `cchc.normalized`: what normalize produces and aggregate stores.

Every figure is in its indicator's canonical unit, every period parsed, and every province
resolved to both the historical unit that reported it and the current (2025) province.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from cchc_shared.hotpath import HotDecoder


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """An instance from values already checked, as ``model_construct`` makes it, faster.

        Normalize builds one record per event from the validated raw event: ``model_construct``
        was a sixth of its CPU (py-spy), mostly looking for aliases these models do not have.
        Here the defaults are merged in one step; the result is tested equal to
        ``model_construct``'s (same fields, same fields-set, same JSON).
        """
        record = cls.__new__(cls)
        fields = cls.__pydantic_fields__
        if not values.keys() <= fields.keys():
            unknown = sorted(values.keys() - fields.keys())
            raise TypeError(f"not fields of {cls.__name__}: {unknown}")
        # Declaration order, as model_construct keeps it: the JSON serializer follows it.
        data = _template(cls).copy()
        data.update(values)
        if _REQUIRED in data.values():
            missing = [name for name, value in data.items() if value is _REQUIRED]
            raise TypeError(f"{cls.__name__} needs {missing}")
        object.__setattr__(record, "__dict__", data)
        object.__setattr__(record, "__pydantic_fields_set__", set(values))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record


_REQUIRED = object()


@functools.cache
def _template(cls: type[BaseModel]) -> dict[str, Any]:
    """Every field of `cls` in declaration order: its default, or a marker if it has none."""
    return {
        name: _REQUIRED if field.is_required() else field.get_default(call_default_factory=True)
        for name, field in cls.__pydantic_fields__.items()
    }


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
    value: float | None = Field(
        default=None, description="null only for a rank without a score (rank/rank_of given)"
    )
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
    fee_required: bool | None = None
    synced_national: bool | None = None
    reused_data: bool | None = None
    satisfied: bool | None = None


class FeedbackRecord(_Record):
    """One feedback event with its province resolved (from `cchc.feedback_event/1`)."""

    kind: Literal["feedback"] = "feedback"
    event_id: str
    unit_key: str
    province: str
    feedback_id: str
    status: str
    occurred_at: datetime
    due_at: datetime | None = None
    satisfied: bool | None = None
    procedure_code: str | None = None
    agency: str | None = None


class ProcedureRecord(_Record):
    """One procedure announcement or publication with its province resolved
    (from `cchc.procedure_event/1`)."""

    kind: Literal["procedure"] = "procedure"
    event_id: str
    unit_key: str
    province: str
    procedure_code: str
    action: str
    occurred_at: datetime
    due_at: datetime
    complete: bool | None = None
    online: str | None = None


AnyRecord = Observation | DossierRecord | FeedbackRecord | ProcedureRecord
CanonicalRecord = Annotated[AnyRecord, Field(discriminator="kind")]
CANONICAL_RECORD: TypeAdapter[AnyRecord] = TypeAdapter(CanonicalRecord)
CANONICAL_RECORDS: TypeAdapter[list[AnyRecord]] = TypeAdapter(list[CanonicalRecord])
# msgspec Structs derived from the models: normalize builds and encodes records with them,
# aggregate decodes them (cchc_shared.hotpath).
CANONICAL_HOT: HotDecoder[AnyRecord] = HotDecoder(CanonicalRecord)
