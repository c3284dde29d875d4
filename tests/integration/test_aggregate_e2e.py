"""End to end, as provinces and an analyst would: raw JSON to cchc.raw.NN, /v1/national out."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.conftest import RunningStack

pytestmark = pytest.mark.connected


def report(event_id: str, province: str, value: str, **fields: object) -> bytes:
    event = {
        "schema": "cchc.indicator_report/1",
        "event_id": event_id,
        "province": province,
        "indicator": "org.units_cut",
        "period": "2019",
        "value": value,
        "reported_at": "2020-01-15T09:00:00+07:00",
    }
    event.update(fields)
    return orjson.dumps(event)


def test_pushed_reports_give_the_national_figure_under_both_boundaries(
    stack: RunningStack,
) -> None:
    # Hà Giang (old 02) and the old Tuyên Quang (08) both write to cchc.raw.08 since the merger;
    # Hà Giang sends its figure twice (at-least-once delivery) and a revision.
    stack.send(
        "cchc.raw.08",
        [
            report("e2e-ag-hg-1", "Hà Giang", "12"),
            report("e2e-ag-hg-1", "Hà Giang", "12"),
            report("e2e-ag-hg-2", "Hà Giang", "13", revision=1),
            report("e2e-ag-tq-1", "Tuyên Quang", "7"),
        ],
    )
    stack.send("cchc.raw.14", [report("e2e-ag-sl-1", "Sơn La", "1.000")])
    stack.drained()
    url = f"{stack.api}/v1/national"
    params = {"indicator": "org.units_cut", "period": "2019"}
    current = httpx.get(url, params=params, headers=stack.headers(), timeout=10).json()
    assert current["value"] == 13 + 7 + 1_000
    assert (current["provinces_reported"], current["provinces_expected"]) == (2, 34)
    historical = httpx.get(
        url, params={**params, "boundary": "historical"}, headers=stack.headers(), timeout=10
    ).json()
    assert historical["value"] == 1_020
    assert (historical["provinces_reported"], historical["provinces_expected"]) == (3, 63)
    ranking = httpx.get(
        f"{stack.api}/v1/provinces", params=params, headers=stack.headers(), timeout=10
    ).json()
    assert [(r["province"], r["value"], r["rank"]) for r in ranking["rows"][:2]] == [
        ("14", 1_000.0, 1),
        ("08", 20.0, 2),
    ]


def test_bad_question_is_a_4xx_json_from_the_running_service(stack: RunningStack) -> None:
    r = httpx.get(
        f"{stack.api}/v1/national",
        params={"indicator": "x.y", "period": "2019"},
        headers=stack.headers(),
        timeout=10,
    )
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_indicator"
