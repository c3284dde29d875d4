"""A service's HTTP side — /healthz, /readyz, /metrics — and the process that serves it.

The processor runs inside the app's lifespan: it starts with the server and, on SIGINT/SIGTERM,
finishes and commits its batch before the server exits. If the processor (or another part handed
to `serve`, such as aggregate's fold) stops on an error, the server is told to exit and the
process ends with status 1, so its supervisor restarts it.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cchc_runtime.processor import StreamProcessor

ReadyCheck = Callable[[], Awaitable[bool]]


def http_app(
    processor: StreamProcessor,
    app: FastAPI | None = None,
    ready_checks: tuple[ReadyCheck, ...] = (),
) -> FastAPI:
    """The service's HTTP app, running `processor` in its lifespan.

    Pass `app` to add these routes to an app that already has its own (aggregate's query API).
    `ready_checks`: further conditions for /readyz (e.g. ClickHouse reachable).
    """
    name, metrics = processor.name, processor.metrics

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await processor.start()
        try:
            yield
        finally:
            await processor.stop()

    if app is None:
        app = FastAPI(title=f"cchc {name}", lifespan=lifespan)
    else:
        app.router.lifespan_context = lifespan

    async def is_ready() -> bool:
        ready = processor.is_ready()
        for check in ready_checks:
            ready = ready and await check()
        metrics.ready.labels(service=name).set(1 if ready else 0)
        return ready

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok", "service": name}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Consuming, with every dependency reachable."""
        ready = await is_ready()
        return JSONResponse({"ready": ready, "service": name}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"])
    async def prometheus_metrics() -> Response:
        """Prometheus exposition (readiness refreshed at scrape time, so it is never stale)."""
        await is_ready()
        page = generate_latest(metrics.exposition())
        return Response(page, media_type=CONTENT_TYPE_LATEST)

    return app


def tune_gc(gen0_threshold: int = 50_000) -> None:
    """Make the cyclic garbage collector cheap for a stream of short-lived batches.

    Everything loaded so far (modules, pydantic schemas, reference data: hundreds of thousands
    of objects that live as long as the process) is frozen out of collection, and the youngest
    generation is collected every `gen0_threshold` allocations instead of 700: each batch
    allocates tens of thousands of objects, and every collection walked them all. Ingest
    draining a 1M-event backlog: 14.7–15.9 → 13.2 CPU seconds (measured), same memory.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


class Failing(Protocol):
    """A part of a service that can fail for good (the processor, aggregate's fold): it sets
    ``failure`` and calls ``on_failure``, from any thread."""

    failure: BaseException | None
    on_failure: Callable[[BaseException], None]


def serve(app: FastAPI, processor: StreamProcessor, host: str, port: int, *also: Failing) -> None:
    """Run the app with uvicorn until SIGINT/SIGTERM, or until the processor or one of `also`
    fails (exit 1, so the supervisor restarts the service)."""
    tune_gc()
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)

    def fail(_: BaseException) -> None:
        server.should_exit = True  # read by the server's loop: safe from another thread

    parts: tuple[Failing, ...] = (processor, *also)
    for part in parts:
        part.on_failure = fail
    if any(part.failure is not None for part in parts):  # failed before it could say so
        server.should_exit = True
    server.run()
    if any(part.failure is not None for part in parts):
        sys.exit(1)
