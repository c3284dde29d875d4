"""Output's partitioner puts a key where Kafka's own clients would (murmur2, Java-compatible)."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as reference_murmur2
from cchc_runtime.producer import _partition_of, murmur2
from hypothesis import given
from hypothesis import strategies as st


@given(key=st.binary(min_size=0, max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_keyed_partition_matches_the_default_partitioner(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert _partition_of(key, partitions) == DefaultPartitioner()(key, every, every)


def test_unkeyed_messages_spread_over_all_partitions() -> None:
    assert {_partition_of(None, 4) for _ in range(8)} == {0, 1, 2, 3}


@given(key=st.binary(min_size=0, max_size=600))
def test_murmur2_equals_the_kafka_clients_murmur2(key: bytes) -> None:
    # Up to 600 bytes: past the precompiled word unpackers (64 words) too.
    assert murmur2(key) == reference_murmur2(key)


def test_murmur2_matches_javas_known_values() -> None:
    # org.apache.kafka.common.utils.UtilsTest: murmur2 of these strings, as signed Java ints.
    known = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536}
    for data, java in known.items():
        assert murmur2(data) == java & 0xFFFFFFFF
