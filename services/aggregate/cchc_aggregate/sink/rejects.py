"""Find the rows ClickHouse refuses by bisecting a batch, so one bad row never blocks the rest.

Pure control flow: the insert and the error classification are passed in, so the search is unit
tested without ClickHouse. A refused batch costs about 2·k·log2(n) extra inserts for k bad rows
among n — rare (normalize already validated every record), and never on the happy path.
"""

from __future__ import annotations

from collections.abc import Callable

InsertRange = Callable[[int, int], None]
"""Insert rows ``[lo, hi)`` of the batch; raises on failure."""


def insert_isolating(
    count: int, insert: InsertRange, is_rejection: Callable[[BaseException], bool]
) -> list[tuple[int, str]]:
    """Insert rows ``0..count-1``; returns ``(row, error message)`` for every row refused.

    The whole range is tried first. When ``is_rejection`` says ClickHouse refused the *data*,
    the range is split in halves and each half tried again, down to single rows; the rows that
    still fail are returned and everything else is inserted. Any other error (connection,
    server) propagates at once: the caller retries the whole batch. Halves inserted before are
    stored again, and read once (every reader collapses copies); on a cluster the deterministic
    ranges (hence deduplication tokens) make the retry drop them.
    """
    rejected: list[tuple[int, str]] = []

    def attempt(lo: int, hi: int) -> None:
        try:
            insert(lo, hi)
        except Exception as exc:
            if not is_rejection(exc):
                raise
            if hi - lo == 1:
                rejected.append((lo, str(exc)))
                return
            mid = (lo + hi) // 2
            attempt(lo, mid)
            attempt(mid, hi)

    if count > 0:
        attempt(0, count)
    return rejected
