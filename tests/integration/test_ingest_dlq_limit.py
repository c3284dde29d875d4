"""The dead-letter limit pauses a broken province, others keep flowing, and nothing is lost.

A dedicated stack, so that the limit can be small (more than 10 rejected in a row) and the
cool-down short, without touching the shared stack's other tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import start_stack, wait_until
from tests.integration.ingest_support import (
    dumps,
    letters_from,
    metric,
    report,
    send,
    validated_payloads,
)

pytestmark = pytest.mark.connected

COOLDOWN_S = 10


def test_dlq_limit_pauses_the_province_then_resumes_without_loss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inherited by the service processes (Stack._env copies the environment).
    monkeypatch.setenv("CCHC_INGEST_DLQ_LIMIT_CONSECUTIVE", "10")
    monkeypatch.setenv("CCHC_INGEST_DLQ_LIMIT_RATIO", "1")
    monkeypatch.setenv("CCHC_INGEST_DLQ_LIMIT_COOLDOWN_S", str(COOLDOWN_S))
    stack = start_stack(tmp_path)
    try:
        bad = [
            b'{"schema": "cchc.indicator_report/1", "event_id": ' + str(i).encode()
            for i in range(12)
        ]
        good = [dumps(report(f"limit-{i}", agency=f"Sở {i}")) for i in range(10)]
        offsets = send(stack, "cchc.raw.14", bad + good)

        wait_until(lambda: metric(stack, "cchc_dlq_limit_paused", province="14") == 1)
        assert metric(stack, "cchc_dlq_limit_pauses_total", province="14") == 1

        # Another province keeps flowing while Sơn La is paused.
        send(
            stack,
            "cchc.raw.01",
            [dumps(report(f"hn-{i}", province="Hà Nội", agency=f"Sở {i}")) for i in range(5)],
        )
        wait_until(
            lambda: (
                stack.sql("SELECT count() FROM observations FINAL WHERE event_id LIKE 'hn-%'")
                == [[5]]
            )
        )
        # Sơn La: the first 10 bad ones were dead-lettered; the 11th tripped the limit, so it
        # and everything after it wait, uncommitted (the ingest group lags by exactly 12).
        assert sorted(letters_from(stack, "cchc.raw.14")) == offsets[:10]
        assert validated_payloads(stack, "14") == []
        assert stack.stack.pipeline()["lag"]["ingest"] == 12  # type: ignore[index]
        assert metric(stack, "cchc_dlq_limit_paused", province="14") == 1, (
            "the cool-down ended before the paused state was checked; raise COOLDOWN_S"
        )

        # After the cool-down the held-back messages are read again: none lost, none doubled.
        wait_until(lambda: metric(stack, "cchc_dlq_limit_paused", province="14") == 0, timeout_s=60)
        wait_until(
            lambda: (
                stack.sql("SELECT count() FROM observations FINAL WHERE event_id LIKE 'limit-%'")
                == [[10]]
            )
        )
        stack.drained()
        letters = letters_from(stack, "cchc.raw.14")
        assert sorted(letters) == offsets[:12]
        assert all(len(v) == 1 for v in letters.values())
        assert sorted(validated_payloads(stack, "14")) == sorted(good)
        rows = stack.sql("SELECT count() FROM observations FINAL WHERE event_id LIKE 'limit-%'")
        assert rows == [[10]]
        assert metric(stack, "cchc_dlq_limit_pauses_total", province="14") == 1
    finally:
        stack.stack.stop()
