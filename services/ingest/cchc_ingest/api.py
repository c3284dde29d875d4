"""Ingest's HTTP side for provincial systems: the HTTPS push and the dry run.

docs/contract.md "Province push", docs/security.md "Province push".

* ``POST /v1/events`` — a province token's events, JSON lines or a JSON array. Each line is
  checked with ingest's own `validate` step. The lines it rejects before the province check
  (``oversized``, ``malformed_json``, ``unknown_schema``, ``schema_violation``) are answered at
  once and dead-lettered here, in the envelope ingest writes (stage ``ingest``, source
  ``cchc.raw.NN`` at partition and offset -1: never stored on the raw topic); every other line
  is written to ``cchc.raw.NN`` of the token's province — no other topic is reachable — and from
  there flows exactly as a Kafka push: ingest's consumer validates it again, the province's
  authority included (an event naming another province is dead-lettered ``province_mismatch``),
  and the dead-letter limit sees it. The answer comes once Kafka acknowledged every write and
  dead letter (acks=all). A province paused by the dead-letter limit gets 429 with Retry-After.
* ``POST /v1/validate`` — the same body, every ingest and normalize check (`steps/dry_run.py`),
  nothing written.

Counting: an early reject counts as one message consumed and dead-lettered, with its reason,
exactly as the same bytes pushed over Kafka would; a queued line is counted when ingest's
consumer reads it. So a province's counts are the same whichever way it pushes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import orjson
from aiokafka.errors import KafkaError
from cchc_normalize.steps.canonicalize import Reference, vietnam_today
from cchc_runtime.auth import protect
from cchc_runtime.dlq import dead_letter
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.producer import Output
from cchc_runtime.records import Outgoing, Record
from cchc_runtime.tokens import Principal, TokenStore
from cchc_shared.dlq import Reason
from cchc_shared.events import DossierEvent, FeedbackEvent
from cchc_shared.hotpath import is_a
from cchc_shared.topics import Topic, raw_topic
from cchc_shared.validation import Rejected
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from cchc_ingest.access import ROLES
from cchc_ingest.settings import IngestSettings
from cchc_ingest.stage import SERVICE, IngestStage
from cchc_ingest.steps.body import BodyError, Line, split_body
from cchc_ingest.steps.dry_run import dry_run, explain
from cchc_ingest.steps.validate import Accepted, validate

log = logging.getLogger(__name__)

EARLY_REASONS = frozenset(
    {Reason.OVERSIZED, Reason.MALFORMED_JSON, Reason.UNKNOWN_SCHEMA, Reason.SCHEMA_VIOLATION}
)
"""What the push answers and dead-letters itself; the province check is left to the consumer."""

NOT_STORED = -1
"""Partition and offset in the envelope of a line the push refused: it never reached Kafka."""


class Unavailable(Exception):
    """Kafka did not acknowledge in time: nothing of the request may be counted as accepted."""


class Border:
    """The push and the dry run for one province at a time (the caller knows which)."""

    def __init__(
        self,
        stage: IngestStage,
        output: Output,
        metrics: CoreMetrics,
        reference: Reference,
        *,
        timeout_s: float = 30.0,
        today: Callable[[], date] = vietnam_today,
    ) -> None:
        """`stage`: the running IngestStage (its registry, and its dead-letter limit's state);
        `output`: the processor's producer (acks=all); `metrics`: the service's."""
        self.stage = stage
        self.output = output
        self.metrics = metrics
        self.reference = reference
        self.timeout_s = timeout_s
        self.today = today

    def retry_after(self, province: str) -> float | None:
        """Seconds until the province's cool-down ends, or None when it may push."""
        return self.stage.retry_after(province)

    def prepare(
        self, province: str, lines: Sequence[Line], now_ms: int
    ) -> tuple[list[Outgoing], list[dict[str, Any]], int]:
        """The messages to write (raw events, dead letters), the answer's results, accepted."""
        topic = raw_topic(province)
        registry = self.stage.registry
        out: list[Outgoing] = []
        results: list[dict[str, Any]] = []
        early = 0
        for number, payload in lines:
            verdict = validate(payload, province, registry)
            if isinstance(verdict, Rejected) and verdict.reason in EARLY_REASONS:
                record = Record(topic, NOT_STORED, NOT_STORED, None, payload, now_ms)
                reason, errors = verdict.reason, verdict.errors
                out.append(dead_letter(SERVICE, self.metrics, record, reason, errors))
                results.append(
                    {
                        "line": number,
                        "status": "rejected",
                        "reason": verdict.reason.value,
                        "errors": [e.model_dump() for e in verdict.errors],
                        **explain(reason),
                    }
                )
                early += 1
                continue
            out.append(Outgoing(topic, _key(payload, verdict), payload, now_ms))
            results.append({"line": number, "status": "queued", "reason": None, "errors": []})
        return out, results, len(lines) - early

    async def push(self, province: str, lines: Sequence[Line]) -> dict[str, Any]:
        """Write the lines (and the early rejects' dead letters); returns once Kafka has them."""
        out, results, accepted = self.prepare(province, lines, int(time.time() * 1000))
        try:
            if out:
                await asyncio.wait_for(self.output.send_all(out), self.timeout_s)
        except (KafkaError, TimeoutError) as exc:
            log.warning("push of province %s not acknowledged: %r", province, exc)
            raise Unavailable from exc
        rejected = len(lines) - accepted
        labels = {"service": SERVICE}
        if rejected:
            # As if consumed from Kafka and dead-lettered there (the queued ones are counted
            # when ingest's consumer reads them).
            self.metrics.consumed.labels(**labels).inc(rejected)
            self.metrics.dead_lettered.labels(**labels).inc(rejected)
            self.metrics.produced.labels(service=SERVICE, topic=Topic.DLQ).inc(rejected)
        if accepted:
            self.metrics.produced.labels(service=SERVICE, topic=raw_topic(province)).inc(accepted)
        return {"province": province, "accepted": accepted, "results": results}

    def dry_run(self, province: str, lines: Sequence[Line]) -> dict[str, Any]:
        """What would happen to each line; nothing is written."""
        today = self.today()
        verdicts = [(n, dry_run(p, province, self.reference, today)) for n, p in lines]
        accepted = sum(v.accepted for _, v in verdicts)
        return {
            "province": province,
            "accepted": accepted,
            "rejected": len(verdicts) - accepted,
            "results": [v.as_json(n) for n, v in verdicts],
        }


def _key(payload: bytes, verdict: Accepted | Rejected) -> bytes | None:
    """The raw message's key, as `cchc push` sets it: the dossier or feedback id, else the
    event id."""
    if isinstance(verdict, Accepted):
        event = verdict.event
        if is_a(event, DossierEvent):
            return event.dossier_id.encode()
        if is_a(event, FeedbackEvent):
            return event.feedback_id.encode()
        return event.event_id.encode()
    # Rejected for its province: the model passed, so it is an object with these as strings.
    data = orjson.loads(payload)
    key = data.get("dossier_id") or data.get("feedback_id") or data.get("event_id")
    return key.encode() if isinstance(key, str) else None


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (before it is read whole) when it is over `limit` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, error: str, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _json(answer: dict[str, Any]) -> Response:
    # orjson: a 1,000-line answer is encoded 20× faster than by the standard library.
    return Response(orjson.dumps(answer), media_type="application/json")


_BODY = {
    "requestBody": {
        "required": True,
        "description": "Events as JSON lines (one per line) or as one JSON array.",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


def create_app(border: Border, settings: IngestSettings) -> FastAPI:
    """Ingest's province routes, each behind its role (`access.ROLES`)."""
    app = FastAPI(
        title="CCHC Pipeline: province push",
        description='Provincial systems push events over HTTPS (docs/contract.md "Province '
        'push"). Every /v1 route needs `Authorization: Bearer <token>` of a province token '
        "(`cchc token create --province NN --name NAME`).",
        version="1",
    )
    limit = settings.push_max_bytes

    async def body_lines(request: Request) -> list[Line] | JSONResponse:
        try:
            body = await _read_body(request, limit)
        except _TooLarge:
            return _error(413, "payload_too_large", f"the body is over {limit} bytes: split it")
        try:
            return split_body(body)
        except BodyError as exc:
            return _error(400, "malformed_body", str(exc))

    def province_of(request: Request) -> str:
        principal: Principal = request.state.principal
        assert principal.province is not None  # Role.PROVINCE tokens always carry one
        return principal.province

    @app.post("/v1/events", tags=["provinces"], openapi_extra=_BODY)
    async def events(request: Request) -> Response:
        """Push events to the token's province: a result per line; 2xx once durable."""
        province = province_of(request)
        wait = border.retry_after(province)
        if wait is not None:
            return _error(
                429,
                "paused",
                f"province {province} sent too many rejected events and is paused by the "
                "dead-letter limit; retry later (read your dead letters first)",
                **{"Retry-After": str(math.ceil(wait))},
            )
        lines = await body_lines(request)
        if isinstance(lines, JSONResponse):
            return lines
        try:
            answer = await border.push(province, lines)
        except Unavailable:
            return _error(
                503,
                "unavailable",
                "Kafka did not acknowledge the events; nothing is confirmed: send the same "
                "body again (duplicates are never counted twice)",
                **{"Retry-After": "5"},
            )
        return _json(answer)

    @app.post("/v1/validate", tags=["provinces"], openapi_extra=_BODY)
    async def validate_events(request: Request) -> Response:
        """Every ingest and normalize check on each line; nothing is stored."""
        province = province_of(request)
        lines = await body_lines(request)
        if isinstance(lines, JSONResponse):
            return lines
        return _json(border.dry_run(province, lines))

    protect(
        app,
        TokenStore(settings.tokens_path()),
        ROLES,
        "A province token from `cchc token create --province NN --name NAME`.",
    )
    return app
