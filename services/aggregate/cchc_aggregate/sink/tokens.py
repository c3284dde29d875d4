"""Insert deduplication tokens: the same batch, written again, gets the same token."""

from __future__ import annotations

from collections.abc import Sequence

from cchc_runtime.records import Record


def dedup_token(records: Sequence[Record]) -> str:
    """A deterministic id of a batch: per partition, its first and last offset.

    A batch redelivered after a crash between write and commit starts at the same offsets, so
    the same token is derived again and the storage can drop the retried copy.
    """
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for r in records:
        lo, hi = spans.get((r.topic, r.partition), (r.offset, r.offset))
        spans[(r.topic, r.partition)] = (min(lo, r.offset), max(hi, r.offset))
    return ";".join(f"{t}/{p}/{lo}-{hi}" for (t, p), (lo, hi) in sorted(spans.items()))
