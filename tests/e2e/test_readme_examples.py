"""The README's analyst examples, run as written on a stack with the demo data of `make run`:
each answers with the demo's figures (not nulls), and the SQL example is a JSON request (a form
body is answered 422)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cchc_runtime.tokens import Role

from tests.conftest import RunningStack

pytestmark = pytest.mark.connected

ROOT = Path(__file__).resolve().parents[2]


def _analyst_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## For analysts: querying")
    return text[start : text.index("\n## ", start + 1)]


def _commands(prefix: str) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", _analyst_section(), flags=re.S)
    lines = [line.split("   #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(prefix)]


def _run(stack: RunningStack, command: str) -> str:
    env = {
        **os.environ,
        "TOKEN": stack.stack.tokens[Role.ANALYST],
        "CCHC_TOKEN": stack.stack.tokens[Role.ANALYST],
        "CCHC_API": stack.api,
        "COLUMNS": "200",
    }
    command = command.replace("localhost:8080", stack.api.removeprefix("http://"))
    command = command.replace(".venv/bin/", str(Path(sys.executable).parent) + "/")
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    return done.stdout


def test_the_curl_examples_answer_with_the_demo_figures(demo: RunningStack) -> None:
    curls = _commands('curl -s -H "Authorization: Bearer $TOKEN"')
    assert len(curls) >= 3, curls
    for command in curls:
        body = json.loads(_run(demo, command))
        assert "error" not in body, (command, body)
        if "/v1/sql" in command:
            assert any("procedures.in_force" in row for row in body["rows"]), body
        elif "/v1/national" in command:
            assert body["value"] == 1972, body
            assert body["provinces_reported"] == 1
        elif "/v1/provinces" in command:
            first = body["rows"][0]
            assert (first["name"], first["value"], first["rank"]) == ("Lai Châu", 596, 1), body
            assert len(body["rows"]) == 63


def test_the_cli_examples_answer_with_the_demo_figures(demo: RunningStack) -> None:
    commands = _commands(".venv/bin/cchc query")
    assert len(commands) >= 3, commands
    outputs = {command: _run(demo, command) for command in commands}
    joined = "\n".join(outputs.values())
    assert "2,036" in joined or "2036" in joined  # procedures abolished 2016/2020, Nam Định
    assert "Lai Châu,596" in joined  # the provinces CSV
    for command, output in outputs.items():
        assert output.strip(), command
