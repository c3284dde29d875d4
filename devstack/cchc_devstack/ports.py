"""Loopback ports: wait for a listener, find free ones (for a stack beside another)."""

from __future__ import annotations

import random
import socket
import time

HOST = "127.0.0.1"
"""Everything the embedded stack runs listens on loopback only."""


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    """Block until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listens on {host}:{port} after {timeout_s:.0f}s"
                ) from exc
            time.sleep(0.05)


def free_port_block(host: str, size: int = 1) -> int:
    """A port p such that p … p+size-1 are all free on `host` (for stacks beside another)."""
    for _ in range(200):
        base = random.randint(20_000, 60_000)
        if all(port_is_free(host, base + i) for i in range(size)):
            return base
    raise RuntimeError(f"no {size} free consecutive ports on {host}")


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port yet."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
