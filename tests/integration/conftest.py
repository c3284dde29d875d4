"""Fixtures for tests that open chDB directly (not through the running stack)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cchc_aggregate.clickhouse.client import Store, connect
from cchc_aggregate.clickhouse.migrations import migrate
from cchc_aggregate.clickhouse.reference import sync_reference

MIGRATIONS = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A migrated chDB with reference data, one per test module.

    One chDB path may be open per process at a time: module scope closes it before the next
    module opens its own.
    """
    client = connect(f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(client, MIGRATIONS)
    sync_reference(client)
    yield Store(client)
    client.close()


def truncating(*tables: str) -> Callable[..., Store]:
    """A `clean` fixture for a test module that needs `tables` empty before each test:
    ``clean = truncating(*TABLES)`` in the module gives its tests the module's `db` with those
    tables emptied (other tables keep what earlier tests left)."""

    @pytest.fixture
    def clean(db: Store) -> Store:
        for table in tables:
            db.client.command(f"TRUNCATE TABLE {table}")
        return db

    return clean
