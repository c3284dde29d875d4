"""Raw event models: `cchc.indicator_report/1`, `cchc.dossier_event/1`, `cchc.feedback_event/1`
and `cchc.procedure_event/1`.

Every field and rule: docs/contract.md "Raw events".

Strict: unknown fields are rejected, timestamps must carry an offset, and JSON types are not
coerced (a string is not an integer), so that a provincial typo is never silently accepted.
Values that may be written the Vietnamese way ("1.502") stay strings here; normalize parses them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from cchc_shared.hotpath import HotDecoder

INDICATOR_REPORT = "cchc.indicator_report/1"
DOSSIER_EVENT = "cchc.dossier_event/1"
FEEDBACK_EVENT = "cchc.feedback_event/1"
PROCEDURE_EVENT = "cchc.procedure_event/1"
SCHEMAS = (INDICATOR_REPORT, DOSSIER_EVENT, FEEDBACK_EVENT, PROCEDURE_EVENT)

EventId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
ProvinceRef = Annotated[str | int, Field(description="code ('15', 15) or name ('Lào Cai')")]
# A finite JSON number, or a string in Vietnamese format. bool is a JSON literal, not a number.
Number = Annotated[
    int | float | Annotated[str, Field(min_length=1, max_length=64)],
    Field(union_mode="left_to_right"),
]


class _Event(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        allow_inf_nan=False,
        str_max_length=4096,
    )


class Source(_Event):
    """Where a figure was published."""

    title: str | None = Field(default=None, max_length=512)
    url: str | None = Field(default=None, max_length=2048)
    published_at: AwareDatetime | None = None


class IndicatorReport(_Event):
    """A figure a province reports for an indicator and a period."""

    # The cross-field rules, for the exported JSON Schema (`cchc schema export`) too.
    model_config = ConfigDict(
        json_schema_extra={
            "dependentRequired": {"rank": ["rank_of"], "rank_of": ["rank"]},
            "anyOf": [{"required": ["value"]}, {"required": ["rank", "rank_of"]}],
        }
    )

    schema_: Literal["cchc.indicator_report/1"] = Field(alias="schema")
    event_id: EventId
    province: ProvinceRef
    indicator: str = Field(min_length=1, max_length=256)
    period: str = Field(min_length=1, max_length=32)
    # Optional only for a rank without a score ("xếp hạng 50/63"): docs/contract.md "Raw events".
    value: Number | None = None
    unit: str | None = Field(default=None, max_length=64)
    numerator: Number | None = None
    denominator: Number | None = None
    level: Literal["all", "province", "district", "commune"] = "all"
    agency: str | None = Field(default=None, max_length=128)
    status: Literal["final", "provisional", "estimated"] = "final"
    revision: int = Field(default=0, ge=0, le=1_000_000)
    reported_at: AwareDatetime
    rank: int | None = Field(default=None, ge=1)
    rank_of: int | None = Field(default=None, ge=1)
    source: Source | None = None

    @model_validator(mode="after")
    def _rank_within_rank_of(self) -> IndicatorReport:
        if (self.rank is None) != (self.rank_of is None):
            raise ValueError("rank and rank_of go together")
        if self.rank is not None and self.rank_of is not None and self.rank > self.rank_of:
            raise ValueError("rank must be ≤ rank_of")
        if self.value is None and self.rank is None:
            raise ValueError("value is required unless rank and rank_of are given")
        return self


class DossierEvent(_Event):
    """One step in the life of an administrative dossier (hồ sơ).

    ``fee_required``, ``synced_national``, ``reused_data`` and the status ``rated`` (with its
    required ``satisfied``) were added later, all optional: a producer of the first fields stays
    valid (docs/contract.md "cchc.dossier_event/1").
    """

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"status": {"const": "received"}}, "required": ["status"]},
            "then": {"required": ["due_at", "channel"]},
            "allOf": [
                {
                    "if": {"properties": {"status": {"const": "rated"}}, "required": ["status"]},
                    "then": {"required": ["satisfied"]},
                    "else": {"not": {"required": ["satisfied"]}},
                }
            ],
        }
    )

    schema_: Literal["cchc.dossier_event/1"] = Field(alias="schema")
    event_id: EventId
    province: ProvinceRef
    dossier_id: str = Field(min_length=1, max_length=64)
    procedure_code: str = Field(min_length=1, max_length=64)
    status: Literal[
        "received", "supplement_requested", "resolved", "rejected", "withdrawn", "rated"
    ]
    occurred_at: AwareDatetime
    due_at: AwareDatetime | None = None
    channel: Literal["online", "in_person", "postal"] | None = None
    online_mode: Literal["full", "partial"] | None = None
    level: Literal["province", "district", "commune"] | None = None
    commune_code: str | None = Field(default=None, pattern=r"^[0-9]{5}$")
    agency: str | None = Field(default=None, max_length=128)
    paid_online: bool | None = None
    digitized: bool | None = None
    result_electronic: bool | None = None
    fee_required: bool | None = None
    synced_national: bool | None = None
    reused_data: bool | None = None
    satisfied: bool | None = Field(
        default=None, description="the citizen's rating: required with, and only with, 'rated'"
    )

    @model_validator(mode="after")
    def _received_needs_due_and_channel(self) -> DossierEvent:
        if self.status == "received" and (self.due_at is None or self.channel is None):
            raise ValueError("a 'received' event needs due_at and channel")
        if self.status == "rated" and self.satisfied is None:
            raise ValueError("a 'rated' event needs satisfied")
        if self.status != "rated" and self.satisfied is not None:
            # Stored nowhere else: rejected rather than silently lost.
            raise ValueError("satisfied goes only with status 'rated'")
        return self


class FeedbackEvent(_Event):
    """A citizen's or business's feedback (phản ánh, kiến nghị): received, then resolved."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"status": {"const": "received"}}, "required": ["status"]},
                    "then": {"required": ["due_at"], "not": {"required": ["satisfied"]}},
                }
            ]
        }
    )

    schema_: Literal["cchc.feedback_event/1"] = Field(alias="schema")
    event_id: EventId
    province: ProvinceRef
    feedback_id: str = Field(min_length=1, max_length=64)
    status: Literal["received", "resolved"]
    occurred_at: AwareDatetime
    due_at: AwareDatetime | None = Field(default=None, description="deadline for the answer")
    satisfied: bool | None = Field(
        default=None, description="the sender's reaction to the answer (with 'resolved' only)"
    )
    procedure_code: str | None = Field(default=None, min_length=1, max_length=64)
    agency: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _received_needs_due(self) -> FeedbackEvent:
        if self.status == "received" and self.due_at is None:
            raise ValueError("a 'received' event needs due_at")
        if self.status == "received" and self.satisfied is not None:
            raise ValueError("satisfied goes only with status 'resolved'")
        return self


class ProcedureEvent(_Event):
    """A procedure announced (công bố) or published (công khai) by a province."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"action": {"const": "published"}}, "required": ["action"]},
            "then": {"required": ["complete", "online"]},
            "else": {"not": {"anyOf": [{"required": ["complete"]}, {"required": ["online"]}]}},
        }
    )

    schema_: Literal["cchc.procedure_event/1"] = Field(alias="schema")
    event_id: EventId
    province: ProvinceRef
    procedure_code: str = Field(min_length=1, max_length=64)
    action: Literal["announced", "published"]
    occurred_at: AwareDatetime = Field(description="when it was done")
    due_at: AwareDatetime = Field(description="the legal deadline for doing it")
    complete: bool | None = Field(
        default=None, description="every required component is public (with 'published')"
    )
    online: Literal["none", "partial", "full"] | None = Field(
        default=None, description="the online service offered from then on (with 'published')"
    )

    @model_validator(mode="after")
    def _published_needs_complete_and_online(self) -> ProcedureEvent:
        if self.action == "published" and (self.complete is None or self.online is None):
            raise ValueError("a 'published' event needs complete and online")
        if self.action != "published" and (self.complete is not None or self.online is not None):
            raise ValueError("complete and online go only with action 'published'")
        return self


AnyEvent = IndicatorReport | DossierEvent | FeedbackEvent | ProcedureEvent
TimedEvent = DossierEvent | FeedbackEvent | ProcedureEvent
"""The events dated by ``occurred_at`` (an indicator report is dated by its period)."""
RawEvent = Annotated[AnyEvent, Field(discriminator="schema_")]
RAW_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(RawEvent)
# The same union, decoded by msgspec Structs derived from the models above (ingest and normalize
# check every event with it; pydantic's verdict and errors, a third of the CPU). A schema added
# to RawEvent is in it, and in its differential test, without an edit here.
RAW_EVENT_HOT: HotDecoder[AnyEvent] = HotDecoder(RawEvent)
