"""The HTTPS push's batches: per province, at most 1,000 lines, provinces interleaved."""

from __future__ import annotations

from cchc_bench.events import EventFactory, generate
from cchc_bench.https import BATCH_LINES, batches
from cchc_shared.catalogue import default_catalogue
from cchc_shared.provinces import default_registry
from cchc_shared.topics import raw_topic


def test_every_event_once_in_its_province_batch() -> None:
    messages = generate(EventFactory(default_registry(), default_catalogue(), "t", 1), 20_000)
    work = batches(messages)
    assert sum(b.lines for b in work) == len(messages)
    assert all(0 < b.lines <= BATCH_LINES for b in work)
    assert all(b.body.count(b"\n") == b.lines - 1 for b in work)
    sent = sorted(line for b in work for line in b.body.split(b"\n"))
    assert sent == sorted(v for _, _, v in messages)
    topic_of = {v: t for t, _, v in messages}
    for b in work:
        assert {topic_of[v] for v in b.body.split(b"\n")} == {raw_topic(b.province)}
    # Interleaved: the first batches are of different provinces.
    first = [b.province for b in work[:34]]
    assert len(set(first)) == 34
