"""Random kills and faults against a load on the real stack, then exact totals (`make chaos`).

For `CCHC_CHAOS_SECONDS` (30 in `make test`; `make chaos CHAOS_MINUTES=N` for longer), while a
paced load of distinct dossier events is pushed, one of these is done at random every few
seconds (seeded: `CCHC_CHAOS_SEED` replays a run, and every run prints its seed):

- SIGKILL a random instance of a random service (aggregate included); the supervisor restarts it;
- take the broker off the network for a few seconds and back (`cchc_devstack.proxy`);
- make ClickHouse refuse every insert for a few seconds (its tables' directories immutable;
  needs root, left out otherwise);
- an extra instance of ingest or normalize leaves the group, or one joins.

Then the load ends, the pipeline drains, and every event must be in ClickHouse exactly once —
and, once the background fold has caught up, in the dossier states and counters exactly once:
aggregate killed in the middle of a fold step redoes it at its next start (clickhouse/fold.py).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from cchc_aggregate.clickhouse.client import Store, connect
from cchc_aggregate.query.fetch.scoreboard import fetch_counters
from cchc_shared.periods import parse_period

from tests.conftest import RunningStack, start_stack
from tests.e2e import faults
from tests.load import Pusher, dossier_events, folded, landed, missing, trace

pytestmark = pytest.mark.connected

SECONDS = float(os.environ.get("CCHC_CHAOS_SECONDS", "30"))
RATE = 300  # events/s pushed during the run


def _pause(running: RunningStack, rng: random.Random, low: float, high: float) -> None:
    """Wait a random while, restarting crashed services meanwhile (as `cchc up` does)."""
    until = time.monotonic() + rng.uniform(low, high)
    while time.monotonic() < until:
        running.stack.supervise_once()
        time.sleep(0.2)


def _kill(running: RunningStack, rng: random.Random) -> str:
    name = rng.choice(sorted(running.stack.services))
    proc = running.stack.services[name].proc
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    return f"kill {name}"


def _broker_away(running: RunningStack, rng: random.Random) -> str:
    proxy = running.stack.proxy
    assert proxy is not None
    proxy.cut()
    try:
        _pause(running, rng, 2, 8)
    finally:
        proxy.restore()
    return "broker away"


def _store_refuses(running: RunningStack, rng: random.Random) -> str:
    dirs = faults.table_dirs(running.config.data_dir / "clickhouse")
    with faults.immutable(dirs):
        _pause(running, rng, 2, 8)
    return "store refuses"


def _leave_or_join(running: RunningStack, rng: random.Random) -> str:
    stack = running.stack
    service = rng.choice(["ingest", "normalize"])
    extra = sorted(n for n in stack.instances_of(service) if n != service)
    if extra and rng.random() < 0.5:
        stack.stop_instance(extra[-1])
        return f"{extra[-1]} leaves"
    if len(stack.instances_of(service)) >= 3:
        stack.stop_instance(extra[-1])
        return f"{extra[-1]} leaves"
    return f"{stack.add_instance(service)} joins"


def test_random_kills_and_faults_during_a_load_end_in_exact_totals(tmp_path: Path) -> None:
    seed = int(os.environ.get("CCHC_CHAOS_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"chaos: seed {seed}, {SECONDS:.0f}s")
    actions: list[Callable[[RunningStack, random.Random], str]] = [
        _kill,
        _kill,
        _broker_away,
        _leave_or_join,
    ]
    if faults.can_make_immutable(tmp_path / "probe"):
        actions.append(_store_refuses)
    running = start_stack(
        tmp_path / "var", instances={"ingest": 2, "normalize": 2}, broker_proxy=True
    )
    done: Counter[str] = Counter()
    events = int(SECONDS * RATE)
    try:
        pusher = Pusher(running.bootstrap, dossier_events("chaos", events), RATE).start()
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            _pause(running, rng, 1, 4)
            what = rng.choice(actions)(running, rng)
            done[what.split()[-1] if what.endswith(("leaves", "joins")) else what] += 1
            print(f"chaos: {what}")
        assert pusher.join(timeout_s=600) == events
        running.drained(timeout_s=600)
        if landed(running, "chaos") != (events, events):
            lost = missing(running, "chaos", events)
            print(f"chaos: {len(lost)} missing, found in {trace(running.bootstrap, lost[:40])}")
        assert landed(running, "chaos") == (events, events), f"seed {seed}: {dict(done)}"
        # The fold runs every second after the inserts: wait for it to take in the last of them.
        until, got = time.monotonic() + 120, folded(running, "chaos")
        while (got[:2] != (events, events) or got[2] != got[3]) and time.monotonic() < until:
            time.sleep(1)
            got = folded(running, "chaos")
        state, scores, counted, received = got
        assert (state, scores) == (events, events), f"seed {seed}: {dict(done)}"
        assert counted == received, f"seed {seed}: {dict(done)}"
    finally:
        running.stack.stop()
    # And the scoreboard's months (0015), which the fold refreshed through the kills, are what
    # the daily tables give (read with the stack stopped: one process owns a chDB path).
    client = connect(f"chdb://{tmp_path / 'var' / 'clickhouse'}")
    try:
        store = Store(client)
        _, months = store.query("SELECT DISTINCT month FROM scoreboard_monthly ORDER BY month")
        assert months, f"seed {seed}: no month kept"
        for (month,) in months:
            whole = parse_period(f"{month:%Y-%m}")
            kept = fetch_counters(store, whole)
            assert kept == fetch_counters(store, whole, monthly=False), f"seed {seed}: {month}"
            assert kept, f"seed {seed}: {month}"
    finally:
        client.close()
    print(f"chaos: {events} events, exact after {dict(done)} (seed {seed})")
    assert sum(done.values()) >= 3  # faults really happened during the load
