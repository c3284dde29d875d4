"""Output's partitioner puts a key where Kafka's own clients would (murmur2, Java-compatible)."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from cchc_runtime.kafka import _partition_of
from hypothesis import given
from hypothesis import strategies as st


@given(key=st.binary(min_size=0, max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_keyed_partition_matches_the_default_partitioner(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert _partition_of(key, partitions) == DefaultPartitioner()(key, every, every)


def test_unkeyed_messages_spread_over_all_partitions() -> None:
    assert {_partition_of(None, 4) for _ in range(8)} == {0, 1, 2, 3}
