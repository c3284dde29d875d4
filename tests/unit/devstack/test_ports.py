"""Free ports for a stack beside another are chosen where no outgoing connection is handed one
meanwhile, and a port is known to be a process's own only when that process listens on it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cchc_devstack import ports
from cchc_devstack.ports import HOST

LISTENER = (
    "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
    "print(s.getsockname()[1], flush=True); sys.stdin.read()"
)


@pytest.mark.parametrize("size", [1, 6])
def test_free_ports_are_outside_the_kernels_ephemeral_range(size: int) -> None:
    low, high = ports.ephemeral_range()
    if low <= ports.LOWEST and high >= ports.HIGHEST:
        pytest.skip(f"the ephemeral range {low}-{high} covers every port free_port_block uses")
    for _ in range(100):
        base = ports.free_port_block(HOST, size)
        block = range(base, base + size)
        assert all(not low <= port <= high for port in block), (base, size, (low, high))
        assert all(ports.LOWEST <= port <= ports.HIGHEST for port in block)


def test_listens_tells_the_process_on_the_port_from_any_other() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", LISTENER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        assert ports.listens(child.pid, HOST, port)
        assert not ports.listens(os.getpid(), HOST, port)  # it answers there, but not us
        assert not ports.listens(child.pid, HOST, port + 1)
    finally:
        child.kill()
        child.wait()
    assert not ports.listens(child.pid, HOST, port)  # gone
