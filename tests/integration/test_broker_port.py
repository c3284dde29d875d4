"""The broker on a port another process holds — taken before the start, or between finding it
free and binding it — fails the start clearly: the stack never creates its topics on, nor reports
ready against, a listener that is not its own broker (Tansu, unable to bind, exits with status 0
while the other listener goes on accepting connections)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cchc_devstack import broker
from cchc_devstack.ports import HOST, PortTaken
from cchc_devstack.stack import Stack, StackConfig
from cchc_devstack.supervisor import Managed
from kafka import KafkaAdminClient

from tests.conftest import free_port_block

pytestmark = pytest.mark.connected


@pytest.fixture
def listener() -> Iterator[int]:
    """A port another process holds: a plain listener that accepts and never answers."""
    with socket.socket() as held:
        held.bind((HOST, free_port_block(1)))
        held.listen()
        yield held.getsockname()[1]


@pytest.fixture
def connection() -> Iterator[int]:
    """A port an outgoing connection holds as its local port — what the kernel does with any
    port of its ephemeral range (32768–60999 here) for any connection on the machine."""
    with socket.socket() as server, socket.socket() as client:
        server.bind((HOST, 0))
        server.listen()
        client.bind((HOST, free_port_block(1)))
        client.connect(server.getsockname())
        yield client.getsockname()[1]


@pytest.fixture
def other_broker(tmp_path: Path) -> Iterator[Managed]:
    """Another stack's broker, on a port of its own."""
    other = broker.start(HOST, free_port_block(1), tmp_path / "other-broker.log")
    yield other
    other.stop(timeout_s=5)


@pytest.mark.parametrize("holder", ["listener", "connection"])
def test_a_port_taken_between_the_check_and_the_bind_fails_the_broker_start(
    holder: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    port = request.getfixturevalue(holder)
    # launch: as if the port had been found free just before the other process took it.
    with pytest.raises(PortTaken, match=f"{HOST}:{port}: another process took the port"):
        broker.launch(HOST, port, tmp_path / "broker.log")


def test_the_broker_is_ready_only_listening_itself(tmp_path: Path) -> None:
    port = free_port_block(1)
    started = broker.start(HOST, port, tmp_path / "broker.log")
    try:
        assert started.listens(HOST, port)
    finally:
        started.stop(timeout_s=5)


def test_a_stack_on_a_taken_kafka_port_fails_and_starts_nothing(
    listener: int, tmp_path: Path
) -> None:
    # (It used to take the listener for its broker and fail 30 s later in create_topics with
    # kafka-python's "Unable to bootstrap" — the error the demo fixture met.)
    config = StackConfig(data_dir=tmp_path, kafka_port=listener, api_port=free_port_block(3))
    stack = Stack(config, say=print)
    with pytest.raises(PortTaken, match=f"{HOST}:{listener} is in use"):
        stack.start(timeout_s=60)
    assert stack.services == {}
    assert stack.broker is None


def test_a_stack_on_another_brokers_port_leaves_that_broker_alone(
    other_broker: Managed, tmp_path: Path
) -> None:
    port = int(other_broker.argv[other_broker.argv.index("--listener-url") + 1].rsplit(":", 1)[1])
    config = StackConfig(data_dir=tmp_path, kafka_port=port, api_port=free_port_block(3))
    stack = Stack(config, say=print)
    with pytest.raises(PortTaken):
        stack.start(timeout_s=60)
    assert stack.services == {}
    admin = KafkaAdminClient(bootstrap_servers=f"{HOST}:{port}", client_id="test")
    try:
        assert admin.list_topics() == []  # no topic of the failed stack made on the other one
    finally:
        admin.close()
