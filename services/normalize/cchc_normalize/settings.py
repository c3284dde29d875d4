"""normalize's settings (env prefix CCHC_NORMALIZE_)."""

from __future__ import annotations

from cchc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class NormalizeSettings(ServiceSettings):
    """HTTP bind address and port for /healthz, /readyz, /metrics."""

    model_config = SettingsConfigDict(env_prefix="CCHC_NORMALIZE_", frozen=True)

    port: int = 8082
    group_id: str = "cchc-normalize"
