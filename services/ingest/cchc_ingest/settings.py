"""ingest's settings (env prefix CCHC_INGEST_)."""

from __future__ import annotations

from pathlib import Path

from cchc_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cchc_ingest.steps.dlq_limit import DlqLimit


class IngestSettings(ServiceSettings):
    """HTTP bind address and port (health, metrics, the provinces' HTTPS push); the token store;
    the push's body limit; the dead-letter limit."""

    model_config = SettingsConfigDict(env_prefix="CCHC_INGEST_", frozen=True)

    port: int = 8081
    group_id: str = "cchc-ingest"
    data_dir: Path = Path("var")
    tokens_file: Path | None = Field(
        default=None,
        description="the API tokens store, shared with aggregate (province tokens push here); "
        "default <data_dir>/secrets/tokens.json",
    )
    push_max_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=64 * 1024,
        description="largest body POST /v1/events and /v1/validate accept (413 above it)",
    )
    push_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="how long POST /v1/events waits for Kafka's acknowledgement before a 503",
    )

    # Dead-letter limit per province (steps/dlq_limit.py): pause the province's raw topic when
    # more than `ratio` of its last `window` messages (once `min_sample` were seen) or more than
    # `consecutive` in a row were rejected; read it again after `cooldown_s`.
    dlq_limit_ratio: float = Field(default=0.5, ge=0, le=1, description="1 switches it off")
    dlq_limit_window: int = Field(default=1000, ge=1)
    dlq_limit_min_sample: int = Field(default=100, ge=1)
    dlq_limit_consecutive: int = Field(default=200, ge=0, description="0 switches it off")
    dlq_limit_cooldown_s: float = Field(default=60.0, gt=0)

    def tokens_path(self) -> Path:
        """Where the API tokens are stored."""
        return self.tokens_file or self.data_dir / "secrets" / "tokens.json"

    def dlq_limit(self) -> DlqLimit:
        """The limit these settings describe."""
        return DlqLimit(
            max_ratio=self.dlq_limit_ratio,
            window=self.dlq_limit_window,
            min_sample=min(self.dlq_limit_min_sample, self.dlq_limit_window),
            max_consecutive=self.dlq_limit_consecutive,
        )
