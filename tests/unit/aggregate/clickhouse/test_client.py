"""Opening ClickHouse: without the `embedded` extra a chdb:// DSN says what to install."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
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


class _Server:
    """A stand-in client: knows `deduplicate_insert` or not, records the inserts' settings."""

    def __init__(self, knows_deduplicate_insert: bool) -> None:
        self.knows = knows_deduplicate_insert
        self.inserted: list[dict[str, Any]] = []
        self.asked = 0

    def query(self, sql: str, parameters: Any = None, settings: Any = None) -> Any:
        self.asked += 1
        assert "system.settings" in sql
        return SimpleNamespace(column_names=["n"], result_rows=[(int(self.knows),)])

    def insert(self, table: str, data: Any, **kwargs: Any) -> None:
        self.inserted.append(kwargs["settings"])


@pytest.mark.parametrize(
    ("knows", "setting"),
    [(True, {"deduplicate_insert": "disable"}), (False, {"insert_deduplicate": 0})],
)
def test_a_single_server_store_turns_deduplication_off_by_the_name_its_server_knows(
    knows: bool, setting: dict[str, Any]
) -> None:
    server = _Server(knows)
    store = client.Store(server)  # type: ignore[arg-type]
    store.insert("t", {"id": [1]}, token="tok")
    store.insert("t", {"id": [2]}, token="tok")
    assert server.inserted == [setting, setting]  # no token sent
    assert server.asked == 1


def test_a_cluster_store_sends_the_token() -> None:
    server = _Server(True)
    store = client.Store(server, {"insert_quorum": 2}, deduplicate=True)  # type: ignore[arg-type]
    store.insert("t", {"id": [1]}, token="tok")
    assert server.inserted == [{"insert_quorum": 2, "insert_deduplication_token": "tok"}]
    assert server.asked == 0
