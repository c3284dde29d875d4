"""Fixtures for tests that open chDB directly (not through the running stack)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cchc_aggregate import store

MIGRATIONS = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[store.Store]:
    """A migrated chDB with reference data, one per test module.

    One chDB path may be open per process at a time: module scope closes it before the next
    module opens its own.
    """
    client = store.connect(f"chdb://{tmp_path_factory.mktemp('chdb')}")
    store.migrate(client, MIGRATIONS)
    store.sync_reference(client)
    yield store.Store(client)
    client.close()
