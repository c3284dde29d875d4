"""Opening ClickHouse: without the `embedded` extra a chdb:// DSN says what to install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from cchc_aggregate.clickhouse import client


def test_embedded_dsn_without_chdb_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_chdb(**_: Any) -> None:
        raise ImportError("The chdb backend requires the chdb package.", name="chdb")

    monkeypatch.setattr(clickhouse_connect, "get_client", no_chdb)
    with pytest.raises(ImportError, match=r"cchc-aggregate\[embedded\]"):
        client.connect(f"chdb://{tmp_path / 'ch'}")
    assert (tmp_path / "ch").is_dir()
