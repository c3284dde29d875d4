"""A province sees its own data, and only its own: `/v1/my/summary`, `/v1/my/dead-letters`.

On the real stack: events pushed over Kafka to `cchc.raw.15` (old Lào Cai 10 and old Yên Bái 15
before the merger, new Lào Cai 15 after it) and to `cchc.raw.79` (Hồ Chí Minh). Token 15's summary
counts the former — every merged unit — and never the latter, whatever parameter it sends; the
province comes from the token only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from cchc_runtime.tokens import Role, TokenStore

from tests import events
from tests.conftest import RunningStack, wait_until

pytestmark = pytest.mark.connected

AGENCY = "my-routes-test"  # part of each figure's natural key: no other test's figures collide


@pytest.fixture(scope="module")
def tokens(stack: RunningStack) -> Iterator[dict[str, str]]:
    store = TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")
    made = {
        code: store.create(f"my-routes-{code}", Role.PROVINCE, province=code)
        for code in ("15", "79")
    }
    yield made
    for code in made:
        store.revoke(f"my-routes-{code}")


def _get(stack: RunningStack, path: str, token: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{stack.api}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _summary(stack: RunningStack, token: str) -> dict[str, Any]:
    r = _get(stack, "/v1/my/summary", token)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _cells(summary: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {(c["schema"], c["period"], c["unit_key"]): c["records"] for c in summary["counts"]}


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    old, new = _cells(before), _cells(after)
    return {k: n - old.get(k, 0) for k, n in new.items() if n != old.get(k, 0)}


def _dumps(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


REPORT = "cchc.indicator_report/1"
DOSSIER = "cchc.dossier_event/1"


def test_a_province_counts_its_own_merged_units_and_never_another(
    stack: RunningStack, tokens: dict[str, str]
) -> None:
    before_15, before_79 = _summary(stack, tokens["15"]), _summary(stack, tokens["79"])
    assert before_15["province"] == "15"
    assert before_15["name"] == "Lào Cai"
    assert {u["unit_key"] for u in before_15["units"]} == {"2004:10", "2004:15", "2025:15"}

    lao_cai_old = events.report(
        event_id="my-15-lao-cai-2022",
        province="10",
        indicator="procedures.in_force",
        period="2022",
        value="1.972",
        agency=AGENCY,
        reported_at="2023-01-10T09:00:00+07:00",
    )
    yen_bai_old = events.report(
        event_id="my-15-yen-bai-2019",
        province="Yên Bái",
        indicator="staff.cut",
        period="2019",
        value=120,
        unit="người",
        agency=AGENCY,
        reported_at="2020-01-10T09:00:00+07:00",
    )
    dossier = events.dossier_event(
        event_id="my-15-dossier-1", dossier_id="MY-15-000001", province="15"
    )
    hcm = events.report(
        event_id="my-79-hcm-2022",
        province="79",
        indicator="procedures.in_force",
        period="2022",
        value="1.500",
        agency=AGENCY,
        reported_at="2023-01-10T09:00:00+07:00",
    )
    stack.send("cchc.raw.15", [_dumps(e) for e in (lao_cai_old, yen_bai_old, dossier)])
    stack.send("cchc.raw.79", [_dumps(hcm)])
    stack.drained()

    after_15, after_79 = _summary(stack, tokens["15"]), _summary(stack, tokens["79"])
    assert _delta(before_15, after_15) == {
        (REPORT, "2022", "2004:10"): 1,
        (REPORT, "2019", "2004:15"): 1,
        (DOSSIER, "2025-08", "2025:15"): 1,
    }
    assert _delta(before_79, after_79) == {(REPORT, "2022", "2004:79"): 1}
    # Nothing of another province, ever: every unit counted is one of the province's lineage.
    lineage_15 = {u["unit_key"] for u in after_15["units"]}
    assert {c["unit_key"] for c in after_15["counts"]} <= lineage_15
    assert {c["unit_key"] for c in after_79["counts"]} <= {u["unit_key"] for u in after_79["units"]}
    totals = {t["schema"]: t for t in after_15["schemas"]}
    assert totals[REPORT]["records"] == sum(
        n for (schema, _, _), n in _cells(after_15).items() if schema == REPORT
    )
    assert after_15["last_received_at"] is not None
    assert after_15["last_received_at"] >= (before_15["last_received_at"] or "")


def test_the_province_comes_from_the_token_never_from_a_parameter(
    stack: RunningStack, tokens: dict[str, str]
) -> None:
    for path in ("/v1/my/summary", "/v1/my/dead-letters"):
        r = _get(stack, path, tokens["15"], province="79")
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "bad_request"
    body = _summary(stack, tokens["15"])
    assert body["province"] == "15"


def test_rejects_and_dead_letters_are_the_province_own(
    stack: RunningStack, tokens: dict[str, str]
) -> None:
    probe = _get(stack, "/v1/my/dead-letters", tokens["15"])
    if probe.status_code == 503:
        # Until the dead_letters table exists (migration 0007), say so clearly.
        assert probe.json()["error"] == "unavailable"
        assert "dead_letters" in probe.json()["detail"]
        summary = _summary(stack, tokens["15"])
        assert summary["rejects"] is None
        assert any("dead_letters" in note for note in summary["notes"])
        pytest.skip("no dead_letters table yet: 503 and the summary's note checked")
    assert probe.status_code == 200, probe.text
    bad_15 = events.report(event_id="my-15-bad-number", province="15", value="1.5", agency=AGENCY)
    bad_79 = events.report(event_id="my-79-bad-number", province="79", value="1.5", agency=AGENCY)
    bad_15["period"] = bad_79["period"] = "2025-Q3"
    stack.send("cchc.raw.15", [_dumps(bad_15)])
    stack.send("cchc.raw.79", [_dumps(bad_79)])
    stack.drained()

    def mine() -> list[dict[str, Any]] | None:
        r = _get(stack, "/v1/my/dead-letters", tokens["15"], reason="bad_number", limit=1000)
        assert r.status_code == 200, r.text
        letters: list[dict[str, Any]] = r.json()["dead_letters"]
        return letters if any("my-15-bad-number" in str(d) for d in letters) else None

    letters = wait_until(mine, timeout_s=60)
    assert all(d["province"] == "15" for d in letters)
    assert not any("my-79-bad-number" in str(d) for d in letters)
    assert all(d["reason"] == "bad_number" and d["fix_vi"] for d in letters)
    rejects = {(r["reason"], r["stage"]): r for r in _summary(stack, tokens["15"])["rejects"]}
    assert rejects[("bad_number", "normalize")]["count"] >= 1
    assert "dấu phẩy" in rejects[("bad_number", "normalize")]["fix_vi"]
