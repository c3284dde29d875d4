"""`python -m cchc_ingest`: run the ingest service."""

from __future__ import annotations

from cchc_normalize.steps.canonicalize import Reference
from cchc_runtime import logs
from cchc_runtime.http import http_app, serve
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import kafka_processor
from cchc_shared.dlq import STAGE_REASONS
from cchc_shared.provinces import Era
from cchc_shared.settings import KafkaSettings
from cchc_shared.topics import raw_topics

from cchc_ingest.api import Border, create_app
from cchc_ingest.settings import IngestSettings
from cchc_ingest.stage import SERVICE, IngestMetrics, IngestStage


def main() -> None:
    """Build settings once, wire the stage to its topics, serve until SIGINT/SIGTERM."""
    settings, kafka = IngestSettings(), KafkaSettings()
    logs.configure(SERVICE, settings.log_level, settings.log_format)
    # Normalize's reference data too: the dry run (POST /v1/validate) applies its checks.
    reference = Reference.load()
    registry = reference.provinces
    metrics = CoreMetrics.create(
        SERVICE,
        restarts=settings.restarts,
        reasons=STAGE_REASONS[SERVICE],
        instance=settings.instance,
    )
    stage = IngestStage(
        registry,
        IngestMetrics.create(metrics.registry),
        settings.dlq_limit(),
        cooldown_s=settings.dlq_limit_cooldown_s,
    )
    topics = raw_topics(u.code for u in registry.units(Era.POST_2025))
    processor = kafka_processor(SERVICE, kafka, topics, settings.group_id, stage, metrics)
    # The push shares the stage (the dead-letter limit's state) and the processor's producer.
    border = Border(stage, processor.output, metrics, reference, timeout_s=settings.push_timeout_s)
    app = create_app(border, settings)
    serve(http_app(processor, app), processor, settings.host, settings.port)


if __name__ == "__main__":
    main()
