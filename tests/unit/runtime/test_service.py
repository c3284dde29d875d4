"""The batch wiring of a service, in memory (FastStream's TestKafkaBroker): unit level only.

Delivery guarantees are proven against the real broker in tests/e2e and tests/integration.
"""

from __future__ import annotations

import orjson
import pytest
from cchc_ingest.handler import IngestHandler
from cchc_runtime.kafka import Record, dedup_token
from cchc_runtime.metrics import ServiceMetrics
from cchc_runtime.service import KafkaService
from cchc_shared.provinces import default_registry
from cchc_shared.settings import KafkaSettings
from faststream.kafka import TestKafkaBroker

from tests.fakes import RecordingOutput

GOOD = orjson.dumps(
    {
        "schema": "cchc.indicator_report/1",
        "event_id": "u-1",
        "province": "Sơn La",
        "indicator": "procedures.published",
        "period": "2017-Q1",
        "value": "1.502",
        "reported_at": "2017-03-28T09:00:00+07:00",
    }
)


def _ingest(output: RecordingOutput) -> KafkaService:
    service = KafkaService(
        "ingest", KafkaSettings(), ["cchc.raw.14"], "g", ServiceMetrics.create("ingest")
    )
    service.output = output  # type: ignore[assignment]
    service.handle(IngestHandler(service, default_registry()))
    return service


def _sample(service: KafkaService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, {"service": "ingest", **labels})
    return value or 0.0


async def test_batch_splits_into_validated_and_dead_letters() -> None:
    output = RecordingOutput()
    service = _ingest(output)
    async with TestKafkaBroker(service.broker) as broker:
        await broker.publish_batch(GOOD, b"{oops", topic="cchc.raw.14")
    topics = [m.topic for m in output.sent]
    assert topics == ["cchc.validated", "cchc.dlq"]
    assert output.sent[0][1] == b"14"  # keyed by the current province code
    assert output.sent[0][2] == GOOD  # forwarded unchanged
    letter = orjson.loads(output.sent[1][2])
    assert (letter["stage"], letter["reason"]) == ("ingest", "malformed_json")
    assert _sample(service, "cchc_messages_consumed_total") == 2
    assert _sample(service, "cchc_messages_accepted_total") == 1
    assert _sample(service, "cchc_messages_rejected_total", reason="malformed_json") == 1


async def test_output_failure_propagates_so_the_batch_is_not_committed() -> None:
    service = _ingest(RecordingOutput(fail=True))
    async with TestKafkaBroker(service.broker) as broker:
        with pytest.raises(ConnectionError):
            await broker.publish_batch(GOOD, topic="cchc.raw.14")
    assert _sample(service, "cchc_messages_accepted_total") == 0


def test_dedup_token_is_the_same_for_a_redelivered_batch_in_any_order() -> None:
    def rec(partition: int, offset: int) -> Record:
        return Record("cchc.normalized", partition, offset, None, b"", 0)

    first = [rec(0, 10), rec(0, 11), rec(1, 5)]
    assert dedup_token(first) == dedup_token(list(reversed(first)))
    assert dedup_token(first) == "cchc.normalized/0/10-11;cchc.normalized/1/5-5"
    assert dedup_token(first) != dedup_token([rec(0, 10), rec(0, 12), rec(1, 5)])


def test_tune_gc_freezes_what_is_loaded_and_collects_the_young_less_often() -> None:
    import gc

    from cchc_runtime.service import tune_gc

    before = gc.get_threshold()
    try:
        tune_gc(gen0_threshold=12_345)
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 10_000  # modules, schemas, reference data
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
