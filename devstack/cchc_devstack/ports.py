"""Loopback ports: find free ones (for a stack beside another), tell which process listens on
one.

A port found free is only free until someone binds it: the broker or a service started on it
must be seen listening there itself (:func:`listens`), not merely "something answers" — another
process that took the port meanwhile would answer in its place.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

import psutil

HOST = "127.0.0.1"
"""Everything the embedded stack runs listens on loopback only."""

LOWEST, HIGHEST = 20_000, 60_000
"""Where :func:`free_port_block` looks (outside the kernel's ephemeral range within it)."""

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


class PortTaken(RuntimeError):
    """A process could not listen on its port: another process holds it."""


def ephemeral_range() -> tuple[int, int]:
    """The local ports the kernel hands to outgoing connections (Linux's
    ``ip_local_port_range``; IANA's 49152–65535 where it cannot be read)."""
    try:
        low, high = (int(n) for n in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        return 49_152, 65_535
    return low, high


def _spans(size: int) -> list[range]:
    """The bases p (p … p+size-1 within LOWEST–HIGHEST) clear of the ephemeral range."""
    low, high = ephemeral_range()
    spans = [range(LOWEST, min(HIGHEST, low - 1) - size + 2)]
    spans.append(range(max(LOWEST, high + 1), HIGHEST - size + 2))
    spans = [span for span in spans if len(span) > 0]
    return spans or [range(LOWEST, HIGHEST - size + 2)]


def free_port_block(host: str, size: int = 1) -> int:
    """A port p such that p … p+size-1 are all free on `host` (for stacks beside another).

    Never in the kernel's ephemeral range (32768–60999 on Linux by default): there any outgoing
    connection on the machine may be given the port between this check and the bind, and the
    broker, unable to bind, exits.
    """
    spans = _spans(size)
    for _ in range(200):
        span = random.choices(spans, weights=[len(s) for s in spans])[0]
        base = random.choice(span)
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


def listens(pid: int, host: str, port: int) -> bool:
    """True when process `pid` itself listens on host:port (on that address or on all)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(
        c.status == psutil.CONN_LISTEN
        and c.laddr
        and c.laddr.port == port
        and c.laddr.ip in (host, "0.0.0.0", "::")
        for c in connections
    )
