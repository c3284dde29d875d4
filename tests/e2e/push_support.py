"""Helpers for the HTTPS push tests: province tokens, ingest's URL, high-water marks, letters."""

from __future__ import annotations

import base64
import itertools

import httpx
from cchc_devstack.stack import HOST
from cchc_runtime.kafka_read import fresh_highwater, groupless_consumer, partitions, read_topic
from cchc_runtime.tokens import Role, TokenStore
from cchc_shared.dlq import DeadLetter

from tests.conftest import RunningStack

_names = itertools.count(1)


def store(stack: RunningStack) -> TokenStore:
    """The stack's token store (aggregate and ingest read the same file)."""
    return TokenStore(stack.config.data_dir.resolve() / "secrets" / "tokens.json")


def province_token(stack: RunningStack, province: str) -> tuple[str, str]:
    """A new token for `province`: (name, secret)."""
    name = f"push-test-{province}-{next(_names)}"
    return name, store(stack).create(name, Role.PROVINCE, province=province)


def ingest_url(stack: RunningStack) -> str:
    """Base URL of ingest's HTTP side."""
    return f"http://{HOST}:{stack.config.ports()['ingest']}"


def post(stack: RunningStack, path: str, body: bytes, secret: str | None) -> httpx.Response:
    """POST a body to one of ingest's routes with a bearer token."""
    headers = {"Content-Type": "application/x-ndjson"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return httpx.post(f"{ingest_url(stack)}{path}", content=body, headers=headers, timeout=60)


def highwater(stack: RunningStack, topic: str) -> int:
    """Sum of the high-water marks of `topic`'s partitions, as a fetch reports them now."""
    consumer = groupless_consumer(stack.bootstrap, "push-test-hwm")
    try:
        tps = partitions(consumer, [topic])
        return sum(fresh_highwater(consumer, tps, {}, timeout_s=20).values())
    finally:
        consumer.close()


def dead_letters(stack: RunningStack) -> list[DeadLetter]:
    """Every envelope on cchc.dlq."""
    return [
        DeadLetter.model_validate_json(r.value) for r in read_topic(stack.bootstrap, "cchc.dlq")
    ]


def kept(letter: DeadLetter) -> bytes:
    """The payload bytes an envelope holds (all of them, or a bounded prefix of a long one)."""
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode("utf-8")


def letters_for(stack: RunningStack, lines: list[bytes]) -> dict[bytes, list[DeadLetter]]:
    """The dead letters of each of `lines` (matched by payload; a long one by its kept prefix)."""
    wanted = set(lines)
    long = [line for line in lines if len(line) > 32 * 1024]
    found: dict[bytes, list[DeadLetter]] = {}
    for letter in dead_letters(stack):
        payload = kept(letter)
        if payload in wanted:
            found.setdefault(payload, []).append(letter)
            continue
        for line in long:
            if len(payload) > 32 * 1024 and line.startswith(payload):
                found.setdefault(line, []).append(letter)
    return found
