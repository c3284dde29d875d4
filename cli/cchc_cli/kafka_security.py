"""The Kafka client security settings the CLI's tools use, from the CCHC_KAFKA_* environment.

`cchc push` and `cchc dlq` against the embedded stack need nothing (PLAINTEXT on 127.0.0.1);
against production set CCHC_KAFKA_SECURITY_PROTOCOL=SASL_SSL, CCHC_KAFKA_SASL_USERNAME,
CCHC_KAFKA_SASL_PASSWORD and CCHC_KAFKA_SSL_CAFILE (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from cchc_shared.settings import KafkaSettings


def kafka_python_security() -> dict[str, Any]:
    """kafka-python keyword arguments (protocol, SASL, TLS); holds the password: never log it."""
    return KafkaSettings().kafka_python_security()
