"""A TCP proxy in front of the embedded broker, to take the broker off the network and put it
back without restarting it (memory-only: a restart would lose every topic).

`cut()` closes the listening socket and every connection through it: clients see the broker
unreachable (connection refused), exactly as when its host or network goes away. `restore()`
listens on the same port again. The broker advertises the proxy's address, so every client —
bootstrap and partition leaders alike — goes through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future


class BrokerProxy:
    """Forwards `listen_host:listen_port` to `target_host:target_port` in a thread of its own."""

    def __init__(self, listen_host: str, listen_port: int, target_host: str, target_port: int):
        self.listen = (listen_host, listen_port)
        self.target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="broker-proxy")
        self._thread.daemon = True
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.cuts = 0

    def start(self) -> None:
        """Start forwarding."""
        self._thread.start()
        self._call(self._open())

    def cut(self) -> None:
        """Stop listening and drop every connection: the broker is unreachable."""
        self._call(self._close())
        self.cuts += 1

    def restore(self) -> None:
        """Listen again: the broker is reachable again (same port, same broker, same data)."""
        self._call(self._open())

    @property
    def is_cut(self) -> bool:
        """Whether the broker is unreachable now."""
        return self._server is None

    def stop(self) -> None:
        """Close everything and end the thread."""
        if self._thread.is_alive():
            self._call(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    # -- in the proxy's loop --------------------------------------------------------------------

    def _call(self, coro: object) -> None:
        future: Future[None] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        future.result(10)

    async def _open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, *self.listen, reuse_address=True)

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._server is None:
            client_w.transport.abort()
            return
        try:
            broker_r, broker_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers |= {client_w, broker_w}
        try:
            await asyncio.gather(self._pipe(client_r, broker_w), self._pipe(broker_r, client_w))
        finally:
            for w in (client_w, broker_w):
                self._writers.discard(w)
                w.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ConnectionError):
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
