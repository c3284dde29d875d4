"""ClickHouse migrations of the embedded stack, applied by aggregate's own command.

They run as ``python -m cchc_aggregate migrate`` in a child process rather than in this one: chDB
allows one process per data path, and the aggregate service opens that path right after.
cchc-aggregate is a declared dependency of cchc-devstack for this.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

import cchc_aggregate


def migrate(env: Mapping[str, str]) -> str:
    """Apply pending migrations with aggregate's settings from ``env``; returns its output."""
    done = subprocess.run(
        [sys.executable, "-m", cchc_aggregate.__name__, "migrate"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrations failed:\n{done.stderr.strip()[-3000:]}")
    return done.stdout.strip()
