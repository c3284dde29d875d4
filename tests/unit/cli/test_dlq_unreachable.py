"""`cchc dlq list|replay` with nothing listening: one line of error, exit 2, no traceback."""

from __future__ import annotations

import pytest
from cchc_cli.main import app
from typer.testing import CliRunner

from tests.conftest import free_port_block


@pytest.mark.parametrize(
    "args",
    [
        ["dlq", "list"],
        ["dlq", "list", "--format", "json", "--province", "01"],
        ["dlq", "replay", "--offset", "0:1"],
    ],
)
def test_an_unreachable_api_is_one_line_of_error(args: list[str]) -> None:
    closed = free_port_block(1)
    result = CliRunner().invoke(
        app,
        [*args, "--api", f"http://127.0.0.1:{closed}"],
        env={"CCHC_TOKEN": "cchc_" + "A" * 43},
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: cannot reach the query API at http://127.0.0.1:{closed}")
    assert "Traceback" not in result.output
