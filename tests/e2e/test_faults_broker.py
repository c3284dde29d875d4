"""The broker is unreachable for a while and comes back, during a load, on the real stack.

A TCP proxy stands on the Kafka port with the embedded broker behind it (`StackConfig(
broker_proxy=True)`): cutting it closes the port and every connection, as a lost host or
network would, while the memory-only broker keeps its topics. Producers wait, consumers
reconnect and rejoin their groups (their members expired meanwhile), commits made during the
cut fail and the batches are read again — and every event lands exactly once.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import start_stack, wait_until
from tests.load import Pusher, dossier_events, landed

pytestmark = pytest.mark.connected

# The 30 s; the mechanism (connections refused, members expired, rejoin) is the same
# from a few seconds past the 6 s session timeout, so tests default to less.
OUTAGE_S = float(os.environ.get("CCHC_TEST_BROKER_OUTAGE_S", "10"))
EVENTS = 9_000


def test_broker_unreachable_then_back_loses_and_doubles_nothing(tmp_path: Path) -> None:
    running = start_stack(tmp_path, broker_proxy=True, instances={"ingest": 2})
    stack = running.stack
    try:
        proxy = stack.proxy
        assert proxy is not None
        pusher = Pusher(running.bootstrap, dossier_events("cut", EVENTS), per_second=500).start()
        wait_until(lambda: landed(running, "cut")[0] > 0, 90)

        proxy.cut()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", running.config.kafka_port), timeout=2)
        time.sleep(OUTAGE_S)  # the outage itself: nothing is asserted on its timing
        during = landed(running, "cut")[0]
        proxy.restore()

        assert pusher.join(timeout_s=300) == EVENTS
        running.drained(timeout_s=240)
        assert landed(running, "cut") == (EVENTS, EVENTS)
        assert 0 < during < EVENTS  # the cut really fell in the middle of the load
        assert {n: m.total_restarts for n, m in stack.services.items()} == dict.fromkeys(
            stack.services, 0
        )
    finally:
        stack.stop()
    # Every service really lost the broker (and came back by itself: no restart was needed).
    for name in ("ingest", "ingest-2", "normalize", "aggregate"):
        log = (tmp_path / "logs" / f"{name}.log").read_text(errors="replace")
        assert "Connect call failed" in log or "socket disconnected" in log, name
