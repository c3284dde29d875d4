"""Insert deduplication tokens: the same batch, written again, gets the same token. Sent on a
cluster only (replicated tables): `cchc_aggregate.clickhouse.client.Store`."""

from __future__ import annotations

from collections.abc import Sequence

from cchc_runtime.records import Record


def dedup_token(records: Sequence[Record]) -> str:
    """A deterministic id of a batch: per partition, its first and last offset and their
    record timestamps.

    A batch redelivered after a crash between write and commit holds the same records, so the
    same token is derived again and the storage drops the retried copy. The timestamps tell a
    new batch from an old one at the same offsets: the embedded broker keeps topics in memory,
    so after its restart offsets start again at 0 while ClickHouse still remembers the last
    10,000 tokens — with offsets alone, new batches would be dropped as "retries".
    """
    spans: dict[tuple[str, int], tuple[Record, Record]] = {}
    for r in records:
        key = (r.topic, r.partition)
        first, last = spans.get(key, (r, r))
        spans[key] = (
            r if r.offset < first.offset else first,
            r if r.offset > last.offset else last,
        )
    return ";".join(
        f"{t}/{p}/{lo.offset}-{hi.offset}@{lo.timestamp_ms}-{hi.timestamp_ms}"
        for (t, p), (lo, hi) in sorted(spans.items())
    )
