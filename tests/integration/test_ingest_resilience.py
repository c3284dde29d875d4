"""A poison message never holds back its batch; a crash before the commit loses nothing."""

from __future__ import annotations

import time

import httpx
import pytest
from cchc_devstack.stack import HOST

from tests.conftest import RunningStack, wait_until
from tests.integration.ingest_support import (
    dumps,
    letters_from,
    metric,
    report,
    send,
    wait_letters,
)

pytestmark = pytest.mark.connected


def test_poison_messages_in_the_middle_of_a_batch_do_not_hold_back_their_neighbours(
    stack: RunningStack,
) -> None:
    topic = "cchc.raw.92"  # Cần Thơ; Sóc Trăng (94) is a predecessor
    good = [
        dumps(report(f"poison-good-{i}", province="Sóc Trăng", agency=f"S{i}")) for i in range(10)
    ]
    poison = [
        b"[" * 5000 + b"]" * 5000,  # deeper than any parser's recursion limit
        b'{"schema": "cchc.indicator_report/1", "province": "\\ud800"}',  # lone surrogate
        b"\x00\xff" * 40_000,  # oversized binary
    ]
    payloads = good[:5] + poison + good[5:]
    offsets = send(stack, topic, payloads)
    letters = wait_letters(stack, topic, offsets[5:8])
    assert [letter.reason for letter in letters.values()] == [
        "malformed_json",
        "malformed_json",
        "oversized",
    ]
    query = (
        "SELECT count() FROM observations FINAL WHERE event_id LIKE 'poison-good-%' "
        "AND unit_key = '2004:94'"
    )
    wait_until(lambda: stack.sql(query) == [[10]])
    stack.drained()
    assert sorted(letters_from(stack, topic)) == offsets[5:8]


def test_crash_before_commit_redelivers_without_double_counting(stack: RunningStack) -> None:
    n = 12_000
    topic = "cchc.raw.91"  # An Giang; Kiên Giang (91) is a predecessor
    payloads = [
        dumps(report(f"crash-{i}", province="Kiên Giang", agency=f"Phòng {i}", value=i))
        for i in range(n)
    ]
    ingest = stack.stack.services["ingest"]
    assert ingest.proc is not None
    stack.drained()
    consumed = metric(stack, "cchc_messages_consumed_total")
    send(stack, topic, payloads)
    # Kill as soon as ingest has taken its first batch of these, before it could commit them all.
    wait_until(
        lambda: metric(stack, "cchc_messages_consumed_total") > consumed,
        timeout_s=30,
        interval_s=0.01,
    )
    ingest.proc.kill()
    ingest.proc.wait()
    lag_at_kill = stack.stack.pipeline()["lag"]
    # The supervisor (driven by wait_drained/supervise_once) restarts it after a back-off.
    wait_until(lambda: _restarted(stack), timeout_s=60)
    wait_until(
        lambda: (
            stack.sql("SELECT count() FROM observations WHERE event_id LIKE 'crash-%'")[0][0] >= n
        ),
        timeout_s=120,
    )
    stack.drained(timeout_s=120)
    rows = stack.sql(
        "SELECT count(), uniqExact(event_id), sum(value) FROM observations FINAL "
        "WHERE event_id LIKE 'crash-%'"
    )
    assert rows == [[n, n, float(sum(range(n)))]], lag_at_kill


def _restarted(stack: RunningStack) -> bool:
    stack.stack.supervise_once()
    ingest = stack.stack.services["ingest"]
    if ingest.restarts == 0 or ingest.proc is None or ingest.proc.poll() is not None:
        return False
    try:
        return httpx.get(f"http://{HOST}:{stack.config.ports()['ingest']}/readyz").is_success
    except httpx.HTTPError:
        time.sleep(0.1)
        return False
