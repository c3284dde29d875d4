"""Dead letters you can trust (docs/security.md "Dead letters"): forged envelopes, sizes.

Each attack is run on the real stack (embedded broker, chDB, the three services): anyone who can
write `cchc.dlq` on the embedded broker can forge an envelope, so what a replay does with it must
not depend on the envelope being honest.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import orjson
import pytest
from cchc_cli.main import app
from cchc_runtime.kafka_read import read_topic
from cchc_runtime.tokens import Role
from cchc_shared import dlq
from cchc_shared.dlq import DeadLetter, ErrorDetail, Reason
from kafka import KafkaProducer
from typer.testing import CliRunner

from tests import events
from tests.conftest import RunningStack, free_port_block, wait_until
from tests.integration.ingest_support import letters_from, send, wait_letters


def _cli(stack: RunningStack, *args: str) -> tuple[int, str]:
    """`cchc dlq replay …` against the stack, with its operator token."""
    env = {"CCHC_TOKEN": stack.stack.tokens[Role.OPERATOR]}
    argv = [*args, "--bootstrap", stack.bootstrap, "--api", stack.api]
    result = CliRunner().invoke(app, argv, env=env)
    return result.exit_code, result.output


def _forge(stack: RunningStack, topic: str, key: bytes | None, payload: bytes) -> str:
    """Write a forged envelope naming `topic` as its source; its `PARTITION:OFFSET` on cchc.dlq."""
    letter = dlq.dead_letter(
        stage="normalize",
        reason=Reason.BAD_NUMBER,
        errors=[ErrorDetail(loc="value", msg="forged")],
        topic=topic,
        partition=0,
        offset=123_456,
        key=key,
        payload=payload,
    )
    meta = stack.producer().send("cchc.dlq", dlq.encode(letter), key).get(timeout=10)
    stack.drained()  # stored in ClickHouse, where `dlq replay` reads it
    return f"{meta.partition}:{meta.offset}"


def _envelope(value: bytes) -> DeadLetter | None:
    try:
        return DeadLetter.model_validate_json(value)
    except ValueError:
        return None


def _duplicate_key_event(event_id: str) -> bytes:
    """A Sơn La report whose `value` appears twice: ingest refuses it (malformed_json)."""
    body = orjson.dumps(events.report(event_id=event_id, value="1.502"))
    return body[:-1] + b',"value":"9.999"}'


@pytest.mark.connected
def test_a_forged_letter_naming_cchc_validated_goes_through_ingest_again(
    stack: RunningStack,
) -> None:
    payload = _duplicate_key_event("sec-forged-validated")
    ref = _forge(stack, "cchc.validated", b"14", payload)
    code, output = _cli(stack, "dlq", "replay", "--offset", ref)
    assert code == 0, output
    assert "→ cchc.raw.14" in output
    # Ingest sees it on the province's raw topic and refuses it again: never stored.
    again = wait_until(
        lambda: [
            x
            for xs in letters_from(stack, "cchc.raw.14").values()
            for x in xs
            if x.original_bytes() == payload
        ]
    )
    assert {x.reason for x in again} == {Reason.MALFORMED_JSON}
    stack.drained()
    rows = stack.sql("SELECT count() FROM observations WHERE event_id = 'sec-forged-validated'")
    assert rows == [[0]]


@pytest.mark.connected
@pytest.mark.parametrize(
    ("topic", "key"),
    [
        ("cchc.normalized", b"14"),
        ("cchc.dlq", b"14"),
        ("cchc.validated", b"99"),  # no such 2025 province
        ("cchc.validated", None),
        ("cchc.raw.99", None),
        ("cchc.raw.1", None),
        ("other.topic", None),
        ("cchc.raw.14.extra", None),
    ],
)
def test_a_forged_letter_naming_any_other_source_is_refused(
    stack: RunningStack, topic: str, key: bytes | None
) -> None:
    event_id = f"sec-forged-{topic}-{key!r}".replace(".", "-").replace("'", "")
    payload = orjson.dumps(events.report(event_id=event_id))
    ref = _forge(stack, topic, key, payload)
    code, output = _cli(stack, "dlq", "replay", "--offset", ref)
    assert code == 0, output
    assert f"refused cchc.dlq {ref}" in output, output
    assert "replayed 0 dead letter(s)" in output
    stack.drained()
    assert stack.sql(f"SELECT count() FROM observations WHERE event_id = '{event_id}'") == [[0]]


@pytest.mark.connected
@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(bytes(range(32)) * 6_400, id="200KB-of-control-characters"),
        pytest.param(b"\x01" * 2_000_000, id="2MB-of-control-characters"),
        pytest.param(b"x" * 2_000_000, id="2MB"),
    ],
)
def test_a_huge_or_hostile_message_gives_an_envelope_under_1_mib(
    stack: RunningStack, payload: bytes
) -> None:
    topic = "cchc.raw.79"  # nothing else in the tests writes there
    producer = KafkaProducer(
        bootstrap_servers=stack.bootstrap, acks="all", max_request_size=8 * 1024 * 1024
    )
    try:
        offset = producer.send(topic, payload, key=b"big").get(timeout=30).offset
    finally:
        producer.close()

    def envelope() -> bytes | None:
        for record in read_topic(stack.bootstrap, "cchc.dlq"):
            letter = _envelope(record.value)
            if letter is not None and (letter.source.topic, letter.source.offset) == (
                topic,
                offset,
            ):
                return record.value
        return None

    raw = wait_until(envelope, timeout_s=60)
    assert len(raw) < 1024 * 1024
    letter = DeadLetter.model_validate_json(raw)
    assert letter.reason == Reason.OVERSIZED
    assert letter.payload_truncated
    assert letter.payload_bytes == len(payload)
    assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest()
    # The pipeline goes on: a good event from another province behind it is stored.
    event_id = f"sec-after-big-{offset}-{len(payload)}"
    stack.send("cchc.raw.14", [orjson.dumps(events.report(event_id=event_id))])
    wait_until(
        lambda: (
            stack.sql(f"SELECT count() FROM observations WHERE event_id = '{event_id}'") == [[1]]
        ),
        timeout_s=60,
    )


def _stored(stack: RunningStack, **params: str | int) -> dict[str, Any]:
    r = httpx.get(
        f"{stack.api}/v1/dead-letters",
        params={"limit": 1000, **params},
        headers=stack.headers(Role.OPERATOR),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.connected
def test_dead_letters_land_in_clickhouse_by_province_and_reason(stack: RunningStack) -> None:
    (offset,) = send(stack, "cchc.raw.96", [b"{not json"], [b"k-96"])
    wait_letters(stack, "cchc.raw.96", [offset])
    stack.drained()
    rows = [
        r
        for r in _stored(stack, province="96", reason="malformed_json")["rows"]
        if r["source"]["offset"] == offset
    ]
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["stage"], row["province"], row["source"]["topic"]) == (
        "ingest",
        "96",
        "cchc.raw.96",
    )
    assert (row["payload"], row["payload_bytes"], row["payload_truncated"]) == (
        "{not json",
        9,
        False,
    )
    assert row["payload_sha256"] == hashlib.sha256(b"{not json").hexdigest()
    assert row["errors"][0]["loc"] == "$"
    # stored once, though aggregate may read cchc.dlq again after a restart
    assert _stored(stack, ref=f"{row['dlq_partition']}:{row['dlq_offset']}")["matched"] == 1


@pytest.mark.connected
def test_an_unreadable_or_forged_huge_record_on_the_dlq_is_stored_bounded_never_looped(
    stack: RunningStack,
) -> None:
    huge = orjson.dumps(
        {
            "stage": "ingest",
            "reason": "oversized",
            "errors": [{"loc": "$" * 5000, "msg": "\x00" * 50_000}] * 50,
            "source": {"topic": "cchc.raw.77", "partition": 0, "offset": 5, "key": None},
            "payload": "\x00" * 2_000_000,
            "rejected_at": "2026-01-01T00:00:00Z",
        }
    )
    producer = KafkaProducer(
        bootstrap_servers=stack.bootstrap, acks="all", max_request_size=32 * 1024 * 1024
    )
    try:
        garbage = producer.send("cchc.dlq", b"\xff not an envelope", key=b"g").get(timeout=30)
        forged = producer.send("cchc.dlq", huge, key=b"h").get(timeout=30)
        out_of_range = producer.send(
            "cchc.dlq", huge.replace(b'"offset":5', b'"offset":' + b"9" * 40), key=b"h"
        ).get(timeout=30)
    finally:
        producer.close()
    stack.drained()
    ref = f"{garbage.partition}:{garbage.offset}"
    (unreadable,) = _stored(stack, ref=ref, stage="unreadable")["rows"]
    assert unreadable["reason"] == "unreadable"
    assert unreadable["payload_encoding"] == "base64"
    (big,) = _stored(stack, ref=f"{forged.partition}:{forged.offset}")["rows"]
    assert big["payload_truncated"]
    assert len(big["payload"]) <= 64 * 1024
    assert big["payload_bytes"] == 2_000_000
    assert len(big["errors"]) <= 16
    assert all(len(e["msg"]) <= 1024 for e in big["errors"])
    (wild,) = _stored(stack, ref=f"{out_of_range.partition}:{out_of_range.offset}")["rows"]
    assert wild["stage"] == "unreadable"
    # Nothing read from cchc.dlq is ever dead-lettered again (by aggregate, which reads it).
    loops = [
        letter
        for letter in (_envelope(r.value) for r in read_topic(stack.bootstrap, "cchc.dlq"))
        if letter is not None and (letter.stage, letter.source.topic) == ("aggregate", "cchc.dlq")
    ]
    assert loops == []
    stack.drained()  # aggregate keeps up: nothing stalls on them


@pytest.mark.connected
def test_replay_refuses_what_it_cannot_send_whole(stack: RunningStack) -> None:
    big = b'{"schema": "cchc.indicator_report/1", "pad": "' + b"x" * 100_000 + b'"}'
    (offset,) = send(stack, "cchc.raw.92", [big], [b"big"])
    wait_letters(stack, "cchc.raw.92", [offset])
    stack.drained()
    (row,) = [
        r
        for r in _stored(stack, province="92", reason="oversized")["rows"]
        if r["source"]["offset"] == offset
    ]
    producer = stack.producer()
    garbage = producer.send("cchc.dlq", b"garbage", key=b"g").get(timeout=10)
    producer.close()
    stack.drained()
    refs = [f"{row['dlq_partition']}:{row['dlq_offset']}", f"{garbage.partition}:{garbage.offset}"]
    code, output = _cli(stack, "dlq", "replay", "--offset", refs[0], "--offset", refs[1])
    assert code == 0, output
    assert f"refused cchc.dlq {refs[0]}: a truncated payload" in output
    assert f"refused cchc.dlq {refs[1]}: not a dead-letter envelope" in output
    assert "replayed 0 dead letter(s), refused 2" in output


@pytest.mark.connected
def test_replay_with_the_broker_unreachable_is_one_line_of_error(stack: RunningStack) -> None:
    payload = orjson.dumps(events.report(event_id="sec-replay-no-broker"))
    ref = _forge(stack, "cchc.raw.14", b"k", payload)
    closed = f"127.0.0.1:{free_port_block(1)}"
    env = {"CCHC_TOKEN": stack.stack.tokens[Role.OPERATOR]}
    argv = ["dlq", "replay", "--offset", ref, "--api", stack.api, "--bootstrap", closed]
    result = CliRunner().invoke(app, argv, env=env)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]], result.output
    assert lines[0].startswith(f"error: cannot reach Kafka at {closed}")


@pytest.mark.connected
def test_the_embedded_broker_does_not_enforce_max_message_bytes(stack: RunningStack) -> None:
    """Why the refusal path (docs/runbook.md "A dead-letter publish is refused") is proven with
    tests/fakes.py's RecordingOutput and not here: Tansu accepts a message larger than the
    topic's `max.message.bytes`, so it never answers MessageSizeTooLargeError. If this starts
    failing, Tansu enforces the limit and a real-broker test of the refusal becomes possible."""
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"test.small.{free_port_block(1)}"
    admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "1000"})])
    finally:
        admin.close()
    producer = KafkaProducer(
        bootstrap_servers=stack.bootstrap, acks="all", max_request_size=4_000_000
    )
    try:
        meta = producer.send(topic, b"x" * 100_000).get(timeout=30)
    finally:
        producer.close()
    assert meta.offset == 0
