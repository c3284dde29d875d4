"""`schemas/asyncapi.yaml`: current, and a well-formed AsyncAPI 3.0 document.

No JSON Schema of AsyncAPI 3 ships in a PyPI package this project can use offline, so the
structure is checked here against the specification's rules that matter for this document: the
fixed fields of each object, required fields, every `$ref` resolving (inside the document, or to
a JSON Schema file beside it), each operation's messages belonging to its channel, and each
address parameter declared. The contents are checked against the project's own registry.
(When it was written, the document was also validated once against the official JSON Schema,
`schemas/3.0.0-without-$id.json` of the npm package @asyncapi/specs 6.11.1: no error. That file,
378 KB, is not vendored.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cchc_cli.asyncapi import document, render_yaml
from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import Topic, raw_topics

SCHEMAS_DIR = Path(__file__).resolve().parents[3] / "schemas"
FILE = SCHEMAS_DIR / "asyncapi.yaml"

# Fixed fields of AsyncAPI 3.0.0 objects (https://www.asyncapi.com/docs/reference/specification/v3.0.0).
ROOT = {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations",
        "components"}  # fmt: skip
INFO = {"title", "version", "description", "termsOfService", "contact", "license", "tags",
        "externalDocs"}  # fmt: skip
SERVER = {"host", "protocol", "protocolVersion", "pathname", "description", "title", "summary",
          "variables", "security", "tags", "externalDocs", "bindings"}  # fmt: skip
CHANNEL = {"address", "messages", "title", "summary", "description", "servers", "parameters",
           "tags", "externalDocs", "bindings"}  # fmt: skip
PARAMETER = {"enum", "default", "description", "examples", "location"}
OPERATION = {"action", "channel", "title", "summary", "description", "security", "tags",
             "externalDocs", "bindings", "traits", "messages", "reply"}  # fmt: skip
MESSAGE = {"headers", "payload", "correlationId", "contentType", "name", "title", "summary",
           "description", "tags", "externalDocs", "bindings", "examples", "traits"}  # fmt: skip
COMPONENTS = {"schemas", "servers", "channels", "operations", "messages", "securitySchemes",
              "serverVariables", "parameters", "correlationIds", "replies", "replyAddresses",
              "externalDocs", "tags", "operationTraits", "messageTraits", "serverBindings",
              "channelBindings", "operationBindings", "messageBindings"}  # fmt: skip
SECURITY_TYPES = {"userPassword", "apiKey", "X509", "symmetricEncryption",
                  "asymmetricEncryption", "httpApiKey", "http", "oauth2", "openIdConnect",
                  "plain", "scramSha256", "scramSha512", "gssapi"}  # fmt: skip
KEY = re.compile(r"^[a-zA-Z0-9.\-_]+$")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(FILE.read_text("utf-8"))
    return loaded


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert isinstance(node, dict), f"{ref} does not resolve"
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def deref(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and set(node) == {"$ref"}:
        node = resolve(doc, node["$ref"])
    return node


def test_checked_in_document_is_current() -> None:
    assert FILE.read_text("utf-8") == render_yaml(), "run `cchc schema export` and commit"


def test_the_file_reads_back_as_the_document(doc: dict[str, Any]) -> None:
    # Quoting: '08' must stay a string for every YAML reader, not only PyYAML's 1.1 rules.
    assert doc == json.loads(json.dumps(document()))
    assert "- '08'" in FILE.read_text("utf-8")


def test_root_and_info(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc) <= ROOT
    assert set(doc["info"]) <= INFO
    assert isinstance(doc["info"]["title"], str)
    assert doc["info"]["title"]
    assert isinstance(doc["info"]["version"], str)
    assert doc["info"]["version"]
    assert set(doc["components"]) <= COMPONENTS


def test_servers(doc: dict[str, Any]) -> None:
    for name, server in doc["servers"].items():
        assert KEY.match(name)
        assert set(server) <= SERVER, name
        assert isinstance(server["host"], str)
        assert "://" not in server["host"]
        assert server["protocol"] in {"kafka", "kafka-secure"}
        for variable in re.findall(r"{([^}]+)}", server["host"]):
            assert variable in server.get("variables", {}), (name, variable)
        for requirement in server.get("security", []):
            scheme = deref(doc, requirement)
            assert scheme["type"] in SECURITY_TYPES


def test_channels_and_their_messages(doc: dict[str, Any]) -> None:
    for name, channel in doc["channels"].items():
        assert KEY.match(name)
        assert set(channel) <= CHANNEL, name
        assert isinstance(channel["address"], str)
        declared = set(channel.get("parameters", {}))
        assert set(re.findall(r"{([^}]+)}", channel["address"])) == declared, name
        for parameter in channel.get("parameters", {}).values():
            assert set(parameter) <= PARAMETER
        for server in channel.get("servers", []):
            assert server["$ref"].startswith("#/servers/")
            resolve(doc, server["$ref"])
        assert channel["messages"], name
        for message in channel["messages"].values():
            body = deref(doc, message)
            assert set(body) <= MESSAGE
            assert body["contentType"] == "application/json"


def test_operations_use_their_channels_messages(doc: dict[str, Any]) -> None:
    assert doc["operations"]
    for name, operation in doc["operations"].items():
        assert set(operation) <= OPERATION, name
        assert operation["action"] in {"send", "receive"}
        channel_ref = operation["channel"]["$ref"]
        assert channel_ref.startswith("#/channels/")
        resolve(doc, channel_ref)
        for message in operation["messages"]:
            # The spec: an operation's messages MUST be references to its channel's messages.
            assert message["$ref"].startswith(channel_ref + "/messages/"), (name, message)
            resolve(doc, message["$ref"])


def test_payloads_are_the_exported_json_schemas(doc: dict[str, Any]) -> None:
    for name, message in doc["components"]["messages"].items():
        ref = message["payload"]["$ref"]
        path = SCHEMAS_DIR / ref.removeprefix("./")
        assert path.is_file(), (name, ref)
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text("utf-8")))


def test_every_topic_of_the_registry_is_a_channel(doc: dict[str, Any]) -> None:
    codes = [u.code for u in default_registry().units(Era.POST_2025)]
    channels = {c["address"]: c for c in doc["channels"].values()}
    raw = channels.pop("cchc.raw.{province}")
    assert raw["parameters"]["province"]["enum"] == codes
    assert len(codes) == 34
    assert [f"cchc.raw.{c}" for c in raw["parameters"]["province"]["enum"]] == raw_topics(codes)
    assert set(channels) == {str(t) for t in Topic}
    sent = {
        deref(doc, op["channel"])["address"]
        for op in doc["operations"].values()
        if op["action"] == "send"
    }
    received = {
        deref(doc, op["channel"])["address"]
        for op in doc["operations"].values()
        if op["action"] == "receive"
    }
    assert sent == {"cchc.validated", "cchc.normalized", "cchc.dlq"}
    assert received == {"cchc.raw.{province}", "cchc.validated", "cchc.normalized"}
