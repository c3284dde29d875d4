"""The AsyncAPI 3.0 document of the pipeline's topics and messages (`schemas/asyncapi.yaml`).

Generated from the project's own registry — the topic names (`cchc_shared.topics`), the 34
current province codes (`cchc_shared.provinces`), the message models and the JSON Schemas
`cchc schema export` writes beside it — not from a framework's subscribers: the services use
their own stream processor (docs/platform.md "Dependencies"). A test keeps the checked-in file
equal to `render_yaml()` and checks its structure.

The document describes the pipeline as one application: it *receives* the provinces' raw events
on `cchc.raw.{province}`, *sends* and *receives* on its internal topics, and *sends* dead
letters on `cchc.dlq`. Payloads are `$ref`s to the JSON Schema files (draft 2020-12) in the same
directory.
"""

from __future__ import annotations

from typing import Any

import yaml
from cchc_shared.events import DOSSIER_EVENT, FEEDBACK_EVENT, INDICATOR_REPORT, PROCEDURE_EVENT
from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import RAW_PREFIX, Topic

from cchc_cli.schema import CANONICAL_RECORD, DEAD_LETTER, file_name

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def _message(
    schema: str, name: str, title: str, summary: str, key: str, description: str = ""
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": f"./{file_name(schema)}"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": key},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    if description:
        message["description"] = description
    return message


def _messages() -> dict[str, Any]:
    raw_key = "free; the dossier id or the event id is recommended"
    return {
        "indicatorReport": _message(
            INDICATOR_REPORT,
            INDICATOR_REPORT,
            "Indicator report",
            "A figure a province reports for one indicator and one period.",
            raw_key,
            'docs/contract.md "Raw events". At most 64 KiB of strict JSON (UTF-8, no BOM, no '
            "NaN, no duplicate key). Vietnamese number strings are accepted: "
            '"1.972" = 1972, "10,09" = 10.09.',
        ),
        "dossierEvent": _message(
            DOSSIER_EVENT,
            DOSSIER_EVENT,
            "Dossier event",
            "One step in the life of an administrative dossier (hồ sơ).",
            raw_key,
            'docs/contract.md "Raw events". At most 64 KiB of strict JSON.',
        ),
        "feedbackEvent": _message(
            FEEDBACK_EVENT,
            FEEDBACK_EVENT,
            "Feedback event",
            "A citizen's or business's feedback (phản ánh, kiến nghị): received or resolved.",
            "free; the feedback id or the event id is recommended",
            'docs/contract.md "Raw events". At most 64 KiB of strict JSON.',
        ),
        "procedureEvent": _message(
            PROCEDURE_EVENT,
            PROCEDURE_EVENT,
            "Procedure event",
            "A procedure announced (công bố) or published (công khai) by the province.",
            "free; the event id is recommended",
            'docs/contract.md "Raw events". At most 64 KiB of strict JSON.',
        ),
        "canonicalRecord": _message(
            CANONICAL_RECORD,
            CANONICAL_RECORD,
            "Canonical record",
            "An observation, or a dossier, feedback or procedure record: canonical unit, parsed "
            "period, province resolved to its historical unit and its current (2025) province.",
            "`province|dossier_id` for a dossier record, `province|feedback|feedback_id` for a "
            "feedback record, `province|procedure|procedure_code` for a procedure record, "
            "`indicator|period|unit_key` for an observation",
        ),
        "deadLetter": _message(
            DEAD_LETTER,
            DEAD_LETTER,
            "Dead letter",
            "One rejected message: stage, reason code, field errors, where it was read, "
            "and the original payload.",
            "the key of the rejected message",
            'docs/contract.md "Dead letters"; reason codes: docs/vi/reasons.md.',
        ),
    }


def _servers() -> dict[str, Any]:
    scram = [_ref("components", "securitySchemes", "scram")]
    return {
        "province": {
            "host": "{public_host}:9094",
            "protocol": "kafka-secure",
            "title": "Province listener (production)",
            "description": "SASL_SSL with SCRAM-SHA-512, TLS 1.2+; principal `province-NN` may "
            'write and describe only `cchc.raw.NN` (docs/security.md "Deployment").',
            "variables": {
                "public_host": {"description": "CCHC_KAFKA_PUBLIC_HOST of the deployment"}
            },
            "security": scram,
        },
        "internal": {
            "host": "kafka:9092",
            "protocol": "kafka",
            "title": "Internal listener (production)",
            "description": "SASL_PLAINTEXT with SCRAM-SHA-512 on the compose network: the "
            "services and the setup jobs.",
            "security": scram,
        },
        "embedded": {
            "host": "127.0.0.1:9092",
            "protocol": "kafka",
            "title": "Embedded broker (`cchc up`)",
            "description": "PLAINTEXT on loopback, no authentication: development and tests.",
        },
    }


def _channels() -> dict[str, Any]:
    codes = [unit.code for unit in default_registry().units(Era.POST_2025)]
    everywhere = [_ref("servers", name) for name in ("province", "internal", "embedded")]
    inside = [_ref("servers", name) for name in ("internal", "embedded")]
    raw_messages = {
        "indicatorReport": _ref("components", "messages", "indicatorReport"),
        "dossierEvent": _ref("components", "messages", "dossierEvent"),
        "feedbackEvent": _ref("components", "messages", "feedbackEvent"),
        "procedureEvent": _ref("components", "messages", "procedureEvent"),
    }
    return {
        "raw": {
            "address": RAW_PREFIX + "{province}",
            "title": "Raw events of one province",
            "description": "One topic per current (2025) province: 34 topics. Each province "
            "writes only its own; an event must name that province or one of the units merged "
            "into it on 2025-07-01, else it is dead-lettered `province_mismatch` "
            '(docs/domain.md "Provinces and the 2025 merger").',
            "parameters": {"province": {"enum": codes, "description": "2025 GSO code, NN"}},
            "messages": raw_messages,
            "servers": everywhere,
        },
        "validated": {
            "address": str(Topic.VALIDATED),
            "title": "Validated raw events",
            "description": "Raw events that passed ingest's checks, byte for byte; key: the 2025 "
            "province code. Written by ingest only.",
            "messages": raw_messages,
            "servers": inside,
        },
        "normalized": {
            "address": str(Topic.NORMALIZED),
            "title": "Canonical records",
            "description": "Written by normalize only; read by aggregate into ClickHouse.",
            "messages": {"canonicalRecord": _ref("components", "messages", "canonicalRecord")},
            "servers": inside,
        },
        "dlq": {
            "address": str(Topic.DLQ),
            "title": "Dead letters",
            "description": "One dead letter per rejected message, from every service. Provinces "
            "read their own through `GET /v1/my/dead-letters` (docs/vi/dead-letters.md).",
            "messages": {"deadLetter": _ref("components", "messages", "deadLetter")},
            "servers": everywhere,
        },
    }


def _operation(action: str, channel: str, messages: list[str], summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": _ref("channels", channel),
        "summary": summary,
        "messages": [_ref("channels", channel, "messages", m) for m in messages],
    }


def _operations() -> dict[str, Any]:
    raw = ["indicatorReport", "dossierEvent", "feedbackEvent", "procedureEvent"]
    return {
        "receiveRaw": _operation(
            "receive", "raw", raw, "ingest reads every province's raw events (group cchc-ingest)"
        ),
        "sendValidated": _operation(
            "send", "validated", raw, "ingest forwards the events that passed its checks"
        ),
        "receiveValidated": _operation(
            "receive", "validated", raw, "normalize reads validated events (group cchc-normalize)"
        ),
        "sendNormalized": _operation(
            "send", "normalized", ["canonicalRecord"], "normalize writes canonical records"
        ),
        "receiveNormalized": _operation(
            "receive",
            "normalized",
            ["canonicalRecord"],
            "aggregate stores canonical records in ClickHouse (group cchc-aggregate)",
        ),
        "sendDeadLetter": _operation(
            "send", "dlq", ["deadLetter"], "every service dead-letters what it rejects"
        ),
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as a mapping."""
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "CCHC Pipeline topics",
            "version": "1",
            "description": "Kafka topics and messages of the CCHC Pipeline (Vietnam's "
            'administrative-reform figures). The contract: docs/contract.md "Topics"; the '
            "provinces' guide, in Vietnamese: docs/vi/README.md. Generated by "
            "`cchc schema export`: do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": _channels(),
        "operations": _operations(),
        "components": {
            "messages": _messages(),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SCRAM-SHA-512 user per principal (`province-NN` for "
                    "provinces); passwords are handed over by the ministry's operator.",
                }
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Quotes every all-digit string, so that `08` stays a string under YAML 1.1 and 1.2, and
    writes shared parts out in full (no anchors: a reader sees each channel whole)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if value.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render_yaml() -> str:
    """The file content: keys in document order, UTF-8, final newline."""
    text: str = yaml.dump(
        document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return text
