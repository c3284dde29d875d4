"""`python -m cchc_normalize`: run the normalize service."""

from __future__ import annotations

import logging

from cchc_runtime import logs
from cchc_runtime.http import http_app, serve
from cchc_runtime.metrics import CoreMetrics
from cchc_runtime.processor import kafka_processor
from cchc_shared.dlq import STAGE_REASONS
from cchc_shared.settings import KafkaSettings
from cchc_shared.topics import Topic

from cchc_normalize.settings import NormalizeSettings
from cchc_normalize.stage import SERVICE, NormalizeStage
from cchc_normalize.steps.canonicalize import Reference

log = logging.getLogger("cchc_normalize")

EXIT_BAD_REFERENCE_DATA = 2
"""Exit status when the reference data (provinces, catalogue, units) does not load."""


def load_reference() -> Reference:
    """Load and validate the reference data, or log why not and exit with status 2.

    Fail fast: a service running on broken reference data would dead-letter (or, worse,
    misfile) every message. The loaders raise ``ValueError`` naming the file and line; anything
    else (a missing or unreadable file) is reported the same way.
    """
    try:
        return Reference.load()
    except Exception as exc:
        log.critical("reference data is invalid, not starting: %s", exc)
        raise SystemExit(EXIT_BAD_REFERENCE_DATA) from exc


def main() -> None:
    """Load and validate reference data, wire the stage to its topic, serve until stopped."""
    settings, kafka = NormalizeSettings(), KafkaSettings()
    logs.configure(SERVICE, settings.log_level, settings.log_format)
    reference = load_reference()
    metrics = CoreMetrics.create(
        SERVICE,
        restarts=settings.restarts,
        reasons=STAGE_REASONS[SERVICE],
        instance=settings.instance,
    )
    processor = kafka_processor(
        SERVICE, kafka, [Topic.VALIDATED], settings.group_id, NormalizeStage(reference), metrics
    )
    serve(http_app(processor), processor, settings.host, settings.port)


if __name__ == "__main__":
    main()
