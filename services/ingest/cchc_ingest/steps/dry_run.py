"""What the pipeline would do with one event, without storing anything (the dry run).

Runs ingest's checks (`steps/validate.py`: size, strict JSON, schema, model, province authority)
and then normalize's (`cchc_normalize.steps.canonicalize`: indicator, period, province at the
data's date, number, unit, ranges, ratio, commune) — the same functions the services run, not a
copy of their rules — and names the first failure with the stage that would dead-letter it.

Used by `POST /v1/validate` (ingest's HTTP side) and `cchc validate FILE` (offline). What it
cannot foresee: ClickHouse refusing a row (`storage_rejected`, aggregate) and the dead-letter
limit pausing a province.

Pure: no I/O; ``today`` is passed in (it decides ``future_period``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import orjson
from cchc_normalize.steps.canonicalize import Reference, canonicalize
from cchc_shared.dlq import ErrorDetail, Reason
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.reasons import describe
from cchc_shared.validation import Rejected, event_date, province_candidates

from cchc_ingest.steps.validate import validate

__all__ = ["Verdict", "dry_run", "explain", "own_province"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one event: accepted (it would be stored), or rejected by a stage."""

    reason: Reason | None = None
    stage: Literal["ingest", "normalize"] | None = None
    errors: list[ErrorDetail] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Nothing rejects it."""
        return self.reason is None

    def as_json(self, line: int) -> dict[str, Any]:
        """One entry of the dry run's answer; a rejection also says, in Vietnamese, what its
        reason means and how to fix it (`cchc_shared.reasons`)."""
        if self.reason is None:
            return {"line": line, "status": "accepted", "stage": None, "reason": None, "errors": []}
        return {
            "line": line,
            "status": "rejected",
            "stage": self.stage,
            "reason": self.reason.value,
            "errors": [e.model_dump() for e in self.errors],
            **explain(self.reason),
        }


def explain(reason: Reason) -> dict[str, str]:
    """`meaning_vi` and `fix_vi` of a reason code, from the one reason table."""
    info = describe(reason)
    return {"meaning_vi": info.vi_meaning, "fix_vi": info.vi_fix}


def own_province(payload: bytes, registry: ProvinceRegistry) -> str:
    """The 2025 province whose topic the event belongs to, as `cchc push` routes it.

    "" when the payload names no province that can be read (then ingest's checks reject it for
    that reason — not JSON, schema, unknown province — before the topic matters).
    """
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return ""
    ref = data.get("province") if isinstance(data, dict) else None
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        return ""
    units = province_candidates(registry, ref, event_date(data))
    return registry.successor(units[0]).code if units else ""


def dry_run(payload: bytes, province: str, reference: Reference, today: date) -> Verdict:
    """What ingest, then normalize, would do with `payload` pushed to `cchc.raw.<province>`."""
    checked = validate(payload, province, reference.provinces)
    if isinstance(checked, Rejected):
        return Verdict(checked.reason, "ingest", checked.errors)
    canonical = canonicalize(payload, reference, today)
    if isinstance(canonical, Rejected):
        return Verdict(canonical.reason, "normalize", canonical.errors)
    return Verdict()
