"""`cchc push` and `cchc dlq` build their Kafka clients with the CCHC_KAFKA_* security settings."""

from __future__ import annotations

from typing import Any

import pytest
from cchc_cli import dlq, push


@pytest.fixture
def sasl_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CCHC_KAFKA_SASL_USERNAME", "province-01")
    monkeypatch.setenv("CCHC_KAFKA_SASL_PASSWORD", "test-value-not-a-credential")
    monkeypatch.setenv("CCHC_KAFKA_SSL_CAFILE", "/etc/cchc/ca.pem")


@pytest.mark.usefixtures("sasl_env")
def test_push_and_replay_producers_get_the_security_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[dict[str, Any]] = []
    monkeypatch.setattr(push, "KafkaProducer", lambda **kw: built.append(kw))
    monkeypatch.setattr(dlq, "KafkaProducer", lambda **kw: built.append(kw))
    push.producer("kafka.example:9094")
    dlq._producer("kafka.example:9094")
    assert len(built) == 2
    for kwargs in built:
        assert kwargs["bootstrap_servers"] == "kafka.example:9094"
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
        assert kwargs["sasl_plain_username"] == "province-01"
        assert kwargs["ssl_cafile"] == "/etc/cchc/ca.pem"
    assert built[0]["enable_idempotence"] is True  # push keeps its own settings


def test_without_settings_the_tools_speak_plaintext(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCHC_KAFKA_SECURITY_PROTOCOL", raising=False)
    built: list[dict[str, Any]] = []
    monkeypatch.setattr(push, "KafkaProducer", lambda **kw: built.append(kw))
    push.producer("127.0.0.1:9092")
    assert built[0]["security_protocol"] == "PLAINTEXT"
    assert "sasl_plain_password" not in built[0]
