"""Several instances per service on the real broker: they share the group and split its
partitions; instances join, leave and are SIGKILLed during a load, and every event lands once."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from cchc_cli.top import Exposition, layout

from tests.conftest import RunningStack, start_stack, wait_until
from tests.load import Pusher, dossier_events, landed

pytestmark = pytest.mark.connected

EVENTS = 24_000


def _port(running: RunningStack, name: str) -> int:
    managed = running.stack.services[name]
    return int(managed.env[f"CCHC_{managed.service.upper()}_PORT"])


def _consumed(running: RunningStack, name: str) -> float:
    """What instance `name` consumed, from its /metrics (0 while it does not answer)."""
    try:
        page = httpx.get(f"http://127.0.0.1:{_port(running, name)}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    metrics = Exposition.parse(page)
    return metrics.sum("cchc_messages_consumed_total", instance=name) or 0.0


def _rebalances(log: Path) -> int:
    return log.read_text(errors="replace").count("partitions assigned")


def test_instances_join_leave_and_die_during_a_load_and_totals_stay_exact(
    tmp_path: Path,
) -> None:
    running = start_stack(tmp_path, instances={"ingest": 2, "normalize": 2})
    stack = running.stack
    said: list[str] = []
    stack.say = said.append
    try:
        names = {"ingest", "ingest-2", "normalize", "normalize-2", "aggregate"}
        assert set(stack.services) == names
        # `cchc top` finds every instance from the layout the stack wrote.
        assert set(layout(tmp_path, running.config.api_port)) == names
        pusher = Pusher(running.bootstrap, dossier_events("inst", EVENTS), per_second=1200).start()

        # Both ingest instances take part: the 34 raw topics are split between them.
        wait_until(lambda: _consumed(running, "ingest") and _consumed(running, "ingest-2"), 90)
        wait_until(
            lambda: _consumed(running, "normalize") and _consumed(running, "normalize-2"), 90
        )

        # One dies mid-load (SIGKILL: no goodbye, its batch uncommitted); the supervisor
        # restarts it, and meanwhile its partitions go to the other after the session expires.
        killed = stack.services["ingest-2"].proc
        assert killed is not None
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)

        # One joins: it is given partitions taken from the others (a rebalance) and consumes.
        joined = stack.add_instance("normalize")
        assert joined == "normalize-3"

        def joined_consumes() -> float:
            stack.supervise_once()
            return _consumed(running, joined)

        wait_until(joined_consumes, 90)

        # One leaves cleanly (SIGTERM: finishes its batch, commits, leaves the group).
        stack.stop_instance("normalize-2")
        now = (names - {"normalize-2"}) | {"normalize-3"}
        assert set(layout(tmp_path, running.config.api_port)) == now

        assert pusher.join() == EVENTS
        running.drained(timeout_s=180)
        assert landed(running, "inst") == (EVENTS, EVENTS)
    finally:
        stack.stop()
    logs = tmp_path / "logs"
    assert any("ingest-2 exited with code -9" in line for line in said), said
    assert any(line.startswith("ingest-2 restarted") for line in said), said
    # The first instances saw their assignment change as others died, joined and left.
    assert _rebalances(logs / "ingest.log") >= 2
    assert _rebalances(logs / "normalize.log") >= 2
    assert _rebalances(logs / "normalize-3.log") >= 1
