"""The supervisor behind `cchc up` restarts a crashed service, says so, and nothing is lost."""

from __future__ import annotations

import signal

import orjson
import pytest

from tests.conftest import RunningStack

pytestmark = pytest.mark.connected


def test_crashed_service_is_restarted_and_the_pipeline_catches_up(stack: RunningStack) -> None:
    said: list[str] = []
    previous_say = stack.stack.say
    stack.stack.say = said.append
    try:
        normalize = stack.stack.services["normalize"]
        assert normalize.proc is not None
        normalize.proc.send_signal(signal.SIGKILL)
        normalize.proc.wait(timeout=10)
        # Pushed while normalize is down: must still land once it is back.
        event = {
            "schema": "cchc.indicator_report/1",
            "event_id": "supervisor-restart-1",
            "province": "Lai Châu",
            "indicator": "org.units_cut",
            "period": "2018",
            "value": 130,
            "reported_at": "2018-12-21T09:26:09+07:00",
        }
        stack.send("cchc.raw.12", [orjson.dumps(event)])
        stack.stack.wait_ready(timeout_s=90)
        stack.drained()
    finally:
        stack.stack.say = previous_say
    assert any("normalize exited with code -9; restarting in" in line for line in said), said
    assert any(line.startswith("normalize restarted (restart #") for line in said), said
    rows = stack.sql(
        "SELECT unit_key, value FROM observations FINAL WHERE event_id = 'supervisor-restart-1'"
    )
    assert rows == [["2004:12", 130.0]]
