"""Settings every service shares. Built once in a service's `__main__`, then passed down."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How to reach Kafka, and the consumer timings that suit both Tansu and Apache Kafka."""

    model_config = SettingsConfigDict(env_prefix="CCHC_KAFKA_", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    # Tansu joins a group in about session_timeout/2: keep it short (docs/platform.md
    # "Embedded broker").
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=500, ge=100)
    max_records: int = Field(default=5000, ge=1, description="batch size cap")
    batch_timeout_ms: int = Field(default=200, ge=1, description="max wait to fill a batch")
    linger_ms: int = Field(default=5, ge=0)
    # How long a fetch may wait for data: every hop can add this much latency (Tansu may hold
    # a fetch this long), so it is short; an idle consumer then fetches ~20 times a second.
    fetch_max_wait_ms: int = Field(default=50, ge=1)
    gap_give_up_s: float = Field(
        default=30.0,
        gt=0,
        description="how long a consumer re-reads a hole in a partition's offsets before it "
        "goes on without the missing records (and says so: cchc_offset_gap_records_total)",
    )
    fetch_max_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="most bytes one fetch may return (Tansu applies this limit, not the "
        "per-partition one): bounds what a consumer buffers while it works through a backlog",
    )


class ServiceSettings(BaseSettings):
    """Base for each service's settings; subclasses set their own env prefix."""

    model_config = SettingsConfigDict(frozen=True)

    host: str = Field(default="127.0.0.1", description="bind address for HTTP (health, metrics)")
    port: int = Field(default=8081, ge=0, le=65535)
    log_format: str = Field(default="auto", pattern="^(auto|json|text)$")
    log_level: str = "INFO"
    restarts: int = Field(
        default=0, ge=0, description="set by the supervisor: how often it restarted this service"
    )
