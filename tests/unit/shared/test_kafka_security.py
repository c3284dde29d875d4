"""KafkaSettings' client security: the keyword arguments each client library gets, and a
password that never shows in a repr, a dump or a log line."""

from __future__ import annotations

import logging
import ssl

import pytest
from cchc_shared.settings import KafkaSettings
from pydantic import ValidationError

PASSWORD = "s3cr3t-not-to-be-seen"  # a test value, not a credential


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CCHC_KAFKA_SECURITY_PROTOCOL",
        "CCHC_KAFKA_SASL_MECHANISM",
        "CCHC_KAFKA_SASL_USERNAME",
        "CCHC_KAFKA_SASL_PASSWORD",
        "CCHC_KAFKA_SSL_CAFILE",
    ):
        monkeypatch.delenv(name, raising=False)


def _sasl_ssl(monkeypatch: pytest.MonkeyPatch, cafile: str | None = None) -> KafkaSettings:
    monkeypatch.setenv("CCHC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CCHC_KAFKA_SASL_USERNAME", "ingest")
    monkeypatch.setenv("CCHC_KAFKA_SASL_PASSWORD", PASSWORD)
    if cafile is not None:
        monkeypatch.setenv("CCHC_KAFKA_SSL_CAFILE", cafile)
    return KafkaSettings()


def test_plaintext_is_the_default_and_adds_nothing_else() -> None:
    settings = KafkaSettings()
    assert settings.aiokafka_security() == {"security_protocol": "PLAINTEXT"}
    assert settings.kafka_python_security() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_kwargs_for_aiokafka(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = _sasl_ssl(monkeypatch).aiokafka_security()
    context = kwargs.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ingest",
        "sasl_plain_password": PASSWORD,
    }


def test_sasl_ssl_kwargs_for_kafka_python(monkeypatch: pytest.MonkeyPatch) -> None:
    kwargs = _sasl_ssl(monkeypatch, cafile="/run/secrets/kafka-ca.pem").kafka_python_security()
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ingest",
        "sasl_plain_password": PASSWORD,
        "ssl_check_hostname": True,
        "ssl_cafile": "/run/secrets/kafka-ca.pem",
    }


def test_sasl_plaintext_has_no_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("CCHC_KAFKA_SASL_USERNAME", "normalize")
    monkeypatch.setenv("CCHC_KAFKA_SASL_PASSWORD", PASSWORD)
    settings = KafkaSettings()
    for kwargs in (settings.aiokafka_security(), settings.kafka_python_security()):
        assert kwargs["security_protocol"] == "SASL_PLAINTEXT"
        assert kwargs["sasl_plain_username"] == "normalize"
        assert not {"ssl_context", "ssl_cafile", "ssl_check_hostname"} & kwargs.keys()


def test_the_clients_accept_the_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key is a parameter the client library knows (no broker needed to check that)."""
    import inspect

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

    settings = _sasl_ssl(monkeypatch)
    for client in (AIOKafkaConsumer, AIOKafkaProducer):
        assert settings.aiokafka_security().keys() <= inspect.signature(client).parameters.keys()
    for client in (KafkaConsumer, KafkaProducer, KafkaAdminClient):
        assert settings.kafka_python_security().keys() <= client.DEFAULT_CONFIG.keys()


def test_sasl_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CCHC_KAFKA_SASL_USERNAME", "ingest")
    with pytest.raises(ValidationError, match="CCHC_KAFKA_SASL_PASSWORD"):
        KafkaSettings()


def test_the_password_never_shows(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _sasl_ssl(monkeypatch)
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings)
    assert PASSWORD not in settings.model_dump_json()
    assert PASSWORD not in str(settings.model_dump())
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("cchc.test").info("kafka settings: %s / %r", settings, settings)
    assert "kafka settings" in caplog.text
    assert PASSWORD not in caplog.text
    # The clients get it in clear, of course.
    assert settings.kafka_python_security()["sasl_plain_password"] == PASSWORD


def test_runtime_output_passes_the_security_kwargs_to_its_producer() -> None:
    from cchc_runtime.producer import Output

    security = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512"}
    output = Output("kafka:9092", client_id="ingest", security=security)
    assert output._config["security_protocol"] == "SASL_PLAINTEXT"
    assert output._config["acks"] == "all"


def test_lag_monitor_builds_its_clients_with_the_security_kwargs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cchc_runtime import lag

    seen: list[dict[str, object]] = []

    def fake_consumer(bootstrap: str, client_id: str, **config: object) -> object:
        seen.append(config)
        return object()

    def fake_admin(**config: object) -> object:
        seen.append(config)
        return object()

    monkeypatch.setattr(lag, "groupless_consumer", fake_consumer)
    monkeypatch.setattr(lag, "KafkaAdminClient", fake_admin)
    security = {"security_protocol": "SASL_SSL", "sasl_plain_username": "aggregate"}
    monitor = lag.LagMonitor("kafka:9092", {}, "cchc.dlq", security=security)
    monitor._connect()
    assert len(seen) == 2
    for config in seen:
        assert config["security_protocol"] == "SASL_SSL"
        assert config["sasl_plain_username"] == "aggregate"
