"""ingest's settings (env prefix CCHC_INGEST_)."""

from __future__ import annotations

from cchc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class IngestSettings(ServiceSettings):
    """HTTP bind address and port for /healthz, /readyz, /metrics."""

    model_config = SettingsConfigDict(env_prefix="CCHC_INGEST_", frozen=True)

    port: int = 8081
    group_id: str = "cchc-ingest"
