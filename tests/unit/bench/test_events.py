"""The benchmark's events are valid, unique and routed to their province's topic."""

from __future__ import annotations

import itertools
from collections import Counter

import orjson
import pytest
from cchc_bench.events import EventFactory, count_kinds, generate
from cchc_bench.load import key_indices, split
from cchc_ingest.steps.validate import Accepted, validate
from cchc_normalize.steps.canonicalize import Reference, Rejected, canonicalize, vietnam_today
from cchc_shared.catalogue import default_catalogue
from cchc_shared.events import RAW_EVENT, DossierEvent, IndicatorReport
from cchc_shared.provinces import default_registry
from cchc_shared.topics import province_of_raw_topic


@pytest.fixture(scope="module")
def messages():
    factory = EventFactory(default_registry(), default_catalogue(), "t0", seed=3)
    return generate(factory, 3000)


def test_every_event_matches_the_raw_event_model(messages):
    for _, _, value in messages:
        RAW_EVENT.validate_json(value)


def test_every_event_passes_ingest_and_normalize(messages):
    registry = default_registry()
    reference = Reference.load()
    today = vietnam_today()
    for topic, _, value in messages:
        accepted = validate(value, province_of_raw_topic(topic), registry)
        assert isinstance(accepted, Accepted), accepted
        assert not isinstance(canonicalize(value, reference, today), Rejected)


def test_mix_is_ninety_percent_dossier_events(messages):
    reports, dossiers = count_kinds(messages)
    assert reports == 300
    assert dossiers == 2700
    kinds = Counter(type(RAW_EVENT.validate_json(v)) for _, _, v in messages)
    assert kinds == {IndicatorReport: 300, DossierEvent: 2700}


def test_event_ids_and_report_natural_keys_are_unique(messages):
    ids = [orjson.loads(v)["event_id"] for _, _, v in messages]
    assert len(set(ids)) == len(ids)
    keys = []
    for _, _, v in messages:
        e = orjson.loads(v)
        if e["schema"] == "cchc.indicator_report/1":
            province = default_registry().resolve(e["province"], vietnam_today())
            keys.append((e["indicator"], e["period"], province, e.get("level"), e.get("agency")))
    assert len(set(keys)) == len(keys)


def test_events_of_one_dossier_share_a_key_and_come_in_order(messages):
    by_key: dict[bytes | None, list[str]] = {}
    for _, key, value in messages:
        e = orjson.loads(value)
        if e["schema"] == "cchc.dossier_event/1":
            by_key.setdefault(key, []).append(e["status"])
    assert all(statuses[0] == "received" for statuses in by_key.values())


def test_generation_is_deterministic():
    def make():
        f = EventFactory(default_registry(), default_catalogue(), "t1", seed=5)
        return generate(f, 200)

    assert make() == make()


def test_workers_use_disjoint_natural_keys():
    first = set(itertools.islice(key_indices(100, 0, 3), 50))
    second = set(itertools.islice(key_indices(100, 1, 3), 50))
    assert not first & second


def test_split_is_even_and_complete():
    assert split(10, 3) == [4, 3, 3]
    assert sum(split(1_000_001, 4)) == 1_000_001
