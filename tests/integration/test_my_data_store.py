"""`/v1/my/*` on a real chDB, through the app as served (auth middleware and all).

The stack tests (tests/security/test_my_routes.py) push over Kafka; this module writes rows
straight into a private chDB, so it can also try both states of the `dead_letters` table: absent
(503, a note) and present. While migration 0007 has not landed, the table is a stand-in with the
columns the contract names (stage, reason, province, rejected_at, plus errors and payload); once
the migrations create it, the real one is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cchc_aggregate.clickhouse.client import Store
from cchc_aggregate.query.app import create_app
from cchc_aggregate.settings import AggregateSettings
from cchc_runtime.tokens import Role, TokenStore
from fastapi.testclient import TestClient

from tests.integration.test_aggregate_store import observation, write

pytestmark = pytest.mark.connected

STAND_IN = """
CREATE TABLE dead_letters
(
    stage       LowCardinality(String),
    reason      LowCardinality(String),
    province    LowCardinality(String),
    rejected_at DateTime64(3, 'UTC'),
    errors      String,
    payload     String
)
ENGINE = MergeTree ORDER BY (province, rejected_at)
"""


def _has_letters(db: Store) -> bool:
    rows = db.query("SELECT count() FROM system.tables WHERE name = 'dead_letters'")[1]
    return bool(rows[0][0])


@pytest.fixture(scope="module")
def app(db: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, dict[str, str]]:
    for table in ("observations", "dossier_events", "feedback_events", "procedure_events"):
        db.client.command(f"TRUNCATE TABLE {table}")
    tokens_file = Path(tmp_path_factory.mktemp("secrets")) / "tokens.json"
    store = TokenStore(tokens_file)
    secrets = {
        "15": store.create("lao-cai", Role.PROVINCE, province="15"),
        "79": store.create("hcm", Role.PROVINCE, province="79"),
        "analyst": store.create("analyst", Role.ANALYST),
    }
    write(
        db,
        [
            observation("o-10", unit_key="2004:10", period="2022", agency="a"),
            observation("o-15-old", unit_key="2004:15", period="2019", agency="a"),
            observation("o-15-old-rev", unit_key="2004:15", period="2019", agency="a", revision=1),
            observation("o-79", unit_key="2004:79", period="2022", agency="a"),
        ],
    )
    client = TestClient(create_app(db, None, AggregateSettings(tokens_file=tokens_file)))
    return client, secrets


def _get(app: tuple[TestClient, dict[str, str]], who: str, path: str, **params: Any) -> Any:
    client, secrets = app
    return client.get(path, params=params, headers={"Authorization": f"Bearer {secrets[who]}"})


@pytest.fixture
def without_letters(db: Store) -> Iterator[None]:
    existed = _has_letters(db)
    if existed:
        db.client.command("RENAME TABLE dead_letters TO dead_letters_aside")
    yield
    if existed:
        db.client.command("RENAME TABLE dead_letters_aside TO dead_letters")


@pytest.fixture
def with_letters(db: Store) -> Iterator[None]:
    created = not _has_letters(db)
    if created:
        db.client.command(STAND_IN)
    rows = [
        ("ingest", "schema_violation", "15", datetime(2025, 8, 1, 1, 0, tzinfo=UTC)),
        ("normalize", "bad_number", "15", datetime(2025, 8, 2, 1, 0, tzinfo=UTC)),
        ("normalize", "bad_number", "15", datetime(2025, 8, 3, 1, 0, tzinfo=UTC)),
        ("normalize", "bad_number", "79", datetime(2025, 8, 3, 2, 0, tzinfo=UTC)),
    ]
    # The batch written again after a failure: stored twice (no merge folds the copies away
    # while the test runs), shown once.
    db.client.command("SYSTEM STOP MERGES dead_letters")
    for _ in range(2):
        db.insert(
            "dead_letters",
            {
                "stage": [r[0] for r in rows],
                "reason": [r[1] for r in rows],
                "province": [r[2] for r in rows],
                "rejected_at": [r[3] for r in rows],
            },
            token="my-data-store-letters",
        )
    yield
    db.client.command("SYSTEM START MERGES dead_letters")
    if created:
        db.client.command("DROP TABLE dead_letters")
    else:
        db.client.command("TRUNCATE TABLE dead_letters")


def test_summary_counts_the_merged_units_and_nothing_else(
    app: tuple[TestClient, dict[str, str]], without_letters: None
) -> None:
    r = _get(app, "15", "/v1/my/summary")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["province"] == "15"
    assert [u["unit_key"] for u in body["units"]] == ["2004:10", "2004:15", "2025:15"]
    cells = {(c["schema"], c["period"], c["unit_key"]): c["records"] for c in body["counts"]}
    # The revision replaced the first report of Yên Bái 2019: one record held, not two.
    assert cells == {
        ("cchc.indicator_report/1", "2022", "2004:10"): 1,
        ("cchc.indicator_report/1", "2019", "2004:15"): 1,
    }
    assert body["schemas"][0] == {
        "schema": "cchc.indicator_report/1",
        "records": 2,
        "last_received_at": body["last_received_at"],
    }
    assert body["schemas"][1]["records"] == 0
    # Every raw kind is listed, the 766 inputs too (none sent here).
    assert [s["schema"] for s in body["schemas"]] == [
        "cchc.indicator_report/1",
        "cchc.dossier_event/1",
        "cchc.feedback_event/1",
        "cchc.procedure_event/1",
    ]
    assert body["rejects"] is None
    assert any("dead_letters" in note for note in body["notes"])
    other = _get(app, "79", "/v1/my/summary").json()
    assert {c["unit_key"] for c in other["counts"]} == {"2004:79"}


def test_dead_letters_are_503_until_the_table_exists(
    app: tuple[TestClient, dict[str, str]], without_letters: None
) -> None:
    r = _get(app, "15", "/v1/my/dead-letters")
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"


def test_rejects_and_dead_letters_are_the_province_own(
    app: tuple[TestClient, dict[str, str]], with_letters: None
) -> None:
    body = _get(app, "15", "/v1/my/summary").json()
    rejects = {(x["reason"], x["stage"]): x for x in body["rejects"]}
    assert {k: x["count"] for k, x in rejects.items()} == {
        ("bad_number", "normalize"): 2,
        ("schema_violation", "ingest"): 1,
    }
    assert rejects[("bad_number", "normalize")]["last_rejected_at"].startswith("2025-08-03T01:00")
    assert "dấu phẩy" in rejects[("bad_number", "normalize")]["fix_vi"]
    assert body["notes"] == []

    letters = _get(app, "15", "/v1/my/dead-letters").json()
    assert letters["province"] == "15"
    assert letters["count"] == 3
    assert {d["province"] for d in letters["dead_letters"]} == {"15"}
    assert [d["rejected_at"][:10] for d in letters["dead_letters"]] == [
        "2025-08-03",
        "2025-08-02",
        "2025-08-01",
    ]
    assert all(d["meaning_vi"] and d["fix_vi"] for d in letters["dead_letters"])

    only = _get(app, "15", "/v1/my/dead-letters", reason="schema_violation").json()
    assert [d["reason"] for d in only["dead_letters"]] == ["schema_violation"]
    recent = _get(app, "15", "/v1/my/dead-letters", since="2025-08-02T08:00:00+07:00").json()
    assert recent["count"] == 2
    assert _get(app, "15", "/v1/my/dead-letters", limit=1).json()["count"] == 1
    hcm = _get(app, "79", "/v1/my/dead-letters").json()
    assert hcm["count"] == 1


def test_the_province_is_the_token_and_only_province_tokens_enter(
    app: tuple[TestClient, dict[str, str]],
) -> None:
    for path in ("/v1/my/summary", "/v1/my/dead-letters"):
        assert _get(app, "15", path, province="79").status_code == 400
        assert _get(app, "analyst", path).status_code == 403
    assert _get(app, "15", "/v1/national", indicator="staff.cut", period="2018").status_code == 403
    assert _get(app, "15", "/v1/my/dead-letters", limit=0).status_code == 422
    assert _get(app, "15", "/v1/my/dead-letters", reason="nope").status_code == 422
