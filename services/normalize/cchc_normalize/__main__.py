"""`python -m cchc_normalize`: run the normalize service."""

from __future__ import annotations

from cchc_runtime import logs
from cchc_runtime.metrics import ServiceMetrics
from cchc_runtime.service import KafkaService, http_app, serve
from cchc_shared.catalogue import Catalogue
from cchc_shared.provinces import ProvinceRegistry
from cchc_shared.settings import KafkaSettings
from cchc_shared.topics import Topic

from cchc_normalize.handler import NormalizeHandler
from cchc_normalize.settings import NormalizeSettings
from cchc_normalize.steps.canonicalize import Reference


def main() -> None:
    """Load and validate reference data, wire the service, serve until SIGINT/SIGTERM."""
    settings, kafka = NormalizeSettings(), KafkaSettings()
    logs.configure("normalize", settings.log_level, settings.log_format)
    reference = Reference(ProvinceRegistry.load(), Catalogue.load())
    service = KafkaService(
        "normalize", kafka, [Topic.VALIDATED], settings.group_id, ServiceMetrics.create("normalize")
    )
    service.handle(NormalizeHandler(service, reference))
    serve(http_app(service), settings.host, settings.port)


if __name__ == "__main__":
    main()
