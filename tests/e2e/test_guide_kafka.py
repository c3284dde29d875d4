"""The guide's example data on the real stack: `docs/vi/examples/events.jsonl`, pushed to
`cchc.raw.15` as the guide says to do on the embedded stack (`cchc push --province 15`,
docs/vi/kafka.md), lands in province 15's own summary, every old unit included.

kcat itself cannot be run here: Debian's kcat (librdkafka 2.0.2) fails Tansu's ApiVersions
exchange, which the guide says; its commands are checked for shape in
tests/unit/test_guide_vi.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cchc_cli.main import app
from cchc_runtime.tokens import Role, TokenStore
from typer.testing import CliRunner

from tests.conftest import RunningStack

pytestmark = pytest.mark.connected

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "vi" / "examples"


@pytest.fixture(scope="module")
def token(stack: RunningStack) -> Iterator[str]:
    store = TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")
    secret = store.create("guide-kafka-15", Role.PROVINCE, province="15")
    yield secret
    store.revoke("guide-kafka-15")


def _cells(stack: RunningStack, token: str) -> dict[tuple[str, str, str], int]:
    r = httpx.get(
        f"{stack.api}/v1/my/summary", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return {(c["schema"], c["period"], c["unit_key"]): c["records"] for c in body["counts"]}


def test_the_example_file_lands_in_the_province_own_summary(
    stack: RunningStack, token: str
) -> None:
    before = _cells(stack, token)
    result = CliRunner().invoke(
        app,
        [
            "push",
            "--bootstrap",
            stack.bootstrap,
            "--province",
            "15",
            str(EXAMPLES / "events.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    stack.drained()
    after = _cells(stack, token)
    delta = {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}
    assert delta == {
        ("cchc.indicator_report/1", "2022", "2004:10"): 2,
        ("cchc.indicator_report/1", "2024-Q4", "2004:15"): 1,
        ("cchc.dossier_event/1", "2025-08", "2025:15"): 2,
    }
