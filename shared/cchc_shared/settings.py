"""Settings every service shares. Built once in a service's `__main__`, then passed down."""

from __future__ import annotations

import socket
import ssl
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
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
    idempotence: bool = Field(
        default=False,
        description="idempotent producers (with acks=all): on for Apache Kafka "
        "(deploy/cluster sets it); the embedded broker answers aiokafka's InitProducerId with "
        'an error (docs/platform.md "Idempotent producers")',
    )
    # How long a fetch may wait for data: every hop can add this much latency (Tansu may hold
    # a fetch this long), so it is short; an idle consumer then fetches ~20 times a second.
    fetch_max_wait_ms: int = Field(default=50, ge=1)
    fetch_min_bytes: int = Field(
        default=1,
        ge=1,
        description="bytes a fetch waits for (at most fetch_max_wait_ms) before it returns",
    )
    rebalance_timeout_ms: int = Field(
        default=60_000,
        ge=1000,
        description="how long a rebalance waits for a member to finish the batch in hand "
        "(an outage retry is abandoned at once, so this bounds one ordinary batch)",
    )
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
    # Security (docs/security.md "Deployment: Kafka and ClickHouse access"). The embedded
    # broker is bound to 127.0.0.1 and speaks PLAINTEXT; docker-compose.yml gives each service
    # its own SCRAM principal on the internal listener (SASL_PLAINTEXT), provinces and remote
    # tools use SASL_SSL.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = Field(
        default=None, description="never logged: repr and dumps show it masked"
    )
    ssl_cafile: str | None = Field(
        default=None,
        description="PEM file of the CA that signed the broker's certificate (SSL, SASL_SSL); "
        "unset: the system's trusted CAs",
    )

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL_") and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs CCHC_KAFKA_SASL_USERNAME "
                "and CCHC_KAFKA_SASL_PASSWORD"
            )
        return self

    def _sasl(self) -> dict[str, Any]:
        if not self.security_protocol.startswith("SASL_"):
            return {}
        assert self.sasl_password is not None  # checked by the validator
        return {
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password.get_secret_value(),
        }

    def aiokafka_security(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka clients (AIOKafkaConsumer, AIOKafkaProducer, admin).

        Holds the password in clear: pass it to the client, never log it.
        """
        kwargs: dict[str, Any] = {"security_protocol": self.security_protocol, **self._sasl()}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            # What aiokafka.helpers.create_ssl_context does, without importing aiokafka here.
            kwargs["ssl_context"] = ssl.create_default_context(
                ssl.Purpose.SERVER_AUTH, cafile=self.ssl_cafile
            )
        return kwargs

    def kafka_python_security(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients (KafkaConsumer, KafkaProducer, admin).

        Holds the password in clear: pass it to the client, never log it.
        """
        kwargs: dict[str, Any] = {"security_protocol": self.security_protocol, **self._sasl()}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            kwargs["ssl_check_hostname"] = True
            if self.ssl_cafile:
                kwargs["ssl_cafile"] = self.ssl_cafile
        return kwargs


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
    instance: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        max_length=100,
        description="which instance of the service this process is (the `instance` label of "
        "its metrics, its Kafka client id); `cchc up --instances` sets ingest, ingest-2, …; "
        "default: the host name (a container's is unique)",
    )
