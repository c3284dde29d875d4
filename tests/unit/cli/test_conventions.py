"""One convention for every `cchc` command (cli/cchc_cli/options.py, README "Command-line
conventions"): the same option names, provinces as 1 or 01, one line of error and exit 2 when
the stack is not there, `cchc --version`, and what `push` says about what it sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from cchc_cli import push as pushing
from cchc_cli.main import app
from cchc_cli.options import province_code
from cchc_shared.provinces import default_registry
from typer.main import get_command
from typer.testing import CliRunner

from tests.conftest import free_port_block

TOKEN = {"CCHC_TOKEN": "cchc_" + "A" * 43}


def _commands() -> dict[str, Any]:
    root = get_command(app)
    found: dict[str, Any] = {}

    def walk(group: Any, prefix: str) -> None:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):  # a group (typer's own click)
                walk(command, f"{prefix}{name} ")
            else:
                found[f"{prefix}{name}"] = command

    walk(root, "")
    return found


def test_every_command_spells_the_shared_options_the_same_way() -> None:
    commands = _commands()
    assert {"query national", "query sql", "dlq list", "top", "push"} <= set(commands)
    for name, command in commands.items():
        flags = {opt: p for p in command.params for opt in getattr(p, "opts", [])}
        if name != "up":  # `up` chooses the ports it listens on; clients name a URL
            for legacy in ("--api-port", "--host"):
                assert legacy not in flags, (name, legacy)
        if "--format" in flags:
            assert "-f" in flags, name
        for param in command.params:
            if param.name == "api":
                assert param.opts == ["--api"], name
                assert param.envvar == "CCHC_API", name
            if param.name == "bootstrap":
                assert param.opts == ["--bootstrap"], name
                assert param.envvar == "CCHC_KAFKA_BOOTSTRAP_SERVERS", name
            if param.name == "province" and getattr(param, "opts", None) == ["--province"]:
                assert param.callback is not None, f"{name}: --province 1 must mean 01"


def test_provinces_are_1_or_01_alike() -> None:
    assert province_code("1") == "01"
    assert province_code(" 79 ") == "79"
    assert province_code("01") == "01"
    for bad in ("10", "99", "x", ""):  # 10 is a pre-2025 code (old Lào Cai), not a 2025 one
        with pytest.raises(typer.BadParameter):
            province_code(bad)


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("cchc 0.")


@pytest.mark.parametrize(
    "args",
    [
        ["dlq", "list", "--province", "1"],
        ["dlq", "replay", "--reason", "bad_number"],
        ["query", "national", "staff.cut", "2018"],
        ["query", "provinces", "staff.cut", "2018", "-f", "csv"],
        ["query", "sql", "SELECT 1"],
        ["query", "service-index", "2025-07", "--province", "1"],
    ],
)
def test_an_unreachable_api_is_one_line_and_exit_2(args: list[str]) -> None:
    closed = free_port_block(1)
    result = CliRunner().invoke(app, [*args, "--api", f"http://127.0.0.1:{closed}"], env=TOKEN)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: cannot reach the query API"), lines
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["push", "EVENTS"],
        ["push", "EVENTS", "--province", "15"],
        ["simulate", "--provinces", "01", "--dossiers-per-day", "1"],
    ],
)
def test_an_unreachable_broker_is_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"schema": "cchc.indicator_report/1", "province": "Lào Cai"}\n')
    closed = free_port_block(1)
    args = [str(events) if a == "EVENTS" else a for a in args]
    result = CliRunner().invoke(app, [*args, "--bootstrap", f"127.0.0.1:{closed}"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: cannot reach Kafka at 127.0.0.1:{closed}"), lines
    assert "Traceback" not in result.output


class _Sent:
    def get(self, timeout: float) -> None:
        return None


class _Producer:
    """Records what would be sent (a unit-test stand-in for KafkaProducer)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        self.sent.append((topic, value))
        return _Sent()

    def flush(self) -> None:
        return None


def test_a_line_that_is_not_json_is_named_by_its_number() -> None:
    lines = [
        ("events.jsonl", 1, b'{"schema": "cchc.indicator_report/1", "province": "L\xc3\xa0o Cai"}'),
        ("events.jsonl", 2, b"[1, 2]"),
        ("events.jsonl", 3, b'{"schema": "cchc.indicator_report/1", "province": '),
    ]
    producer = _Producer()
    report = pushing.push(lines, producer, default_registry())
    reasons = {f.line: f.reason for f in report.failures}
    assert reasons == {2: "line 2 is not a JSON object", 3: "line 3 is not JSON"}
    assert report.sent == 1
    assert report.kinds() == "1 indicator report"


def test_push_says_what_kinds_of_events_it_sent() -> None:
    report = pushing.PushReport(
        sent=27, schemas={"cchc.indicator_report/1": 25, "cchc.dossier_event/1": 2}
    )
    assert report.kinds() == "25 indicator reports, 2 dossier events"
