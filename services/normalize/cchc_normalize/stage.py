"""The normalize stage: cchc.validated in; canonical records out, or rejected with a reason."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import cast

from cchc_runtime.records import Outgoing, Record
from cchc_runtime.stage import Reject, Result
from cchc_shared.canonical import (
    AnyRecord,
    DossierRecord,
    FeedbackRecord,
    Observation,
    ProcedureRecord,
)
from cchc_shared.hotpath import encoder, is_a
from cchc_shared.topics import Topic

from cchc_normalize.steps.canonicalize import Reference, Rejected, canonicalize, vietnam_today

SERVICE = "normalize"
_ENCODE = encoder()


class NormalizeStage:
    """Canonicalizes each record of a batch.

    Every record gives exactly one outcome: its canonical record on ``cchc.normalized``, or a
    rejection (the runtime writes its dead letter, stage ``normalize``).
    """

    def __init__(
        self,
        reference: Reference,
        today: Callable[[], date] = vietnam_today,
    ) -> None:
        """``today`` is read once per batch to decide ``future_period`` (injectable for tests)."""
        self.reference = reference
        self.today = today

    def process(self, records: Sequence[Record]) -> Result:
        """Canonicalize a batch."""
        result = Result()
        out, rejects = result.out, result.rejects
        today = self.today()
        encode = _ENCODE
        for record in records:
            canonical = canonicalize(record.value, self.reference, today)
            if isinstance(canonical, Rejected):
                rejects.append(Reject(record, canonical.reason, canonical.errors))
                continue
            # Key: the events of one dossier, or the versions of one figure, stay in order.
            natural = _key(canonical)
            out.append(
                Outgoing(
                    Topic.NORMALIZED,
                    natural.encode(),
                    # Fields at their default (absent optional ones among them) are left out:
                    # fewer bytes, and the model reads them back to the same record.
                    encode(canonical),
                    record.timestamp_ms,
                )
            )
        return result


def _key(canonical: AnyRecord) -> str:
    """The output key: the events of one dossier or one feedback, the versions of one figure,
    the events of one procedure of a province stay in one partition, in order."""
    if is_a(canonical, Observation):
        return f"{canonical.indicator}|{canonical.period}|{canonical.unit_key}"
    if is_a(canonical, DossierRecord):
        return f"{canonical.province}|{canonical.dossier_id}"
    if is_a(canonical, FeedbackRecord):
        return f"{canonical.province}|feedback|{canonical.feedback_id}"
    procedure = cast(ProcedureRecord, canonical)
    return f"{procedure.province}|procedure|{procedure.procedure_code}"
