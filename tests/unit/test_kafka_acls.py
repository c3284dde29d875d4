"""The Kafka ACLs (deploy/kafka/acls.py) against the province registry and the topics."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import pytest
from cchc_aggregate.settings import AggregateSettings
from cchc_ingest.settings import IngestSettings
from cchc_normalize.settings import NormalizeSettings
from cchc_shared import topics as topics_module
from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import RAW_PREFIX, Topic, raw_topic

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "deploy" / "kafka"
SERVICES = {"ingest", "normalize", "aggregate"}
INTERNAL = {t.value for t in Topic}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cchc_deploy_acls", KAFKA / "acls.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


acls = _load()
CODES = [u.code for u in default_registry().units(Era.POST_2025)]
PLAN = acls.plan()


def _rights() -> dict[str, set[tuple[str, str, str]]]:
    """principal name → {(resource type, resource, operation)}."""
    rights: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for acl in PLAN:
        assert acl.principal.startswith("User:")
        assert acl.pattern == "literal", acl  # no prefix or wildcard grants anywhere
        assert acl.resource != "*", acl
        rights[acl.principal.removeprefix("User:")].add(
            (acl.resource_type, acl.resource, acl.operation)
        )
    return rights


RIGHTS = _rights()


def test_there_is_one_principal_per_2025_province_and_one_per_service() -> None:
    assert len(CODES) == 34
    assert set(RIGHTS) == {f"province-{c}" for c in CODES} | SERVICES


@pytest.mark.parametrize("code", CODES)
def test_a_province_writes_exactly_its_own_raw_topic(code: str) -> None:
    assert RIGHTS[f"province-{code}"] == {
        ("topic", raw_topic(code), "Write"),
        ("topic", raw_topic(code), "Describe"),
    }


def test_no_province_has_any_right_on_an_internal_topic_or_a_group() -> None:
    for name, rights in RIGHTS.items():
        if name.startswith("province-"):
            assert not {r for r in rights if r[1] in INTERNAL or r[0] != "topic"}, name


def test_only_services_write_the_internal_topics_each_its_own_outputs() -> None:
    writers: dict[str, set[str]] = defaultdict(set)
    for name, rights in RIGHTS.items():
        for rtype, resource, op in rights:
            if rtype == "topic" and op == "Write":
                writers[resource].add(name)
    assert writers[Topic.VALIDATED] == {"ingest"}
    assert writers[Topic.NORMALIZED] == {"normalize"}
    assert writers[Topic.DLQ] == SERVICES
    for code in CODES:  # no service writes a raw topic: only its province does
        assert writers[raw_topic(code)] == {f"province-{code}"}


def test_each_service_reads_its_inputs_and_its_own_group_only() -> None:
    groups = {
        "ingest": IngestSettings().group_id,
        "normalize": NormalizeSettings().group_id,
        "aggregate": AggregateSettings().group_id,
    }
    assert groups == {s: f"cchc-{s}" for s in SERVICES}
    raw = {raw_topic(c) for c in CODES}
    reads = {
        name: {r for t, r, op in RIGHTS[name] if t == "topic" and op == "Read"} for name in SERVICES
    }
    assert reads["ingest"] == raw
    assert reads["normalize"] == {Topic.VALIDATED}
    # aggregate's own inputs (cchc.normalized, cchc.dlq), plus the lag monitor's high-water marks
    assert reads["aggregate"] == {Topic.NORMALIZED} | raw | {Topic.VALIDATED, Topic.DLQ}
    for name in SERVICES:
        group_rights = {(r, op) for t, r, op in RIGHTS[name] if t == "group"}
        own = {(groups[name], "Read")}
        if name == "aggregate":  # the lag monitor reads the other groups' committed offsets
            own |= {(groups["ingest"], "Describe"), (groups["normalize"], "Describe")}
        assert group_rights == own, name
    settings = AggregateSettings()
    assert {settings.ingest_group_id, settings.normalize_group_id} == {
        groups["ingest"],
        groups["normalize"],
    }


def test_every_topic_the_project_uses_has_acls() -> None:
    """A topic added to cchc_shared.topics without ACLs fails here."""
    names = [
        value
        for key, value in vars(topics_module).items()
        if key.isupper() and isinstance(value, str) and not key.endswith("PREFIX")
    ]
    used = {t.value for t in Topic} | {raw_topic(c) for c in CODES} | set(names)
    for topic in used:
        holders = {a.principal for a in PLAN if a.resource_type == "topic" and a.resource == topic}
        readers = {
            a.principal
            for a in PLAN
            if a.resource_type == "topic" and a.resource == topic and a.operation == "Read"
        }
        writers = {
            a.principal
            for a in PLAN
            if a.resource_type == "topic" and a.resource == topic and a.operation == "Write"
        }
        assert holders, f"{topic}: no ACL at all"
        assert readers, f"{topic}: nobody may read it"
        assert writers, f"{topic}: nobody may write it"
    # and the plan names no topic the project does not use
    planned = {a.resource for a in PLAN if a.resource_type == "topic"}
    assert planned <= used
    assert all(t.startswith(RAW_PREFIX) for t in planned - INTERNAL)


def test_the_committed_script_is_the_generators_output() -> None:
    committed = (KAFKA / "acls.sh").read_text()
    assert committed == acls.shell_script(PLAN), (
        "deploy/kafka/acls.sh is stale: python deploy/kafka/acls.py > deploy/kafka/acls.sh"
    )


def test_the_script_adds_exactly_the_plan() -> None:
    """Parse the generated commands back into ACLs: nothing lost or added by the grouping."""
    parsed = set()
    for line in (KAFKA / "acls.sh").read_text().splitlines():
        if not line.startswith("acl --add"):
            continue
        args = line.split()[1:]
        principal = args[args.index("--allow-principal") + 1]
        ops = [args[i + 1] for i, a in enumerate(args) if a == "--operation"]
        pattern = args[args.index("--resource-pattern-type") + 1]
        for i, arg in enumerate(args):
            if arg in ("--topic", "--group"):
                for op in ops:
                    parsed.add(acls.Acl(principal, arg[2:], args[i + 1], op, pattern))
    assert parsed == set(PLAN)
    assert "--deny-principal" not in (KAFKA / "acls.sh").read_text()
    assert not re.search(r"--(cluster|transactional-id)", (KAFKA / "acls.sh").read_text())
