"""`cchc validate`: the dry run offline, per line, with the exit status a script can test."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from cchc_cli.main import app
from typer.testing import CliRunner

from tests import events

YEN_BAI = events.report(
    event_id="v-1", province="Yên Bái", period="2024-Q1", reported_at="2024-03-28T09:00:00+07:00"
)


def _file(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_every_line_gets_its_verdict_and_a_rejection_exits_1(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        orjson.dumps(YEN_BAI),
        b"{oops",
        orjson.dumps({**YEN_BAI, "value": "1.5"}),
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:1: accepted (cchc.raw.15)" in result.output
    assert f"{path}:2: rejected by ingest: malformed_json" in result.output
    assert f"{path}:3: rejected by normalize: bad_number — value:" in result.output


def test_a_province_checks_authority_and_json_matches_the_api(tmp_path: Path) -> None:
    path = _file(tmp_path, orjson.dumps(YEN_BAI))
    ok = CliRunner().invoke(app, ["validate", str(path), "--province", "15", "--json"])
    assert ok.exit_code == 0, ok.output
    answer = json.loads(ok.stdout.splitlines()[0])
    assert answer["accepted"] == 1
    assert answer["results"] == [
        {"line": 1, "status": "accepted", "stage": None, "reason": None, "errors": []}
    ]
    other = CliRunner().invoke(app, ["validate", str(path), "--province", "79", "--json"])
    assert other.exit_code == 1
    (result,) = json.loads(other.stdout.splitlines()[0])["results"]
    assert (result["stage"], result["reason"]) == ("ingest", "province_mismatch")


def test_a_bad_province_or_file_is_a_usage_error(tmp_path: Path) -> None:
    path = _file(tmp_path, orjson.dumps(YEN_BAI))
    assert CliRunner().invoke(app, ["validate", str(path), "--province", "10"]).exit_code == 2
    assert CliRunner().invoke(app, ["validate", str(tmp_path / "none")]).exit_code == 2
