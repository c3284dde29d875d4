"""Whatever bytes a province pushes, ingest accepts or dead-letters each message exactly once.

Hypothesis draws the messages (random bytes, random JSON, valid events, valid events with one
field broken); they go to cchc.raw.96 (Cà Mau, used by no other test) in a single push, and the
service's decisions are compared with the validate step's, message by message.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cchc_ingest.steps.validate import Accepted, validate
from cchc_shared.provinces import default_registry
from hypothesis import strategies as st

from tests.conftest import RunningStack, wait_until
from tests.events import examples
from tests.integration.ingest_support import (
    letters_from,
    metric,
    report,
    send,
    validated_payloads,
)

pytestmark = pytest.mark.connected

TOPIC, PROVINCE = "cchc.raw.96", "96"
CA_MAU = {"province": "Cà Mau", "period": "2017-Q1"}

# Integers within 64 bits: JSON itself has no bound, but orjson (which serialises the test's
# events) refuses larger ones, and the test would fail before anything reached ingest.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
event_ids = st.from_regex(r"\Aprop-[A-Za-z0-9._:-]{1,40}\Z")


@st.composite
def valid_events(draw: st.DrawFn) -> bytes:
    return orjson.dumps(report(draw(event_ids), **CA_MAU, value=draw(st.integers(0, 10**6))))


@st.composite
def broken_events(draw: st.DrawFn) -> bytes:
    event: dict[str, Any] = report(draw(event_ids), **CA_MAU)
    # Not event_id: other suites' DLQ readers index by it (a list there is unhashable).
    field = draw(st.sampled_from([*(k for k in event if k != "event_id"), "extra", "rank"]))
    event[field] = draw(json_values)
    return orjson.dumps(event)


messages = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100).map(str.encode),
    json_values.map(orjson.dumps),
    valid_events(),
    broken_events(),
)


def test_every_message_is_accepted_or_dead_lettered_once(stack: RunningStack) -> None:
    payloads = examples(messages, 50)
    registry = default_registry()
    expected = [validate(p, PROVINCE, registry) for p in payloads]
    ingest = stack.stack.services["ingest"]
    assert ingest.proc is not None
    pid = ingest.proc.pid
    stack.drained()
    validated_before = len(validated_payloads(stack, PROVINCE))
    consumed_before = metric(stack, "cchc_messages_consumed_total")
    done_before = metric(stack, "cchc_messages_accepted_total") + metric(
        stack, "cchc_messages_dead_lettered_total"
    )

    offsets = send(stack, TOPIC, payloads)
    wait_until(
        lambda: metric(stack, "cchc_messages_consumed_total") - consumed_before >= len(payloads)
    )
    stack.drained()

    # Every rejected message: exactly one envelope, with the reason the step gives.
    rejected = {o: e for o, e in zip(offsets, expected, strict=True) if not isinstance(e, Accepted)}
    letters = wait_until(
        lambda: (
            (found := letters_from(stack, TOPIC)) and all(o in found for o in rejected) and found
        )
    )
    for offset, result in rejected.items():
        assert [letter.reason for letter in letters[offset]] == [result.reason], payloads[
            offsets.index(offset)
        ]
    accepted = [p for p, e in zip(payloads, expected, strict=True) if isinstance(e, Accepted)]
    assert not any(o in letters for o in offsets if o not in rejected)
    # Every accepted message: forwarded once, byte for byte.
    forwarded = (
        wait_until(
            lambda: (
                (f := validated_payloads(stack, PROVINCE)[validated_before:])
                and len(f) >= len(accepted)
                and f
            )
        )
        if accepted
        else []
    )
    assert sorted(forwarded) == sorted(accepted)
    # Count in = count accepted + count dead-lettered, and the service never crashed.
    assert metric(stack, "cchc_messages_consumed_total") - consumed_before == len(payloads)
    done = metric(stack, "cchc_messages_accepted_total") + metric(
        stack, "cchc_messages_dead_lettered_total"
    )
    assert done - done_before == len(payloads)
    assert ingest.proc.pid == pid
    assert ingest.proc.poll() is None
