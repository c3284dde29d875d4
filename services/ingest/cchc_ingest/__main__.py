"""`python -m cchc_ingest`: run the ingest service."""

from __future__ import annotations

from cchc_runtime import logs
from cchc_runtime.metrics import ServiceMetrics
from cchc_runtime.service import KafkaService, http_app, serve
from cchc_shared.dlq import STAGE_REASONS
from cchc_shared.provinces import Era, ProvinceRegistry
from cchc_shared.settings import KafkaSettings
from cchc_shared.topics import raw_topics

from cchc_ingest.handler import IngestHandler
from cchc_ingest.settings import IngestSettings


def main() -> None:
    """Build settings once, wire the service, serve until SIGINT/SIGTERM."""
    settings, kafka = IngestSettings(), KafkaSettings()
    logs.configure("ingest", settings.log_level, settings.log_format)
    registry = ProvinceRegistry.load()
    topics = raw_topics(u.code for u in registry.units(Era.POST_2025))
    service = KafkaService(
        "ingest",
        kafka,
        topics,
        settings.group_id,
        ServiceMetrics.create(
            "ingest", restarts=settings.restarts, reasons=STAGE_REASONS["ingest"]
        ),
    )
    service.handle(
        IngestHandler(
            service, registry, settings.dlq_limit(), cooldown_s=settings.dlq_limit_cooldown_s
        )
    )
    serve(http_app(service), settings.host, settings.port)


if __name__ == "__main__":
    main()
