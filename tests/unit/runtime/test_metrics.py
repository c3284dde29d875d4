"""observe_many: one update per bucket, the same histogram as observe() per amount."""

from __future__ import annotations

from cchc_runtime.metrics import observe_many
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)


def _samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    return {
        (s.name, s.labels.get("le", "")): s.value
        for metric in registry.collect()
        for s in metric.samples
        if not s.name.endswith("_created")
    }


@given(st.lists(st.floats(min_value=0, max_value=100) | st.sampled_from(BUCKETS), max_size=60))
def test_same_as_observe_each(amounts: list[float]) -> None:
    one, many = CollectorRegistry(), CollectorRegistry()
    each = Histogram("lat", "d", ["service"], buckets=BUCKETS, registry=one)
    bulk = Histogram("lat", "d", ["service"], buckets=BUCKETS, registry=many)
    child = each.labels(service="a")
    for amount in amounts:
        child.observe(amount)
    observe_many(bulk.labels(service="a"), amounts)
    expected, got = _samples(one), _samples(many)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) <= 1e-9 * max(1.0, abs(value)), key
