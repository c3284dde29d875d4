"""`cchc push`, `cchc dlq list` and `cchc dlq replay` against the real broker and pipeline."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from cchc_cli.main import app
from cchc_runtime.kafka_read import read_topic
from cchc_runtime.tokens import Role
from cchc_shared import dlq
from cchc_shared.dlq import ErrorDetail, Reason
from typer.testing import CliRunner

from tests.conftest import RunningStack, wait_until
from tests.integration.ingest_support import dumps, letters_from, report, send, wait_letters

pytestmark = pytest.mark.connected


def cli(stack: RunningStack, *args: str) -> tuple[int, str]:
    """`cchc …` against the stack: `dlq` reads the API with the operator token."""
    extra = ["--bootstrap", stack.bootstrap] if args[:2] != ("dlq", "list") else []
    if args[0] == "dlq":
        extra += ["--api", stack.api]
    env = {"CCHC_TOKEN": stack.stack.tokens[Role.OPERATOR]}
    result = CliRunner().invoke(app, [*args, *extra], env=env)
    return result.exit_code, result.output


def test_push_routes_each_event_and_reports_failed_lines(
    stack: RunningStack, tmp_path: Path
) -> None:
    lines = [
        dumps(report("cli-push-son-la")),  # → 14
        dumps(report("cli-push-yen-bai", province="Yên Bái")),  # 2017: old 15 → Lào Cai, 15
        b"",
        b'{"schema": "cchc.indicator_report/1", "province": ',  # not JSON
        dumps(report("cli-push-atlantis", province="Atlantis")),  # no province to route by
        dumps(
            {
                "schema": "cchc.dossier_event/1",
                "event_id": "cli-push-dossier",
                "province": 1,
                "dossier_id": "H26-0001",
                "procedure_code": "1.004227",
                "status": "resolved",
                "occurred_at": "2025-08-01T08:15:00+07:00",
            }
        ),  # → 01
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, output = cli(stack, "push", str(path))
    assert code == 1
    assert f"{path}:4" in output
    assert f"{path}:5" in output
    assert "line 4 is not JSON" in output  # not the parser's internals
    assert "sent 3 (2 indicator reports, 1 dossier event), failed 2" in output

    def landed(topic: str, event_id: str) -> bool:
        # Other tests write garbage to these topics too: look for the exact bytes.
        wanted = next(line for line in lines if f'"{event_id}"'.encode() in line)
        return any(r.value == wanted for r in read_topic(stack.bootstrap, topic))

    assert landed("cchc.raw.14", "cli-push-son-la")
    assert landed("cchc.raw.15", "cli-push-yen-bai")
    assert landed("cchc.raw.01", "cli-push-dossier")
    wait_until(
        lambda: (
            stack.sql(
                "SELECT event_id, unit_key FROM observations FINAL "
                "WHERE event_id LIKE 'cli-push-%' ORDER BY event_id"
            )
            == [["cli-push-son-la", "2004:14"], ["cli-push-yen-bai", "2004:15"]]
        )
    )


def test_push_all_good_exits_zero(stack: RunningStack, tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_bytes(dumps(report("cli-push-ok")) + b"\n")
    assert cli(stack, "push", str(path))[0] == 0


def test_dlq_list_filters_and_formats(stack: RunningStack) -> None:
    topic = "cchc.raw.80"  # Tây Ninh; nothing else writes there
    offsets = send(
        stack,
        topic,
        [b"{broken", dumps({**report("cli-dlq-v2"), "schema": "cchc.indicator_report/2"})],
        [b"k-broken", b"k-v2"],
    )
    wait_letters(stack, topic, offsets)
    stack.drained()  # and stored in ClickHouse, where `dlq list` reads them

    code, output = cli(stack, "dlq", "list", "--province", "80", "--format", "json")
    assert code == 0, output
    rows = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    rows = [r for r in rows if r["source"]["offset"] in offsets]  # other tests may use 80 too
    assert [(r["reason"], r["source"]["offset"], r["source"]["key"]) for r in rows] == [
        ("malformed_json", offsets[0], "k-broken"),
        ("unknown_schema", offsets[1], "k-v2"),
    ]
    assert rows[0]["payload"] == "{broken"

    code, output = cli(
        stack, "dlq", "list", "--province", "80", "--reason", "unknown_schema", "--format", "json"
    )
    mine = [orjson.loads(x) for x in output.splitlines()]
    assert [r["reason"] for r in mine if r["source"]["offset"] in offsets] == ["unknown_schema"]
    assert {r["reason"] for r in mine} == {"unknown_schema"}

    code, output = cli(stack, "dlq", "list", "--province", "80", "--since", "2999-01-01")
    assert code == 0
    assert "0 of" in output

    code, output = cli(stack, "dlq", "list", "--province", "80", "--since", "1h", "--limit", "1")
    assert code == 0, output
    assert "unknown_schema" in output
    assert "malformed_json" not in output  # the most recent one only
    assert "cchc.dlq: 1 of " in output


def test_dlq_replay_sends_the_original_bytes_and_key_back(stack: RunningStack) -> None:
    # An envelope as an older, buggier ingest might have written for a valid event: after the
    # fix, replaying it lets it through.
    event = dumps(report("cli-replay-1", province="Tiền Giang"))
    letter = dlq.dead_letter(
        stage="ingest",
        reason=Reason.UNKNOWN_PROVINCE,
        errors=[ErrorDetail(loc="province", msg="(a bug since fixed)")],
        topic="cchc.raw.82",
        partition=0,
        offset=999_999,
        key=b"cli-replay-1",
        payload=event,
    )
    # And a non-UTF-8 message with a non-UTF-8 key, which ingest rejects for real.
    (latin1_offset,) = send(stack, "cchc.raw.82", [b'{"province": "Ti\xeen Giang"}'], [b"\xfe"])
    original = wait_letters(stack, "cchc.raw.82", [latin1_offset])[latin1_offset]
    (dlq_ref,) = [
        f"{m.partition}:{m.offset}"
        for m in [stack.producer().send("cchc.dlq", dlq.encode(letter), b"k").get(timeout=10)]
    ]
    stack.drained()

    code, output = cli(stack, "dlq", "replay", "--offset", dlq_ref, "--dry-run")
    assert code == 0, output
    assert "would replay 1 dead letter" in output
    assert stack.sql("SELECT count() FROM observations WHERE event_id = 'cli-replay-1'") == [[0]]

    code, output = cli(stack, "dlq", "replay", "--offset", dlq_ref)
    assert code == 0, output
    assert f"replayed cchc.dlq {dlq_ref} (unknown_province) → cchc.raw.82" in output
    wait_until(
        lambda: (
            stack.sql("SELECT unit_key FROM observations FINAL WHERE event_id = 'cli-replay-1'")
            == [["2004:82"]]
        )
    )

    code, output = cli(
        stack,
        "dlq",
        "replay",
        "--province",
        "82",
        "--reason",
        "malformed_json",
        "--stage",
        "ingest",
    )
    assert code == 0, output
    assert "replayed 1 dead letter" in output
    # The same bytes and key arrive again on cchc.raw.82, and are dead-lettered again.
    stack.drained()
    again = wait_until(
        lambda: [
            x
            for o, xs in letters_from(stack, "cchc.raw.82").items()
            if o != latin1_offset
            for x in xs
            if x.reason == "malformed_json"
        ]
    )
    assert [x.original_bytes() for x in again] == [original.original_bytes()]
    assert [x.source.original_key() for x in again] == [b"\xfe"]


def test_dlq_replay_needs_a_selection(stack: RunningStack) -> None:
    code, output = cli(stack, "dlq", "replay")
    assert code == 2
    assert "choose what to replay" in output
