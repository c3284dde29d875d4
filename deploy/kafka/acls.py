"""The Kafka ACLs of the production stack, generated from the province registry.

    python deploy/kafka/acls.py              # the kafka-acls.sh commands (deploy/kafka/acls.sh)
    python deploy/kafka/acls.py --format json  # the plan, one ACL per line of the list

Model (docs/security.md "Deployment: Kafka and ClickHouse access"); the broker runs with
`allow.everyone.if.no.acl.found=false`, so whatever is not listed here is refused:

* province `province-NN` (one SCRAM principal per 2025 province) may WRITE and DESCRIBE its own
  `cchc.raw.NN`, and nothing else: no other topic, no group, no cluster operation;
* the services have their own principals: each READs only its input topics and its own consumer
  group, and WRITEs only its output topic and `cchc.dlq`. Nobody else writes `cchc.validated`,
  `cchc.normalized` or `cchc.dlq`;
* aggregate's lag monitor reads every topic's high-water mark from fetch responses (the embedded
  broker answers ListOffsets wrongly: docs/platform.md "Embedded broker"), which Kafka
  authorizes as READ on the topic, and the other services' committed offsets, which need
  DESCRIBE on their groups;
* `admin` (topics, ACLs, SCRAM credentials, `cchc dlq replay`) is a super user of the broker,
  not an ACL holder.

`deploy/kafka/acls.sh` is this script's output, committed so that the compose job can run it
in the Kafka image (which has no Python); tests/unit/test_kafka_acls.py fails when it is stale.
Regenerate it with `python deploy/kafka/acls.py > deploy/kafka/acls.sh`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from cchc_shared.provinces import Era, default_registry
from cchc_shared.topics import Topic, raw_topic, raw_topics

ADMIN = "admin"
"""Super user (KAFKA_SUPER_USERS in docker-compose.yml): creates topics, ACLs, credentials."""


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: `principal` may do `operation` on the resource."""

    principal: str
    """`User:<name>`."""
    resource_type: str
    """`topic` or `group`."""
    resource: str
    operation: str
    """Kafka's operation name: `Read`, `Write`, `Describe`."""
    pattern: str = "literal"


@dataclass(frozen=True)
class Service:
    """A service principal: what it reads (with its group) and what it writes."""

    name: str
    group: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    monitors_groups: tuple[str, ...] = ()
    monitors_topics: tuple[str, ...] = ()


def province_codes() -> list[str]:
    """The 34 province codes of the 2025 registry, in order."""
    return [u.code for u in default_registry().units(Era.POST_2025)]


def province_principal(code: str) -> str:
    """`province-NN`: the SCRAM user of the province with 2025 code NN."""
    return f"province-{code}"


def services(codes: Sequence[str]) -> list[Service]:
    """The three services. Group ids are the defaults of each service's settings
    (`IngestSettings.group_id`, … — tests/unit/test_kafka_acls.py keeps them equal)."""
    raw = tuple(raw_topics(codes))
    return [
        Service("ingest", "cchc-ingest", raw, (Topic.VALIDATED, Topic.DLQ)),
        Service("normalize", "cchc-normalize", (Topic.VALIDATED,), (Topic.NORMALIZED, Topic.DLQ)),
        Service(
            "aggregate",
            "cchc-aggregate",
            (Topic.NORMALIZED, Topic.DLQ),  # cchc.dlq: stored in ClickHouse (dead_letters)
            (Topic.DLQ,),
            monitors_groups=("cchc-ingest", "cchc-normalize"),
            monitors_topics=(*raw, Topic.VALIDATED),
        ),
    ]


def plan(codes: Sequence[str] | None = None) -> list[Acl]:
    """Every ACL the broker needs, sorted and without duplicates."""
    codes = list(province_codes() if codes is None else codes)
    acls: set[Acl] = set()
    for code in codes:
        user = f"User:{province_principal(code)}"
        for op in ("Write", "Describe"):
            acls.add(Acl(user, "topic", raw_topic(code), op))
    for svc in services(codes):
        user = f"User:{svc.name}"
        for topic in svc.reads:
            acls.add(Acl(user, "topic", str(topic), "Read"))
        acls.add(Acl(user, "group", svc.group, "Read"))
        for topic in svc.writes:
            for op in ("Write", "Describe"):
                acls.add(Acl(user, "topic", str(topic), op))
        for topic in svc.monitors_topics:
            for op in ("Read", "Describe"):
                acls.add(Acl(user, "topic", str(topic), op))
        for group in svc.monitors_groups:
            acls.add(Acl(user, "group", group, "Describe"))
    return sorted(acls)


def commands(acls: Iterable[Acl]) -> list[list[str]]:
    """kafka-acls.sh arguments, one command per principal, resource type and set of operations
    (several `--topic`/`--group` in one command: each command starts a JVM)."""
    ops: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for acl in acls:
        ops[(acl.principal, acl.resource_type, acl.pattern, acl.resource)].add(acl.operation)
    grouped: dict[tuple[str, str, str, tuple[str, ...]], list[str]] = defaultdict(list)
    for (principal, rtype, pattern, resource), operations in sorted(ops.items()):
        grouped[(principal, rtype, pattern, tuple(sorted(operations)))].append(resource)
    result = []
    for (principal, rtype, pattern, operations), resources in sorted(grouped.items()):
        args = ["--add", "--allow-principal", principal]
        for op in operations:
            args += ["--operation", op]
        for resource in resources:
            args += [f"--{rtype}", resource]
        args += ["--resource-pattern-type", pattern]
        result.append(args)
    return result


SCRIPT_HEAD = """\
#!/usr/bin/env bash
# GENERATED by deploy/kafka/acls.py from the province registry: do not edit by hand.
#   python deploy/kafka/acls.py > deploy/kafka/acls.sh
# Adds the pipeline's ACLs (docker-compose's `acls` job, as the admin super user);
# tests/unit/test_kafka_acls.py fails when this file differs from the generator's output.
# Adding is idempotent; an ACL removed from the plan must be removed with `kafka-acls.sh --remove`.
set -euo pipefail
BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
KAFKA_ACLS="${KAFKA_ACLS:-/opt/kafka/bin/kafka-acls.sh}"
acl() {
  "$KAFKA_ACLS" --bootstrap-server "$BOOTSTRAP" \\
    ${COMMAND_CONFIG:+--command-config "$COMMAND_CONFIG"} "$@" >/dev/null
}
"""


def shell_script(acls: Iterable[Acl]) -> str:
    """The bash script that adds `acls`."""
    lines = [SCRIPT_HEAD]
    for args in commands(acls):
        lines.append("acl " + " ".join(args) + "\n")
    lines.append('echo "acls ready"\n')
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the plan as a shell script (default) or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=["sh", "json"], default="sh")
    args = parser.parse_args(argv)
    acls = plan()
    if args.format == "json":
        json.dump([asdict(a) for a in acls], sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(shell_script(acls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
