"""`cchc up` stopped with Ctrl-C while events are in flight: the services first consume what
the memory-only broker holds (bounded by --drain-timeout), and the command says how many were
left when the timeout cut it short."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaProducer

from tests.conftest import start_stack, wait_until
from tests.e2e.cchc_up import CchcUp
from tests.load import dossier_events

pytestmark = pytest.mark.connected

EVENTS = 15_000

COUNT = """
import sys, clickhouse_connect
c = clickhouse_connect.get_client(dsn="chdb://" + sys.argv[1])
print(c.query("SELECT count() FROM dossier_events FINAL").result_rows[0][0])
"""


def _run_and_interrupt(data_dir: Path, drain_timeout: float) -> tuple[str, int]:
    """Start `cchc up`, push EVENTS, Ctrl-C at once; (its output, rows landed in chDB)."""
    up = CchcUp(data_dir, "--no-demo", "--drain-timeout", str(drain_timeout))
    try:
        up.wait_for("running; Ctrl-C to stop")
        producer = KafkaProducer(bootstrap_servers=f"127.0.0.1:{up.kafka_port}", acks="all")
        for topic, key, value in dossier_events("ctrlc", EVENTS):
            producer.send(topic, key=key, value=value)
        producer.flush()
        producer.close()
        assert up.interrupt(timeout=300) == 0, up.output
    finally:
        up.kill()
    landed = subprocess.run(
        [sys.executable, "-c", COUNT, str(data_dir / "clickhouse")],
        capture_output=True,
        text=True,
        check=True,
    )
    return up.output, int(landed.stdout)


def test_ctrl_c_drains_the_broker_before_stopping_it(tmp_path: Path) -> None:
    output, landed = _run_and_interrupt(tmp_path / "var", drain_timeout=240)
    assert "draining what the broker holds" in output
    assert "drained: every event in the broker was consumed" in output, output
    assert "nothing was left in the broker" in output
    assert landed == EVENTS


def test_a_drain_cut_short_says_exactly_how_many_events_were_left(tmp_path: Path) -> None:
    running = start_stack(tmp_path)
    stack = running.stack
    try:
        # Aggregate is down (crashed, or ClickHouse stuck): what normalize produced waits.
        stack.services["aggregate"].stop()
        stack.services["aggregate"].proc = None  # and stays down: not restarted meanwhile
        producer = running.producer()
        for topic, key, value in dossier_events("cut-short", EVENTS):
            producer.send(topic, key=key, value=value)
        producer.flush()
        producer.close()
        wait_until(
            lambda: running.stack.lag() == {"ingest": 0, "normalize": 0, "aggregate": EVENTS}
        )
        drained = stack.drain(timeout_s=2)
        assert drained["aggregate"] == EVENTS
    finally:
        left = stack.stop(count_left=True)
    # Ingest and normalize consumed everything before stopping; all of it waits for aggregate.
    assert left == {"ingest": 0, "normalize": 0, "aggregate": EVENTS}
